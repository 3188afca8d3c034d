import { checkFitsInput, checkPeriod, outputArray, jsValueChecks, type ValueChecks } from './batch-checks.ts';
import { BAR_CLOSE, checkStreamingPeriod, SteppedIndicator, stateCount, type StreamingIndicator } from './indicator.ts';
import { loadWindow, nextPow2, resyncInterval, saveWindow, windowSum } from './rolling-sum.ts';

/** Bollinger outputs. The streaming `result` is one preallocated object, refilled from `values` when read. */
export interface BollingerResult {
  upper: number;
  middle: number;
  lower: number;
}

/** Arrays for `bbandsBatch`, each aligned with the input. */
export interface BollingerBatchOutput {
  upper: Float64Array;
  middle: Float64Array;
  lower: Float64Array;
}

const BBANDS_OUTPUTS: readonly string[] = Object.freeze(['upper', 'middle', 'lower']);

/** Throws RangeError unless `stdDev` (k) is a finite number > 0 (shared with the non-JS batch backends). */
export function checkStdDev(stdDev: number): void {
  if (!(stdDev > 0) || stdDev === Infinity) {
    throw new RangeError(`stdDev must be a finite number > 0, got ${stdDev}`);
  }
}

/** Sum of squared deviations from `mean` of `values[from..to)`, in index order: the batch re-summation. */
function windowM2(values: Float64Array, from: number, to: number, mean: number): number {
  let m2 = 0;
  for (let i = from; i < to; i++) {
    const d = values[i] - mean;
    m2 += d * d;
  }
  return m2;
}

/**
 * Writes one batch output slot: the constant itself on a constant window, else mean +- stdDev * sqrt(M2 / p)
 * (M2 clamped at 0), exactly as BollingerBands.publish does.
 */
function writeBands(
  upper: Float64Array,
  middle: Float64Array,
  lower: Float64Array,
  i: number,
  constant: boolean,
  x: number,
  mean: number,
  m2: number,
  period: number,
  stdDev: number,
): void {
  if (constant) {
    upper[i] = x;
    middle[i] = x;
    lower[i] = x;
    return;
  }
  const band = m2 > 0 ? stdDev * Math.sqrt(m2 / period) : 0;
  upper[i] = mean + band;
  middle[i] = mean;
  lower[i] = mean - band;
}

/**
 * Bollinger Bands (TA-Lib BBANDS with SMA): middle = SMA(period), upper/lower = middle +- stdDev * sd, where sd
 * is the POPULATION standard deviation of the window. `stdDev` (k) may be fractional (2, 2.5).
 *
 * Warm-up and alignment: `warmupPeriod = period`; the first output is at index `period - 1`.
 * Example, period 8, k 2, window 2, 4, 4, 4, 5, 5, 7, 9: middle 5, sd 2, upper 9, lower 1.
 *
 * Numerics: the window sum is the same drift-free rolling sum as Sma (so `middle` equals Sma bit for bit on
 * non-constant windows) and the squared deviations M2 follow the exact sliding identity
 * M2' = M2 + (x - old) * ((x - mean') + (old - mean)), both recomputed two-pass every max(1024, period) updates.
 * A negative M2 from rounding is clamped to 0.
 *
 * Exact zero width: a counter of trailing bitwise-equal closes reaching `period` means max == min over the
 * window; then all three bands are set to that close, so the width is exactly 0 (not 1e-13 rounding noise),
 * however volatile the data before it was.
 *
 * Guarantees: O(1) amortised per update, no allocation; `bbandsBatch` gives bit-identical values.
 * Inputs must be finite (see StreamingIndicator).
 */
export class BollingerBands extends SteppedIndicator implements StreamingIndicator {
  readonly type = 'bbands' as const;
  readonly outputNames = BBANDS_OUTPUTS;
  readonly warmupPeriod: number;
  /** Its window's exact re-summation period: a warm start replays an aligned tail (see StreamingIndicator). */
  readonly replayAlignment: number;
  readonly period: number;
  readonly stdDev: number;
  private readonly ring: Float64Array;
  private readonly mask: number;
  private readonly resyncEvery: number;
  /** What `result` hands out, filled from `values` when read. */
  private readonly out: BollingerResult = { upper: NaN, middle: NaN, lower: NaN };
  private head = 0;
  private count = 0;
  private untilResync = 0;
  private sum = 0;
  private m2 = 0;
  private last = NaN;
  /** Trailing closes equal to `last`, saturating at period. */
  private run = 0;

