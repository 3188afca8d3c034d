import type { V1ConfigMap, V1NetworkPolicy, V1Pod, V1ReplicaSet, V1Secret, V1Service } from '@kubernetes/client-node';
import { clientKeysOf, generateControlKeys, type ControlKeySet } from '../../engine/control/control-keys.ts';
import type { OperatorSettings } from '../api/settings.ts';
import type { LatencyGate, LatencySource, TradingEngine } from '../api/types.ts';
import { hasReservedShard } from '../ownership/shard-plan.ts';
import { gateKeyOf } from '../api/gate-ref.ts';
import type { ClusterWriter } from '../kube/cluster-writer.ts';
import type { Lister } from '../kube/informer.ts';
import { canonicalJson } from '../render/canonical-json.ts';
import { controlKeysOf, controlSecretName, hasControlSocket } from '../render/control-secret.ts';
import { configMaps as configMapResource, secrets as secretResource, type ResourceKind } from '../kube/resources.ts';
import { labelKeys } from '../render/labels.ts';
import { settle, type EffectResult, type NeededEffect } from '../decide/settle.ts';
import type { StatusExpectations } from './expectations.ts';
import type { RolloutMetrics } from '../metrics/rollout-metrics.ts';
import { webhookEventOf, type WebhookEvent } from '../notify/event-webhook.ts';
import type { PromotionConfirmer } from '../notify/confirm-promotion.ts';
import { cutOrdersOn, handOverShards, probeStrategies, takeMeasurement, type RolloutEffects, type SourceCredentials } from './rollout-effects.ts';
import { strategyProbeIntervalMs } from '../decide/strategy-health.ts';
import type { ForeignObject, OwnershipRequest } from '../plan/needs.ts';
import { needsWrite, type Observed, type Plan } from '../plan/plan.ts';

export interface ReconcilerDeps {
  readonly engines: Lister<TradingEngine>;
  readonly replicaSets: Lister<V1ReplicaSet>;
  readonly configMaps: Lister<V1ConfigMap>;
  /** ConfigMaps labelled as strategy modules (module-sources.ts), in every watched namespace; absent: none. */
  readonly moduleConfigMaps?: Lister<V1ConfigMap>;
  readonly services: Lister<V1Service>;
  readonly pods: Lister<V1Pod>;
  readonly secrets: Lister<V1Secret>;
  readonly networkPolicies: Lister<V1NetworkPolicy>;
  /** Gate definitions: LatencyGates by `namespace/name`, ClusterLatencyGates by `/name`. */
  readonly latencyGates: Lister<LatencyGate>;
  readonly clusterLatencyGates: Lister<LatencyGate>;
  readonly writer: ClusterWriter;
  /** The operator's own settings (NetworkPolicy peers, Prometheus allow-list). */
  readonly settings: OperatorSettings;
  /** Measurements and orders-off for rollouts. */
  readonly rollout: RolloutEffects;
  /** The status resourceVersion each key last wrote, until the cache has caught up with it. */
  readonly expectations: StatusExpectations;
  /** Per-engine rollout metrics, set from every plan carried out (absent: none kept). */
  readonly rolloutMetrics?: RolloutMetrics;
  /** Hands each recorded Event to the event webhook (absent: no webhook configured); must not block. */
  readonly notify?: (event: WebhookEvent) => void;
  /** Asks the confirm-promotion webhook (absent: none configured; settings.confirmPromotion is then unset). */
  readonly confirmPromotion?: PromotionConfirmer;
  /**
   * The revision the webhook confirmed, by engine key, as this operator saw it: what a promotion trusts (never the
   * status record alone, which users may patch). Lost on a restart, when the webhook is simply asked again.
   */
  readonly confirmedPromotions?: Map<string, string>;
  /** When each engine (by key) was last probed for disabled strategies (monotonic ms); absent: probed every reconcile. */
  readonly strategyProbes?: Map<string, number>;
  /** Wall-clock milliseconds (status timestamps, deadlines). */
  readonly nowMs: () => number;
  readonly log: (line: string) => void;
}

export interface ReconcileResult {
  readonly requeueAfterMs?: number;
  /** API writes made (applies, deletes, status); 0 in a steady state. */
  readonly writes: number;
}

/** How soon to look again while the cache lags behind this operator's own last status write. */
const cacheLagRetryMs = 25;

