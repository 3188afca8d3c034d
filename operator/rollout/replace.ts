import type { V1ReplicaSet } from '@kubernetes/client-node';
import type { TradingEngine, TradingEngineStatus } from '../api/types.ts';
import { findCondition, metaTime, type DesiredCondition } from '../plan/conditions.ts';
import type { EventIntent } from '../plan/plan.ts';
import { creationMs } from './pods.ts';
import { pushStableHistory, requestFields } from './status-fields.ts';
import type { ReplaceInput, RolloutPlan, RolloutStatus } from './types.ts';

/**
 * The third planner beside canary.ts and bluegreen.ts: a revision replaces the old ones without steps or a gate.
 * It runs on first create, for engines without a strategy, at steady state, while spec.paused holds a new
 * revision back, and for a fast rollback (see `isFastRollback`).
 *
 * The new revision's ReplicaSet is created at full size beside the old ones; old revisions keep their size until
 * the new one has `replicas` available pods (observed by its controller), then scale to 0: no capacity gap, the
 * surge is the price. With `replicas: 0` the old ones scale to 0 at once. While spec.paused holds a new revision
 * (`holdsForPause`) it is not started at all and the stable revision keeps its pods. The progress deadline runs
 * from when this revision started progressing (status.progressStartedAt, so an operator restart does not reset it).
 * Blue-green engines keep their Services pinned: the active one on the stable revision (the new one on first
 * create), the preview one on the new revision. Pure.
 */
export function planReplace(input: ReplaceInput): RolloutPlan {
  const { engine, revision, nowMs } = input;
  const previous = engine.status ?? {};
  const desired = engine.spec.replicas;
  const stableBefore = input.stableRevision;
  const hold = holdsForPause(input);
  const current = input.replicaSets.get(revision);
  const events: EventIntent[] = [];
  if (isFastRollback(engine, revision) && previous.updateRevision !== revision) {
    events.push({
      type: 'Normal', reason: 'FastRollback',
      message: `Revision ${revision} was stable within the last ${engine.spec.rollbackWindow.revisions} stable revisions: rolling back to it at once, without steps or analysis`,
    });
  }

  const currentAvailable = current?.status?.availableReplicas ?? 0;
  const currentObservedUpToDate = current !== undefined && (current.status?.observedGeneration ?? 0) >= (current.metadata?.generation ?? 0);
  const rolledOut = !hold && current !== undefined && currentObservedUpToDate && currentAvailable >= desired;
  const stableRevision = rolledOut ? revision : stableBefore;

  // Old revisions hold their size until the new one is fully available (or replicas is 0), then go to zero.
  const replicas = new Map<string, number>(hold ? [] : [[revision, desired]]);
  for (const [rsRevision, rs] of input.replicaSets) {
    if (rsRevision === revision) continue;
    const size = rs.spec?.replicas ?? 0;
    const holding = hold && rsRevision === stableBefore;
    replicas.set(rsRevision, (rolledOut || desired === 0) && !holding ? 0 : size);
  }

  const currentReady = current?.status?.readyReplicas ?? 0;
  const readyText = `${currentReady}/${desired} pods of revision ${revision} are ready`;
  const ready: DesiredCondition = currentReady >= desired && rolledOut
    ? { type: 'Ready', status: 'True', reason: 'AllReplicasReady', message: readyText }
    : { type: 'Ready', status: 'False', reason: 'ReplicasNotReady', message: readyText };

  let phase: NonNullable<TradingEngineStatus['phase']>;
  let progressing: DesiredCondition;
  let progressStartedAt: string | undefined;
  let requeueAfterMs: number | undefined;
  if (hold) {
    phase = 'Paused';
    progressing = { type: 'Progressing', status: 'Unknown', reason: 'RolloutPaused', message: `Revision ${revision} waits: spec.paused is true` };
  } else if (rolledOut) {
    phase = availableInAll(input.replicaSets) >= desired ? 'Healthy' : 'Degraded';
    progressing = { type: 'Progressing', status: 'True', reason: 'NewRevisionAvailable', message: `Revision ${revision} is available (${currentAvailable}/${desired})` };
  } else {
    const continuing = previous.updateRevision === revision && previous.progressStartedAt !== undefined;
    const sinceMs = continuing ? Date.parse(previous.progressStartedAt ?? '') : nowMs;
    progressStartedAt = metaTime(sinceMs);
    const deadlineMs = sinceMs + engine.spec.progressDeadlineSeconds * 1000;
    if (nowMs >= deadlineMs) {
      phase = 'Degraded';
      progressing = {
        type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded',
        message: `Revision ${revision} did not become available within progressDeadlineSeconds ${engine.spec.progressDeadlineSeconds}: ${currentAvailable}/${desired} pods available`,
      };
      if (!continuing || findCondition(previous.conditions, 'Progressing')?.reason !== 'ProgressDeadlineExceeded') {
        const waited = Math.round((nowMs - sinceMs) / 1000);
        events.push({
          type: 'Warning', reason: 'ProgressDeadlineExceeded',
          message: `Revision ${revision} has ${currentAvailable}/${desired} available pods after ${waited} s (progressDeadlineSeconds ${engine.spec.progressDeadlineSeconds})`,
        });
      }
    } else {
      phase = 'Progressing';
      progressing = { type: 'Progressing', status: 'True', reason: 'RevisionProgressing', message: `Revision ${revision}: ${currentAvailable}/${desired} pods available` };
      requeueAfterMs = deadlineMs - nowMs;
    }
  }

  const promoted = rolledOut && stableBefore !== revision;
  if (promoted) {
    const seconds = (nowMs - creationMs(current)) / 1000;
    events.push({
      type: 'Normal', reason: 'RevisionAvailable',
      message: `Revision ${revision} is stable: ${currentAvailable}/${desired} pods available ${seconds.toFixed(1)} s after its ReplicaSet was created`,
    });
  }

  const blueGreen = engine.spec.strategy?.type === 'BlueGreen';
  const serving = stableBefore ?? revision;
  return {
    replicas,
    ...(blueGreen ? { serviceRevision: serving, previewRevision: revision } : {}),
    ...(stableRevision === undefined ? {} : { stableRevision }),
    status: {
      ...replaceRolloutFields(engine, previous, stableRevision, promoted ? revision : undefined),
      ...(progressStartedAt === undefined ? {} : { progressStartedAt }),
    },
    phase,
    ready,
    progressing,
    message: phase === 'Healthy' ? ready.message : progressing.message,
    events,
    ...(requeueAfterMs === undefined ? {} : { requeueAfterMs }),
  };
}

