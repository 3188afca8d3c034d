import { checkFitsInput, checkPeriod, checkSameLength, outputArray, jsValueChecks, type ValueChecks } from './batch-checks.ts';
import { BAR_CLOSE, BAR_HIGH, BAR_LOW, BAR_VOLUME, checkStreamingPeriod, SteppedIndicator, stateCount, VALUE_OUTPUT, type StreamingIndicator } from './indicator.ts';
import { loadWindow, nextPow2, resyncInterval, saveWindow, windowSum } from './rolling-sum.ts';

/** Typical price (high + low + close) / 3, in TA-Lib TYPPRICE's operation order. */
export function typicalPrice(high: number, low: number, close: number): number {
  return (high + low + close) / 3;
}

/**
 * Rolling volume-weighted average price over the last `period` bars: sum(tp * volume) / sum(volume) with
 * tp = (high + low + close) / 3.
 *
 * Warm-up and alignment: `warmupPeriod = period`; the first output is at index `period - 1`.
 * Example, period 2, bars (tp, volume) (10, 100) (11, 300) (13, 0): NaN, 10.75, 11.
 *
 * Zero volume: a window whose bars all have volume 0 has no volume weighting; it returns the plain mean of the
 * typical prices (the limit of equal weights). This is decided by an exact integer count of non-zero-volume bars,
 * not by comparing a rounded sum with 0, and the volume sums are reset to exactly 0 when that count reaches 0.
 *
 * Numerics: the three window sums (tp * volume, volume, tp) follow the drift-free rolling-sum schedule of
 * RollingSum (exact re-summation every max(1024, period) bars); a volume sum that rounding leaves <= 0 while a
 * bar in the window still has volume (a huge volume bar just left) triggers an immediate re-summation.
 *
 * Guarantees: O(1) amortised per update, no allocation; `vwapBatch` gives bit-identical values. Inputs must be
 * finite with low <= high and volume >= 0 (see StreamingIndicator).
 */
export class Vwap extends SteppedIndicator implements StreamingIndicator {
  readonly type = 'vwap' as const;
  readonly outputNames = VALUE_OUTPUT;
  readonly warmupPeriod: number;
  /** Its window's exact re-summation period: a warm start replays an aligned tail (see StreamingIndicator). */
  readonly replayAlignment: number;
  readonly period: number;
  private readonly pvRing: Float64Array;
  private readonly volRing: Float64Array;
  private readonly tpRing: Float64Array;
  private readonly mask: number;
  private readonly resyncEvery: number;
  private head = 0;
  private count = 0;
  private untilResync = 0;
  private sumPv = 0;
  private sumVol = 0;
  private sumTp = 0;
  /** Bars in the window with volume != 0. */
  private traded = 0;

  constructor(period: number) {
    super(1);
    checkStreamingPeriod('period', period);
    this.period = period;
    this.warmupPeriod = period;
    this.replayAlignment = resyncInterval(period);
    const capacity = nextPow2(period);
    this.pvRing = new Float64Array(capacity);
    this.volRing = new Float64Array(capacity);
    this.tpRing = new Float64Array(capacity);
    this.mask = capacity - 1;
    this.resyncEvery = resyncInterval(period);
  }

  get isStable(): boolean {
    return this.count === this.period;
  }

  /** The VWAP in price units, or null while warming up. */
  get result(): number | null {
    return this.count === this.period ? this.values[0] : null;
  }

