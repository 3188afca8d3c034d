import type { V1ReplicaSet } from '@kubernetes/client-node';
import { applySpecDefaults } from '../api/defaults.ts';
import type { TradingEngine, TradingEngineStatus } from '../api/types.ts';
import { describeErrors, validateSpec, type FieldError } from './validate.ts';
import { resolveGateRef, type GateIdentity } from '../api/gate-ref.ts';
import { findCondition, mergeConditions } from '../plan/conditions.ts';
import type { ForeignObject } from '../plan/needs.ts';
import type { EventIntent, Observed, Plan } from '../plan/plan.ts';
import { labelKeys, revisionLabelOf, selectorLabels, selectorString } from '../render/labels.ts';
import { revisionOf } from '../render/revision.ts';
import { isWasmKey, moduleEntries, moduleFileName, moduleSourceKey, strategyModuleLabel, type ModuleSources } from '../render/module-sources.ts';
import { planBlueGreen } from '../rollout/bluegreen.ts';
import { planCanary } from '../rollout/canary.ts';
import { holdsForPause, isFastRollback, planReplace } from '../rollout/replace.ts';
import type { ReplaceInput, RolloutInput, RolloutPlan } from '../rollout/types.ts';
import { assemble } from './assemble.ts';
import { decideStrategyHealth, strategyProbeIntervalMs, type StrategyProbeStep } from './strategy-health.ts';
import { pods as podResource } from '../kube/resources.ts';
import { decideShards, shardCommandTimeoutMs, shardMoveRequeueMs, shardRetryMs, type PlannerKind } from './shards.ts';
import type { ShardPlan } from '../ownership/shard-plan.ts';

/**
 * The whole reconcile decision for one TradingEngine, as a pure function of what is observed and the time:
 * which children to apply or delete, which Events to emit, the complete new status and when to look again.
 * Level-based: it never depends on which event triggered it, so running it twice on the same input gives the
 * same plan, and a plan executed against a steady state writes nothing.
 *
 *   validate -> revision -> pick the planner (replace | canary | blue-green) -> shards (who owns which symbols)
 *     -> assemble (children, history, status)
 *
 * A spec that names a gate definition (spec.analysis.gateRef) is first resolved against it (gate-ref.ts); a gate
 * that does not exist blocks the engine (GateNotFound), an invalid one is reported on the gate's own fields.
 * An invalid spec changes no child at all. When the planner needs a measurement or an orders-off first, the plan
 * carries only that need and the previous status (see settle.ts).
 */
export function decide(observed: Observed, nowMs: number): Plan {
  const resolution = resolveGateRef(observed.engine.spec, observed.gate);
  if (!resolution.ok) {
    return blockedPlan({ ...observed.engine, spec: applySpecDefaults(observed.engine.spec) }, 'GateNotFound', 'InvalidSpec', resolution.reason, nowMs);
  }
  const engine: TradingEngine = { ...observed.engine, spec: applySpecDefaults(resolution.spec) };
  const sources = moduleSourcesOf(observed, engine);
  const errors = [...validateSpec(engine.spec, observed.settings).map((error) => fromGate(error, resolution.gate)), ...missingModuleSources(engine, sources)];
  if (errors.length > 0) return invalidSpecPlan(engine, errors.length, describeErrors(errors), nowMs);
  return withGateStatus(decideValid(observed, engine, sources.sources, nowMs), resolution.gate);
}

/**
 * The strategy module sources the labelled ConfigMaps hold, and which ConfigMaps there are. A source that is gone
 * from them (its ConfigMap deleted or unlabelled after the rollout) is taken from the current revision's own
 * ConfigMap, which holds the copy its pods run: the engine keeps running and reconciling that revision rather than
 * freezing, until the spec or the source changes. A copy counts only for the reference it was made from (its file
 * name hashes the reference with the source): a changed reference must name a source that exists.
 */
function moduleSourcesOf(observed: Observed, engine: TradingEngine): { readonly sources: ModuleSources; readonly names: ReadonlySet<string> } {
  const sources = new Map<string, string>();
  const names = new Set<string>();
  for (const configMap of observed.moduleConfigMaps ?? []) {
    const name = configMap.metadata?.name ?? '';
    names.add(name);
    for (const [key, value] of moduleEntries(configMap)) sources.set(`${name}/${key}`, value);
  }
  const current = engine.status?.updateRevision;
  const currentConfigMap = current === undefined ? undefined : observed.configMaps.find((configMap) => configMap.metadata?.labels?.[labelKeys.revision] === current);
  const copies = currentConfigMap === undefined ? [] : moduleEntries(currentConfigMap);
  for (const strategy of engine.spec.engine.strategies ?? []) {
    const ref = strategy.moduleConfigMap;
    if (ref === undefined || sources.has(moduleSourceKey(ref))) continue;
    const copy = copies.find(([key, source]) => key === moduleFileName(strategy.name, ref, source));
    if (copy !== undefined) sources.set(moduleSourceKey(ref), copy[1]);
  }
  return { sources, names };
}

