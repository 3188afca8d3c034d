import type { AnalysisStatus, CanaryStatus, CanaryStep, PauseCondition } from '../api/types.ts';
import type { EventIntent } from '../plan/plan.ts';
import { abortedPlan } from './abort.ts';
import { inProgressPlan, progressDeadline, Requeue } from './progress.ts';
import { runAnalysisStep } from './analysis-step.ts';
import { askingPlan, confirmedBefore, confirmStep } from './confirm.ts';
import { availableReplicas, livePodCount, specReplicas } from './pods.ts';
import { latencyCondition, pushStableHistory, requestFields } from './status-fields.ts';
import type { AbortReason, RolloutInput, RolloutPlan, RolloutStatus } from './types.ts';
import type { MeasureRequest } from '../plan/needs.ts';

/** Canary pods for a weight: the exact replica ratio, rounded up (replicas 4, weight 25 -> 1; weight 30 -> 2). */
export function canaryReplicas(replicas: number, weight: number): number {
  return Math.ceil((replicas * weight) / 100);
}

/** The weight in force at step `index`: the last setWeight at or before it (0 before any); 100 past the last step. */
export function weightAt(steps: readonly CanaryStep[], index: number): number {
  if (index >= steps.length) return 100;
  for (let i = Math.min(index, steps.length - 1); i >= 0; i--) {
    const weight = steps[i]?.setWeight;
    if (weight !== undefined) return weight;
  }
  return 0;
}

/** "setWeight 25", "pause 300s", "pause (until promoted)", "analysis". */
export function describeStep(step: CanaryStep | undefined): string {
  if (step === undefined) return 'promotion';
  if (step.setWeight !== undefined) return `setWeight ${step.setWeight}`;
  if (step.pause !== undefined) return step.pause.durationSeconds === undefined ? 'pause (until promoted)' : `pause ${step.pause.durationSeconds}s`;
  return 'analysis';
}

/**
 * The canary state machine: one pure step of a rollout from the stable revision to `input.revision`.
 *
 * Steps run in order from status.currentStepIndex; several may complete in one reconcile. setWeight scales the
 * canary ReplicaSet to the exact replica ratio and completes when that many canary pods are available; the stable
 * set stays at spec.replicas (or, with dynamicStableScale, shrinks by the canary pods available, never leaving
 * fewer than spec.replicas available in all). pause waits durationSeconds from when it started (kept in
 * status.pauseConditions) or, without one, for a promote. analysis runs the latency gate until it passes; a
 * failed gate aborts. spec.paused freezes step advances but never the gate or an abort. Past the last step the
 * canary is scaled to spec.replicas and, once available, becomes stable; the old stable scales to zero.
 *
 * Requests from `nexus rollout` (status fields): promotedStep == currentStepIndex skips the current step,
 * promoteFull skips all, abort aborts, abort=false after an abort retries from step 0 with zeroed counters once
 * the aborted attempt's pods are gone. Everything that must survive an operator restart is in status.
 */
