import type { AnalysisStatus, PauseCondition } from '../api/types.ts';
import { quantileName, startGate } from '../analysis/verdict.ts';
import type { EventIntent } from '../plan/plan.ts';
import { tickGate } from './gate-step.ts';
import type { AbortReason, RolloutInput } from './types.ts';
import type { MeasureRequest } from '../plan/needs.ts';

export interface AnalysisStepArgs {
  /** True when the rollout arrived at this step in this reconcile (the gate starts fresh). */
  readonly entered: boolean;
  readonly analysis: AnalysisStatus | undefined;
  /** Passes in a row that complete the step. */
  readonly requiredSuccesses: number;
  /** Where the gate runs, for messages: "step 2", "pre-promotion", "post-promotion". */
  readonly label: string;
  readonly pauseConditions: readonly PauseCondition[];
}

export interface AnalysisStepResult {
  readonly analysis: AnalysisStatus;
  readonly done: boolean;
  readonly abort?: { readonly reason: AbortReason; readonly message: string };
  /** A measurement is due: the executor measures and decides again. */
  readonly needs?: MeasureRequest;
  /** Why the step holds, when it does. */
  readonly hold: string;
  readonly events: readonly EventIntent[];
  readonly pauseConditions: readonly PauseCondition[];
  /** When to look again (the next measurement). */
  readonly dueMs?: number;
}

/**
 * One reconcile of an analysis step (canary `analysis`, blue-green pre- and post-promotion): starts the gate on
 * entry, measures when due and applies the outcome. Failed -> abort (LatencyBreach) with the measured value, the
 * threshold and the streak; Passed -> done; inconclusive past inconclusiveTimeoutSeconds -> onInconclusive applied
 * once (Abort, Continue = done without a verdict, Pause = a pause condition until promoted); too many errors in a
 * row -> hold with one Warning (errors never abort). Pure.
 */
