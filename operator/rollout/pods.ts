import type { V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import type { TradingEngine } from '../api/types.ts';
import type { MeasureTarget, TargetPod } from '../analysis/provider.ts';
import { parseDurationMs } from '../api/duration.ts';
import { labelKeys } from '../render/labels.ts';
import type { ControlTarget } from '../plan/needs.ts';

/** A revision's pods that can be reached: Running, with an IP, not terminating. */
export function reachablePods(pods: readonly V1Pod[], revision: string): TargetPod[] {
  return pods
    .filter((pod) => pod.metadata?.labels?.[labelKeys.revision] === revision
      && pod.metadata.deletionTimestamp === undefined
      && pod.status?.phase === 'Running'
      && (pod.status.podIP ?? '') !== '')
    .map((pod) => ({ name: pod.metadata?.name ?? '', ip: pod.status?.podIP ?? '' }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Pods of a revision that exist and are not terminating (scheduled or not). */
export function livePodCount(pods: readonly V1Pod[], revision: string): number {
  return pods.filter((pod) => pod.metadata?.labels?.[labelKeys.revision] === revision && pod.metadata.deletionTimestamp === undefined).length;
}

/** Available pods of a ReplicaSet, counted only once the ReplicaSet controller has seen its latest spec. */
export function availableReplicas(rs: V1ReplicaSet | undefined): number {
  if (rs === undefined) return 0;
  const upToDate = (rs.status?.observedGeneration ?? 0) >= (rs.metadata?.generation ?? 0);
  return upToDate ? rs.status?.availableReplicas ?? 0 : 0;
}

export function specReplicas(rs: V1ReplicaSet | undefined): number {
  return rs?.spec?.replicas ?? 0;
}

/** The control socket of each reachable pod, or undefined when the engine has no bound control endpoint. */
export function controlTargets(engine: TradingEngine, pods: readonly TargetPod[]): ControlTarget[] | undefined {
  const control = engine.spec.engine.zeromq.endpoints.find((endpoint) => endpoint.role === 'control');
  if (control?.bindPort === undefined) return undefined;
  return pods.map((pod) => ({ pod: pod.name, address: `tcp://${pod.ip}:${control.bindPort ?? 0}` }));
}

/** What the gate measures for `revision`. */
export function measureTarget(engine: TradingEngine, pods: readonly V1Pod[], revision: string): MeasureTarget {
  const latency = engine.spec.analysis?.latency;
  const source = latency?.source;
  const timeoutMs = source?.type === 'Prometheus' ? source.prometheus?.timeoutMillis : source?.podScrape?.timeoutMillis;
  return {
    namespace: engine.metadata.namespace ?? '',
    engineName: engine.metadata.name ?? '',
    revision,
    pods: reachablePods(pods, revision),
    metric: latency?.metric ?? 'Decision',
    quantile: latency?.quantile ?? '0.99',
    windowSeconds: Math.max(1, Math.ceil((parseDurationMs(latency?.window ?? '60s') ?? 60_000) / 1000)),
    metricsPort: engine.spec.engine.metrics.port,
    timeoutMs: timeoutMs ?? 2_000,
  };
}

/** An object's creationTimestamp in epoch ms (0 when it has none, e.g. not yet created). */
export function creationMs(object: { metadata?: { creationTimestamp?: Date | string } } | undefined): number {
  const stamp = object?.metadata?.creationTimestamp;
  return stamp === undefined ? 0 : new Date(stamp).getTime();
}
