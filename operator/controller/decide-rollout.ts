import type { V1ReplicaSet } from '@kubernetes/client-node';
import type { TradingEngine, TradingEngineStatus } from '../api/types.ts';
import { configMaps, replicaSets, services } from '../kube/resources.ts';
import { previewServiceName, renderConfigMap, renderReplicaSet, renderService } from '../render/children.ts';
import { labelKeys, selectorLabels, selectorString } from '../render/labels.ts';
import { planBlueGreen } from '../rollout/bluegreen.ts';
import { planCanary } from '../rollout/canary.ts';
import type { RolloutPlan } from '../rollout/types.ts';
import { mergeConditions, type DesiredCondition } from './conditions.ts';
import type { ApplyIntent, DeleteIntent, EventIntent, Observed, Plan } from './observed.ts';
import { creationMs, deletionOf, gpuCondition, orphanedConfigMaps, pausedCondition, prunedEvent, scaledCopy, scalingEvent } from './plan-parts.ts';

/**
 * The reconcile decision while a strategy (Canary or BlueGreen) rolls `revision` out over `stableRevision`: the
 * strategy's pure planner decides the sizes, the Service selectors and the rollout status; this turns them into
 * applies (ReplicaSets of every revision at their planned size, others at zero; the ConfigMap; the engine and,
 * for blue-green, the preview Service), prunes history beyond revisionHistoryLimit, and assembles the status.
 * When the planner needs a measurement or an orders-off first, the plan carries only that need.
 */
