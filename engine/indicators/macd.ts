import { checkFitsInput, checkPeriod, outputArray, jsValueChecks, type ValueChecks } from './batch-checks.ts';
import { BAR_CLOSE, checkStreamingPeriod, SteppedIndicator, stateCount, type StreamingIndicator } from './indicator.ts';

/** MACD outputs. The streaming `result` is one preallocated object, refilled from `values` when read. */
export interface MacdResult {
  macd: number;
  signal: number;
  histogram: number;
}

/** Arrays for `macdBatch`, each aligned with the input. */
export interface MacdBatchOutput {
  macd: Float64Array;
  signal: Float64Array;
  histogram: Float64Array;
}

const MACD_OUTPUTS: readonly string[] = Object.freeze(['macd', 'signal', 'histogram']);

/** Throws RangeError unless fast < slow (shared with the non-JS batch backends). */
export function checkMacdPeriods(fast: number, slow: number): void {
  if (fast >= slow) throw new RangeError(`fastPeriod (${fast}) must be less than slowPeriod (${slow})`);
}

/**
 * Moving average convergence/divergence (TA-Lib MACD): macd = EMA(fast) - EMA(slow), signal = EMA(signal) of
 * macd, histogram = macd - signal.
 *
 * Warm-up and alignment: all three outputs start at the same index, `slow - 1 + signal - 1` (33 for 12/26/9);
 * `warmupPeriod = slow + signal - 1`. Like TA-Lib, both EMAs start at index `slow - 1`: the slow EMA is seeded
 * with the SMA of closes [0, slow), the fast EMA with the SMA of closes [slow - fast, slow) (NOT of the first
 * `fast` closes, so early values differ from a standalone `Ema(fast)`; the difference decays by
 * (1 - 2/(fast+1)) per bar). The signal EMA is seeded with the SMA of the first `signal` macd values.
 * Example, MACD(2, 3, 2) of 1, 2, 4, 7, 11: first output at index 3: macd 1, signal 5/6, histogram 1/6; then
 * macd 25/18, signal 65/54, histogram 5/27.
 *
 * Guarantees: O(1) per update, no allocation; `macdBatch` gives bit-identical values. Inputs must be finite.
 */
export class Macd extends SteppedIndicator implements StreamingIndicator {
  readonly type = 'macd' as const;
  readonly outputNames = MACD_OUTPUTS;
  readonly warmupPeriod: number;
  /** A recursion over every value fed: a warm start replays the whole history (see StreamingIndicator). */
  readonly replayAlignment = 0;
  readonly fastPeriod: number;
  readonly slowPeriod: number;
  readonly signalPeriod: number;
  private readonly fastAlpha: number;
  private readonly slowAlpha: number;
  private readonly signalAlpha: number;
  /** What `result` hands out, filled from `values` when read. */
  private readonly out: MacdResult = { macd: NaN, signal: NaN, histogram: NaN };
  /** Updates seen, saturating at warmupPeriod. */
  private count = 0;
  private fastSum = 0;
  private slowSum = 0;
  private signalSum = 0;
  private fastEma = 0;
  private slowEma = 0;
  private signalEma = 0;

  constructor(fastPeriod: number, slowPeriod: number, signalPeriod: number) {
    super(3);
    checkStreamingPeriod('fastPeriod', fastPeriod);
    checkStreamingPeriod('slowPeriod', slowPeriod);
    checkStreamingPeriod('signalPeriod', signalPeriod);
    checkMacdPeriods(fastPeriod, slowPeriod);
    this.fastPeriod = fastPeriod;
    this.slowPeriod = slowPeriod;
    this.signalPeriod = signalPeriod;
    this.warmupPeriod = slowPeriod + signalPeriod - 1;
    this.fastAlpha = 2 / (fastPeriod + 1);
    this.slowAlpha = 2 / (slowPeriod + 1);
    this.signalAlpha = 2 / (signalPeriod + 1);
  }

  get isStable(): boolean {
    return this.count === this.warmupPeriod;
  }

  /** The preallocated `{ macd, signal, histogram }`, refilled from `values` on each read; null while warming up. */
  get result(): Readonly<MacdResult> | null {
    if (this.count !== this.warmupPeriod) return null;
    const out = this.out;
    out.macd = this.values[0];
    out.signal = this.values[1];
    out.histogram = this.values[2];
    return out;
  }

  step(bar: Float64Array): void {
    const close = bar[BAR_CLOSE];
    const values = this.values;
    const c = this.count;
    const slow = this.slowPeriod;
    if (c >= slow) {
      this.fastEma = (close - this.fastEma) * this.fastAlpha + this.fastEma;
      this.slowEma = (close - this.slowEma) * this.slowAlpha + this.slowEma;
    } else {
      this.slowSum += close;
      if (c >= slow - this.fastPeriod) this.fastSum += close;
      if (c < slow - 1) {
        this.count = c + 1;
        return;
      }
      this.fastEma = this.fastSum / this.fastPeriod;
      this.slowEma = this.slowSum / slow;
    }
    const macd = this.fastEma - this.slowEma;
    const warm = this.warmupPeriod;
    if (c >= warm) {
      // Steady state (count saturated at warmupPeriod; c stays there).
      const signal = (macd - this.signalEma) * this.signalAlpha + this.signalEma;
      this.signalEma = signal;
      values[0] = macd;
      values[1] = signal;
      values[2] = macd - signal;
      return;
    }
    this.count = c + 1;
    this.signalSum += macd;
    if (c + 1 === warm) {
      this.signalEma = this.signalSum / this.signalPeriod;
      values[0] = macd;
      values[1] = this.signalEma;
      values[2] = macd - this.signalEma;
    }
  }