export function planCanary(input: RolloutInput): RolloutPlan {
  const { engine, revision, stableRevision, nowMs } = input;
  const spec = engine.spec;
  const strategy = spec.strategy?.canary;
  const steps = strategy?.steps ?? [];
  const delaySeconds = strategy?.abortScaleDownDelaySeconds ?? 30;
  const previous = engine.status ?? {};
  const continuing = previous.updateRevision === revision && previous.stableRevision === stableRevision;
  const aborted = continuing && previous.abortedAt !== undefined;
  const retrying = aborted && previous.abort === false;
  const now = new Date(nowMs).toISOString();
  const events: EventIntent[] = [];

  if (aborted && !retrying) {
    return abortedPlan(input, {
      revision, reason: previous.abortReason ?? 'Manual', message: previous.message ?? '', delaySeconds, role: 'canary',
      status: carriedStatus(previous),
    });
  }

  const resume = continuing && !retrying;
  if (!continuing) {
    const restarted = previous.updateRevision !== undefined && previous.updateRevision !== previous.stableRevision && previous.updateRevision !== revision
      && previous.abortedAt === undefined;
    events.push(restarted
      ? { type: 'Normal', reason: 'RolloutRestarted', message: `Revision ${previous.updateRevision ?? ''} superseded by ${revision} at step ${previous.currentStepIndex ?? 0}; rollout restarts at step 0 of ${steps.length}` }
      : { type: 'Normal', reason: 'RolloutStarted', message: `Canary rollout of revision ${revision} started (stable ${stableRevision}, ${steps.length} steps, first: ${describeStep(steps[0])})` });
  }
  if (retrying) events.push({ type: 'Normal', reason: 'RolloutRetried', message: `Retry of revision ${revision} requested: restarting at step 0 with zeroed counters` });

  let stepIndex = resume ? previous.currentStepIndex ?? 0 : 0;
  const resumedIndex = stepIndex;
  let analysis: AnalysisStatus | undefined = resume ? previous.analysis : historyOnly(previous.analysis);
  let pauseConditions: PauseCondition[] = resume ? [...(previous.pauseConditions ?? [])] : [];
  let canary: CanaryStatus = resume || retrying ? { ...previous.canary } : { weight: 0, replicas: 0, ordersEnabled: true };
  let abort: { reason: AbortReason; message: string } | undefined;
  let needsMeasure: MeasureRequest | undefined;
  let hold = '';
  let waitingForPods = false;
  const requeue = new Requeue(nowMs);
  const requeueAt = (ms: number): void => requeue.at(ms);

  // A retry starts clean: the aborted attempt's pods (orders cut) go first, then step 0 starts with new pods.
  const cleaning = canary.ordersEnabled === false && livePodCount(input.pods, revision) > 0;
  if (canary.ordersEnabled === false && !cleaning) canary = { weight: 0, replicas: 0, ordersEnabled: true };
  if (cleaning) hold = `waiting for the ${livePodCount(input.pods, revision)} pods of the aborted attempt to stop`;

  if (resume && previous.abort === true) abort = { reason: 'Manual', message: 'abort requested (nexus rollout abort)' };

  if (abort === undefined && !cleaning && resume) {
    if (previous.promoteFull === true && stepIndex < steps.length) {
      events.push({ type: 'Normal', reason: 'PromotedFull', message: `Full promotion requested at step ${stepIndex}/${steps.length} (${describeStep(steps[stepIndex])}): remaining steps and analysis skipped` });
      stepIndex = steps.length;
      pauseConditions = [];
    } else if (previous.promotedStep === stepIndex && stepIndex < steps.length) {
      events.push({ type: 'Normal', reason: 'StepPromoted', message: `Step ${stepIndex} (${describeStep(steps[stepIndex])}) promoted by request` });
      stepIndex++;
      pauseConditions = [];
    }
  }

  const latency = spec.analysis?.latency;
  const canaryRs = input.replicaSets.get(revision);
  const canaryAvailable = availableReplicas(canaryRs);

  while (abort === undefined && !cleaning && stepIndex < steps.length) {
    const step = steps[stepIndex] ?? {};
    const entered = stepIndex !== resumedIndex || !resume;
    let done = false;
    if (step.setWeight !== undefined) {
      const wanted = canaryReplicas(spec.replicas, step.setWeight);
      done = canaryAvailable >= wanted;
      if (!done) {
        hold = `step ${stepIndex} (setWeight ${step.setWeight}): ${canaryAvailable}/${wanted} canary pods available`;
        waitingForPods = true;
      }
    } else if (step.pause !== undefined) {
      let started = pauseConditions.find((condition) => condition.reason === 'PauseStep');
      if (started === undefined) {
        started = { reason: 'PauseStep', startTime: now };
        pauseConditions = [...pauseConditions, started];
        events.push({ type: 'Normal', reason: 'RolloutPaused', message: `Paused at step ${stepIndex} (${describeStep(step)})${step.pause.durationSeconds === undefined ? ': run nexus rollout promote to continue' : ''}` });
      }
      const duration = step.pause.durationSeconds;
      if (duration === undefined) {
        hold = `step ${stepIndex}: paused until promoted (nexus rollout promote)`;
      } else {
        const endMs = Date.parse(started.startTime) + duration * 1000;
        done = nowMs >= endMs;
        if (!done) {
          hold = `step ${stepIndex}: pause ${duration}s, ${Math.ceil((endMs - nowMs) / 1000)}s left`;
          requeueAt(endMs);
        }
      }
      if (done && !spec.paused) pauseConditions = pauseConditions.filter((condition) => condition.reason !== 'PauseStep');
    } else if (step.analysis !== undefined && latency !== undefined) {
      const result = runAnalysisStep(input, {
        entered, analysis, requiredSuccesses: step.analysis.successfulIntervals ?? latency.successfulIntervals, label: `step ${stepIndex}`, pauseConditions,
      });
      analysis = result.analysis;
      pauseConditions = [...result.pauseConditions];
      events.push(...result.events);
      if (result.needs !== undefined) {
        needsMeasure = result.needs;
        break;
      }
      done = result.done;
      abort = result.abort;
      hold = result.hold;
      if (!done && result.dueMs !== undefined) requeueAt(result.dueMs);
    } else {
      done = true;
    }
    if (!done || abort !== undefined) break;
    if (spec.paused) {
      hold = `spec.paused: step ${stepIndex} (${describeStep(step)}) is done but the rollout does not advance`;
      break;
    }
    events.push({ type: 'Normal', reason: 'StepCompleted', message: `Step ${stepIndex}/${steps.length} (${describeStep(step)}) completed; next: ${describeStep(steps[stepIndex + 1])}` });
    stepIndex++;
  }

  let promoting = abort === undefined && !cleaning && needsMeasure === undefined && stepIndex >= steps.length;
  // Before the canary takes everything, the confirm-promotion webhook (when the operator has one) must confirm:
  // until it does, the canary holds its weight (never more than its last step's) and the latency gate keeps
  // watching it, so a breach during a long wait still aborts with orders cut first. Not asked while spec.paused.
  let promotionConfirmation = previous.promotionConfirmation?.revision === revision ? previous.promotionConfirmation : undefined;
  let awaitingConfirmation = false;
  if (promoting && spec.paused && !confirmedBefore(input)) {
    promoting = false;
    awaitingConfirmation = true;
    hold = 'spec.paused: the promotion (and its confirm-promotion webhook) waits';
  } else if (promoting) {
    const confirm = confirmStep(input, 'Canary');
    if (confirm.kind === 'ask') {
      return askingPlan(stableRevision, confirm.request);
    }
    promotionConfirmation = confirm.status;
    events.push(...confirm.events);
    if (confirm.kind === 'waiting') {
      promoting = false;
      awaitingConfirmation = true;
      hold = confirm.hold;
      requeueAt(confirm.dueMs);
      if (latency !== undefined) {
        const watch = runAnalysisStep(input, {
          entered: previous.promotionConfirmation?.revision !== revision, analysis, requiredSuccesses: Number.MAX_SAFE_INTEGER,
          label: 'awaiting confirmation', pauseConditions,
        });
        analysis = watch.analysis;
        pauseConditions = [...watch.pauseConditions];
        events.push(...watch.events);
        if (watch.needs !== undefined) needsMeasure = watch.needs;
        abort = watch.abort;
        if (watch.dueMs !== undefined) requeueAt(watch.dueMs);
        if (watch.hold !== '' && watch.needs === undefined) hold = `${hold}; the gate keeps watching: ${watch.hold}`;
      }
    }
  }
  // Waiting, the canary keeps the weight it had (a promote --full from an early step does not jump it to the last).
  const weight = cleaning ? 0 : awaitingConfirmation ? Math.min(weightAt(steps, steps.length - 1), previous.canary?.weight ?? 0) : weightAt(steps, stepIndex);
  const canaryWanted = cleaning ? 0 : canaryReplicas(spec.replicas, weight);
  if (promoting && canaryAvailable < spec.replicas) {
    hold = `promotion: ${canaryAvailable}/${spec.replicas} pods of revision ${revision} available`;
    waitingForPods = true;
  }

  // The progress deadline runs while the rollout waits for pods (e.g. GPU pods Pending) at the same step.
  let progressStartedAt: string | undefined;
  if (waitingForPods && abort === undefined) {
    const deadline = progressDeadline(input, resume, stepIndex, hold, requeue);
    progressStartedAt = deadline.progressStartedAt;
    abort = deadline.abort;
  }


  let state: RolloutStatus = {
    ...requestFields(),
    rolloutStartedAt: continuing ? previous.rolloutStartedAt ?? now : now,
    currentStepIndex: stepIndex,
    canary: { ...canary, weight, replicas: canaryWanted },
    pauseConditions,
    ...(analysis === undefined ? {} : { analysis }),
    ...(previous.stableHistory === undefined ? {} : { stableHistory: previous.stableHistory }),
    ...(progressStartedAt === undefined ? {} : { progressStartedAt }),
  };

  // An abort forgets the confirmation: a retry is a new attempt, asked again.
  if (abort !== undefined && needsMeasure === undefined) {
    return abortedPlan(input, { revision, reason: abort.reason, message: abort.message, delaySeconds, role: 'canary', status: { ...state, canary: { ...canary } } });
  }
  if (promotionConfirmation !== undefined) state = { ...state, promotionConfirmation };

  const latencyHealthy = latencyCondition(engine, analysis);
  if (promoting && canaryAvailable >= spec.replicas && !spec.paused) {
    const last = analysis?.revision === revision ? analysis.lastMeasurement : undefined;
    events.push({
      type: 'Normal', reason: 'RolloutCompleted',
      message: `Revision ${revision} promoted to stable (was ${stableRevision}) after ${steps.length} steps${last === undefined ? '' : `; last gate measurement: ${last.message ?? ''}`}`,
    });
    return {
      replicas: new Map([[revision, spec.replicas]]),
      stableRevision: revision,
      status: { ...state, stableHistory: pushStableHistory(previous.stableHistory ?? [stableRevision], revision) },
      phase: 'Healthy',
      progressing: { type: 'Progressing', status: 'True', reason: 'NewRevisionAvailable', message: `Revision ${revision} promoted: ${canaryAvailable}/${spec.replicas} pods available` },
      ...(latencyHealthy === undefined ? {} : { latencyHealthy }),
      events,
    };
  }

  const replicas = stepReplicas(input, canaryWanted);
  const paused = pauseConditions.length > 0 || spec.paused;
  const message = `Canary ${revision} at step ${Math.min(stepIndex, steps.length)}/${steps.length}, weight ${weight} (${canaryWanted} pods): ${hold}`;
  return inProgressPlan({
    replicas, stableRevision, status: state, paused, message, latencyHealthy, events, needsMeasure, requeueAfterMs: requeue.afterMs,
  });
}

