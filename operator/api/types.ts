import type { V1ObjectMeta } from '@kubernetes/client-node';
import type { LatencyAnalysis, SignalCheck, TradingEngineSpec, TradingEngineStatus } from './generated.ts';

export * from './generated.ts';

/**
 * A TradingEngine as read from the API server: the schema defaults of spec are always present (the API server
 * applies them on create and on every read), so the generated spec type marks defaulted fields as required.
 * Objects built by hand (tests, `nexus` CLI) go through `applySpecDefaults` first.
 */
export interface TradingEngine {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: V1ObjectMeta;
  readonly spec: TradingEngineSpec;
  readonly status?: TradingEngineStatus;
}

/** The kinds of reusable gate definition (crds/latencygate.yaml, crds/clusterlatencygate.yaml). */
export type GateKind = 'LatencyGate' | 'ClusterLatencyGate';

/**
 * A reusable latency gate as read from the API server: a LatencyGate (namespaced) or ClusterLatencyGate
 * (cluster-wide), whose spec is a TradingEngine's spec.analysis latency and checks. TradingEngines name one in
 * spec.analysis.gateRef.
 */
export interface LatencyGate {
  readonly apiVersion: string;
  readonly kind: GateKind;
  readonly metadata: V1ObjectMeta;
  readonly spec: { readonly latency: LatencyAnalysis; readonly checks?: readonly SignalCheck[] };
}

/** `namespace/name`, the work-queue key of an object. */
export function objectKey(meta: { readonly namespace?: string; readonly name?: string }): string {
  return `${meta.namespace ?? ''}/${meta.name ?? ''}`;
}

