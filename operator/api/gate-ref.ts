import type { GateKind, LatencyGate, TradingEngineSpec } from './types.ts';

/**
 * Resolves `spec.analysis.gateRef`: a TradingEngine may name a reusable gate (a LatencyGate in its namespace or a
 * ClusterLatencyGate) instead of writing latency and checks itself. Pure; the caller found the gate in its cache.
 *
 *   spec.analysis = { gateRef: { kind: ClusterLatencyGate, name: low-latency } }
 *     + the gate found under that kind and name   --> spec.analysis = { latency, checks } of the gate
 *     + none found                                --> the reason, for a blocked plan (GateNotFound): nothing rolls
 *                                                     out ungated
 *
 * The result is what the rest of decide sees (defaults applied after it, validation on it), so a gate and an
 * inline analysis behave the same. The gate is read at every reconcile: editing its thresholds changes every engine
 * that names it from the next measurement on, as editing an inline analysis would; editing what the engine config
 * renders from it (`window`, `method`) makes each of those engines roll out a new revision.
 */
export type GateResolution =
  | { readonly ok: true; readonly spec: TradingEngineSpec; readonly gate?: GateIdentity }
  | { readonly ok: false; readonly reason: string };

/** Which gate an engine's analysis came from, for status and messages. */
export interface GateIdentity {
  readonly kind: GateKind;
  readonly name: string;
  /** The gate's metadata.generation when it was read: which version of the policy judged. */
  readonly generation?: number;
}

/** The gate a spec names, as `{ kind, name }`, or undefined when its analysis is inline (or absent). */
export function gateRefOf(spec: TradingEngineSpec): { readonly kind: GateKind; readonly name: string } | undefined {
  const ref = spec.analysis?.gateRef;
  return ref === undefined ? undefined : { kind: ref.kind ?? 'LatencyGate', name: ref.name };
}

/**
 * Where the gate an engine names is found: its kind and cache key (`namespace/name` for a LatencyGate, which is
 * looked up only in the engine's own namespace; `/name` for a ClusterLatencyGate). Undefined without a gateRef.
 */
export function gateKeyOf(engine: { readonly metadata: { readonly namespace?: string }; readonly spec: TradingEngineSpec }): { readonly kind: GateKind; readonly key: string } | undefined {
  const ref = gateRefOf(engine.spec);
  if (ref === undefined) return undefined;
  return { kind: ref.kind, key: ref.kind === 'ClusterLatencyGate' ? `/${ref.name}` : `${engine.metadata.namespace ?? ''}/${ref.name}` };
}

/** `spec` with its analysis taken from `gate` when it names one (`gate`: what the cache holds under that name). */
export function resolveGateRef(spec: TradingEngineSpec, gate: LatencyGate | undefined): GateResolution {
  const ref = gateRefOf(spec);
  if (ref === undefined) return { ok: true, spec };
  if (gate === undefined || gate.kind !== ref.kind || gate.metadata.name !== ref.name) {
    const where = ref.kind === 'LatencyGate' ? "in the engine's namespace" : 'in the cluster';
    return { ok: false, reason: `spec.analysis.gateRef names ${ref.kind} ${JSON.stringify(ref.name)}, which does not exist ${where}: nothing rolls out until it does (or the analysis is written inline)` };
  }
  const identity: GateIdentity = { ...ref, ...(gate.metadata.generation === undefined ? {} : { generation: gate.metadata.generation }) };
  const analysis = { latency: gate.spec.latency, ...(gate.spec.checks === undefined ? {} : { checks: gate.spec.checks }) };
  return { ok: true, spec: { ...spec, analysis }, gate: identity };
}
