import type { V1ReplicaSet } from '@kubernetes/client-node';
import { applySpecDefaults } from '../api/defaults.ts';
import type { TradingEngine, TradingEngineStatus } from '../api/types.ts';
import { describeErrors, validateSpec } from '../api/validate.ts';
import { previewServiceName, renderConfigMap, renderReplicaSet, renderService } from '../render/children.ts';
import { pushStableHistory, requestFields } from '../rollout/status-fields.ts';
import { decideRollout } from './decide-rollout.ts';
import { labelKeys, selectorLabels, selectorString } from '../render/labels.ts';
import { revisionOf } from '../render/revision.ts';
import { configMaps, replicaSets, services } from '../kube/resources.ts';
import { findCondition, mergeConditions, metaTime, type DesiredCondition } from './conditions.ts';
import type { ApplyIntent, DeleteIntent, EventIntent, Observed, Plan } from './observed.ts';
import { creationMs, deletionOf, gpuCondition, orphanedConfigMaps, pausedCondition, prunedEvent, scaledCopy, scalingEvent } from './plan-parts.ts';

/**
 * The whole reconcile decision for one TradingEngine, as a pure function of what is observed and the time:
 * which children to apply or delete, which Events to emit, the complete new status and when to look again.
 * Level-based: it never depends on which event triggered it, so running it twice on the same input gives the
 * same plan, and a plan executed against a steady state writes nothing.
 *
 * Rollout without a strategy ("replace"): the new revision's ReplicaSet is created at full size beside the old
 * ones; old revisions keep their pods until the new one has `replicas` available pods, then scale to 0 (no
 * capacity gap; the surge is the price). Old ReplicaSets at 0 beyond `revisionHistoryLimit` are deleted with their
 * ConfigMaps. While `spec.paused`, a new revision is not started. An invalid spec changes no child at all.
 */