  step(bar: Float64Array): void {
    const close = bar[BAR_CLOSE];
    const high = bar[BAR_HIGH];
    const low = bar[BAR_LOW];
    const volume = bar[BAR_VOLUME];
    const p = this.period;
    const head = this.head;
    const mask = this.mask;
    const tp = (high + low + close) / 3; // typicalPrice written out: no double crosses a call (indicator.ts)
    const pv = tp * volume;
    if (volume !== 0) this.traded++;
    if (this.count < p) {
      const slot = head & mask;
      this.pvRing[slot] = pv;
      this.volRing[slot] = volume;
      this.tpRing[slot] = tp;
      this.head = (head + 1) | 0;
      this.sumPv += pv;
      this.sumVol += volume;
      this.sumTp += tp;
      if (++this.count === p) {
        this.untilResync = this.resyncEvery;
        this.publish();
      }
      return;
    }
    // Read the leaving bar before writing: with period == capacity both use the same slot.
    const oldSlot = (head - p) & mask;
    const oldPv = this.pvRing[oldSlot];
    const oldVol = this.volRing[oldSlot];
    const oldTp = this.tpRing[oldSlot];
    const slot = head & mask;
    this.pvRing[slot] = pv;
    this.volRing[slot] = volume;
    this.tpRing[slot] = tp;
    this.head = (head + 1) | 0;
    if (oldVol !== 0) this.traded--;
    this.sumPv += pv - oldPv;
    this.sumVol += volume - oldVol;
    this.sumTp += tp - oldTp;
    // Re-sum on schedule, or at once when rounding left no volume although a bar in the window traded.
    if (--this.untilResync === 0 || (this.traded !== 0 && this.sumVol <= 0)) {
      if (this.untilResync === 0) this.untilResync = this.resyncEvery;
      this.resync();
    } else if (this.traded === 0) {
      // Every volume in the window is exactly 0, so are the true sums.
      this.sumPv = 0;
      this.sumVol = 0;
    }
    this.publish();
  }

  /** Recomputes the three sums from the rings, oldest first (same order as the batch re-summation). */
  private resync(): void {
    const mask = this.mask;
    const head = this.head;
    let pv = 0;
    let vol = 0;
    let tp = 0;
    for (let k = this.period; k > 0; k--) {
      const slot = (head - k) & mask;
      pv += this.pvRing[slot];
      vol += this.volRing[slot];
      tp += this.tpRing[slot];
    }
    this.sumPv = pv;
    this.sumVol = vol;
    this.sumTp = tp;
  }

  private publish(): void {
    this.values[0] = this.traded === 0 ? this.sumTp / this.period : this.sumPv / this.sumVol;
  }

  /**
   * Layout: [count, untilResync, sumPv, sumVol, sumTp, traded, value, then the window oldest first: tp * volume
   * (period slots), volume (period slots), typical price (period slots)].
   */
  get stateSize(): number {
    return 7 + 3 * this.period;
  }

  saveState(out: Float64Array, offset: number): void {
    const p = this.period;
    out[offset] = this.count;
    out[offset + 1] = this.untilResync;
    out[offset + 2] = this.sumPv;
    out[offset + 3] = this.sumVol;
    out[offset + 4] = this.sumTp;
    out[offset + 5] = this.traded;
    out[offset + 6] = this.values[0];
    saveWindow(this.pvRing, this.mask, this.head, this.count, p, out, offset + 7);
    saveWindow(this.volRing, this.mask, this.head, this.count, p, out, offset + 7 + p);
    saveWindow(this.tpRing, this.mask, this.head, this.count, p, out, offset + 7 + 2 * p);
  }

  loadState(state: Float64Array, offset: number): void {
    const p = this.period;
    const count = stateCount(this.type, state, offset, p);
    this.count = count;
    this.untilResync = state[offset + 1];
    this.sumPv = state[offset + 2];
    this.sumVol = state[offset + 3];
    this.sumTp = state[offset + 4];
    this.traded = state[offset + 5];
    this.values[0] = state[offset + 6];
    loadWindow(state, offset + 7, count, this.pvRing);
    loadWindow(state, offset + 7 + p, count, this.volRing);
    loadWindow(state, offset + 7 + 2 * p, count, this.tpRing);
    this.head = count;
  }

  reset(): void {
    this.head = 0;
    this.count = 0;
    this.untilResync = 0;
    this.sumPv = 0;
    this.sumVol = 0;
    this.sumTp = 0;
    this.traded = 0;
    this.values[0] = NaN;
  }
}

/** Sum of tp * volume over bars [from, to), in index order: the batch re-summation. */
function windowPv(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  volume: Float64Array,
  from: number,
  to: number,
): number {
  let s = 0;
  for (let k = from; k < to; k++) s += typicalPrice(high[k], low[k], close[k]) * volume[k];
  return s;
}