/**
 * Reconciles one TradingEngine by key (`namespace/name`): reads the latest object and its children from the
 * caches, lets the pure `decide` compute the plan, then carries it out. A missing or deleting object is done
 * (its children are garbage-collected through their ownerReferences).
 *
 * Effects a plan needs first (a due latency measurement; orders-off on pods being aborted) are performed and
 * decide runs again with their results, so every decision is a pure function of what was observed. Then the
 * status is written first, as the commit point, with the cached resourceVersion as a precondition: a stale
 * cache (or a user request written in between) makes it fail with 409 and nothing else is written; the retry
 * decides again from fresh state. Only then children are applied (where the observed object differs) and the
 * Events recorded, so a transition is announced once. A status write that reserves a shard (docs/ownership.md) is
 * followed at once by a second decide from the status just written, which grants it and writes the status again;
 * the children and Events of both passes are written after. A steady state makes zero API writes. While the cache
 * has not yet caught up with this operator's own last status write, reconcile waits briefly instead of
 * acting on stale state (expectations, as client-go controllers keep them).
 */
export async function reconcile(key: string, deps: ReconcilerDeps): Promise<ReconcileResult> {
  const engine = deps.engines.get(key);
  if (engine === undefined || engine.metadata.deletionTimestamp !== undefined) {
    deps.expectations.forget(key);
    deps.strategyProbes?.delete(key);
    deps.confirmedPromotions?.delete(key);
    const [namespace, name] = key.split('/', 2);
    deps.rolloutMetrics?.forget(namespace ?? '', name ?? '');
    return { writes: 0 };
  }
  if (!deps.expectations.satisfiedBy(key, engine.metadata.resourceVersion, deps.nowMs())) return { writes: 0, requeueAfterMs: cacheLagRetryMs };
  const uid = engine.metadata.uid ?? '';
  const namespace = engine.metadata.namespace ?? '';
  const name = engine.metadata.name ?? '';
  const { secrets, controlKeys } = await ownControlSecret(deps, engine);
  const gate = gateOf(deps, engine);
  const observed: Observed = {
    engine,
    ...(gate === undefined ? {} : { gate }),
    replicaSets: deps.replicaSets.ownedBy(uid),
    configMaps: deps.configMaps.ownedBy(uid),
    services: deps.services.ownedBy(uid),
    secrets,
    networkPolicies: deps.networkPolicies.ownedBy(uid),
    moduleConfigMaps: (deps.moduleConfigMaps?.list() ?? []).filter((configMap) => configMap.metadata?.namespace === namespace),
    pods: deps.pods.list().filter((pod) => pod.metadata?.namespace === namespace && pod.metadata.labels?.[labelKeys.instance] === name),
    settings: deps.settings,
    // Fresh keys only when the engine needs them and has none: generating them is this executor's effect, not decide's.
    ...(controlKeys === undefined && hasControlSocket(engine) ? { newControlKeys: generateControlKeys() } : {}),
    ...(deps.confirmedPromotions?.get(key) === undefined ? {} : { confirmedRevision: deps.confirmedPromotions.get(key) }),
  };
  let handOverFailed = false;
  const perform = async (effect: NeededEffect): Promise<EffectResult> => {
    switch (effect.kind) {
      case 'measure': return { kind: 'measure', measurement: await takeMeasurement(deps.rollout, effect.request, await sourceCredentialsOf(deps, namespace, effect.request.source)) };
      case 'control': return { kind: 'control', outcomes: await cutOrdersOn(deps.rollout, effect.request, controlKeys === undefined ? undefined : clientKeysOf(controlKeys)) };
      case 'shards': {
        const outcomes = await handOverShards(deps.rollout, effect.request, controlKeys === undefined ? undefined : clientKeysOf(controlKeys));
        if (outcomes.some((outcome) => !outcome.ok)) handOverFailed = true;
        return { kind: 'shards', outcomes };
      }
      case 'probe': {
        // At most one probe per engine per interval: the reconciles in between keep status.strategyHealth as it is.
        const last = deps.strategyProbes?.get(key);
        const now = performance.now(); // monotonic: a wall-clock step never stops the probes
        if (last !== undefined && now - last < strategyProbeIntervalMs) return { kind: 'probe', outcomes: 'skipped' };
        deps.strategyProbes?.set(key, now);
        return { kind: 'probe', outcomes: await probeStrategies(deps.rollout, effect.request, controlKeys === undefined ? undefined : clientKeysOf(controlKeys)) };
      }
      case 'confirm': {
        const outcome = deps.confirmPromotion === undefined ? { confirmed: false, message: 'no confirm-promotion webhook is configured' } : await deps.confirmPromotion(effect.request);
        if (outcome.confirmed) deps.confirmedPromotions?.set(key, effect.request.revision);
        return { kind: 'confirm', outcome };
      }
      case 'ownership': return { kind: 'ownership', foreign: await foreignObjects(deps.writer, uid, effect.request) };
    }
  };
  // An error (an API error with its code, or a plan that cannot settle) fails this reconcile as it is; the
  // controller logs it with the engine's key and retries with backoff.
  let nowMs = deps.nowMs();
  let current = engine;
  let plan = (await settle(observed, nowMs, perform)).plan;
  const events = [...plan.events];
  let writes = 0;
  let grantUnrecorded = false;
  for (let round = 0; ; round++) {
    if (canonicalJson(plan.status) === canonicalJson(current.status ?? {})) break;
    let written: string | undefined;
    try {
      written = await deps.writer.applyStatus(current, plan.status);
    } catch (error) {
      // The first write failed: nothing is committed, and the retry decides again from fresh state.
      if (round === 0) throw error;
      // The grant's write failed, but the first pass is committed: carry out its children and Events now; the next
      // reconcile finds the shard still reserved and grants it again (the engine keeps a grant it already holds).
      deps.log(`Shard grant not recorded engine=${key} error=${String(error)}`);
      grantUnrecorded = true;
      break;
    }
    deps.expectations.expect(key, written, nowMs);
    writes++;
    // A shard reserved by this status write (its epoch now committed) is granted at once, from the status just
    // written and the same children, rather than after a requeue and the watch event: the hand-over gap is then
    // one status write and one control round trip. Children and Events of both passes are written after.
    // Not after a hand-over that failed: that pod would only be asked again at once (the next reconcile retries).
    if (round > 0 || handOverFailed || !hasReservedShard(plan.status.shards) || written === undefined) break;
    current = { ...current, metadata: { ...current.metadata, resourceVersion: written }, status: plan.status };
    nowMs = deps.nowMs();
    let granted: Plan;
    try {
      granted = (await settle({ ...observed, engine: current }, nowMs, perform)).plan;
    } catch (error) {
      // The first pass is committed: carry out its children and Events; the next reconcile grants.
      deps.log(`Shard grant pass failed engine=${key} error=${String(error)}`);
      break;
    }
    plan = granted;
    // The children are as the first pass saw them, so an Event about them (a scaling) would come twice: once is enough.
    events.push(...plan.events.filter((event) => !events.some((seen) => seen.reason === event.reason && seen.message === event.message)));
  }
  for (const intent of plan.applies) {
    if (!needsWrite(intent)) continue;
    await deps.writer.apply(intent.resource, intent.object);
    writes++;
  }
  for (const removal of plan.deletes) {
    await deps.writer.delete(removal.resource, removal.namespace, removal.name, removal.uid);
    writes++;
  }
  const startedMs = Date.parse(plan.status.rolloutStartedAt ?? '');
  for (const event of events) {
    deps.rolloutMetrics?.event(namespace, name, event.type, event.reason);
    // Time to promotion (and to abort), from the rollout's start as its status records it.
    if (!Number.isNaN(startedMs) && (event.reason === 'RolloutCompleted' || event.reason === 'RolloutAborted')) {
      deps.rolloutMetrics?.rolloutEnded(namespace, name, event.reason === 'RolloutCompleted' ? 'promoted' : 'aborted', (nowMs - startedMs) / 1000);
    }
    deps.notify?.(webhookEventOf({ namespace, name }, event, plan.status, nowMs));
    // An Event is a report, not state: failing to record one must not fail (and so repeat) the reconcile.
    await deps.writer.event(engine, event.type, event.reason, event.message).catch((error: unknown) => {
      deps.log(`Event not recorded engine=${key} reason=${event.reason} error=${String(error)}`);
    });
  }
  deps.rolloutMetrics?.observe(namespace, name, plan.status);
  const requeueAfterMs = grantUnrecorded ? 0 : plan.requeueAfterMs;
  return { writes, ...(requeueAfterMs === undefined ? {} : { requeueAfterMs }) };
}