export function decide(observed: Observed, nowMs: number): Plan {
  const engine: TradingEngine = { ...observed.engine, spec: applySpecDefaults(observed.engine.spec) };
  const previous = engine.status ?? {};
  const generation = engine.metadata.generation ?? 0;
  const errors = validateSpec(engine.spec);
  if (errors.length > 0) return invalidSpecPlan(engine, errors.length, describeErrors(errors), nowMs);

  const revision = revisionOf(engine);
  const desiredReplicas = engine.spec.replicas;
  const byRevision = new Map<string, V1ReplicaSet>();
  for (const rs of observed.replicaSets) byRevision.set(rs.metadata?.labels?.[labelKeys.revision] ?? '', rs);
  const current = byRevision.get(revision);
  const stableBefore = previous.stableRevision;
  const holdForPause = engine.spec.paused && current === undefined && stableBefore !== undefined && byRevision.has(stableBefore);
  const fastRollback = isFastRollback(engine, revision);
  if (engine.spec.strategy !== undefined && stableBefore !== undefined && stableBefore !== revision && byRevision.has(stableBefore) && !holdForPause && !fastRollback) {
    return decideRollout(engine, observed, revision, byRevision, stableBefore, nowMs);
  }

  const applies: ApplyIntent[] = [];
  const deletes: DeleteIntent[] = [];
  const events: EventIntent[] = [];

  // Blue-green always pins the engine Service to one revision (the stable one, or the new one on first create).
  const blueGreen = engine.spec.strategy?.type === 'BlueGreen';
  const serving = blueGreen ? stableBefore ?? revision : undefined;
  const activeService = observed.services.find((service) => service.metadata?.name === engine.metadata.name);
  const previewService = observed.services.find((service) => service.metadata?.name === previewServiceName(engine));
  applies.push({ resource: services, object: renderService(engine, serving), observed: activeService });
  if (blueGreen) {
    applies.push({ resource: services, object: renderService(engine, revision, 'preview'), observed: previewService });
  } else if (previewService !== undefined) {
    deletes.push(deletionOf(services, previewService));
  }
  if (fastRollback && previous.updateRevision !== revision) {
    events.push({
      type: 'Normal', reason: 'FastRollback',
      message: `Revision ${revision} was stable within the last ${engine.spec.rollbackWindow.revisions} stable revisions: rolling back to it at once, without steps or analysis`,
    });
  }

  if (!holdForPause) {
    const configMap = renderConfigMap(engine, revision);
    const observedConfigMap = observed.configMaps.find((cm) => cm.metadata?.name === configMap.metadata?.name);
    applies.push({ resource: configMaps, object: configMap, observed: observedConfigMap });
    const rs = renderReplicaSet(engine, revision, desiredReplicas);
    applies.push({ resource: replicaSets, object: rs, observed: current });
    if (current === undefined) {
      events.push({
        type: 'Normal',
        reason: 'RevisionCreated',
        message: `Created revision ${revision} (generation ${generation}, image ${engine.spec.template.image}) with ${desiredReplicas} replicas`,
      });
    } else if ((current.spec?.replicas ?? 0) !== desiredReplicas) {
      events.push(scalingEvent(engine, revision, current.spec?.replicas ?? 0, desiredReplicas));
    }
  }

  const currentAvailable = current?.status?.availableReplicas ?? 0;
  const currentObservedUpToDate = current !== undefined && (current.status?.observedGeneration ?? 0) >= (current.metadata?.generation ?? 0);
  const rolledOut = !holdForPause && current !== undefined && currentObservedUpToDate && currentAvailable >= desiredReplicas;
  const stableRevision = rolledOut ? revision : stableBefore;

  // Old revisions: hold their size until the new one is fully available, then scale them to zero.
  const old = observed.replicaSets
    .filter((rs) => rs.metadata?.labels?.[labelKeys.revision] !== revision)
    .sort((a, b) => creationMs(b) - creationMs(a));
  const historyLimit = engine.spec.revisionHistoryLimit;
  let kept = 0;
  const keptRevisions = new Set<string>([revision]);
  for (const rs of old) {
    const rsRevision = rs.metadata?.labels?.[labelKeys.revision] ?? '';
    const size = rs.spec?.replicas ?? 0;
    const holding = holdForPause && rsRevision === stableBefore;
    if (size > 0 && (rolledOut || desiredReplicas === 0) && !holding) {
      applies.push({ resource: replicaSets, object: scaledCopy(rs, 0), observed: rs });
      events.push(scalingEvent(engine, rsRevision, size, 0));
      keptRevisions.add(rsRevision);
      kept++;
      continue;
    }
    if (size > 0 || (rs.status?.replicas ?? 0) > 0 || kept < historyLimit) {
      keptRevisions.add(rsRevision);
      if (size === 0) kept++;
      continue;
    }
    deletes.push(deletionOf(replicaSets, rs));
    events.push(prunedEvent(rs, rsRevision, historyLimit));
  }
  deletes.push(...orphanedConfigMaps(engine, observed.configMaps, keptRevisions, revision));

  // Status, computed whole.
  const sum = (pick: (rs: V1ReplicaSet) => number | undefined): number => observed.replicaSets.reduce((total, rs) => total + (pick(rs) ?? 0), 0);
  const readyReplicas = sum((rs) => rs.status?.readyReplicas);
  const availableReplicas = sum((rs) => rs.status?.availableReplicas);
  const conditions: DesiredCondition[] = [];
  const progressing = findCondition(previous.conditions, 'Progressing');
  let requeueAfterMs: number | undefined;
  let phase: NonNullable<TradingEngineStatus['phase']>;
  let progressStartedAt: string | undefined;
  const currentReady = current?.status?.readyReplicas ?? 0;

  conditions.push(currentReady >= desiredReplicas && rolledOut
    ? { type: 'Ready', status: 'True', reason: 'AllReplicasReady', message: `${currentReady}/${desiredReplicas} pods of revision ${revision} are ready` }
    : { type: 'Ready', status: 'False', reason: 'ReplicasNotReady', message: `${currentReady}/${desiredReplicas} pods of revision ${revision} are ready` });
  conditions.push(availableReplicas >= desiredReplicas
    ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: `${availableReplicas} pods available, ${desiredReplicas} wanted` }
    : { type: 'Available', status: 'False', reason: 'ReplicasUnavailable', message: `${availableReplicas} pods available, ${desiredReplicas} wanted` });

  if (holdForPause) {
    phase = 'Paused';
    conditions.push({ type: 'Progressing', status: 'Unknown', reason: 'RolloutPaused', message: `Revision ${revision} waits: spec.paused is true` });
  } else if (rolledOut) {
    phase = availableReplicas >= desiredReplicas ? 'Healthy' : 'Degraded';
    conditions.push({ type: 'Progressing', status: 'True', reason: 'NewRevisionAvailable', message: `Revision ${revision} is available (${currentAvailable}/${desiredReplicas})` });
  } else {
    // The deadline runs from when this revision (or this scale-up) started progressing, kept in status so an
    // operator restart does not reset it; a new revision restarts the clock.
    const continuing = previous.updateRevision === revision && previous.progressStartedAt !== undefined;
    const sinceMs = continuing ? Date.parse(previous.progressStartedAt ?? '') : nowMs;
    progressStartedAt = metaTime(sinceMs);
    const deadlineMs = sinceMs + engine.spec.progressDeadlineSeconds * 1000;
    if (nowMs >= deadlineMs) {
      phase = 'Degraded';
      conditions.push({
        type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded',
        message: `Revision ${revision} did not become available within progressDeadlineSeconds ${engine.spec.progressDeadlineSeconds}: ${currentAvailable}/${desiredReplicas} pods available`,
      });
      if (!continuing || progressing?.reason !== 'ProgressDeadlineExceeded') {
        const waited = Math.round((nowMs - sinceMs) / 1000);
        events.push({
          type: 'Warning', reason: 'ProgressDeadlineExceeded',
          message: `Revision ${revision} has ${currentAvailable}/${desiredReplicas} available pods after ${waited} s (progressDeadlineSeconds ${engine.spec.progressDeadlineSeconds})`,
        });
      }
    } else {
      phase = 'Progressing';
      conditions.push({ type: 'Progressing', status: 'True', reason: 'RevisionProgressing', message: `Revision ${revision}: ${currentAvailable}/${desiredReplicas} pods available` });
      requeueAfterMs = deadlineMs - nowMs;
    }
  }

  const gpu = gpuCondition(engine, observed.pods, previous);
  if (gpu !== undefined) {
    conditions.push(gpu.condition);
    if (gpu.event !== undefined) events.push(gpu.event);
  }
  conditions.push(pausedCondition(engine));

  if (rolledOut && stableBefore !== revision) {
    const seconds = (nowMs - creationMs(current)) / 1000;
    events.push({
      type: 'Normal', reason: 'RevisionAvailable',
      message: `Revision ${revision} is stable: ${currentAvailable}/${desiredReplicas} pods available ${seconds.toFixed(1)} s after its ReplicaSet was created`,
    });
  }
  if (findCondition(previous.conditions, 'Ready')?.reason === 'InvalidSpec') {
    events.push({ type: 'Normal', reason: 'SpecValid', message: `The spec of generation ${generation} is valid again` });
  }

  const status: TradingEngineStatus = {
    ...replaceRolloutFields(engine, previous, stableRevision, rolledOut && stableBefore !== revision ? revision : undefined),
    observedGeneration: generation,
    replicas: sum((rs) => rs.status?.replicas),
    updatedReplicas: current?.status?.replicas ?? 0,
    readyReplicas,
    availableReplicas,
    readyText: `${readyReplicas}/${desiredReplicas}`,
    selector: selectorString(selectorLabels(engine)),
    ...(stableRevision === undefined ? {} : { stableRevision }),
    ...(progressStartedAt === undefined ? {} : { progressStartedAt }),
    updateRevision: revision,
    phase,
    message: conditions.find((c) => c.type === (phase === 'Healthy' ? 'Ready' : 'Progressing'))?.message ?? '',
    conditions: mergeConditions(previous.conditions, conditions, generation, nowMs),
  };
  return { applies, deletes, events, status, ...(requeueAfterMs === undefined ? {} : { requeueAfterMs }) };
}