/**
 * Sizes while stepping: the canary at its weight; the stable set at spec.replicas, or with dynamicStableScale at
 * spec.replicas less the canary pods already available (so stable plus canary available never drops below
 * spec.replicas), with the canary growing at most maxSurge pods beyond spec.replicas in all.
 */
function stepReplicas(input: RolloutInput, canaryWanted: number): Map<string, number> {
  const { engine, revision, stableRevision } = input;
  const strategy = engine.spec.strategy?.canary;
  const replicas = engine.spec.replicas;
  if (strategy?.dynamicStableScale !== true) return new Map([[stableRevision, replicas], [revision, canaryWanted]]);
  const canaryRs = input.replicaSets.get(revision);
  const stableSize = specReplicas(input.replicaSets.get(stableRevision));
  const surge = Math.max(1, strategy.maxSurge ?? 1);
  const canary = Math.min(canaryWanted, Math.max(specReplicas(canaryRs), replicas + surge - stableSize));
  // The canary's available pods as its ReplicaSet last reported them, even while its controller has not yet seen
  // a new size: those pods are available either way, and reading 0 would scale the stable set up and down again.
  const canaryAvailable = canaryRs?.status?.availableReplicas ?? 0;
  const stable = Math.max(0, replicas - Math.min(canaryAvailable, canaryWanted));
  return new Map([[stableRevision, stable], [revision, canary]]);
}

/** The rollout fields of the previous status, as an aborted rollout keeps them. */
function carriedStatus(previous: NonNullable<RolloutInput['engine']['status']>): RolloutStatus {
  const { currentStepIndex, canary, pauseConditions, analysis, stableHistory, rolloutStartedAt } = previous;
  return {
    ...requestFields(),
    ...(rolloutStartedAt === undefined ? {} : { rolloutStartedAt }),
    ...(currentStepIndex === undefined ? {} : { currentStepIndex }),
    ...(canary === undefined ? {} : { canary }),
    ...(pauseConditions === undefined ? {} : { pauseConditions }),
    ...(analysis === undefined ? {} : { analysis }),
    ...(stableHistory === undefined ? {} : { stableHistory }),
  };
}

/** A new attempt's gate status: nothing but the earlier measurements, for display. */
function historyOnly(analysis: AnalysisStatus | undefined): AnalysisStatus | undefined {
  if (analysis?.history === undefined) return undefined;
  return { phase: 'Pending', history: analysis.history, ...(analysis.lastMeasurement === undefined ? {} : { lastMeasurement: analysis.lastMeasurement }) };
}