/** Sum of typical prices over bars [from, to), in index order: the batch re-summation. */
function windowTp(high: Float64Array, low: Float64Array, close: Float64Array, from: number, to: number): number {
  let s = 0;
  for (let k = from; k < to; k++) s += typicalPrice(high[k], low[k], close[k]);
  return s;
}

/**
 * Rolling VWAP over whole series: output aligned with the inputs, NaN before index `period - 1`. Reuses `out`
 * when given. Throws RangeError for a bad period, a period longer than the input, arrays of different lengths,
 * a non-finite value, high < low or a negative volume (naming the index).
 */
export function vwapBatch(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  volume: Float64Array,
  period: number,
  out?: Float64Array,
): Float64Array {
  const result = prepareVwapBatch(high, low, close, volume, period, out);
  const n = close.length;
  if (n === 0) return result;

  let sumPv = 0;
  let sumVol = 0;
  let sumTp = 0;
  let traded = 0;
  for (let i = 0; i < period; i++) {
    const tp = typicalPrice(high[i], low[i], close[i]);
    const v = volume[i];
    if (v !== 0) traded++;
    sumPv += tp * v;
    sumVol += v;
    sumTp += tp;
    result[i] = NaN;
  }
  result[period - 1] = traded === 0 ? sumTp / period : sumPv / sumVol;
  // The streaming schedule in blocks: the inner loop slides the sums up to each re-summation index, which takes
  // exact sums instead (the streaming class slides there too, then replaces them).
  const every = resyncInterval(period);
  let i = period;
  for (let resyncAt = period - 1 + every; i < n; resyncAt += every) {
    const stop = resyncAt < n ? resyncAt : n;
    for (; i < stop; i++) {
      const j = i - period;
      const tp = typicalPrice(high[i], low[i], close[i]);
      const v = volume[i];
      const oldTp = typicalPrice(high[j], low[j], close[j]);
      const oldVol = volume[j];
      if (v !== 0) traded++;
      if (oldVol !== 0) traded--;
      sumPv += tp * v - oldTp * oldVol;
      sumVol += v - oldVol;
      sumTp += tp - oldTp;
      if (traded === 0) {
        // Every volume in the window is exactly 0, so are the true sums.
        sumPv = 0;
        sumVol = 0;
      } else if (sumVol <= 0) {
        // Rounding left no volume although a bar traded (a huge volume just left): re-sum at once.
        sumPv = windowPv(high, low, close, volume, j + 1, i + 1);
        sumVol = windowSum(volume, j + 1, i + 1);
        sumTp = windowTp(high, low, close, j + 1, i + 1);
      }
      result[i] = traded === 0 ? sumTp / period : sumPv / sumVol;
    }
    if (resyncAt < n) {
      if (volume[i] !== 0) traded++;
      if (volume[i - period] !== 0) traded--;
      sumPv = windowPv(high, low, close, volume, i - period + 1, i + 1);
      sumVol = windowSum(volume, i - period + 1, i + 1);
      sumTp = windowTp(high, low, close, i - period + 1, i + 1);
      result[i] = traded === 0 ? sumTp / period : sumPv / sumVol;
      i++;
    }
  }
  return result;
}

/**
 * Every argument check of `vwapBatch`, in its order and with its messages, and its output arrays (the caller's
 * `out` reused, or new ones): shared by every batch backend so they refuse exactly the same inputs. Throws
 * before anything is written; the outputs are returned as they are (not yet filled).
 */
export function prepareVwapBatch(high: Float64Array, low: Float64Array, close: Float64Array, volume: Float64Array, period: number, out?: Float64Array, values: ValueChecks = jsValueChecks): Float64Array {
  checkPeriod('period', period);
  const n = close.length;
  checkSameLength(n, { high, low, volume });
  const result = outputArray('out', out, n, [high, low, close, volume]);
  if (n === 0) return result;
  checkFitsInput('period', period, n);
  values.finite('high', high);
  values.finite('low', low);
  values.finite('close', close);
  values.finite('volume', volume);
  values.highLow(high, low);
  values.nonNegative('volume', volume);
  return result;
}