  constructor(period: number, stdDev = 2) {
    super(3);
    checkStreamingPeriod('period', period);
    checkStdDev(stdDev);
    this.period = period;
    this.stdDev = stdDev;
    this.warmupPeriod = period;
    this.replayAlignment = resyncInterval(period);
    const capacity = nextPow2(period);
    this.ring = new Float64Array(capacity);
    this.mask = capacity - 1;
    this.resyncEvery = resyncInterval(period);
  }

  get isStable(): boolean {
    return this.count === this.period;
  }

  /** The preallocated `{ upper, middle, lower }`, refilled from `values` on each read; null while warming up. */
  get result(): Readonly<BollingerResult> | null {
    if (this.count !== this.period) return null;
    const out = this.out;
    out.upper = this.values[0];
    out.middle = this.values[1];
    out.lower = this.values[2];
    return out;
  }

  step(bar: Float64Array): void {
    const close = bar[BAR_CLOSE];
    const p = this.period;
    const head = this.head;
    if (close === this.last) {
      if (this.run < p) this.run++;
    } else {
      this.run = 1;
      this.last = close;
    }
    if (this.count < p) {
      this.ring[head & this.mask] = close;
      this.head = (head + 1) | 0;
      this.sum += close;
      if (++this.count === p) {
        this.untilResync = this.resyncEvery;
        this.resync();
        this.publish();
      }
      return;
    }
    // Read the leaving value before writing: with period == capacity both use the same slot.
    const old = this.ring[(head - p) & this.mask];
    this.ring[head & this.mask] = close;
    this.head = (head + 1) | 0;
    const d = close - old;
    const oldMean = this.sum / p;
    this.sum += d;
    this.m2 += d * ((close - this.sum / p) + (old - oldMean));
    if (--this.untilResync === 0) {
      this.untilResync = this.resyncEvery;
      this.resync();
    }
    this.publish();
  }

  /** Recomputes sum and M2 from the ring, oldest first (same order as the batch re-summation). */
  private resync(): void {
    const ring = this.ring;
    const mask = this.mask;
    const head = this.head;
    const p = this.period;
    // ringWindowSum written out (oldest first, the same order): a double returned by a call is boxed (indicator.ts).
    let sum = 0;
    for (let k = p; k > 0; k--) sum += ring[(head - k) & mask];
    const mean = sum / p;
    let m2 = 0;
    for (let k = p; k > 0; k--) {
      const d = ring[(head - k) & mask] - mean;
      m2 += d * d;
    }
    this.sum = sum;
    this.m2 = m2;
  }

  private publish(): void {
    const values = this.values;
    if (this.run === this.period) {
      values[0] = this.last;
      values[1] = this.last;
      values[2] = this.last;
      return;
    }
    const mean = this.sum / this.period;
    const m2 = this.m2;
    const band = m2 > 0 ? this.stdDev * Math.sqrt(m2 / this.period) : 0;
    values[0] = mean + band;
    values[1] = mean;
    values[2] = mean - band;
  }

  /** Layout: [count, untilResync, sum, m2, last, run, upper, middle, lower, the window oldest first (period slots)]. */
  get stateSize(): number {
    return 9 + this.period;
  }

  saveState(out: Float64Array, offset: number): void {
    out[offset] = this.count;
    out[offset + 1] = this.untilResync;
    out[offset + 2] = this.sum;
    out[offset + 3] = this.m2;
    out[offset + 4] = this.last;
    out[offset + 5] = this.run;
    out[offset + 6] = this.values[0];
    out[offset + 7] = this.values[1];
    out[offset + 8] = this.values[2];
    const count = this.count;
    saveWindow(this.ring, this.mask, this.head, count, this.period, out, offset + 9);
  }

