import type { AnalysisStatus, BlueGreenStatus, PauseCondition } from '../api/types.ts';
import type { EventIntent } from '../plan/plan.ts';
import { abortedPlan } from './abort.ts';
import { inProgressPlan, progressDeadline, Requeue } from './progress.ts';
import { runAnalysisStep } from './analysis-step.ts';
import { askingPlan, confirmStep } from './confirm.ts';
import { availableReplicas, livePodCount } from './pods.ts';
import { latencyCondition, pushStableHistory, requestFields } from './status-fields.ts';
import type { AbortReason, RolloutInput, RolloutPlan, RolloutStatus } from './types.ts';
import type { MeasureRequest } from '../plan/needs.ts';

/** Blue-green steps, kept in status.currentStepIndex. */
export const blueGreenSteps = { preview: 0, postPromotion: 1 } as const;

/**
 * The blue-green state machine: one pure step of a rollout from the active (stable) revision to `input.revision`.
 *
 * Step 0 (preview): the preview set (previewReplicaCount pods) runs beside the active set, which keeps
 * spec.replicas and the engine Service. Once the preview is available, the pre-promotion gate runs on it (a
 * failure aborts; the active Service was never switched). Then promotion waits for autoPromotionSeconds (when
 * autoPromotionEnabled) or for `nexus rollout promote`; the preview is scaled to spec.replicas and, once all are
 * available, the engine Service is switched to it (status.blueGreen.active).
 * Step 1 (post-promotion): the old set stays warm at spec.replicas until scaleDownAt (scaleDownDelaySeconds after
 * the switch). The post-promotion gate runs on the new active set; a failure switches the Service back to the
 * still-warm old set (no new pods), cuts the new set's orders and scales it down. When the gate has passed (or is
 * off) and scaleDownAt has come, the new revision is stable and the old set scales to zero; a gate still running
 * at scaleDownAt keeps the old set warm until it decides.
 */
