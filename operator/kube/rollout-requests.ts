import type { KubeConfig } from '@kubernetes/client-node';
import { objectKey, type LatencyGate, type TradingEngine, type TradingEngineStatus } from '../api/types.ts';
import { gateRefOf, resolveGateRef } from '../api/gate-ref.ts';
import { apiRequest, ApiError } from './api-request.ts';
import { clusterLatencyGates, collectionPath, latencyGates, replicaSets, tradingEngines } from './resources.ts';
import { annotationKeys, labelKeys } from '../render/labels.ts';

/**
 * Rollout requests of `nexus rollout promote|abort|retry`: what a person asks of the operator, written into the
 * TradingEngine's status, where the operator reads it on its next reconcile.
 *
 * The contract with the operator:
 * - promote        -> `{status: {promotedStep: currentStepIndex}}`: advance past that step once (ignored once the
 *                     step has moved on);
 * - promote --full -> `{status: {promoteFull: true}}`: skip the remaining steps and analysis;
 * - abort          -> `{status: {abort: true}}`: cut the canary pods' orders, weight 0, scale the canary down;
 * - retry          -> `{status: {abort: false}}`: restart the rollout at step 0 with zeroed counters.
 *
 * Guarantees:
 * - Every request is a JSON merge patch of the status subresource carrying `metadata.resourceVersion` of the object
 *   just read, so the API server rejects it (409) if the operator wrote in between; it never overwrites a status it
 *   has not seen. On 409 it re-reads, re-checks and retries, at most `maxConflictRetries` (5) times.
 * - Refusals are decided on the object as read, by the pure `planRolloutRequest`; nothing is written then.
 * - A promote names what it saw: if a re-read after a conflict shows another update revision (or, for a step
 *   promote, another step), it is refused instead of promoting something the caller was never shown.
 */
export type RolloutAction = 'promote' | 'promote-full' | 'abort' | 'retry';

/** The status fields a request writes; the rest of the status is left to the operator. */
export type RolloutRequestPatch = Pick<TradingEngineStatus, 'promotedStep' | 'promoteFull' | 'abort'>;

/** What a `nexus rollout` request would write, or why it is refused (not a planner's RolloutPlan). */
export type RolloutRequestPlan =
  | { readonly kind: 'patch'; readonly status: RolloutRequestPatch }
  | { readonly kind: 'refuse'; readonly reason: string };

export type RolloutRequestResult =
  | {
      readonly outcome: 'requested';
      /** The object the accepted patch was based on. */
      readonly before: TradingEngine;
      /** The object as the API server returned it after the patch. */
      readonly after: TradingEngine;
      readonly status: RolloutRequestPatch;
      /** Patches sent, 1 without conflicts. */
      readonly attempts: number;
    }
  | { readonly outcome: 'refused'; readonly reason: string; readonly engine: TradingEngine; readonly attempts: number };

export interface RolloutRequestOptions {
  /** Re-reads after a 409 Conflict before giving up; default 5. */
  readonly maxConflictRetries?: number;
  /** Test hook: runs after each read, before its patch (a test changes the status here, as the operator would). */
  readonly beforePatch?: (engine: TradingEngine, attempt: number) => Promise<void>;
}

/** The field manager of the CLI's status patches (it shows in managedFields, beside `nexus-operator`). */
export const rolloutFieldManager = 'nexus-rollout';

export const defaultMaxConflictRetries = 5;

/** The REST path of one TradingEngine, e.g. `/apis/trading.nexus.dev/v1alpha1/namespaces/trading/tradingengines/alpha`. */
export function tradingEnginePath(namespace: string, name: string): string {
  return `${collectionPath(tradingEngines, namespace)}/${encodeURIComponent(name)}`;
}

/** The namespace of the kubeconfig's current context, else `default` (what kubectl uses without -n). */
export function contextNamespace(kubeConfig: KubeConfig): string {
  const context = kubeConfig.getContextObject(kubeConfig.getCurrentContext());
  const namespace = context?.namespace;
  return namespace === undefined || namespace === '' ? 'default' : namespace;
}

/** GET one TradingEngine; 404 throws ApiError (code 404) like every other failure. */
export function readTradingEngine(kubeConfig: KubeConfig, namespace: string, name: string): Promise<TradingEngine> {
  return apiRequest<TradingEngine>(kubeConfig, { method: 'GET', path: tradingEnginePath(namespace, name), timeoutMs: 15_000 });
}

/**
 * The TradingEngine with its analysis as the operator sees it: when spec.analysis.gateRef names a gate definition,
 * the gate's latency and checks take its place (operator/decide/gate-ref.ts), so a view shows the limits that judge
 * the rollout. A gate that cannot be read leaves the spec as it is (status then says GateNotFound).
 */
