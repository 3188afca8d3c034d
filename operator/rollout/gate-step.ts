import type { AnalysisStatus, LatencyAnalysis, Measurement, SignalCheckStatus } from '../api/types.ts';
import { judgeComparison } from '../analysis/comparison-verdict.ts';
import type { MeasureResult, MeasureTarget } from '../analysis/provider.ts';
import { judgeChecks, type SignalCounts } from '../analysis/signals.ts';
import { advanceGate, judge, nextMeasurementDueMs, type GateOutcome } from '../analysis/verdict.ts';
import { measureTarget } from './pods.ts';
import type { RolloutInput } from './types.ts';
import type { MeasureRequest } from '../plan/needs.ts';
import { parseDurationMs } from '../api/duration.ts';
import { engineWindowIntervalMs } from '../render/engine-config.ts';

export interface GateTick {
  readonly analysis: AnalysisStatus;
  /** The outcome of the measurement judged now; 'Running' when nothing was due. */
  readonly outcome: GateOutcome;
  /** The measurement judged in this reconcile, if one was. */
  readonly judged?: Measurement;
  /** When the next measurement is due (wall-clock ms). */
  readonly dueMs: number;
  /** Set when a measurement is due and the input has none: the executor measures and decides again. */
  readonly needs?: MeasureRequest;
  /** A signal check whose failures in a row reached its limit on this measurement: the rollout aborts. */
  readonly checkFailed?: SignalCheckStatus;
}

/** Re-check at least this often when the spec's durations cannot be read (validation reports them). */
const fallbackIntervalMs = 60_000;

/**
 * One reconcile's worth of the latency gate on `gate.revision`: nothing before the next measurement is due; when
 * due, a measure request (first pass) or the judged measurement and the moved streaks (second pass). A
 * measurement of another revision (a stale one) is never used. Pure.
 */
export function tickGate(input: RolloutInput, gate: AnalysisStatus, requiredSuccesses: number): GateTick {
  const latency = input.engine.spec.analysis?.latency;
  if (latency === undefined) return { analysis: gate, outcome: 'Passed', dueMs: input.nowMs };
  const due = nextMeasurementDueMs(gate, latency);
  if (Number.isNaN(due)) return { analysis: gate, outcome: 'Running', dueMs: input.nowMs + fallbackIntervalMs };
  if (input.nowMs < due) return { analysis: gate, outcome: 'Running', dueMs: due };
  const revision = gate.revision ?? input.revision;
  const taken = input.measurement;
  if (taken?.revision !== revision) return { analysis: gate, outcome: 'Running', dueMs: due, needs: measureRequest(input, revision, gate, latency) };
  const statistical = latency.method === 'MannWhitney';
  const judged = statistical ? judgeComparison(taken, latency, revision, input.nowMs) : judge(taken, latency, revision, input.nowMs);
  const advanced = advanceGate(gate, judged, latency, requiredSuccesses, input.nowMs);
  const step = statistical ? { ...advanced, analysis: withWindowStart(advanced.analysis, input, judged) } : advanced;
  const next = nextMeasurementDueMs(step.analysis, latency);
  const dueMs = Number.isNaN(next) ? input.nowMs + fallbackIntervalMs : next;
  const checks = input.engine.spec.analysis?.checks ?? [];
  if (checks.length === 0) return { analysis: step.analysis, outcome: step.outcome, judged, dueMs };
  const signalsOf = (result: MeasureResult | undefined): SignalCounts | undefined => (result?.ok === true ? result.value.signals : undefined);
  const verdict = judgeChecks(checks, signalsOf(taken.canary), signalsOf(taken.stable), gate.checks);
  return {
    analysis: { ...step.analysis, checks: verdict.statuses },
    outcome: step.outcome,
    judged,
    dueMs,
    ...(verdict.failed === undefined ? {} : { checkFailed: verdict.failed }),
  };
}

/**
 * The Mann-Whitney gate's windows: from `since` (the end of the last conclusive window; at first the gate's start
 * plus initialDelay, so warm-up samples are not judged) to `until`, the last interval boundary at least
 * `clockSkewMarginMs` before now. Every pod of both revisions is cut at the same `until`, so canary and stable are
 * judged on the same intervals, and no pod's interval is skipped because another pod rotated first. Pure: both
 * passes of a reconcile compute the same window from the same time. NaN when the method is not MannWhitney.
 */
function comparisonWindow(input: RolloutInput, gate: AnalysisStatus): { readonly since: number; readonly until: number } {
  const latency = input.engine.spec.analysis?.latency;
  if (latency?.method !== 'MannWhitney') return { since: Number.NaN, until: Number.NaN };
  const started = Date.parse(gate.startedAt ?? '') + (parseDurationMs(latency.initialDelay) ?? 0);
  const since = gate.windowStart === undefined ? started : Date.parse(gate.windowStart);
  const intervalMs = engineWindowIntervalMs(input.engine.spec);
  return { since, until: Math.floor((input.nowMs - clockSkewMarginMs) / intervalMs) * intervalMs };
}

/** How far an engine's clock may lag the operator's and still have completed the interval `until` ends. */
const clockSkewMarginMs = 250;

/**
 * The next window starts where a conclusive measurement's window ended (`until`); an inconclusive one leaves it,
 * so the next measurement judges a longer window (up to what the engine keeps: the spec's window).
 */
function withWindowStart(analysis: AnalysisStatus, input: RolloutInput, judged: Measurement): AnalysisStatus {
  if (judged.result !== 'Pass' && judged.result !== 'Breach') return analysis;
  const { until } = comparisonWindow(input, analysis);
  return Number.isNaN(until) ? analysis : { ...analysis, windowStart: new Date(until).toISOString() };
}

function measureRequest(input: RolloutInput, revision: string, gate: AnalysisStatus, latency: LatencyAnalysis): MeasureRequest {
  const analysis = input.engine.spec.analysis;
  const { since, until } = comparisonWindow(input, gate);
  const signals = (analysis?.checks ?? []).length > 0;
  const windowed = (target: MeasureTarget): MeasureTarget => ({
    ...target,
    ...(Number.isNaN(since) ? {} : { windowSinceMs: since, windowUntilMs: until }),
    ...(signals ? { signals } : {}),
  });
  const canary = windowed(measureTarget(input.engine, input.pods, revision));
  // The stable revision is measured for the relative latency check and for any relative signal check.
  const relative = latency.relativeToStable?.maxIncreasePercent !== undefined
    || (analysis?.checks ?? []).some((check) => check.maxIncreasePercent !== undefined);
  const source = latency.source;
  return relative ? { source, canary, stable: windowed(measureTarget(input.engine, input.pods, input.stableRevision)) } : { source, canary };
}
