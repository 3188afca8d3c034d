import type { V1Pod } from '@kubernetes/client-node';
import type { TradingEngine } from '../api/types.ts';
import { planShards, type EnginePod, type ShardPlan } from '../ownership/shard-plan.ts';
import type { Observed } from '../plan/plan.ts';
import { parse } from 'yaml';
import { labelKeys } from '../render/labels.ts';
import { configFileName } from '../render/pod-template.ts';
import { incarnationOf } from '../rollout/abort.ts';
import type { RolloutPlan } from '../rollout/types.ts';

/** Which planner made the rollout plan: it decides which revision may trade which shard. */
export type PlannerKind = 'replace' | 'canary' | 'blueGreen';

/** How soon to look again while a shard is between owners (its next step waits for this reconcile's status). */
export const shardMoveRequeueMs = 0;
/** How soon to look again after a pod refused or did not answer a hand-over. */
export const shardRetryMs = 1_000;

/**
 * How long a pod may take to answer a hand-over: an engine answers a release once its fence and flush are done,
 * bounded together by its shutdown.drainTimeoutMs (spec.engine.drainTimeoutMs), plus 2 s for the round trip.
 */
export function shardCommandTimeoutMs(engine: TradingEngine): number {
  return (engine.spec.engine.drainTimeoutMs ?? 5_000) + 2_000;
}

/**
 * Symbol ownership for one reconcile (operator/ownership/shard-plan.ts): spec.replicas shards over engine.symbols,
 * owned by the pods of the revisions the rollout lets trade them (a shard none of them can take stays with an
 * eligible holder). A pod owns only shards whose symbols its revision's configuration lists, and while any pod runs
 * a configuration without ownership (an engine rendered before ownership existed) no shard is granted at all. Undefined when the engine has no control socket:
 * the operator cannot hand shards over, and the engine trades every symbol unfenced (ownership.mode all).
 *
 *   canary      the first max(1, round(weight x shards / 100)) shards to the canary revision (the stable one until
 *               a canary pod is Ready) while the weight is above 0 and the canary is not aborted or cut, the rest to
 *               the stable revision
 *   blue-green  every shard to the active revision; the preview computes in shadow and owns nothing
 *   replace     every shard to the update revision's pods once one is Ready, else to the stable revision's
 */
export function decideShards(engine: TradingEngine, observed: Observed, revision: string, rollout: RolloutPlan, planner: PlannerKind, nowMs: number): ShardPlan | undefined {
  const control = engine.spec.engine.zeromq.endpoints.find((endpoint) => endpoint.role === 'control');
  if (control?.bindPort === undefined) return undefined;
  const shardCount = engine.spec.replicas ?? 1;
  const stable = rollout.stableRevision;
  const revisionsFor = tradingRevisions(planner, rollout, revision, stable, shardCount);
  const configs = revisionConfigs(observed);
  const { ownership } = engine.spec;
  const pins = Object.fromEntries((ownership.pins ?? []).flatMap((pin) => pin.symbols.map((symbol) => [symbol, pin.shard] as const)));
  return planShards({
    symbols: engine.spec.engine.symbols,
    shardCount,
    pins,
    releaseTimeoutMs: ownership.releaseTimeoutSeconds * 1000,
    ...(ownership.onOwnerLoss === 'WaitForReplacement' ? { podsWanted: (wanted: string) => podsWantedOf(observed, wanted) } : {}),
    revisionsFor,
    pods: observed.pods.map((pod) => enginePod(pod, control.bindPort ?? 0, configs)),
    records: engine.status?.shards ?? [],
    ...(observed.shards === undefined ? {} : { outcomes: observed.shards }),
    nowMs,
  });
}