/**
 * The objects that stand under the names of children a plan would create and are not controlled by the engine
 * `engineUid` (the API server's answer, not the cache: the caches hold only this operator's own children). One
 * controlled by this engine is its own child that the cache has not caught up with yet, so it is not foreign.
 */
async function foreignObjects(writer: ClusterWriter, engineUid: string, request: OwnershipRequest): Promise<ForeignObject[]> {
  const found = await Promise.all(request.targets.map(async (target) => ({ target, controller: await writer.controllerOf(target.resource, target.namespace, target.name) })));
  return found
    .filter(({ controller }) => controller !== undefined && controller.uid !== engineUid)
    .map(({ target, controller }) => ({ ...target, ...(controller?.name === undefined ? {} : { controller: controller.name }) }));
}

/**
 * The engine's own Secrets, and its control keys when it has them. The cache may not have seen a Secret this
 * operator created a moment ago (its status write can start the next reconcile before the Secret's watch event
 * arrives): without a valid cached Secret, the live object is read before fresh keys are made, so keys that pods
 * may already have mounted are never replaced by a lagging cache.
 */
/**
 * What a Prometheus source needs read before it may be queried, from the API server at each measurement (the
 * caches hold only the operator's own Secrets and the labelled module ConfigMaps): the bearer token its
 * `bearerTokenSecretRef` names and the CA bundle its `caConfigMapRef` names, both in the engine's namespace; or
 * why one cannot be had. A message names the object and key, never the value.
 */