/** A moduleConfigMap whose ConfigMap (labelled) or key does not exist: the revision cannot be made without it. */
function missingModuleSources(engine: TradingEngine, found: { readonly sources: ModuleSources; readonly names: ReadonlySet<string> }): FieldError[] {
  const namespace = engine.metadata.namespace ?? '';
  return (engine.spec.engine.strategies ?? []).flatMap((strategy, i) => {
    const ref = strategy.moduleConfigMap;
    if (ref === undefined || found.sources.has(moduleSourceKey(ref))) return [];
    const path = `spec.engine.strategies[${i}].moduleConfigMap`;
    return [found.names.has(ref.name)
      ? { path: `${path}.key`, message: `ConfigMap ${namespace}/${ref.name} has no key ${JSON.stringify(ref.key)}${isWasmKey(ref.key) ? ' in binaryData (a WebAssembly module is binary: kubectl create configmap --from-file puts it there)' : ' in data'}` }
      : { path: `${path}.name`, message: `no ConfigMap ${namespace}/${ref.name} labelled ${strategyModuleLabel}=true (the operator reads strategy modules only from ConfigMaps with that label)` }];
  });
}

/** A field error found in a referenced gate, named there: `ClusterLatencyGate/low-latency spec.latency.window`. */
function fromGate(error: FieldError, gate: GateIdentity | undefined): FieldError {
  if (gate === undefined || !error.path.startsWith('spec.analysis.')) return error;
  return { ...error, path: `${gate.kind}/${gate.name} spec.${error.path.slice('spec.analysis.'.length)}` };
}

/** status.gate names the gate definition the analysis came from (absent when it is inline); unchanged while a pass only asks for effects. */
function withGateStatus(plan: Plan, gate: GateIdentity | undefined): Plan {
  if (plan.needs !== undefined) return plan;
  const { gate: _previous, ...status } = plan.status;
  return { ...plan, status: gate === undefined ? status : { ...status, gate } };
}

function decideValid(observed: Observed, engine: TradingEngine, sources: ModuleSources, nowMs: number): Plan {
  const revision = revisionOf(engine, sources);
  const replicaSets = new Map<string, V1ReplicaSet>();
  for (const rs of observed.replicaSets) replicaSets.set(revisionLabelOf(rs), rs);
  const input: ReplaceInput = {
    engine, revision, stableRevision: engine.status?.stableRevision, replicaSets, pods: observed.pods, nowMs,
    ...(observed.measurement === undefined ? {} : { measurement: observed.measurement }),
    ...(observed.settings?.confirmPromotion === true ? { confirmPromotion: true } : {}),
    ...(observed.promotionConfirmation === undefined ? {} : { promotionConfirmation: observed.promotionConfirmation }),
    ...(observed.confirmedRevision === undefined ? {} : { confirmedRevision: observed.confirmedRevision }),
    ...(observed.control === undefined ? {} : { control: observed.control }),
  };
  const { rollout, planner } = plan(input);
  if (rollout.needs !== undefined) return { applies: [], deletes: [], events: [], status: engine.status ?? {}, needs: rollout.needs };
  const shards = decideShards(engine, observed, revision, rollout, planner, nowMs);
  if (shards?.kind === 'commands') {
    return { applies: [], deletes: [], events: [], status: engine.status ?? {}, needs: { shards: { commands: shards.commands, timeoutMs: shardCommandTimeoutMs(engine) } } };
  }
  const health = decideStrategyHealth(engine, observed);
  if (health?.kind === 'probe') return { applies: [], deletes: [], events: [], status: engine.status ?? {}, needs: { probe: { targets: health.targets } } };
  const assembled = withStrategyHealth(withShards(assemble(engine, observed, revision, rollout, nowMs, sources), shards, engine.metadata.namespace ?? ''), health);
  // Never adopt: a child to create whose name is taken by an object this engine does not control blocks the plan.
  const creates = assembled.applies.filter((intent) => intent.observed === undefined);
  if (creates.length === 0) return assembled;
  if (observed.foreign === undefined) {
    const targets = creates.map((intent) => ({ resource: intent.resource, namespace: intent.object.metadata?.namespace ?? '', name: intent.object.metadata?.name ?? '' }));
    return { applies: [], deletes: [], events: [], status: engine.status ?? {}, needs: { ownership: { targets } } };
  }
  return observed.foreign.length === 0 ? assembled : resourceExistsPlan(engine, observed.foreign, nowMs);
}

/**
 * The planner for this reconcile: a strategy rolls a new revision out over a stable one that still has its
 * ReplicaSet, unless spec.paused holds the new revision back or it is a fast rollback; everything else (first
 * create, no strategy, steady state) is a replace.
 */
function plan(input: ReplaceInput): { readonly rollout: RolloutPlan; readonly planner: PlannerKind } {
  const { engine, revision, stableRevision } = input;
  const strategy = engine.spec.strategy;
  const rolling = strategy !== undefined && stableRevision !== undefined && stableRevision !== revision
    && input.replicaSets.has(stableRevision) && !holdsForPause(input) && !isFastRollback(engine, revision);
  if (!rolling) return { rollout: planReplace(input), planner: 'replace' };
  const rolloutInput: RolloutInput = { ...input, stableRevision };
  return strategy.type === 'BlueGreen'
    ? { rollout: planBlueGreen(rolloutInput), planner: 'blueGreen' }
    : { rollout: planCanary(rolloutInput), planner: 'canary' };
}

