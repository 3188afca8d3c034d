import { checkFitsInput, checkPeriod, checkSameLength, outputArray, jsValueChecks, type ValueChecks } from './batch-checks.ts';
import { BAR_CLOSE, BAR_HIGH, BAR_LOW, checkStreamingPeriod, SteppedIndicator, stateCount, VALUE_OUTPUT, type StreamingIndicator } from './indicator.ts';

/**
 * True range of a bar given the previous close: max(high - low, |high - prevClose|, |low - prevClose|).
 * Example: high 8, low 7, previous close 10 (a gap down) -> max(1, 2, 3) = 3.
 */
export function trueRange(high: number, low: number, prevClose: number): number {
  let tr = high - low;
  const up = Math.abs(high - prevClose);
  if (up > tr) tr = up;
  const down = Math.abs(low - prevClose);
  if (down > tr) tr = down;
  return tr;
}

/**
 * Average true range with Wilder smoothing (TA-Lib ATR).
 *
 * Warm-up and alignment: bar 0 has no previous close, so true ranges start at bar 1; the first ATR, at index
 * `period` (`warmupPeriod = period + 1`), is the plain mean of true ranges 1..period; then
 * `atr = (atr * (period - 1) + tr) * (1 / period)`: multiplying by the reciprocal instead of dividing (TA-Lib
 * divides) keeps the division's ~13-cycle latency off the recursion's chain (the wasm ATR14 kernel, timed
 * against the dividing one in the same process: 6.4 -> 4.0 ns per point) for at most an ulp or so per step, which the contractive smoothing does not accumulate
 * (measured against dividing, 1M random-walk bars, periods 2, 14, 50: at most 2.5e-15 relative).
 * Example, ATR(3) over bars (h, l, c) (10,8,9) (11,9,10.5) (12,10,11) (11.5,10.5,11) (14,12,13): true ranges
 * -, 2, 2, 1, 3; ATR NaN x3, 5/3, 19/9.
 *
 * Guarantees: O(1) per update, no allocation; the smoothing is contractive, so rounding does not drift.
 * `atrBatch` gives bit-identical values. Inputs must be finite with low <= high (see StreamingIndicator).
 */
export class Atr extends SteppedIndicator implements StreamingIndicator {
  readonly type = 'atr' as const;
  readonly outputNames = VALUE_OUTPUT;
  readonly warmupPeriod: number;
  /** A recursion over every value fed: a warm start replays the whole history (see StreamingIndicator). */
  readonly replayAlignment = 0;
  readonly period: number;
  /** Updates seen, saturating at period + 1. */
  private count = 0;
  private prevClose = 0;
  private atr = 0;
  /** 1 / period: the smoothing multiplies by it (see the class comment). */
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

  /** The ATR in price units, or null while warming up. */
  get result(): number | null {
    return this.count > this.period ? this.values[0] : null;
  }

  step(bar: Float64Array): void {
    const close = bar[BAR_CLOSE];
    const high = bar[BAR_HIGH];
    const low = bar[BAR_LOW];
    const p = this.period;
    const c = this.count;
    // trueRange written out: a double returned by a call V8 does not inline is boxed (see bench/allocation.ts).
    const prevClose = this.prevClose;
    let tr = high - low;
    const up = Math.abs(high - prevClose);
    if (up > tr) tr = up;
    const down = Math.abs(low - prevClose);
    if (down > tr) tr = down;
    this.prevClose = close;
    if (c > p) {
      this.atr = (this.atr * (p - 1) + tr) * this.inversePeriod;
      this.values[0] = this.atr;
      return;
    }
    this.count = c + 1;
    if (c === 0) return; // bar 0 has no previous close, hence no true range
    this.atr += tr;
    if (c === p) {
      this.atr /= p;
      this.values[0] = this.atr;
    }
  }

  /** Layout: [count, prevClose, atr, value]. */
  readonly stateSize = 4;

  saveState(out: Float64Array, offset: number): void {
    out[offset] = this.count;
    out[offset + 1] = this.prevClose;
    out[offset + 2] = this.atr;
    out[offset + 3] = this.values[0];
  }

  loadState(state: Float64Array, offset: number): void {
    this.count = stateCount(this.type, state, offset, this.period + 1);
    this.prevClose = state[offset + 1];
    this.atr = state[offset + 2];
    this.values[0] = state[offset + 3];
  }

  reset(): void {
    this.count = 0;
    this.prevClose = 0;
    this.atr = 0;
    this.values[0] = NaN;
  }
}

/**
 * ATR over whole series: output aligned with the inputs, NaN before index `period` (all NaN when the input has
 * exactly `period` bars). Reuses `out` when given. Throws RangeError for a bad period, a period longer than the
 * input, arrays of different lengths, a non-finite value or high < low (naming the index).
 */
export function atrBatch(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  period: number,
  out?: Float64Array,
): Float64Array {
  const result = prepareAtrBatch(high, low, close, period, out);
  const n = close.length;
  if (n === 0) return result;

  result[0] = NaN;
  let atr = 0;
  const seedEnd = period < n ? period : n - 1;
  for (let i = 1; i <= seedEnd; i++) {
    atr += trueRange(high[i], low[i], close[i - 1]);
    result[i] = NaN;
  }
  if (period >= n) return result;
  atr /= period;
  result[period] = atr;
  const pm1 = period - 1;
  const inv = 1 / period;
  for (let i = period + 1; i < n; i++) {
    atr = (atr * pm1 + trueRange(high[i], low[i], close[i - 1])) * inv;
    result[i] = atr;
  }
  return result;
}

/**
 * Every argument check of `atrBatch`, in its order and with its messages, and its output arrays (the caller's
 * `out` reused, or new ones): shared by every batch backend so they refuse exactly the same inputs. Throws
 * before anything is written; the outputs are returned as they are (not yet filled).
 */
export function prepareAtrBatch(high: Float64Array, low: Float64Array, close: Float64Array, period: number, out?: Float64Array, values: ValueChecks = jsValueChecks): Float64Array {
  checkPeriod('period', period);
  const n = close.length;
  checkSameLength(n, { high, low });
  const result = outputArray('out', out, n, [high, low, close]);
  if (n === 0) return result;
  checkFitsInput('period', period, n);
  values.finite('high', high);
  values.finite('low', low);
  values.finite('close', close);
  values.highLow(high, low);
  return result;
}
