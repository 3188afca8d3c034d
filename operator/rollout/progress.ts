import { labelKeys } from '../render/labels.ts';
import type { DesiredCondition } from '../plan/conditions.ts';
import type { EventIntent } from '../plan/plan.ts';
import type { AbortReason, RolloutInput, RolloutPlan, RolloutStatus } from './types.ts';
import type { MeasureRequest } from '../plan/needs.ts';

/** The earliest of the times a plan must be looked at again, as a delay from now (at least 1 ms). */
export class Requeue {
  private earliestMs: number | undefined;

  constructor(private readonly nowMs: number) {}

  at(ms: number): void {
    this.earliestMs = this.earliestMs === undefined ? ms : Math.min(this.earliestMs, ms);
  }

  get afterMs(): number | undefined {
    return this.earliestMs === undefined ? undefined : Math.max(1, this.earliestMs - this.nowMs);
  }
}

export interface DeadlineCheck {
  readonly progressStartedAt: string;
  /** Set when the rollout has waited for pods longer than spec.progressDeadlineSeconds. */
  readonly abort?: { readonly reason: AbortReason; readonly message: string };
}

/**
 * The progress deadline while a rollout waits for pods (e.g. GPU pods Pending) at `stepIndex`: it runs from when
 * the wait began at that step (status.progressStartedAt, so a restart does not reset it) and, once exceeded,
 * aborts with the wait's description and the scheduler's reason for the first unschedulable pod. Pure.
 */
export function progressDeadline(input: RolloutInput, resume: boolean, stepIndex: number, hold: string, requeue: Requeue): DeadlineCheck {
  const { engine, nowMs, revision } = input;
  const previous = engine.status ?? {};
  const sameWait = resume && previous.currentStepIndex === stepIndex && previous.progressStartedAt !== undefined;
  const progressStartedAt = sameWait ? previous.progressStartedAt ?? '' : new Date(nowMs).toISOString();
  const seconds = engine.spec.progressDeadlineSeconds;
  const deadlineMs = Date.parse(progressStartedAt) + seconds * 1000;
  if (nowMs < deadlineMs) {
    requeue.at(deadlineMs);
    return { progressStartedAt };
  }
  const waited = Math.round((nowMs - Date.parse(progressStartedAt)) / 1000);
  return {
    progressStartedAt,
    abort: { reason: 'ProgressDeadlineExceeded', message: `${hold} after ${waited} s (progressDeadlineSeconds ${seconds})${pendingReason(input, revision)}` },
  };
}

/** ": pod x: 0/1 nodes are available: 1 Insufficient nvidia.com/gpu" for the first unschedulable pod, else "". */
function pendingReason(input: RolloutInput, revision: string): string {
  for (const pod of input.pods) {
    if (pod.metadata?.labels?.[labelKeys.revision] !== revision) continue;
    const scheduled = pod.status?.conditions?.find((condition) => condition.type === 'PodScheduled');
    if (scheduled?.status === 'False') return `: pod ${pod.metadata.name ?? ''}: ${scheduled.message ?? scheduled.reason ?? 'unschedulable'}`;
  }
  return '';
}

export interface InProgress {
  readonly replicas: ReadonlyMap<string, number>;
  readonly serviceRevision?: string;
  readonly previewRevision?: string;
  readonly stableRevision: string;
  readonly status: RolloutStatus;
  readonly paused: boolean;
  readonly message: string;
  readonly latencyHealthy: DesiredCondition | undefined;
  readonly events: readonly EventIntent[];
  readonly needsMeasure: MeasureRequest | undefined;
  readonly requeueAfterMs: number | undefined;
}

/** The plan of a rollout still under way (either strategy): Progressing, or Paused while a pause holds it. */
export function inProgressPlan(state: InProgress): RolloutPlan {
  const { paused, message } = state;
  const progressing: DesiredCondition = paused
    ? { type: 'Progressing', status: 'Unknown', reason: 'RolloutPaused', message }
    : { type: 'Progressing', status: 'True', reason: 'RolloutProgressing', message };
  return {
    replicas: state.replicas,
    ...(state.serviceRevision === undefined ? {} : { serviceRevision: state.serviceRevision }),
    ...(state.previewRevision === undefined ? {} : { previewRevision: state.previewRevision }),
    stableRevision: state.stableRevision,
    status: state.status,
    phase: paused ? 'Paused' : 'Progressing',
    progressing,
    ...(state.latencyHealthy === undefined ? {} : { latencyHealthy: state.latencyHealthy }),
    // A plan that still needs a measurement is not final: its Events come with the final pass.
    events: state.needsMeasure === undefined ? state.events : [],
    ...(state.needsMeasure === undefined ? {} : { needs: { measure: state.needsMeasure } }),
    ...(state.requeueAfterMs === undefined ? {} : { requeueAfterMs: state.requeueAfterMs }),
  };
}