function tradingRevisions(planner: PlannerKind, rollout: RolloutPlan, revision: string, stable: string | undefined, shardCount: number): (shard: number) => readonly string[] {
  const fallback = stable === undefined || stable === revision ? [revision] : [revision, stable];
  if (planner === 'blueGreen') {
    const active = rollout.status.blueGreen?.active ?? stable ?? revision;
    return () => [active];
  }
  if (planner === 'canary' && stable !== undefined) {
    const canary = rollout.status.canary;
    const weight = canary?.weight ?? 0;
    const stopped = rollout.status.abort === true || canary?.ordersEnabled === false || weight <= 0;
    const canaryShards = stopped ? 0 : Math.min(shardCount, Math.max(1, Math.round((weight * shardCount) / 100)));
    // A canary shard stays with the stable revision until a canary pod is Ready to take it; a stable shard goes to
    // the canary only when no stable pod can take it (a symbol the stable configuration does not know), not once the
    // canary is stopped.
    return (shard) => (shard < canaryShards ? [revision, stable] : stopped ? [stable] : [stable, revision]);
  }
  return () => fallback;
}

/** The pods a revision's ReplicaSet wants (its spec.replicas), 0 when it has none. */
function podsWantedOf(observed: Observed, revision: string): number {
  return observed.replicaSets.find((rs) => rs.metadata?.labels?.[labelKeys.revision] === revision)?.spec?.replicas ?? 0;
}

/** What a revision's engine configuration says about ownership: whether it is assigned, and its symbols. */
interface RevisionConfig {
  readonly assigned: boolean;
  readonly symbols: ReadonlySet<string>;
}

/**
 * Each revision's configuration, from its ConfigMap (rendered once per revision, immutable). A revision whose
 * configuration has no `ownership.mode: assigned` (rendered before ownership, or without a control socket) trades
 * every symbol; so does one whose ConfigMap is missing or unreadable, which is the safe reading.
 */
function revisionConfigs(observed: Observed): ReadonlyMap<string, RevisionConfig> {
  const configs = new Map<string, RevisionConfig>();
  for (const configMap of observed.configMaps) {
    const revision = configMap.metadata?.labels?.[labelKeys.revision];
    const text = configMap.data?.[configFileName];
    // Only an engine configuration: a revision's other ConfigMaps (its analysis records) say nothing about it.
    if (revision === undefined || text === undefined) continue;
    const config = readRevisionConfig(text);
    if (config !== undefined) configs.set(revision, config);
  }
  return configs;
}

/**
 * Parsed revision configurations by their text (ConfigMaps are immutable, so a revision's text parses once; keyed
 * by the text itself rather than a UID, which simulated API servers in tests reuse); bounded, oldest dropped first.
 */
const parsedConfigs = new Map<string, RevisionConfig | undefined>();
const parsedConfigLimit = 1024;

/** One engine configuration, parsed once per text; undefined when it is unreadable. */
function readRevisionConfig(text: string): RevisionConfig | undefined {
  if (parsedConfigs.has(text)) return parsedConfigs.get(text);
  let config: RevisionConfig | undefined;
  try {
    const document = parse(text) as { ownership?: { mode?: unknown }; symbols?: unknown } | null;
    const symbols = Array.isArray(document?.symbols) ? document.symbols.filter((symbol): symbol is string => typeof symbol === 'string') : [];
    config = { assigned: document?.ownership?.mode === 'assigned', symbols: new Set(symbols) };
  } catch {
    config = undefined; // unreadable: its pods count as trading every symbol
  }
  parsedConfigs.set(text, config);
  if (parsedConfigs.size > parsedConfigLimit) parsedConfigs.delete(parsedConfigs.keys().next().value ?? '');
  return config;
}

/** A pod as the shard planner sees it: eligible to own shards while Ready, Running with an IP and not terminating. */
function enginePod(pod: V1Pod, controlPort: number, configs: ReadonlyMap<string, RevisionConfig>): EnginePod {
  const { pod: name, uid, restarts } = incarnationOf(pod);
  const ip = pod.status?.podIP ?? '';
  const reachable = ip !== '' && pod.status?.phase === 'Running';
  const ready = pod.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True') === true;
  const revision = pod.metadata?.labels?.[labelKeys.revision] ?? '';
  const config = configs.get(revision);
  // A pod whose containers have ended (evicted, completed) trades nothing, whatever its configuration.
  const ended = pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded';
  return {
    name, uid, restarts, revision,
    ...(reachable ? { address: `tcp://${ip}:${controlPort}` } : {}),
    eligible: reachable && ready && pod.metadata?.deletionTimestamp === undefined,
    ...(config?.assigned === true ? { symbols: config.symbols } : ended ? {} : { tradesAll: true }),
  };
}
