import type { AnalysisStatus, LatencyAnalysis, Measurement } from '../api/types.ts';
import { parseDurationMs } from '../api/duration.ts';
import type { MeasureResult } from './provider.ts';

/**
 * The latency gate's decisions, pure functions of the measurements, the spec and the time.
 *
 * One measurement is judged on its own (`judge`): Pass, Breach (the quantile above the absolute threshold, or
 * above stable x (1 + maxIncreasePercent/100) when relativeToStable is set), Inconclusive (fewer than minSamples
 * in the window: market closed; the stable figure needed for the relative check is missing; or, with
 * relativeToStable, canary and stable both over the threshold while the canary is within the relative limit: a
 * fleet-wide slowdown such as a market burst, which rolling the canary back would not cure) or Error (the
 * provider failed). Then the streaks move (`advanceGate`): only a Pass or a Breach moves the success and breach
 * streaks, and each resets the other; Inconclusive and Error leave both streaks as they were (missing data says
 * nothing about latency, so it neither counts as a breach nor breaks a breach streak). The gate fails at
 * `consecutiveBreaches` breaches in a row and passes at `successfulIntervals` passes in a row.
 */

export type GateOutcome =
  /** Keep measuring. */
  | 'Running'
  /** successfulIntervals passes in a row. */
  | 'Passed'
  /** consecutiveBreaches breaches in a row: abort. */
  | 'Failed'
  /** Inconclusive for inconclusiveTimeoutSeconds without a conclusive measurement: apply onInconclusive. */
  | 'InconclusiveTimeout'
  /** maxConsecutiveErrors errors in a row: hold (never abort) and say so. */
  | 'ErrorLimit';

/** The most measurements kept in status.analysis.history (the CRD's maxItems). */
export const historyLimit = 20;

/** "0.99" -> "p99", "0.999" -> "p99.9", "0.5" -> "p50": how a quantile is named in messages. */
export function quantileName(quantile: string): string {
  const percent = Number(quantile) * 100;
  return `p${Number(percent.toFixed(4)).toString()}`;
}

export interface Judged {
  readonly canary: MeasureResult;
  /** The stable revision's figure; needed only when relativeToStable is set. */
  readonly stable?: MeasureResult;
}

/**
 * Judges one measurement of `revision` taken at `nowMs`. The quantile is rounded up to whole microseconds (the
 * gate never rounds a breach away). Examples with threshold 800, minSamples 100: 812.2 µs over 5000 samples ->
 * Breach ("p99 813 µs > threshold 800 µs"); 640 µs -> Pass; 40 samples -> Inconclusive; a refused scrape ->
 * Error. With maxIncreasePercent 20 and stable at 500 µs: 640 µs -> Breach (limit 600 µs).
 */
export function judge(measured: Judged, latency: LatencyAnalysis, revision: string, nowMs: number): Measurement {
  const base = { time: new Date(nowMs).toISOString(), revision, thresholdMicros: latency.thresholdMicros };
  const name = quantileName(latency.quantile);
  if (!measured.canary.ok) return { ...base, result: 'Error', message: truncate(measured.canary.error) };
  const { quantileMicros, samples } = measured.canary.value;
  if (quantileMicros === undefined || samples < latency.minSamples) {
    return { ...base, samples, result: 'Inconclusive', message: `${samples} samples in the window, fewer than minSamples ${latency.minSamples}` };
  }
  const value = Math.ceil(quantileMicros);
  const measuredBase = { ...base, p99Micros: value, samples };
  const increase = latency.relativeToStable?.maxIncreasePercent;
  let stableValue: number | undefined;
  if (increase !== undefined) {
    const stable = measured.stable;
    if (stable === undefined || !stable.ok) {
      return { ...measuredBase, result: 'Inconclusive', message: `${name} ${value} µs; the stable figure for the relative check is missing: ${stable === undefined ? 'not measured' : truncate(stable.error)}` };
    }
    if (stable.value.quantileMicros === undefined || stable.value.samples < latency.minSamples) {
      return { ...measuredBase, result: 'Inconclusive', message: `${name} ${value} µs; stable has ${stable.value.samples} samples, fewer than minSamples ${latency.minSamples}` };
    }
    stableValue = Math.ceil(stable.value.quantileMicros);
  }
  const withStable = stableValue === undefined ? measuredBase : { ...measuredBase, stableP99Micros: stableValue };
  if (stableValue !== undefined && increase !== undefined) {
    const limit = relativeLimit(stableValue, increase);
    if (value > limit) {
      return { ...withStable, result: 'Breach', message: `${name} ${value} µs > stable ${stableValue} µs + ${increase}% = ${limit} µs (${samples} samples)` };
    }
    if (value > latency.thresholdMicros && stableValue <= latency.thresholdMicros) {
      return { ...withStable, result: 'Breach', message: `${name} ${value} µs > threshold ${latency.thresholdMicros} µs while stable is ${stableValue} µs (${samples} samples)` };
    }
    if (value > latency.thresholdMicros) {
      // The whole fleet is over budget (a market burst): the canary is no worse than stable, so rolling it back
      // would not help. It is not a breach; it is not a pass either.
      return { ...withStable, result: 'Inconclusive', message: `${name} ${value} µs > threshold ${latency.thresholdMicros} µs, but stable is over it too (${stableValue} µs) and the canary is within stable + ${increase}% = ${limit} µs: fleet-wide, not the canary (${samples} samples)` };
    }
    return { ...withStable, result: 'Pass', message: `${name} ${value} µs <= threshold ${latency.thresholdMicros} µs and stable ${stableValue} µs + ${increase}% (${samples} samples)` };
  }
  if (value > latency.thresholdMicros) {
    return { ...withStable, result: 'Breach', message: `${name} ${value} µs > threshold ${latency.thresholdMicros} µs (${samples} samples)` };
  }
  return { ...withStable, result: 'Pass', message: `${name} ${value} µs <= threshold ${latency.thresholdMicros} µs (${samples} samples)` };
}