export async function readResolvedTradingEngine(kubeConfig: KubeConfig, namespace: string, name: string): Promise<TradingEngine> {
  const engine = await readTradingEngine(kubeConfig, namespace, name);
  const ref = gateRefOf(engine.spec);
  if (ref === undefined) return engine;
  const resource = ref.kind === 'ClusterLatencyGate' ? clusterLatencyGates : latencyGates;
  const path = `${collectionPath(resource, ref.kind === 'ClusterLatencyGate' ? undefined : namespace)}/${encodeURIComponent(ref.name)}`;
  const gate = await apiRequest<LatencyGate>(kubeConfig, { method: 'GET', path, timeoutMs: 15_000 }).catch((error: unknown) => {
    if (error instanceof ApiError && (error.code === 404 || error.code === 403)) return undefined;
    throw error;
  });
  const resolved = resolveGateRef(engine.spec, gate);
  return resolved.ok ? { ...engine, spec: resolved.spec } : engine;
}

/** True while a rollout is under way: an update revision other than the stable one, at a step. */
export function rolloutInProgress(status: TradingEngineStatus | undefined): boolean {
  return status !== undefined && status.updateRevision !== status.stableRevision && status.currentStepIndex !== undefined;
}

/** True once the rollout was aborted (by a person or by the gate), until a retry. */
export function rolloutAborted(status: TradingEngineStatus | undefined): boolean {
  return status?.abort === true || status?.phase === 'Aborted';
}

/**
 * What `action` asks of `engine` as read: the status patch, or why it is refused. Pure.
 *
 * Examples (stable a, update b, step 2): promote -> `{promotedStep: 2}`; promote-full -> `{promoteFull: true}`;
 * abort -> `{abort: true}`; retry -> refused (not aborted). With abort true: promote and abort are refused
 * ("use retry"), retry -> `{abort: false}`. With update == stable: everything but retry is refused.
 */
export function planRolloutRequest(engine: TradingEngine, action: RolloutAction): RolloutRequestPlan {
  const status = engine.status;
  const name = objectKey(engine.metadata);
  if (action === 'retry') {
    if (status?.abort === true) return { kind: 'patch', status: { abort: false } };
    const phase = status?.phase === undefined ? '' : ` (phase ${status.phase})`;
    return { kind: 'refuse', reason: `retry refused: the rollout of ${name} is not aborted${phase}; retry restarts only an aborted rollout` };
  }
  if (rolloutAborted(status)) {
    const why = status?.abortReason === undefined ? '' : ` (${status.abortReason})`;
    const hint = action === 'abort' ? 'it is aborted already' : 'use `nexus rollout retry` to restart it at step 0';
    return { kind: 'refuse', reason: `${action} refused: the rollout of ${name} is aborted${why}; ${hint}` };
  }
  const step = status?.currentStepIndex;
  if (!rolloutInProgress(status) || step === undefined) {
    const update = status?.updateRevision;
    const detail = update === undefined ? 'no revision yet' : update === status?.stableRevision ? `revision ${update} is stable` : `revision ${update} has no current step`;
    return { kind: 'refuse', reason: `${action} refused: no rollout in progress for ${name} (${detail})` };
  }
  if (action === 'promote') return { kind: 'patch', status: { promotedStep: step } };
  if (action === 'promote-full') return { kind: 'patch', status: { promoteFull: true } };
  return { kind: 'patch', status: { abort: true } };
}

/**
 * Refusal of a promote whose re-read (after a conflict) no longer shows what the first read showed: another
 * update revision, or for a step promote another step. Pure; undefined when it still matches.
 */
export function promoteTargetMoved(first: TradingEngine, now: TradingEngine, action: RolloutAction): string | undefined {
  if (action !== 'promote' && action !== 'promote-full') return undefined;
  const was = first.status;
  const is = now.status;
  if (was?.updateRevision !== is?.updateRevision) {
    return `${action} refused: the update revision changed from ${was?.updateRevision ?? '-'} to ${is?.updateRevision ?? '-'} while requesting; nothing was requested, run it again`;
  }
  if (action === 'promote' && was?.currentStepIndex !== is?.currentStepIndex) {
    return `promote refused: the rollout moved from step ${was?.currentStepIndex ?? '-'} to step ${is?.currentStepIndex ?? '-'} while requesting; nothing was requested, run it again`;
  }
  return undefined;
}

/**
 * Reads the TradingEngine, plans `action` and writes it with a merge patch on the status subresource at the
 * resourceVersion just read; on 409 Conflict re-reads and tries again. Throws ApiError on other failures (404 when
 * the engine does not exist) and on a conflict that outlasts the retries.
 */
export async function requestRollout(
  kubeConfig: KubeConfig,
  namespace: string,
  name: string,
  action: RolloutAction,
  options: RolloutRequestOptions = {},
): Promise<RolloutRequestResult> {
  const retries = options.maxConflictRetries ?? defaultMaxConflictRetries;
  let first: TradingEngine | undefined;
  for (let attempt = 1; ; attempt++) {
    const engine = await readTradingEngine(kubeConfig, namespace, name);
    first ??= engine;
    const moved = promoteTargetMoved(first, engine, action);
    if (moved !== undefined) return { outcome: 'refused', reason: moved, engine, attempts: attempt - 1 };
    const plan = planRolloutRequest(engine, action);
    if (plan.kind === 'refuse') return { outcome: 'refused', reason: plan.reason, engine, attempts: attempt - 1 };
    await options.beforePatch?.(engine, attempt);
    try {
      const after = await apiRequest<TradingEngine>(kubeConfig, {
        method: 'PATCH',
        path: `${tradingEnginePath(namespace, name)}/status`,
        query: { fieldManager: rolloutFieldManager },
        contentType: 'application/merge-patch+json',
        body: { metadata: { resourceVersion: engine.metadata.resourceVersion }, status: plan.status },
        timeoutMs: 15_000,
      });
      return { outcome: 'requested', before: engine, after, status: plan.status, attempts: attempt };
    } catch (error) {
      if (!(error instanceof ApiError) || error.code !== 409) throw error;
      if (attempt > retries) {
        throw new ApiError(409, 'Conflict', `${action} of ${namespace}/${name} still conflicted after ${retries} re-reads (the status keeps changing): ${error.message}`);
      }
    }
  }
}

