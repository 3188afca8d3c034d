import type { LatencyAnalysis, Measurement } from '../api/types.ts';
import { countAbove, quantileMicros, type LatencyDistribution } from './distribution.ts';
import { binomialTail, compareDistributions, type Comparison } from './mann-whitney.ts';
import type { MeasureResult } from './provider.ts';
import { quantileName, truncate, type Judged } from './verdict.ts';

/**
 * The Mann-Whitney gate's judgment of one window (method MannWhitney), a pure function of the two revisions'
 * samples over the same consecutive window (window-report.ts), the spec and the time. With tolerance
 * t = 1 + maxIncreasePercent/100 and the spec's confidence:
 *
 *   either side below minSamples              -> Inconclusive: the window grows (it is not consumed)
 *   ratio's lower bound > t                   -> Breach  (canary slower than stable x t, with that confidence)
 *   canary over thresholdMicros, stable not   -> Breach  (the absolute budget still holds for the canary: more
 *                                                samples above it than the quantile allows, by a binomial
 *                                                test at the same confidence, so one slow sample in a small
 *                                                window is not a breach)
 *   ratio's upper bound <= t                  -> Pass, or Inconclusive when canary and stable are both over
 *                                                the budget (fleet-wide, as in the threshold method)
 *   otherwise (the bounds straddle t)         -> Inconclusive: the window grows until the data decides
 *
 * Only a Pass or a Breach consumes the window: the gate's next one starts where this one ended (gate-step.ts).
 * What this judges is the body of the distribution (the median of canary/stable ratios); a regression only in
 * the far tail moves the quantile, which thresholdMicros guards. docs/rollouts.md, "Statistical mode".
 */
export function judgeComparison(measured: Judged, latency: LatencyAnalysis, revision: string, nowMs: number): Measurement {
  const base = { time: new Date(nowMs).toISOString(), revision, thresholdMicros: latency.thresholdMicros };
  if (!measured.canary.ok) return { ...base, result: 'Error', message: truncate(measured.canary.error) };
  const stable = measured.stable;
  if (stable === undefined || !stable.ok) {
    return { ...base, result: 'Inconclusive', message: truncate(`the stable revision's samples for the comparison are missing: ${stable === undefined ? 'not measured' : stable.error}`) };
  }
  const canaryWindow = measured.canary.value.window;
  const stableWindow = stable.value.window;
  if (canaryWindow === undefined || stableWindow === undefined) {
    return { ...base, result: 'Error', message: 'the measurement carries no window report (the provider did not read one)' };
  }
  const samples = canaryWindow.distribution.samples;
  const stableSamples = stableWindow.distribution.samples;
  const spanMs = windowSpanMs(measured);
  const counted = { ...base, samples, stableSamples, ...(spanMs === undefined ? {} : { windowMillis: spanMs }) };
  const span = spanMs === undefined ? 'no completed interval yet' : `${(spanMs / 1000).toFixed(1)} s window`;
  if (samples < latency.minSamples || stableSamples < latency.minSamples) {
    return { ...counted, result: 'Inconclusive', message: `${span}: ${samples} canary and ${stableSamples} stable samples, fewer than minSamples ${latency.minSamples}; the window grows` };
  }
  const quantile = Number(latency.quantile);
  const value = Math.ceil(quantileMicros(canaryWindow.distribution, quantile) ?? 0);
  const stableValue = Math.ceil(quantileMicros(stableWindow.distribution, quantile) ?? 0);
  const withValues = { ...counted, p99Micros: value, stableP99Micros: stableValue };
  const confidence = Number(latency.confidence);
  const tolerance = 1 + (latency.relativeToStable?.maxIncreasePercent ?? 0) / 100;
  const comparison = compareDistributions(canaryWindow.distribution, stableWindow.distribution, confidence);
  const name = quantileName(latency.quantile);
  const facts = `${describe(comparison, confidence)}; ${name} ${value} vs ${stableValue} µs; ${span}, ${samples} vs ${stableSamples} samples`;
  if (comparison.ratioLow > tolerance) {
    return { ...withValues, result: 'Breach', message: `canary ${facts}: slower than stable x ${ratioText(tolerance)}` };
  }
  const canaryOver = overBudget(canaryWindow.distribution, latency, quantile, confidence);
  const stableOver = overBudget(stableWindow.distribution, latency, quantile, confidence);
  if (canaryOver !== undefined && stableOver === undefined) {
    return { ...withValues, result: 'Breach', message: `${canaryOver}, ${name} ${value} µs, while stable's ${name} is ${stableValue} µs; canary ${describe(comparison, confidence)}; ${span}` };
  }
  if (comparison.ratioHigh <= tolerance) {
    if (canaryOver !== undefined) {
      return { ...withValues, result: 'Inconclusive', message: `${canaryOver}, but stable is over it too (${name} ${stableValue} µs) and canary ${describe(comparison, confidence)} is within x ${ratioText(tolerance)}: fleet-wide, not the canary` };
    }
    return { ...withValues, result: 'Pass', message: `canary ${facts}: within stable x ${ratioText(tolerance)} and within the ${latency.thresholdMicros} µs budget` };
  }
  return { ...withValues, result: 'Inconclusive', message: `canary ${facts}: the bounds straddle x ${ratioText(tolerance)}; the window grows` };
}

/**
 * Whether a window's samples above thresholdMicros are more than a quantile at or under the threshold allows,
 * at the confidence (binomialTail); the message saying so, or undefined. Example: p99, 12 of 400 samples above
 * 800 µs (4 expected at most) -> "12 of 400 samples above threshold 800 µs (at most 1 % expected; binomial p 0.0005)".
 */
function overBudget(distribution: LatencyDistribution, latency: LatencyAnalysis, quantile: number, confidence: number): string | undefined {
  const above = countAbove(distribution, latency.thresholdMicros * 1000);
  const share = 1 - quantile;
  const p = binomialTail(above, distribution.samples, share);
  if (p >= 1 - confidence) return undefined;
  return `${above} of ${distribution.samples} samples above threshold ${latency.thresholdMicros} µs (at most ${Number((share * 100).toFixed(4))} % expected; binomial p ${p < 1e-6 ? '< 1e-6' : p.toPrecision(2)})`;
}

/** The span of the window judged: from the earliest interval's start to the latest interval's end, either side. */
function windowSpanMs(measured: Judged): number | undefined {
  const windows = [measured.canary, measured.stable].flatMap((result: MeasureResult | undefined) => (result?.ok === true && result.value.window !== undefined ? [result.value.window] : []));
  const from = Math.min(...windows.map((window) => window.fromMs ?? Infinity));
  const through = Math.max(...windows.map((window) => window.throughMs ?? -Infinity));
  return Number.isFinite(from) && Number.isFinite(through) ? Math.round(through - from) : undefined;
}

/** "1.31x stable (99% bounds 1.27x..1.35x, Mann-Whitney p 2.1e-12)". */
function describe(comparison: Comparison, confidence: number): string {
  const high = Number.isFinite(comparison.ratioHigh) ? `${ratioText(comparison.ratioHigh)}x` : 'none';
  const low = comparison.ratioLow > 0 ? `${ratioText(comparison.ratioLow)}x` : 'none';
  const p = comparison.pValue < 1e-6 ? '< 1e-6' : comparison.pValue.toPrecision(2);
  return `${ratioText(comparison.ratio)}x stable (${Number((confidence * 100).toFixed(2))}% bounds ${low}..${high}, Mann-Whitney p ${p})`;
}

function ratioText(ratio: number): string {
  return ratio.toFixed(2);
}