async function sourceCredentialsOf(deps: ReconcilerDeps, namespace: string, source: LatencySource): Promise<SourceCredentials & { readonly error?: string }> {
  const prometheus = source.type === 'Prometheus' ? source.prometheus : undefined;
  const [token, caBundle] = await Promise.all([
    readKey(deps, secretResource, namespace, prometheus?.bearerTokenSecretRef, 'the bearer token Secret', (secret: V1Secret, key) => {
      const encoded = secret.data?.[key];
      return encoded === undefined ? undefined : Buffer.from(encoded, 'base64').toString('utf8').trim();
    }),
    readKey(deps, configMapResource, namespace, prometheus?.caConfigMapRef, 'the CA bundle ConfigMap', (configMap: V1ConfigMap, key) => configMap.data?.[key]?.trim()),
  ]);
  const error = [token, caBundle].flatMap((read) => (read?.error === undefined ? [] : [read.error])).join('; ');
  if (error !== '') return { error };
  return { ...(token?.value === undefined ? {} : { token: token.value }), ...(caBundle?.value === undefined ? {} : { caBundle: caBundle.value }) };
}

/** One key of a Secret or ConfigMap `ref` names, read from the API server: its value, or why there is none. */
async function readKey<T>(
  deps: ReconcilerDeps, resource: ResourceKind, namespace: string, ref: { readonly name: string; readonly key: string } | undefined, what: string,
  valueOf: (object: T, key: string) => string | undefined,
): Promise<{ readonly value?: string; readonly error?: string } | undefined> {
  if (ref === undefined) return undefined;
  const where = `${what} ${namespace}/${ref.name}`;
  try {
    const object = await deps.writer.read<T>(resource, namespace, ref.name);
    if (object === undefined) return { error: `${where} does not exist` };
    const value = valueOf(object, ref.key);
    if (value === undefined) return { error: `${where} has no key ${JSON.stringify(ref.key)}` };
    return value === '' ? { error: `${where} key ${JSON.stringify(ref.key)} is empty` } : { value };
  } catch (error) {
    return { error: `${where} could not be read: ${(error as Error).message}` };
  }
}

/** The gate definition the engine's spec.analysis.gateRef names, from the caches; undefined when none or not found. */
function gateOf(deps: ReconcilerDeps, engine: TradingEngine): LatencyGate | undefined {
  const where = gateKeyOf(engine);
  if (where === undefined) return undefined;
  return (where.kind === 'ClusterLatencyGate' ? deps.clusterLatencyGates : deps.latencyGates).get(where.key);
}

async function ownControlSecret(deps: ReconcilerDeps, engine: TradingEngine): Promise<{ secrets: V1Secret[]; controlKeys: ControlKeySet | undefined }> {
  const uid = engine.metadata.uid ?? '';
  const name = controlSecretName(engine);
  const cached = deps.secrets.ownedBy(uid);
  const cachedKeys = controlKeysOf(cached.find((secret) => secret.metadata?.name === name));
  if (cachedKeys !== undefined || !hasControlSocket(engine)) return { secrets: cached, controlKeys: cachedKeys };
  const live = await deps.writer.read<V1Secret>(secretResource, engine.metadata.namespace ?? '', name);
  const ownedLive = live?.metadata?.ownerReferences?.some((reference) => reference.controller === true && reference.uid === uid) === true;
  if (live === undefined || !ownedLive) return { secrets: cached, controlKeys: undefined };
  return { secrets: [...cached.filter((secret) => secret.metadata?.name !== name), live], controlKeys: controlKeysOf(live) };
}