/**
 * A new revision waits while spec.paused holds: it has no ReplicaSet yet and the stable revision still has one.
 * Such a revision is not started (no ConfigMap, no ReplicaSet) and no strategy runs.
 */
export function holdsForPause(input: ReplaceInput): boolean {
  const { engine, revision, stableRevision } = input;
  return engine.spec.paused && !input.replicaSets.has(revision) && stableRevision !== undefined && input.replicaSets.has(stableRevision);
}

/** Re-applying a revision that was stable among the last rollbackWindow.revisions stable ones skips steps and analysis. */
export function isFastRollback(engine: TradingEngine, revision: string): boolean {
  const stable = engine.status?.stableRevision;
  if (engine.spec.strategy === undefined || stable === undefined || stable === revision) return false;
  const earlier = (engine.status?.stableHistory ?? []).filter((entry) => entry !== stable);
  return earlier.slice(0, engine.spec.rollbackWindow.revisions).includes(revision);
}

/** Available pods over every revision's ReplicaSet, as their status reports them. */
function availableInAll(replicaSets: ReadonlyMap<string, V1ReplicaSet>): number {
  let total = 0;
  for (const rs of replicaSets.values()) total += rs.status?.availableReplicas ?? 0;
  return total;
}

/**
 * The rollout fields outside a strategy's rollout: no step, abort or pause state; the request fields consumed; the
 * gate's last figures kept for display; the stable history extended when `promoted` became stable now. Blue-green
 * reports its single active revision.
 */
function replaceRolloutFields(
  engine: TradingEngine,
  previous: TradingEngineStatus,
  stableRevision: string | undefined,
  promoted: string | undefined,
): RolloutStatus {
  const history = promoted === undefined ? previous.stableHistory : pushStableHistory(previous.stableHistory, promoted);
  const steps = engine.spec.strategy?.canary?.steps.length;
  return {
    ...(engine.spec.strategy === undefined ? {} : requestFields()),
    ...(history === undefined ? {} : { stableHistory: history }),
    ...(previous.analysis === undefined ? {} : { analysis: previous.analysis }),
    ...(steps === undefined ? {} : { currentStepIndex: steps }),
    ...(engine.spec.strategy?.type === 'BlueGreen' && stableRevision !== undefined ? { blueGreen: { active: stableRevision, preview: stableRevision } } : {}),
  };
}