export function runAnalysisStep(input: RolloutInput, args: AnalysisStepArgs): AnalysisStepResult {
  const latency = input.engine.spec.analysis?.latency;
  const events: EventIntent[] = [];
  let pauseConditions = [...args.pauseConditions];
  if (latency === undefined) {
    return { analysis: args.analysis ?? {}, done: true, hold: '', events, pauseConditions };
  }
  let analysis = args.analysis;
  if (args.entered || analysis?.revision !== input.revision || analysis.startedAt === undefined) {
    analysis = startGate(input.revision, input.nowMs, analysis);
    events.push({
      type: 'Normal', reason: 'AnalysisStarted',
      message: `Latency gate on revision ${input.revision} (${args.label}): ${quantileName(latency.quantile)} <= ${latency.thresholdMicros} µs over ${latency.window}, every ${latency.interval} after ${latency.initialDelay}; ${args.requiredSuccesses} passes in a row pass, ${latency.consecutiveBreaches} breaches in a row abort${checksText(input)}`,
    });
  }
  // An inconclusive pause (onInconclusive Pause) holds the step until promoted, even if the gate passes later.
  const pausedInconclusive = (): boolean => pauseConditions.some((condition) => condition.reason === 'Inconclusive');
  const pausedHold = `${args.label}: paused after an inconclusive latency gate; promote to continue, or abort`;
  if (analysis.phase === 'Successful') {
    return { analysis, done: !pausedInconclusive(), hold: pausedInconclusive() ? pausedHold : '', events, pauseConditions };
  }
  const tick = tickGate(input, analysis, args.requiredSuccesses);
  if (tick.needs !== undefined) return { analysis, done: false, needs: tick.needs, hold: 'measuring', events, pauseConditions };
  const before = analysis;
  analysis = tick.analysis;
  const last = analysis.lastMeasurement?.message ?? '';
  let done = false;
  let abort: AnalysisStepResult['abort'];
  const failingChecks = (analysis.checks ?? []).filter((check) => check.result === 'Fail');
  if (tick.checkFailed !== undefined && tick.outcome !== 'Failed') {
    const limit = input.engine.spec.analysis?.checks?.find((check) => check.signal === tick.checkFailed?.signal)?.consecutiveFailures ?? 0;
    abort = { reason: 'CheckFailed', message: `${tick.checkFailed.message ?? tick.checkFailed.signal}; ${tick.checkFailed.consecutiveFailures ?? 0} failures in a row at ${args.label} (consecutiveFailures ${limit})` };
    analysis = { ...analysis, phase: 'Failed' };
  } else if (tick.outcome === 'Passed' && failingChecks.length > 0) {
    // Latency passed, a check failed on this measurement: not a pass yet; the next measurement decides.
    analysis = { ...analysis, phase: 'Running' };
  }
  switch (abort === undefined ? tick.outcome : 'Aborted') {
    case 'Failed':
      abort = { reason: 'LatencyBreach', message: `${last}; ${analysis.consecutiveBreaches ?? 0} breaches in a row at ${args.label} (consecutiveBreaches ${latency.consecutiveBreaches})` };
      break;
    case 'Passed':
      // A check failing on the last measurement holds the step: it passes on a measurement where no check fails.
      if (failingChecks.length > 0) break;
      done = true;
      events.push({ type: 'Normal', reason: 'AnalysisPassed', message: `Latency gate passed at ${args.label}: ${last}; ${analysis.consecutiveSuccesses ?? 0} passes in a row` });
      break;
    case 'InconclusiveTimeout':
      if (latency.onInconclusive === 'Abort') {
        abort = { reason: 'Inconclusive', message: `inconclusive for ${latency.inconclusiveTimeoutSeconds} s at ${args.label} (${last}); onInconclusive Abort` };
      } else if (latency.onInconclusive === 'Continue') {
        done = true;
        events.push({ type: 'Warning', reason: 'InconclusiveContinued', message: `Latency gate inconclusive for ${latency.inconclusiveTimeoutSeconds} s at ${args.label} (${last}); onInconclusive Continue: passed without a verdict` });
      } else if (!pauseConditions.some((condition) => condition.reason === 'Inconclusive')) {
        pauseConditions = [...pauseConditions, { reason: 'Inconclusive', startTime: new Date(input.nowMs).toISOString() }];
        events.push({ type: 'Warning', reason: 'RolloutPaused', message: `Latency gate inconclusive for ${latency.inconclusiveTimeoutSeconds} s at ${args.label} (${last}); onInconclusive Pause: promote to skip the analysis, or abort` });
      }
      break;
    case 'ErrorLimit':
      if (before.phase !== 'Error') {
        events.push({ type: 'Warning', reason: 'AnalysisErrors', message: `${analysis.consecutiveErrors ?? 0} measurement errors in a row at ${args.label} (maxConsecutiveErrors ${latency.maxConsecutiveErrors}); holding, errors never abort: ${last}` });
      }
      break;
    default:
      break;
  }
  if (done && pausedInconclusive()) done = false;
  const hold = done || abort !== undefined ? ''
    : tick.outcome === 'Passed' && failingChecks.length > 0 ? `${args.label}: latency passed, waiting for the checks: ${failingChecks.map((check) => check.message ?? check.signal).join('; ')}`
    : tick.outcome === 'Passed' ? pausedHold
    : `${args.label} analysis ${analysis.phase ?? 'Running'}: ${analysis.consecutiveSuccesses ?? 0}/${args.requiredSuccesses} passes, ${analysis.consecutiveBreaches ?? 0}/${latency.consecutiveBreaches} breaches`;
  return { analysis, done, ...(abort === undefined ? {} : { abort }), hold, events, pauseConditions, dueMs: tick.dueMs };
}

/** `; checks: TicksRejected (3 failures in a row abort)` for the AnalysisStarted Event, or nothing without checks. */
function checksText(input: RolloutInput): string {
  const checks = input.engine.spec.analysis?.checks ?? [];
  return checks.length === 0 ? '' : `; checks: ${checks.map((check) => `${check.signal} (${check.consecutiveFailures} failures in a row abort)`).join(', ')}`;
}