/**
 * status.strategyHealth and its StrategyDisabled Events; an engine running strategy modules is looked at again within
 * the probe interval, so a strategy disabled while nothing else changes still shows.
 */
function withStrategyHealth(plan: Plan, health: StrategyProbeStep | undefined): Plan {
  const { strategyHealth: shown, ...status } = plan.status;
  // No module (any more), or no control socket: nothing is probed and nothing stale is kept.
  if (health === undefined) return shown === undefined ? plan : { ...plan, status };
  if (health.kind !== 'result') return plan;
  const requeueAfterMs = Math.min(plan.requeueAfterMs ?? strategyProbeIntervalMs, strategyProbeIntervalMs);
  return {
    ...plan,
    events: [...plan.events, ...health.events],
    status: health.health === undefined ? status : { ...status, strategyHealth: health.health },
    requeueAfterMs,
  };
}

/**
 * status.shards, the hand-over Events and the evicted pods' deletions; while a shard is between owners, look again
 * at once for its next step.
 */
function withShards(plan: Plan, shards: ShardPlan | undefined, namespace: string): Plan {
  if (shards?.kind !== 'settled') return plan;
  // A refused or unanswered command is retried after a pause, never in a tight loop.
  const again = shards.failed ? shardRetryMs : shardMoveRequeueMs;
  // A release pending on a silent pod is retried (and its deadline enforced) even when no shard is moving.
  const pending = shards.records.some((record) => record.releasePendingSince !== undefined);
  const due = shards.moving ? again : pending ? shardRetryMs : undefined;
  const requeueAfterMs = due === undefined ? plan.requeueAfterMs : Math.min(plan.requeueAfterMs ?? due, due);
  // An evicted pod is deleted by UID, so a new pod under the same name is never touched.
  const evictions = shards.evictions.map((eviction) => ({ resource: podResource, namespace, name: eviction.pod, uid: eviction.uid }));
  return {
    ...plan,
    deletes: [...plan.deletes, ...evictions],
    events: [...plan.events, ...shards.events],
    status: { ...plan.status, shards: shards.records },
    ...(requeueAfterMs === undefined ? {} : { requeueAfterMs }),
  };
}

/**
 * Children this TradingEngine would create exist already under another controller (or none): report each by kind,
 * name and controller, write nothing else, and keep serving what runs. The objects are left exactly as they are;
 * the plan looks again after `resourceExistsRecheckMs` (or at any change to the TradingEngine).
 */
function resourceExistsPlan(engine: TradingEngine, foreign: readonly ForeignObject[], nowMs: number): Plan {
  const names = foreign.map((object) => `${object.resource.kind} ${object.namespace}/${object.name} (${object.controller === undefined ? 'no controller' : `controlled by ${object.controller}`})`);
  const text = `${names.join(', ')} already exist${foreign.length === 1 ? 's' : ''} and ${foreign.length === 1 ? 'is' : 'are'} not owned by this TradingEngine: not overwritten; delete or rename ${foreign.length === 1 ? 'it' : 'them'}`;
  // The caches see only this operator's children, so nothing announces that the object went away: look again.
  return { ...blockedPlan(engine, 'ResourceExists', 'Degraded', text, nowMs), requeueAfterMs: resourceExistsRecheckMs };
}

/** How soon a plan blocked by a foreign object looks at the names again. */
const resourceExistsRecheckMs = 30_000;

/** An invalid spec: report it, change nothing else, and keep serving what runs. */
function invalidSpecPlan(engine: TradingEngine, count: number, message: string, nowMs: number): Plan {
  return blockedPlan(engine, 'InvalidSpec', 'InvalidSpec', `${count} invalid field${count === 1 ? '' : 's'}: ${message}`, nowMs);
}

/**
 * A plan that changes no child: Ready=False with `reason` and `text`, the phase set, every other status field kept,
 * and a Warning Event the first time this exact condition is reported.
 */
function blockedPlan(engine: TradingEngine, reason: string, phase: NonNullable<TradingEngineStatus['phase']>, text: string, nowMs: number): Plan {
  const previous = engine.status ?? {};
  const generation = engine.metadata.generation ?? 0;
  const before = findCondition(previous.conditions, 'Ready');
  const events: EventIntent[] = before?.reason === reason && before.message === text
    ? []
    : [{ type: 'Warning', reason, message: `Generation ${generation} not rolled out: ${text}` }];
  const keep = (previous.conditions ?? []).filter((c) => c.type !== 'Ready');
  const status: TradingEngineStatus = {
    ...previous,
    observedGeneration: generation,
    selector: selectorString(selectorLabels(engine)),
    phase,
    message: text,
    conditions: [
      ...mergeConditions(previous.conditions, [{ type: 'Ready', status: 'False', reason, message: text }], generation, nowMs),
      ...keep,
    ],
  };
  return { applies: [], deletes: [], events, status };
}