export function planBlueGreen(input: RolloutInput): RolloutPlan {
  const { engine, revision, stableRevision, nowMs } = input;
  const spec = engine.spec;
  const strategy = spec.strategy?.blueGreen;
  const previewWanted = Math.min(spec.replicas, strategy?.previewReplicaCount ?? spec.replicas);
  const delaySeconds = strategy?.abortScaleDownDelaySeconds ?? 30;
  const previous = engine.status ?? {};
  const continuing = previous.updateRevision === revision && previous.stableRevision === stableRevision;
  const aborted = continuing && previous.abortedAt !== undefined;
  const retrying = aborted && previous.abort === false;
  const now = new Date(nowMs).toISOString();
  const events: EventIntent[] = [];
  const latency = spec.analysis?.latency;

  if (aborted && !retrying) {
    const { currentStepIndex, canary, analysis, stableHistory, rolloutStartedAt } = previous;
    return abortedPlan(input, {
      revision, reason: previous.abortReason ?? 'Manual', message: previous.message ?? '', delaySeconds, role: 'preview',
      status: {
        ...requestFields(), currentStepIndex: currentStepIndex ?? 0, blueGreen: { active: stableRevision, preview: revision },
        ...(canary === undefined ? {} : { canary }), ...(analysis === undefined ? {} : { analysis }), ...(stableHistory === undefined ? {} : { stableHistory }),
        ...(rolloutStartedAt === undefined ? {} : { rolloutStartedAt }),
      },
    });
  }
  const resume = continuing && !retrying;
  if (!continuing) {
    events.push({ type: 'Normal', reason: 'RolloutStarted', message: `Blue-green rollout of revision ${revision} started: ${previewWanted} preview pods beside active ${stableRevision}` });
  }
  if (retrying) events.push({ type: 'Normal', reason: 'RolloutRetried', message: `Retry of revision ${revision} requested: preview starts again with zeroed counters` });

  let stepIndex = resume ? previous.currentStepIndex ?? 0 : 0;
  const resumedIndex = stepIndex;
  let analysis: AnalysisStatus | undefined = resume ? previous.analysis : undefined;
  let pauseConditions: PauseCondition[] = resume ? [...(previous.pauseConditions ?? [])] : [];
  let blueGreen: BlueGreenStatus = resume ? { ...previous.blueGreen } : { active: stableRevision, preview: revision };
  const ordersCut = resume || retrying ? previous.canary : undefined;
  const cleaning = ordersCut?.ordersEnabled === false && livePodCount(input.pods, revision) > 0;
  let abort: { reason: AbortReason; message: string } | undefined;
  let needsMeasure: MeasureRequest | undefined;
  let hold = cleaning ? `waiting for the ${livePodCount(input.pods, revision)} pods of the aborted attempt to stop` : '';
  let waitingForPods = false;
  const requeue = new Requeue(nowMs);
  const requeueAt = (ms: number): void => requeue.at(ms);
  const available = availableReplicas(input.replicaSets.get(revision));
  let previewSize = cleaning ? 0 : previewWanted;
  let promotionConfirmation = previous.promotionConfirmation?.revision === revision ? previous.promotionConfirmation : undefined;

  if (resume && previous.abort === true) abort = { reason: 'Manual', message: `abort requested (nexus rollout abort)${stepIndex === blueGreenSteps.postPromotion ? `; active switched back to ${stableRevision}` : ''}` };
  const promoteRequested = resume && (previous.promoteFull === true || previous.promotedStep === blueGreenSteps.preview);

  // Once promotion is under way (requested, or auto-promotion due) the preview is being scaled to spec.replicas;
  // a scale-up the ReplicaSet controller has not observed yet (0 available) must not send it back to previewWanted.
  const autoStart = pauseConditions.find((condition) => condition.reason === 'PauseStep')?.startTime;
  const autoDue = strategy?.autoPromotionEnabled === true && autoStart !== undefined && nowMs >= Date.parse(autoStart) + strategy.autoPromotionSeconds * 1000;

  if (abort === undefined && !cleaning && stepIndex === blueGreenSteps.preview) {
    let ready = available >= previewWanted || promoteRequested || autoDue;
    if (!ready) {
      hold = `preview: ${available}/${previewWanted} pods available`;
      waitingForPods = true;
    }
    if (ready && strategy?.prePromotionAnalysis === true && latency !== undefined && !promoteRequested) {
      const result = runAnalysisStep(input, {
        entered: analysis?.revision !== revision, analysis, requiredSuccesses: latency.successfulIntervals, label: 'pre-promotion', pauseConditions,
      });
      analysis = result.analysis;
      pauseConditions = [...result.pauseConditions];
      events.push(...result.events);
      needsMeasure = result.needs;
      abort = result.abort;
      if (!result.done) {
        ready = false;
        hold = result.hold;
        if (result.dueMs !== undefined) requeueAt(result.dueMs);
      }
    }
    if (ready && abort === undefined && needsMeasure === undefined) {
      let promote = promoteRequested;
      if (promoteRequested) pauseConditions = pauseConditions.filter((condition) => condition.reason !== 'PauseStep');
      if (!promote && strategy?.autoPromotionEnabled === true) {
        let waiting = pauseConditions.find((condition) => condition.reason === 'PauseStep');
        if (waiting === undefined) {
          waiting = { reason: 'PauseStep', startTime: now };
          pauseConditions = [...pauseConditions, waiting];
        }
        const atMs = Date.parse(waiting.startTime) + (strategy.autoPromotionSeconds * 1000);
        promote = nowMs >= atMs;
        if (!promote) {
          hold = `preview ready: auto-promotion in ${Math.ceil((atMs - nowMs) / 1000)} s`;
          requeueAt(atMs);
        }
      } else if (!promote) {
        if (!pauseConditions.some((condition) => condition.reason === 'PauseStep')) {
          pauseConditions = [...pauseConditions, { reason: 'PauseStep', startTime: now }];
          events.push({ type: 'Normal', reason: 'RolloutPaused', message: `Preview ${revision} is ready: run nexus rollout promote to switch the active Service` });
        }
        hold = 'preview ready: waiting for nexus rollout promote';
      }
      // Before the switch, the confirm-promotion webhook (when the operator has one) must confirm; until it does the
      // preview stays at its size beside the active set. Not asked while spec.paused (the switch waits anyway).
      if (promote && !spec.paused) {
        const confirm = confirmStep(input, 'BlueGreen');
        if (confirm.kind === 'ask') {
          return askingPlan(stableRevision, confirm.request);
        }
        promotionConfirmation = confirm.status;
        events.push(...confirm.events);
        if (confirm.kind === 'waiting') {
          promote = false;
          hold = confirm.hold;
          requeueAt(confirm.dueMs);
        }
      }
      if (promote && spec.paused) {
        hold = 'spec.paused: promotion waits';
      } else if (promote) {
        previewSize = spec.replicas;
        if (available >= spec.replicas) {
          if (promoteRequested) events.push({ type: 'Normal', reason: 'PromotionRequested', message: `Promotion of preview ${revision} requested` });
          const scaleDownAt = new Date(nowMs + (strategy?.scaleDownDelaySeconds ?? 0) * 1000).toISOString();
          blueGreen = { active: revision, preview: revision, scaleDownAt };
          events.push({
            type: 'Normal', reason: 'ActiveSwitched',
            message: `Engine Service switched to revision ${revision} (was ${stableRevision}); ${stableRevision} stays warm for ${strategy?.scaleDownDelaySeconds ?? 0} s`,
          });
          stepIndex = blueGreenSteps.postPromotion;
          pauseConditions = [];
        } else {
          hold = `promotion: ${available}/${spec.replicas} pods of revision ${revision} available`;
          waitingForPods = true;
        }
      }
    }
  }

  let completed = false;
  if (abort === undefined && !cleaning && needsMeasure === undefined && stepIndex === blueGreenSteps.postPromotion) {
    previewSize = spec.replicas;
    let passed = true;
    // A plain promote here skips the post-promotion gate: it is recorded as passed (consumed once, so the
    // request field is reset and the Event is not repeated).
    if (resume && previous.promotedStep === blueGreenSteps.postPromotion && previous.promoteFull !== true && analysis?.phase !== 'Successful') {
      events.push({ type: 'Normal', reason: 'StepPromoted', message: `Post-promotion analysis of ${revision} skipped by request; ${stableRevision} scales down at scaleDownAt` });
      analysis = { ...analysis, revision, phase: 'Successful' };
      pauseConditions = [];
    }
    if (strategy?.postPromotionAnalysis === true && latency !== undefined && previous.promoteFull !== true) {
      const result = runAnalysisStep(input, {
        entered: stepIndex !== resumedIndex, analysis, requiredSuccesses: latency.successfulIntervals, label: 'post-promotion', pauseConditions,
      });
      analysis = result.analysis;
      pauseConditions = [...result.pauseConditions];
      events.push(...result.events);
      needsMeasure = result.needs;
      if (result.abort !== undefined) abort = { reason: result.abort.reason, message: `${result.abort.message}; active switched back to ${stableRevision}` };
      passed = result.done;
      if (!passed) {
        hold = result.hold;
        if (result.dueMs !== undefined) requeueAt(result.dueMs);
      }
    }
    const scaleDownAtMs = Date.parse(blueGreen.scaleDownAt ?? now);
    if (passed && abort === undefined && needsMeasure === undefined) {
      if (nowMs >= scaleDownAtMs && !spec.paused) {
        completed = true;
      } else {
        hold = spec.paused ? 'spec.paused: the old set stays' : `active ${revision}: old set ${stableRevision} scales down in ${Math.ceil((scaleDownAtMs - nowMs) / 1000)} s`;
        requeueAt(scaleDownAtMs);
      }
    } else if (abort === undefined && nowMs >= scaleDownAtMs) {
      hold = `${hold}; the old set stays warm until the post-promotion gate decides`;
    }
  }

  let progressStartedAt: string | undefined;
  if (waitingForPods && abort === undefined) {
    const deadline = progressDeadline(input, resume, stepIndex, hold, requeue);
    progressStartedAt = deadline.progressStartedAt;
    abort = deadline.abort;
  }


  // A promote request holds until it is done: the preview may first scale up to spec.replicas over several
  // reconciles (promote: until the Service is switched; promote --full: until the rollout completes).
  const requestPending = promoteRequested && abort === undefined && !cleaning && !completed
    && (stepIndex === blueGreenSteps.preview || previous.promoteFull === true);
  let state: RolloutStatus = {
    ...requestFields(),
    rolloutStartedAt: continuing ? previous.rolloutStartedAt ?? now : now,
    ...(requestPending ? { promotedStep: previous.promotedStep ?? -1, promoteFull: previous.promoteFull ?? false } : {}),
    currentStepIndex: stepIndex,
    blueGreen,
    pauseConditions,
    ...(ordersCut === undefined || cleaning ? {} : { canary: { ...ordersCut, ordersEnabled: true, ordersOffPods: [], cutPods: [] } }),
    ...(cleaning && ordersCut !== undefined ? { canary: ordersCut } : {}),
    ...(analysis === undefined ? {} : { analysis }),
    ...(previous.stableHistory === undefined ? {} : { stableHistory: previous.stableHistory }),
    ...(progressStartedAt === undefined ? {} : { progressStartedAt }),
  };
  // An abort forgets the confirmation: a retry is a new attempt, asked again.
  if (abort !== undefined && needsMeasure === undefined) {
    return abortedPlan(input, { revision, reason: abort.reason, message: abort.message, delaySeconds, role: 'preview', status: { ...state, blueGreen: { active: stableRevision, preview: revision } } });
  }
  if (promotionConfirmation !== undefined) state = { ...state, promotionConfirmation };
  const latencyHealthy = latencyCondition(engine, analysis);
  if (completed) {
    events.push({ type: 'Normal', reason: 'RolloutCompleted', message: `Revision ${revision} is stable (was ${stableRevision}); old set scaled down after scaleDownDelaySeconds ${strategy?.scaleDownDelaySeconds ?? 0}` });
    return {
      replicas: new Map([[revision, spec.replicas]]),
      serviceRevision: revision,
      previewRevision: revision,
      stableRevision: revision,
      status: { ...state, blueGreen: { active: revision, preview: revision }, stableHistory: pushStableHistory(previous.stableHistory ?? [stableRevision], revision) },
      phase: 'Healthy',
      progressing: { type: 'Progressing', status: 'True', reason: 'NewRevisionAvailable', message: `Revision ${revision} is active and stable` },
      ...(latencyHealthy === undefined ? {} : { latencyHealthy }),
      events,
    };
  }
  const paused = pauseConditions.some((condition) => condition.reason !== 'PauseStep' || strategy?.autoPromotionEnabled !== true) || spec.paused;
  const message = `Blue-green ${revision}, active ${blueGreen.active ?? stableRevision}: ${hold}`;
  return inProgressPlan({
    replicas: new Map([[stableRevision, spec.replicas], [revision, previewSize]]),
    serviceRevision: blueGreen.active ?? stableRevision,
    previewRevision: revision,
    stableRevision, status: state, paused, message, latencyHealthy, events, needsMeasure, requeueAfterMs: requeue.afterMs,
  });
}