  /** Layout: [count, fastSum, slowSum, signalSum, fastEma, slowEma, signalEma, macd, signal, histogram]. */
  readonly stateSize = 10;

  saveState(out: Float64Array, offset: number): void {
    out[offset] = this.count;
    out[offset + 1] = this.fastSum;
    out[offset + 2] = this.slowSum;
    out[offset + 3] = this.signalSum;
    out[offset + 4] = this.fastEma;
    out[offset + 5] = this.slowEma;
    out[offset + 6] = this.signalEma;
    out[offset + 7] = this.values[0];
    out[offset + 8] = this.values[1];
    out[offset + 9] = this.values[2];
  }

  loadState(state: Float64Array, offset: number): void {
    this.count = stateCount(this.type, state, offset, this.warmupPeriod);
    this.fastSum = state[offset + 1];
    this.slowSum = state[offset + 2];
    this.signalSum = state[offset + 3];
    this.fastEma = state[offset + 4];
    this.slowEma = state[offset + 5];
    this.signalEma = state[offset + 6];
    this.values[0] = state[offset + 7];
    this.values[1] = state[offset + 8];
    this.values[2] = state[offset + 9];
  }

  reset(): void {
    this.count = 0;
    this.fastSum = 0;
    this.slowSum = 0;
    this.signalSum = 0;
    this.fastEma = 0;
    this.slowEma = 0;
    this.signalEma = 0;
    this.values.fill(NaN);
  }
}

/**
 * MACD over a whole series: three arrays aligned with `close`, all NaN before index `slow + signal - 2`. Reuses
 * `out` when given. Throws RangeError for bad periods (each an integer >= 1, fast < slow), a slow or signal
 * period longer than the input, or a non-finite value (naming its index).
 */
export function macdBatch(
  close: Float64Array,
  fastPeriod: number,
  slowPeriod: number,
  signalPeriod: number,
  out?: MacdBatchOutput,
): MacdBatchOutput {
  const result = prepareMacdBatch(close, fastPeriod, slowPeriod, signalPeriod, out);
  const { macd: macdOut, signal: signalOut, histogram: histOut } = result;
  const n = close.length;
  if (n === 0) return result;

  const first = slowPeriod + signalPeriod - 2;
  const warmEnd = first < n ? first : n;
  for (let i = 0; i < warmEnd; i++) {
    macdOut[i] = NaN;
    signalOut[i] = NaN;
    histOut[i] = NaN;
  }
  if (first >= n) return result;

  let slowSum = 0;
  let fastSum = 0;
  const fastStart = slowPeriod - fastPeriod;
  for (let i = 0; i < slowPeriod; i++) {
    slowSum += close[i];
    if (i >= fastStart) fastSum += close[i];
  }
  const fastAlpha = 2 / (fastPeriod + 1);
  const slowAlpha = 2 / (slowPeriod + 1);
  const signalAlpha = 2 / (signalPeriod + 1);
  let fastEma = fastSum / fastPeriod;
  let slowEma = slowSum / slowPeriod;
  let signalSum = fastEma - slowEma;
  for (let i = slowPeriod; i <= first; i++) {
    fastEma = (close[i] - fastEma) * fastAlpha + fastEma;
    slowEma = (close[i] - slowEma) * slowAlpha + slowEma;
    signalSum += fastEma - slowEma;
  }
  let signal = signalSum / signalPeriod;
  let macd = fastEma - slowEma;
  macdOut[first] = macd;
  signalOut[first] = signal;
  histOut[first] = macd - signal;
  for (let i = first + 1; i < n; i++) {
    const x = close[i];
    fastEma = (x - fastEma) * fastAlpha + fastEma;
    slowEma = (x - slowEma) * slowAlpha + slowEma;
    macd = fastEma - slowEma;
    signal = (macd - signal) * signalAlpha + signal;
    macdOut[i] = macd;
    signalOut[i] = signal;
    histOut[i] = macd - signal;
  }
  return result;
}

/**
 * Every argument check of `macdBatch`, in its order and with its messages, and its output arrays (the caller's
 * `out` reused, or new ones): shared by every batch backend so they refuse exactly the same inputs. Throws
 * before anything is written; the outputs are returned as they are (not yet filled).
 */
export function prepareMacdBatch(close: Float64Array, fastPeriod: number, slowPeriod: number, signalPeriod: number, out?: MacdBatchOutput, values: ValueChecks = jsValueChecks): MacdBatchOutput {
  checkPeriod('fastPeriod', fastPeriod);
  checkPeriod('slowPeriod', slowPeriod);
  checkPeriod('signalPeriod', signalPeriod);
  checkMacdPeriods(fastPeriod, slowPeriod);
  const n = close.length;
  const macdOut = outputArray('out.macd', out?.macd, n, [close]);
  const signalOut = outputArray('out.signal', out?.signal, n, [close, macdOut]);
  const histOut = outputArray('out.histogram', out?.histogram, n, [close, macdOut, signalOut]);
  const result = out ?? { macd: macdOut, signal: signalOut, histogram: histOut };
  if (n === 0) return result;
  checkFitsInput('slowPeriod', slowPeriod, n);
  checkFitsInput('signalPeriod', signalPeriod, n);
  values.finite('close', close);
  return result;
}
