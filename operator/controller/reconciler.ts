import type { V1ConfigMap, V1Pod, V1ReplicaSet, V1Service } from '@kubernetes/client-node';
import type { TradingEngine } from '../api/types.ts';
import type { ClusterWriter } from '../kube/cluster-writer.ts';
import type { Lister } from '../kube/informer.ts';
import { canonicalJson } from '../render/canonical-json.ts';
import { appliedHash } from '../render/children.ts';
import { labelKeys } from '../render/labels.ts';
import { decide } from './decide.ts';
import type { ApplyIntent, Observed } from './observed.ts';

export interface ReconcilerDeps {
  readonly engines: Lister<TradingEngine>;
  readonly replicaSets: Lister<V1ReplicaSet>;
  readonly configMaps: Lister<V1ConfigMap>;
  readonly services: Lister<V1Service>;
  readonly pods: Lister<V1Pod>;
  readonly writer: ClusterWriter;
  /** Wall-clock milliseconds (status timestamps, deadlines). */
  readonly nowMs: () => number;
  readonly log: (line: string) => void;
}

export interface ReconcileResult {
  readonly requeueAfterMs?: number;
  /** API writes made (applies, deletes, status); 0 in a steady state. */
  readonly writes: number;
}

/**
 * Reconciles one TradingEngine by key (`namespace/name`): reads the latest object and its children from the
 * caches, lets the pure `decide` compute the plan, then carries it out. A missing or deleting object is done
 * (its children are garbage-collected through their ownerReferences). Writes happen only where the observed
 * object differs (applied-hash annotation, ReplicaSet size) and the status only when it changed, so a steady
 * state makes zero API writes. Any API error propagates: the caller requeues with backoff, and the next attempt
 * recomputes everything from the caches (level-based, so a half-done attempt is safe to repeat).
 */
export async function reconcile(key: string, deps: ReconcilerDeps): Promise<ReconcileResult> {
  const engine = deps.engines.get(key);
  if (engine === undefined || engine.metadata.deletionTimestamp !== undefined) return { writes: 0 };
  const uid = engine.metadata.uid ?? '';
  const namespace = engine.metadata.namespace ?? '';
  const name = engine.metadata.name ?? '';
  const observed: Observed = {
    engine,
    replicaSets: deps.replicaSets.ownedBy(uid),
    configMaps: deps.configMaps.ownedBy(uid),
    services: deps.services.ownedBy(uid),
    pods: deps.pods.list().filter((pod) => pod.metadata?.namespace === namespace && pod.metadata.labels?.[labelKeys.instance] === name),
  };
  const plan = decide(observed, deps.nowMs());
  let writes = 0;
  for (const intent of plan.applies) {
    if (!needsWrite(intent)) continue;
    await deps.writer.apply(intent.resource, intent.object);
    writes++;
  }
  for (const removal of plan.deletes) {
    await deps.writer.delete(removal.resource, removal.namespace, removal.name, removal.uid);
    writes++;
  }
  for (const event of plan.events) {
    // An Event is a report, not state: failing to record one must not fail (and so repeat) the reconcile.
    await deps.writer.event(engine, event.type, event.reason, event.message).catch((error: unknown) => {
      deps.log(`Event not recorded engine=${key} reason=${event.reason} error=${String(error)}`);
    });
  }
  if (canonicalJson(plan.status) !== canonicalJson(engine.status ?? {})) {
    await deps.writer.applyStatus(engine, plan.status);
    writes++;
  }
  return { writes, ...(plan.requeueAfterMs === undefined ? {} : { requeueAfterMs: plan.requeueAfterMs }) };
}

/** An apply is needed when the object is new, its rendered content changed, or (ReplicaSets) its size differs. */
export function needsWrite(intent: ApplyIntent): boolean {
  if (intent.observed === undefined) return true;
  if (appliedHash(intent.object) !== appliedHash(intent.observed)) return true;
  const wanted = (intent.object as { spec?: { replicas?: number } }).spec?.replicas;
  const actual = (intent.observed as { spec?: { replicas?: number } }).spec?.replicas;
  return wanted !== undefined && wanted !== actual;
}
