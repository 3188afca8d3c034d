import { checkFinite, checkFitsInput, checkPeriod, outputArray } from './batch-checks.ts';
import { BAR_CLOSE, checkStreamingPeriod, SteppedIndicator, stateCount, VALUE_OUTPUT, type StreamingIndicator } from './indicator.ts';
import { resyncInterval, RollingSum, windowSum } from './rolling-sum.ts';

/**
 * Simple moving average: the mean of the last `period` closes.
 *
 * Warm-up and alignment (TA-Lib SMA): `warmupPeriod = period`; the first output is at index `period - 1`.
 * Example, SMA(3) of 1, 2, 3, 4, 5: NaN, NaN, 2, 3, 4.
 *
 * Guarantees: O(1) per update, no allocation after construction; the running sum is recomputed exactly every
 * max(1024, period) updates (see RollingSum), so it does not drift. `smaBatch` gives bit-identical values.
 * Inputs must be finite (see StreamingIndicator).
 */
export class Sma extends SteppedIndicator implements StreamingIndicator {
  readonly type = 'sma' as const;
  readonly outputNames = VALUE_OUTPUT;
  readonly warmupPeriod: number;
  /** Its window's exact re-summation period: a warm start replays an aligned tail (see StreamingIndicator). */
  readonly replayAlignment: number;
  readonly period: number;
  private readonly window: RollingSum;

  constructor(period: number) {
    super(1);
    checkStreamingPeriod('period', period);
    this.period = period;
    this.warmupPeriod = period;
    this.replayAlignment = resyncInterval(period);
    this.window = new RollingSum(period);
  }

  get isStable(): boolean {
    return this.window.full;
  }

  /** The average, or null while warming up. */
  get result(): number | null {
    return this.window.full ? this.values[0] : null;
  }

  step(bar: Float64Array): void {
    const w = this.window;
    w.pushFrom(bar, BAR_CLOSE);
    if (w.full) this.values[0] = w.sum / this.period;
  }

  /** Layout: the window's RollingSum state, [count, sum, untilResync, window oldest first]. */
  get stateSize(): number {
    return RollingSum.stateSize(this.period);
  }

  saveState(out: Float64Array, offset: number): void {
    this.window.saveState(out, offset);
  }

  loadState(state: Float64Array, offset: number): void {
    const count = stateCount(this.type, state, offset, this.period);
    this.window.loadState(state, offset);
    this.values[0] = count === this.period ? this.window.sum / this.period : NaN;
  }

  reset(): void {
    this.window.reset();
    this.values[0] = NaN;
  }
}

/**
 * SMA over a whole series: output aligned with `close`, NaN before index `period - 1`. Reuses `out` when given.
 * Throws RangeError for a bad period, a period longer than the input, or a non-finite value (naming its index).
 */
export function smaBatch(close: Float64Array, period: number, out?: Float64Array): Float64Array {
  checkPeriod('period', period);
  const n = close.length;
  const result = outputArray('out', out, n, [close]);
  if (n === 0) return result;
  checkFitsInput('period', period, n);
  checkFinite('close', close);

  let sum = 0;
  for (let i = 0; i < period - 1; i++) {
    sum += close[i];
    result[i] = NaN;
  }
  sum += close[period - 1];
  result[period - 1] = sum / period;
  // RollingSum's schedule in blocks: a branch-free inner loop up to each re-summation index, which takes the
  // exact window sum instead (the streaming class computes the running update there too, then replaces it).
  const every = resyncInterval(period);
  let i = period;
  for (let resyncAt = period - 1 + every; i < n; resyncAt += every) {
    const stop = resyncAt < n ? resyncAt : n;
    for (; i < stop; i++) {
      sum += close[i] - close[i - period];
      result[i] = sum / period;
    }
    if (resyncAt < n) {
      sum = windowSum(close, i - period + 1, i + 1);
      result[i] = sum / period;
      i++;
    }
  }
  return result;
}