/** An invalid spec: report it, change nothing else, and keep serving what runs. */
function invalidSpecPlan(engine: TradingEngine, count: number, message: string, nowMs: number): Plan {
  const previous = engine.status ?? {};
  const generation = engine.metadata.generation ?? 0;
  const text = `${count} invalid field${count === 1 ? '' : 's'}: ${message}`;
  const before = findCondition(previous.conditions, 'Ready');
  const events: EventIntent[] = before?.reason === 'InvalidSpec' && before.message === text
    ? []
    : [{ type: 'Warning', reason: 'InvalidSpec', message: `Generation ${generation} not rolled out: ${text}` }];
  const keep = (previous.conditions ?? []).filter((c) => c.type !== 'Ready');
  const status: TradingEngineStatus = {
    ...previous,
    observedGeneration: generation,
    selector: selectorString(selectorLabels(engine)),
    phase: 'InvalidSpec',
    message: text,
    conditions: [
      ...mergeConditions(previous.conditions, [{ type: 'Ready', status: 'False', reason: 'InvalidSpec', message: text }], generation, nowMs),
      ...keep,
    ],
  };
  return { applies: [], deletes: [], events, status };
}

/**
 * The rollout fields outside a strategy's rollout (first create, no strategy, steady state, fast rollback): no
 * step, abort or pause state; the request fields consumed; the gate's last figures kept for display; the stable
 * history extended when `promoted` became stable now. Blue-green reports its single active revision.
 */
function replaceRolloutFields(
  engine: TradingEngine,
  previous: TradingEngineStatus,
  stableRevision: string | undefined,
  promoted: string | undefined,
): Partial<TradingEngineStatus> {
  const history = promoted === undefined ? previous.stableHistory : pushStableHistory(previous.stableHistory, promoted);
  const steps = engine.spec.strategy?.canary?.steps.length;
  return {
    ...(engine.spec.strategy === undefined ? {} : requestFields()),
    ...(history === undefined ? {} : { stableHistory: history }),
    ...(previous.analysis === undefined ? {} : { analysis: previous.analysis }),
    ...(previous.collisionCount === undefined ? {} : { collisionCount: previous.collisionCount }),
    ...(steps === undefined ? {} : { currentStepIndex: steps }),
    ...(engine.spec.strategy?.type === 'BlueGreen' && stableRevision !== undefined ? { blueGreen: { active: stableRevision, preview: stableRevision } } : {}),
  };
}

/** Re-applying a revision that was stable among the last rollbackWindow.revisions stable ones skips steps and analysis. */
function isFastRollback(engine: TradingEngine, revision: string): boolean {
  const stable = engine.status?.stableRevision;
  if (engine.spec.strategy === undefined || stable === undefined || stable === revision) return false;
  const earlier = (engine.status?.stableHistory ?? []).filter((entry) => entry !== stable);
  return earlier.slice(0, engine.spec.rollbackWindow.revisions).includes(revision);
}