/** The relative limit in whole µs: stable x (1 + percent/100), rounded down (a breach needs strictly more). */
export function relativeLimit(stableMicros: number, maxIncreasePercent: number): number {
  return Math.floor((stableMicros * (100 + maxIncreasePercent)) / 100);
}

export interface GateStep {
  readonly analysis: AnalysisStatus;
  readonly outcome: GateOutcome;
}

/** A fresh gate for `revision`, started at `nowMs`, keeping the earlier history for display. */
export function startGate(revision: string, nowMs: number, previous: AnalysisStatus | undefined): AnalysisStatus {
  return {
    phase: 'Running',
    revision,
    startedAt: new Date(nowMs).toISOString(),
    consecutiveBreaches: 0,
    consecutiveSuccesses: 0,
    consecutiveErrors: 0,
    ...(previous?.lastMeasurement === undefined ? {} : { lastMeasurement: previous.lastMeasurement }),
    ...(previous?.history === undefined ? {} : { history: previous.history }),
  };
}

/**
 * Moves the gate by one judged measurement. `requiredSuccesses` is the step's successfulIntervals (or the spec's).
 * The outcome is checked in this order: Failed, Passed, InconclusiveTimeout, ErrorLimit, Running; so a breach
 * streak that completes aborts even when errors also piled up. Pure.
 */
export function advanceGate(
  gate: AnalysisStatus,
  measurement: Measurement,
  latency: LatencyAnalysis,
  requiredSuccesses: number,
  nowMs: number,
): GateStep {
  let breaches = gate.consecutiveBreaches ?? 0;
  let successes = gate.consecutiveSuccesses ?? 0;
  let errors = gate.consecutiveErrors ?? 0;
  let inconclusiveSince = gate.inconclusiveSince;
  switch (measurement.result) {
    case 'Pass':
      successes++;
      breaches = 0;
      errors = 0;
      inconclusiveSince = undefined;
      break;
    case 'Breach':
      breaches++;
      successes = 0;
      errors = 0;
      inconclusiveSince = undefined;
      break;
    case 'Inconclusive':
      errors = 0;
      inconclusiveSince ??= new Date(nowMs).toISOString();
      break;
    default:
      errors++;
      break;
  }
  let outcome: GateOutcome = 'Running';
  if (breaches >= latency.consecutiveBreaches) outcome = 'Failed';
  else if (successes >= requiredSuccesses) outcome = 'Passed';
  else if (inconclusiveSince !== undefined && nowMs - Date.parse(inconclusiveSince) >= latency.inconclusiveTimeoutSeconds * 1000) outcome = 'InconclusiveTimeout';
  else if (errors >= latency.maxConsecutiveErrors) outcome = 'ErrorLimit';
  const phase: NonNullable<AnalysisStatus['phase']> =
    outcome === 'Failed' ? 'Failed'
      : outcome === 'Passed' ? 'Successful'
        : outcome === 'ErrorLimit' ? 'Error'
          : measurement.result === 'Inconclusive' || outcome === 'InconclusiveTimeout' ? 'Inconclusive'
            : 'Running';
  const history = [...(gate.history ?? []), measurement].slice(-historyLimit);
  const analysis: AnalysisStatus = {
    ...gate,
    phase,
    consecutiveBreaches: breaches,
    consecutiveSuccesses: successes,
    consecutiveErrors: errors,
    lastMeasurement: measurement,
    history,
  };
  if (inconclusiveSince === undefined) {
    const { inconclusiveSince: _dropped, ...rest } = analysis;
    return { analysis: rest, outcome };
  }
  return { analysis: { ...analysis, inconclusiveSince }, outcome };
}

/**
 * When the gate's next measurement is due: `initialDelay` after it started, then every `interval` after the last
 * measurement taken since it started. Returns NaN when the spec's durations do not parse (validation reports them).
 */
export function nextMeasurementDueMs(gate: AnalysisStatus, latency: LatencyAnalysis): number {
  const startedMs = Date.parse(gate.startedAt ?? '');
  const intervalMs = parseDurationMs(latency.interval);
  const initialDelayMs = parseDurationMs(latency.initialDelay);
  if (Number.isNaN(startedMs) || intervalMs === undefined || initialDelayMs === undefined) return Number.NaN;
  const lastMs = Date.parse(gate.lastMeasurement?.time ?? '');
  const measuredSinceStart = !Number.isNaN(lastMs) && lastMs >= startedMs && gate.lastMeasurement?.revision === gate.revision;
  return measuredSinceStart ? lastMs + intervalMs : startedMs + initialDelayMs;
}

/** A provider's message cut to 1000 characters for status (the CRD allows 1024). */
export function truncate(text: string): string {
  return text.length <= 1000 ? text : `${text.slice(0, 997)}...`;
}