export function decideRollout(
  engine: TradingEngine,
  observed: Observed,
  revision: string,
  byRevision: ReadonlyMap<string, V1ReplicaSet>,
  stableRevision: string,
  nowMs: number,
): Plan {
  const previous = engine.status ?? {};
  const input = {
    engine, revision, stableRevision, replicaSets: byRevision, pods: observed.pods, nowMs,
    ...(observed.measurement === undefined ? {} : { measurement: observed.measurement }),
    ...(observed.control === undefined ? {} : { control: observed.control }),
  };
  const rollout: RolloutPlan = engine.spec.strategy?.type === 'BlueGreen' ? planBlueGreen(input) : planCanary(input);
  if (rollout.needs !== undefined) return { applies: [], deletes: [], events: [], status: previous, needs: rollout.needs };

  const generation = engine.metadata.generation ?? 0;
  const applies: ApplyIntent[] = [];
  const deletes: DeleteIntent[] = [];
  const events: EventIntent[] = [...rollout.events];
  const activeService = observed.services.find((service) => service.metadata?.name === engine.metadata.name);
  applies.push({ resource: services, object: renderService(engine, rollout.serviceRevision), observed: activeService });
  const previewService = observed.services.find((service) => service.metadata?.name === previewServiceName(engine));
  if (rollout.previewRevision !== undefined) {
    applies.push({ resource: services, object: renderService(engine, rollout.previewRevision, 'preview'), observed: previewService });
  } else if (previewService !== undefined) {
    deletes.push(deletionOf(services, previewService));
  }

  const configMap = renderConfigMap(engine, revision);
  applies.push({ resource: configMaps, object: configMap, observed: observed.configMaps.find((cm) => cm.metadata?.name === configMap.metadata?.name) });
  const current = byRevision.get(revision);
  const currentWanted = rollout.replicas.get(revision) ?? 0;
  applies.push({ resource: replicaSets, object: renderReplicaSet(engine, revision, currentWanted), observed: current });
  if (current === undefined) {
    events.push({ type: 'Normal', reason: 'RevisionCreated', message: `Created revision ${revision} (generation ${generation}, image ${engine.spec.template.image}) with ${currentWanted} replicas` });
  } else if ((current.spec?.replicas ?? 0) !== currentWanted) {
    events.push(scalingEvent(engine, revision, current.spec?.replicas ?? 0, currentWanted));
  }

  // Every other revision at its planned size (stable) or zero; history beyond the limit is pruned.
  const historyLimit = engine.spec.revisionHistoryLimit;
  const keptRevisions = new Set<string>([revision, stableRevision]);
  let keptIdle = 0;
  const others = observed.replicaSets
    .filter((rs) => rs.metadata?.labels?.[labelKeys.revision] !== revision)
    .sort((a, b) => creationMs(b) - creationMs(a));
  for (const rs of others) {
    const rsRevision = rs.metadata?.labels?.[labelKeys.revision] ?? '';
    const size = rs.spec?.replicas ?? 0;
    const wanted = rollout.replicas.get(rsRevision) ?? 0;
    if (size !== wanted) {
      applies.push({ resource: replicaSets, object: scaledCopy(rs, wanted), observed: rs });
      events.push(scalingEvent(engine, rsRevision, size, wanted));
    }
    if (wanted > 0 || rsRevision === stableRevision || (rs.status?.replicas ?? 0) > 0 || keptIdle < historyLimit) {
      keptRevisions.add(rsRevision);
      if (wanted === 0 && rsRevision !== stableRevision) keptIdle++;
      continue;
    }
    deletes.push(deletionOf(replicaSets, rs));
    events.push(prunedEvent(rs, rsRevision, historyLimit));
  }
  deletes.push(...orphanedConfigMaps(engine, observed.configMaps, keptRevisions, revision));

  const sum = (pick: (rs: V1ReplicaSet) => number | undefined): number => observed.replicaSets.reduce((total, rs) => total + (pick(rs) ?? 0), 0);
  const readyReplicas = sum((rs) => rs.status?.readyReplicas);
  const availableReplicas = sum((rs) => rs.status?.availableReplicas);
  const desired = engine.spec.replicas;
  const conditions: DesiredCondition[] = [
    readyReplicas >= desired
      ? { type: 'Ready', status: 'True', reason: 'AllReplicasReady', message: `${readyReplicas} engine pods ready (${desired} wanted) while rolling out ${revision}` }
      : { type: 'Ready', status: 'False', reason: 'ReplicasNotReady', message: `${readyReplicas} engine pods ready, ${desired} wanted` },
    availableReplicas >= desired
      ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: `${availableReplicas} pods available, ${desired} wanted` }
      : { type: 'Available', status: 'False', reason: 'ReplicasUnavailable', message: `${availableReplicas} pods available, ${desired} wanted` },
    rollout.progressing,
  ];
  if (rollout.latencyHealthy !== undefined) conditions.push(rollout.latencyHealthy);
  const gpu = gpuCondition(engine, observed.pods, previous);
  if (gpu !== undefined) {
    conditions.push(gpu.condition);
    if (gpu.event !== undefined) events.push(gpu.event);
  }
  conditions.push(pausedCondition(engine));

  const { progressStartedAt: _previousDeadline, abortedAt: _abortedAt, abortReason: _abortReason, ...base } = previous;
  const status: TradingEngineStatus = {
    ...dropRolloutFields(base),
    ...rollout.status,
    observedGeneration: generation,
    replicas: sum((rs) => rs.status?.replicas),
    updatedReplicas: current?.status?.replicas ?? 0,
    readyReplicas,
    availableReplicas,
    readyText: `${readyReplicas}/${desired}`,
    selector: selectorString(selectorLabels(engine)),
    stableRevision: rollout.stableRevision,
    updateRevision: revision,
    phase: rollout.phase,
    message: rollout.progressing.message,
    conditions: mergeConditions(previous.conditions, conditions, generation, nowMs),
  };
  return { applies, deletes, events, status, ...(rollout.requeueAfterMs === undefined ? {} : { requeueAfterMs: rollout.requeueAfterMs }) };
}

/** The status without the rollout-owned fields, which the planner's status replaces whole. */
function dropRolloutFields(status: TradingEngineStatus): TradingEngineStatus {
  const {
    currentStepIndex: _step, canary: _canary, blueGreen: _blueGreen, abort: _abort, promoteFull: _full, promotedStep: _promoted,
    pauseConditions: _pause, analysis: _analysis, stableHistory: _history, ...rest
  } = status;
  return rest;
}