/**
 * `nexus rollout pause|resume`: sets spec.paused (a merge patch of the object, not its status: pausing is part of
 * the desired state). Returns the engine before and whether anything changed (already paused: nothing to do).
 */
export async function setPaused(kubeConfig: KubeConfig, namespace: string, name: string, paused: boolean): Promise<{ readonly before: TradingEngine; readonly changed: boolean }> {
  const before = await readTradingEngine(kubeConfig, namespace, name);
  if ((before.spec.paused ?? false) === paused) return { before, changed: false };
  await apiRequest<TradingEngine>(kubeConfig, {
    method: 'PATCH',
    path: tradingEnginePath(namespace, name),
    query: { fieldManager: rolloutFieldManager },
    contentType: 'application/merge-patch+json',
    body: { spec: { paused } },
    timeoutMs: 15_000,
  });
  return { before, changed: true };
}

/** The TradingEngines of one namespace, or of every namespace the caller may list (`undefined`). */
export async function listTradingEngines(kubeConfig: KubeConfig, namespace: string | undefined, timeoutMs = 15_000): Promise<TradingEngine[]> {
  const list = await apiRequest<{ items: TradingEngine[] }>(kubeConfig, { method: 'GET', path: collectionPath(tradingEngines, namespace), timeoutMs });
  return list.items;
}

/** What `nexus rollout undo` did: the revision it put back, or why it refused. */
export type UndoResult =
  | { readonly outcome: 'undone'; readonly from: string; readonly to: string }
  | { readonly outcome: 'refused'; readonly reason: string };

/**
 * `nexus rollout undo`: puts an earlier revision's spec.template and spec.engine back (read from the revision's
 * ReplicaSet, `trading.nexus.dev/revision-spec`), by default the newest earlier stable revision
 * (status.stableHistory), else `toRevision`. A JSON patch that replaces both, conditional on the resourceVersion
 * read; the operator then rolls the revision out (at once, as a fast rollback, when it is within
 * spec.rollbackWindow). A revision whose ReplicaSet is gone (revisionHistoryLimit) cannot be undone to.
 */
export async function undoRollout(kubeConfig: KubeConfig, namespace: string, name: string, toRevision?: string): Promise<UndoResult> {
  const engine = await readTradingEngine(kubeConfig, namespace, name);
  const current = engine.status?.updateRevision ?? '';
  const list = await apiRequest<{ items: Array<{ metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> } }> }>(kubeConfig, {
    method: 'GET', path: collectionPath(replicaSets, namespace), query: { labelSelector: `${labelKeys.instance}=${name}` }, timeoutMs: 15_000,
  });
  const specs = new Map(list.items.flatMap((rs) => {
    const revision = rs.metadata?.labels?.[labelKeys.revision];
    const spec = rs.metadata?.annotations?.[annotationKeys.revisionSpec];
    return revision === undefined || spec === undefined ? [] : [[revision, spec] as const];
  }));
  const target = toRevision ?? (engine.status?.stableHistory ?? []).find((revision) => revision !== current && revision !== engine.status?.stableRevision);
  if (target === undefined) return { outcome: 'refused', reason: 'no earlier stable revision to go back to (status.stableHistory); name one with --to-revision' };
  if (target === current) return { outcome: 'refused', reason: `revision ${target} is the current one` };
  const spec = specs.get(target);
  if (spec === undefined) {
    const known = [...specs.keys()].filter((revision) => revision !== current);
    return { outcome: 'refused', reason: `no ReplicaSet of revision ${target} with its spec (kept: ${known.length === 0 ? 'none' : known.join(', ')}; spec.revisionHistoryLimit bounds them)` };
  }
  const { template, engine: engineSpec } = JSON.parse(spec) as { template: unknown; engine: unknown };
  await apiRequest<TradingEngine>(kubeConfig, {
    method: 'PATCH',
    path: tradingEnginePath(namespace, name),
    query: { fieldManager: rolloutFieldManager },
    contentType: 'application/json-patch+json',
    body: [
      { op: 'test', path: '/metadata/resourceVersion', value: engine.metadata.resourceVersion },
      { op: 'replace', path: '/spec/template', value: template },
      { op: 'replace', path: '/spec/engine', value: engineSpec },
    ],
    timeoutMs: 15_000,
  });
  return { outcome: 'undone', from: current, to: target };
}