  loadState(state: Float64Array, offset: number): void {
    const count = stateCount(this.type, state, offset, this.period);
    this.count = count;
    this.untilResync = state[offset + 1];
    this.sum = state[offset + 2];
    this.m2 = state[offset + 3];
    this.last = state[offset + 4];
    this.run = state[offset + 5];
    this.values[0] = state[offset + 6];
    this.values[1] = state[offset + 7];
    this.values[2] = state[offset + 8];
    loadWindow(state, offset + 9, count, this.ring);
    this.head = count;
  }

  reset(): void {
    this.head = 0;
    this.count = 0;
    this.untilResync = 0;
    this.sum = 0;
    this.m2 = 0;
    this.last = NaN;
    this.run = 0;
    this.values.fill(NaN);
  }
}

/**
 * Bollinger Bands over a whole series: three arrays aligned with `close`, NaN before index `period - 1`.
 * Reuses `out` when given. Throws RangeError for a bad period or stdDev, a period longer than the input, or a
 * non-finite value (naming its index).
 */
export function bbandsBatch(
  close: Float64Array,
  period: number,
  stdDev = 2,
  out?: BollingerBatchOutput,
): BollingerBatchOutput {
  const result = prepareBbandsBatch(close, period, stdDev, out);
  const { upper, middle, lower } = result;
  const n = close.length;
  if (n === 0) return result;

  // Warm-up: the run-length counter sees every close; outputs stay NaN until the window fills.
  let last = NaN;
  let run = 0;
  for (let i = 0; i < period; i++) {
    const x = close[i];
    if (x === last) {
      if (run < period) run++;
    } else {
      run = 1;
      last = x;
    }
    upper[i] = NaN;
    middle[i] = NaN;
    lower[i] = NaN;
  }
  let sum = windowSum(close, 0, period);
  let m2 = windowM2(close, 0, period, sum / period);
  writeBands(upper, middle, lower, period - 1, run === period, last, sum / period, m2, period, stdDev);

  // The streaming schedule in blocks: the inner loop slides sum and M2 up to each re-summation index, which
  // takes the exact two-pass values instead (the streaming class slides there too, then replaces them).
  const every = resyncInterval(period);
  let i = period;
  for (let resyncAt = period - 1 + every; i < n; resyncAt += every) {
    const stop = resyncAt < n ? resyncAt : n;
    for (; i < stop; i++) {
      const x = close[i];
      if (x === last) {
        if (run < period) run++;
      } else {
        run = 1;
        last = x;
      }
      const old = close[i - period];
      const d = x - old;
      const oldMean = sum / period;
      sum += d;
      m2 += d * ((x - sum / period) + (old - oldMean));
      writeBands(upper, middle, lower, i, run === period, x, sum / period, m2, period, stdDev);
    }
    if (resyncAt < n) {
      const x = close[i];
      if (x === last) {
        if (run < period) run++;
      } else {
        run = 1;
        last = x;
      }
      sum = windowSum(close, i - period + 1, i + 1);
      m2 = windowM2(close, i - period + 1, i + 1, sum / period);
      writeBands(upper, middle, lower, i, run === period, x, sum / period, m2, period, stdDev);
      i++;
    }
  }
  return result;
}

/**
 * Every argument check of `bbandsBatch`, in its order and with its messages, and its output arrays (the caller's
 * `out` reused, or new ones): shared by every batch backend so they refuse exactly the same inputs. Throws
 * before anything is written; the outputs are returned as they are (not yet filled).
 */
export function prepareBbandsBatch(close: Float64Array, period: number, stdDev: number, out?: BollingerBatchOutput, values: ValueChecks = jsValueChecks): BollingerBatchOutput {
  checkPeriod('period', period);
  checkStdDev(stdDev);
  const n = close.length;
  const upper = outputArray('out.upper', out?.upper, n, [close]);
  const middle = outputArray('out.middle', out?.middle, n, [close, upper]);
  const lower = outputArray('out.lower', out?.lower, n, [close, upper, middle]);
  const result = out ?? { upper, middle, lower };
  if (n === 0) return result;
  checkFitsInput('period', period, n);
  values.finite('close', close);
  return result;
}
