import { checkFinite, checkFitsInput, checkPeriod, outputArray } from './batch-checks.ts';
import { BAR_CLOSE, checkStreamingPeriod, SteppedIndicator, stateCount, VALUE_OUTPUT, type StreamingIndicator } from './indicator.ts';

/**
 * Exponential moving average with alpha = 2 / (period + 1), seeded TA-Lib style.
 *
 * Warm-up and alignment (TA-Lib EMA): the seed is the SMA of the first `period` closes, output at index
 * `period - 1` (`warmupPeriod = period`); then `ema = (close - ema) * alpha + ema` (TA-Lib's operation order).
 * Example, EMA(3) (alpha 0.5) of 2, 4, 6, 8, 12, 8: NaN, NaN, 4, 6, 9, 8.5.
 *
 * Guarantees: O(1) per update, no allocation; the recursion is contractive, so rounding errors decay instead
 * of accumulating. `emaBatch` gives bit-identical values. Inputs must be finite (see StreamingIndicator).
 */
export class Ema extends SteppedIndicator implements StreamingIndicator {
  readonly type = 'ema' as const;
  readonly outputNames = VALUE_OUTPUT;
  readonly warmupPeriod: number;
  /** A recursion over every value fed: a warm start replays the whole history (see StreamingIndicator). */
  readonly replayAlignment = 0;
  readonly period: number;
  readonly alpha: number;
  private count = 0;
  private seedSum = 0;
  /** The average (NaN until the first); `values[0]` publishes it. */
  private ema = NaN;

  constructor(period: number) {
    super(1);
    checkStreamingPeriod('period', period);
    this.period = period;
    this.warmupPeriod = period;
    this.alpha = 2 / (period + 1);
  }

  get isStable(): boolean {
    return this.count === this.period;
  }

  /** The average, or null while warming up. */
  get result(): number | null {
    return this.count === this.period ? this.values[0] : null;
  }

  step(bar: Float64Array): void {
    const close = bar[BAR_CLOSE];
    // The recursion runs on its own field and is published to `values`: readers share `values`, and a write there
    // (a strategy's bug) must not become the indicator's state.
    if (this.count === this.period) {
      const ema = (close - this.ema) * this.alpha + this.ema;
      this.ema = ema;
      this.values[0] = ema;
      return;
    }
    this.seedSum += close;
    if (++this.count === this.period) {
      this.ema = this.seedSum / this.period;
      this.values[0] = this.ema;
    }
  }

  /** Layout: [count, seedSum, value]. */
  readonly stateSize = 3;

  saveState(out: Float64Array, offset: number): void {
    out[offset] = this.count;
    out[offset + 1] = this.seedSum;
    out[offset + 2] = this.ema;
  }

  loadState(state: Float64Array, offset: number): void {
    this.count = stateCount(this.type, state, offset, this.period);
    this.seedSum = state[offset + 1];
    this.ema = state[offset + 2];
    this.values[0] = this.count === this.period ? this.ema : NaN;
  }

  reset(): void {
    this.count = 0;
    this.seedSum = 0;
    this.ema = NaN;
    this.values[0] = NaN;
  }
}

/**
 * EMA over a whole series: output aligned with `close`, NaN before index `period - 1`. Reuses `out` when given.
 * Throws RangeError for a bad period, a period longer than the input, or a non-finite value (naming its index).
 */
export function emaBatch(close: Float64Array, period: number, out?: Float64Array): Float64Array {
  checkPeriod('period', period);
  const n = close.length;
  const result = outputArray('out', out, n, [close]);
  if (n === 0) return result;
  checkFitsInput('period', period, n);
  checkFinite('close', close);

  const alpha = 2 / (period + 1);
  let sum = 0;
  for (let i = 0; i < period - 1; i++) {
    sum += close[i];
    result[i] = NaN;
  }
  sum += close[period - 1];
  let ema = sum / period;
  result[period - 1] = ema;
  for (let i = period; i < n; i++) {
    ema = (close[i] - ema) * alpha + ema;
    result[i] = ema;
  }
  return result;
}
