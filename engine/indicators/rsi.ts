import { checkFinite, checkFitsInput, checkPeriod, outputArray } from './batch-checks.ts';
import { BAR_CLOSE, checkStreamingPeriod, SteppedIndicator, stateCount, VALUE_OUTPUT, type StreamingIndicator } from './indicator.ts';

/**
 * RSI value on a flat market: when the average gain and the average loss are both exactly 0 (0/0), the RSI is
 * 50, neutral. TA-Lib returns 0 there (and already whenever gain + loss < 1e-8), which reads as "maximally
 * oversold" and would fire buy signals on a halted or illiquid symbol; we deliberately differ.
 */
export const FLAT_RSI = 50;

/**
 * 100 * g / (g + l) in TA-Lib's operation order, FLAT_RSI when both averages are 0.
 * Examples: (2/3, 1/3) -> 66.67; (1, 0) -> 100; (0, 1) -> 0; (0, 0) -> 50.
 */
export function rsiFromAverages(avgGain: number, avgLoss: number): number {
  const total = avgGain + avgLoss;
  return total === 0 ? FLAT_RSI : 100 * (avgGain / total);
}

/**
 * Relative strength index with Wilder smoothing (TA-Lib RSI).
 *
 * Warm-up and alignment: the first output needs `period` price changes, so it is at index `period`
 * (`warmupPeriod = period + 1`). The first averages are plain means of the first `period` gains and losses; then
 * `avg = (avg * (period - 1) + change) * (1 / period)`. A flat start returns FLAT_RSI (50).
 * Multiplying by the reciprocal instead of dividing (TA-Lib divides) differs by at most an ulp or so per step,
 * which the contractive smoothing does not accumulate (measured against dividing, 1M random-walk bars, periods 2,
 * 14, 50: at most 7e-14 RSI points, 3e-15 relative), and leaves one division per bar, the ratio, instead of
 * three (rsiMany over 2,000 x 10,000, kernel only, timed against the dividing kernel in the same process:
 * 2.4 -> 1.8 ns per point; memory bandwidth bounds the rest).
 * Example, RSI(3) of 1, 2, 3, 2, 3, 4: NaN x3, 66.67 (gains 2/3, losses 1/3), 77.78 (7/9 vs 2/9), 85.19.
 *
 * Guarantees: O(1) per update, no allocation; the smoothing is contractive, so rounding does not drift.
 * `rsiBatch` gives bit-identical values. Inputs must be finite (see StreamingIndicator).
 */
export class Rsi extends SteppedIndicator implements StreamingIndicator {
  readonly type = 'rsi' as const;
  readonly outputNames = VALUE_OUTPUT;
  readonly warmupPeriod: number;
  /** A recursion over every value fed: a warm start replays the whole history (see StreamingIndicator). */
  readonly replayAlignment = 0;
  readonly period: number;
  /** Updates seen, saturating at period + 1. */
  private count = 0;
  private prevClose = 0;
  private avgGain = 0;
  private avgLoss = 0;
  /** 1 / period: the smoothing multiplies by it (one division per update fewer; see the class comment). */
  private readonly inversePeriod: number;

  constructor(period: number) {
    super(1);
    checkStreamingPeriod('period', period);
    this.period = period;
    this.inversePeriod = 1 / period;
    this.warmupPeriod = period + 1;
  }

  get isStable(): boolean {
    return this.count > this.period;
  }

  /** The RSI in [0, 100], or null while warming up. */
  get result(): number | null {
    return this.count > this.period ? this.values[0] : null;
  }

  step(bar: Float64Array): void {
    const close = bar[BAR_CLOSE];
    const p = this.period;
    const c = this.count;
    const change = close - this.prevClose;
    this.prevClose = close;
    if (c > p) {
      let gain = this.avgGain * (p - 1);
      let loss = this.avgLoss * (p - 1);
      if (change < 0) loss -= change;
      else gain += change;
      gain *= this.inversePeriod;
      loss *= this.inversePeriod;
      this.avgGain = gain;
      this.avgLoss = loss;
      // rsiFromAverages written out: a double returned by a call V8 declines to inline is boxed, and inside a
      // large inlined pipeline it often declines (measured: one 16-byte HeapNumber per update).
      const total = gain + loss;
      // Two stores, not one of a conditional: a phi of the integer 50 and a double is a tagged value, boxed into a
      // HeapNumber on every update (measured 16 B/update); each store alone keeps the field's double representation.
      if (total === 0) this.values[0] = FLAT_RSI;
      else this.values[0] = 100 * (gain / total);
      return;
    }
    this.count = c + 1;
    if (c === 0) return; // the first close has no previous close
    if (change < 0) this.avgLoss -= change;
    else this.avgGain += change;
    if (c === p) {
      this.avgGain /= p;
      this.avgLoss /= p;
      this.values[0] = rsiFromAverages(this.avgGain, this.avgLoss);
    }
  }

  /** Layout: [count, prevClose, avgGain, avgLoss, value]. */
  readonly stateSize = 5;

  saveState(out: Float64Array, offset: number): void {
    out[offset] = this.count;
    out[offset + 1] = this.prevClose;
    out[offset + 2] = this.avgGain;
    out[offset + 3] = this.avgLoss;
    out[offset + 4] = this.values[0];
  }

  loadState(state: Float64Array, offset: number): void {
    this.count = stateCount(this.type, state, offset, this.period + 1);
    this.prevClose = state[offset + 1];
    this.avgGain = state[offset + 2];
    this.avgLoss = state[offset + 3];
    this.values[0] = state[offset + 4];
  }

  reset(): void {
    this.count = 0;
    this.prevClose = 0;
    this.avgGain = 0;
    this.avgLoss = 0;
    this.values[0] = NaN;
  }
}

/**
 * RSI over a whole series: output aligned with `close`, NaN before index `period` (all NaN when the input has
 * exactly `period` values). Reuses `out` when given. Throws RangeError for a bad period, a period longer than the
 * input, or a non-finite value (naming its index).
 */
export function rsiBatch(close: Float64Array, period: number, out?: Float64Array): Float64Array {
  checkPeriod('period', period);
  const n = close.length;
  const result = outputArray('out', out, n, [close]);
  if (n === 0) return result;
  checkFitsInput('period', period, n);
  checkFinite('close', close);

  result[0] = NaN;
  let gain = 0;
  let loss = 0;
  const seedEnd = period < n ? period : n - 1;
  for (let i = 1; i <= seedEnd; i++) {
    const change = close[i] - close[i - 1];
    if (change < 0) loss -= change;
    else gain += change;
    result[i] = NaN;
  }
  if (period >= n) return result;
  gain /= period;
  loss /= period;
  result[period] = rsiFromAverages(gain, loss);
  const pm1 = period - 1;
  const inv = 1 / period;
  for (let i = period + 1; i < n; i++) {
    const change = close[i] - close[i - 1];
    gain *= pm1;
    loss *= pm1;
    if (change < 0) loss -= change;
    else gain += change;
    gain *= inv;
    loss *= inv;
    result[i] = rsiFromAverages(gain, loss);
  }
  return result;
}
