import { Atr } from './atr.ts';
import { BollingerBands } from './bbands.ts';
import { Ema } from './ema.ts';
import { alignedStart, leastCommonMultiple, type StreamingIndicator } from './indicator.ts';
import { Macd } from './macd.ts';
import { nextPow2, resyncInterval, ringWindowSum, saveWindow, windowSum } from './rolling-sum.ts';
import { FLAT_RSI, Rsi } from './rsi.ts';
import { Sma } from './sma.ts';
import { FLAT_STOCH, Stochastic } from './stoch.ts';
import { typicalPrice, Vwap } from './vwap.ts';

/**
 * Warm-state kernels: the state a streaming indicator would be in after a history, computed straight from the
 * history's columns, bit for bit what `update` would have left (the same operations in the same order), in the
 * `saveState` layout of its class. This is how a warm start seeds an engine from history without feeding it tick
 * by tick (docs/warm-start.md).
 *
 * Each kernel is its class's `update` written as a loop over local variables, several times faster than `update`
 * on object fields (measured in bench/inpod.ts). The recursions (EMA, RSI, MACD, ATR) depend on every value, so
 * their kernels run the whole history; the windowed indicators (SMA, Bollinger, VWAP, stochastic) only the aligned
 * tail `replayStart` names (StreamingIndicator.replayAlignment): less than one alignment plus the warm-up,
 * whatever the history's length (about 1,000 to 2,000 values for periods up to 1,024; a stochastic whose two
 * SMAs re-sum on different periods has their least common multiple, which can be the whole history), and they
 * read each leaving value back from the history instead of a ring. warm-state.test.ts holds every kernel to its class: the same state, bit for bit.
 *
 * History columns are a bar's `high`, `low`, `close` and `volume`; for trades all three prices are the trade price
 * (pass the same array) and the volume is its size.
 */
export interface HistoryColumns {
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  readonly volume: Float64Array;
}

/**
 * Where warm states are computed: the JS kernels of this file (`jsWarmStates`), or their WebAssembly ports
 * (engine/batch/wasm-warm-states.ts), which write the same bits. A warm start takes one (warm-start.ts).
 */
export interface WarmStateKernels {
  readonly name: 'js' | 'wasm';
  /**
   * Writes into `out` (from element 0, `indicator.stateSize` values) the state `indicator`'s `update` leaves after
   * bars `[from, to)` of `columns`; false when there is no kernel for the indicator's class (nothing written).
   */
  stateAfter(indicator: StreamingIndicator, columns: HistoryColumns, from: number, to: number, out: Float64Array): boolean;
}

/** The warm-state kernels a warm start runs on, and why those (engine/batch/warm-state-kernels.ts picks them). */
export interface WarmStateKernelChoice {
  readonly kernels: WarmStateKernels;
  readonly reason: string;
}

/** The JS kernels of this file. */
export const jsWarmStates: WarmStateKernels = {
  name: 'js',
  stateAfter(indicator, columns, from, to, state) {
    const { high, low, close, volume } = columns;
    if (indicator instanceof Ema) emaWarmState(close, from, to, indicator.period, state, 0);
    else if (indicator instanceof Rsi) rsiWarmState(close, from, to, indicator.period, state, 0);
    else if (indicator instanceof Macd) macdWarmState(close, from, to, indicator.fastPeriod, indicator.slowPeriod, indicator.signalPeriod, state, 0);
    else if (indicator instanceof Atr) atrWarmState(high, low, close, from, to, indicator.period, state, 0);
    else if (indicator instanceof Sma) smaWarmState(close, from, to, indicator.period, state, 0);
    else if (indicator instanceof BollingerBands) bbandsWarmState(close, from, to, indicator.period, indicator.stdDev, state, 0);
    else if (indicator instanceof Vwap) vwapWarmState(high, low, close, volume, from, to, indicator.period, state, 0);
    else if (indicator instanceof Stochastic) {
      stochWarmState(high, low, close, from, to, indicator.fastKPeriod, indicator.slowKPeriod, indicator.slowDPeriod, state, 0);
    } else return false;
    return true;
  },
};

/**
 * Brings `indicator`, freshly constructed or reset, to the state `update` leaves after bars `[from, to)` of
 * `columns`: `kernels` write the state, `loadState` takes it. An indicator without a kernel takes the bars through
 * its own `update` (correct, only slower).
 */
export function warmIndicator(
  indicator: StreamingIndicator, columns: HistoryColumns, from: number, to: number, kernels: WarmStateKernels = jsWarmStates,
): void {
  const state = workspaceFor(indicator.stateSize);
  if (kernels.stateAfter(indicator, columns, from, to, state)) {
    indicator.loadState(state, 0);
    return;
  }
  const { high, low, close, volume } = columns;
  for (let t = from; t < to; t++) indicator.update(close[t], high[t], low[t], volume[t]);
}

// Kernel workspace, grown on demand and reused: a warm start allocates nothing per symbol once it has seen its
// largest state. Kernels are synchronous, so one module-level workspace is never shared by two calls at once.
let workspace = new Float64Array(256);
let dequeBars = new Int32Array(64);
let dequeValues = new Float64Array(64);
let ringK = new Float64Array(16);
let ringD = new Float64Array(16);

function workspaceFor(size: number): Float64Array {
  if (workspace.length < size) workspace = new Float64Array(nextPow2(size));
  return workspace;
}

/** Ema's state ([count, seedSum, value]) after `close[from, to)`. */
export function emaWarmState(close: Float64Array, from: number, to: number, period: number, out: Float64Array, offset: number): void {
  const alpha = 2 / (period + 1);
  let count = 0;
  let seedSum = 0;
  let value = NaN;
  let t = from;
  for (; t < to && count < period; t++) {
    seedSum += close[t];
    if (++count === period) value = seedSum / period;
  }
  for (; t < to; t++) value = (close[t] - value) * alpha + value;
  out[offset] = count;
  out[offset + 1] = seedSum;
  out[offset + 2] = value;
}

/** Rsi's state ([count, prevClose, avgGain, avgLoss, value]) after `close[from, to)`. */
export function rsiWarmState(close: Float64Array, from: number, to: number, period: number, out: Float64Array, offset: number): void {
  const inverse = 1 / period;
  const pm1 = period - 1;
  let count = 0;
  let prevClose = 0;
  let gain = 0;
  let loss = 0;
  let value = NaN;
  let t = from;
  for (; t < to && count <= period; t++) {
    const change = close[t] - prevClose;
    prevClose = close[t];
    const c = count++;
    if (c === 0) continue;
    if (change < 0) loss -= change;
    else gain += change;
    if (c === period) {
      gain /= period;
      loss /= period;
      const total = gain + loss;
      value = total === 0 ? FLAT_RSI : 100 * (gain / total);
    }
  }
  const steady = t < to;
  for (; t < to; t++) {
    const change = close[t] - prevClose;
    prevClose = close[t];
    // Rsi.update's branch as two selects: adding 0 to the other side leaves it bit for bit as the branch does
    // (averages are never -0), and a random walk's up/down branch mispredicts half the time.
    gain = (gain * pm1 + (change > 0 ? change : 0)) * inverse;
    loss = (loss * pm1 - (change < 0 ? change : 0)) * inverse;
  }
  if (steady) {
    // Only the last value is state: the division runs once, not per bar.
    const total = gain + loss;
    value = total === 0 ? FLAT_RSI : 100 * (gain / total);
  }
  out[offset] = count;
  out[offset + 1] = prevClose;
  out[offset + 2] = gain;
  out[offset + 3] = loss;
  out[offset + 4] = value;
}

/** Atr's state ([count, prevClose, atr, value]) after bars `[from, to)`. */
export function atrWarmState(
  high: Float64Array, low: Float64Array, close: Float64Array, from: number, to: number, period: number,
  out: Float64Array, offset: number,
): void {
  const inverse = 1 / period;
  const pm1 = period - 1;
  let count = 0;
  let prevClose = 0;
  let atr = 0;
  let value = NaN;
  for (let t = from; t < to; t++) {
    const h = high[t];
    const l = low[t];
    let tr = h - l;
    const up = Math.abs(h - prevClose);
    if (up > tr) tr = up;
    const down = Math.abs(l - prevClose);
    if (down > tr) tr = down;
    prevClose = close[t];
    if (count > period) {
      atr = (atr * pm1 + tr) * inverse;
      value = atr;
      continue;
    }
    const c = count++;
    if (c === 0) continue;
    atr += tr;
    if (c === period) {
      atr /= period;
      value = atr;
    }
  }
  out[offset] = count;
  out[offset + 1] = prevClose;
  out[offset + 2] = atr;
  out[offset + 3] = value;
}

/**
 * Macd's state ([count, fastSum, slowSum, signalSum, fastEma, slowEma, signalEma, macd, signal, histogram]) after
 * `close[from, to)`.
 */
export function macdWarmState(
  close: Float64Array, from: number, to: number, fastPeriod: number, slowPeriod: number, signalPeriod: number,
  out: Float64Array, offset: number,
): void {
  const fastAlpha = 2 / (fastPeriod + 1);
  const slowAlpha = 2 / (slowPeriod + 1);
  const signalAlpha = 2 / (signalPeriod + 1);
  const warm = slowPeriod + signalPeriod - 1;
  let count = 0;
  let fastSum = 0;
  let slowSum = 0;
  let signalSum = 0;
  let fastEma = 0;
  let slowEma = 0;
  let signalEma = 0;
  let macdOut = NaN;
  let signalOut = NaN;
  let t = from;
  // Warm-up: the seeds, as Macd.update takes them.
  for (; t < to && count < warm; t++) {
    const x = close[t];
    const c = count;
    if (c >= slowPeriod) {
      fastEma = (x - fastEma) * fastAlpha + fastEma;
      slowEma = (x - slowEma) * slowAlpha + slowEma;
    } else {
      slowSum += x;
      if (c >= slowPeriod - fastPeriod) fastSum += x;
      if (c < slowPeriod - 1) {
        count = c + 1;
        continue;
      }
      fastEma = fastSum / fastPeriod;
      slowEma = slowSum / slowPeriod;
    }
    const macd = fastEma - slowEma;
    count = c + 1;
    signalSum += macd;
    if (count === warm) {
      signalEma = signalSum / signalPeriod;
      macdOut = macd;
      signalOut = signalEma;
    }
  }
  // Steady state: three EMAs.
  for (; t < to; t++) {
    const x = close[t];
    fastEma = (x - fastEma) * fastAlpha + fastEma;
    slowEma = (x - slowEma) * slowAlpha + slowEma;
    const macd = fastEma - slowEma;
    signalEma = (macd - signalEma) * signalAlpha + signalEma;
    macdOut = macd;
    signalOut = signalEma;
  }
  out[offset] = count;
  out[offset + 1] = fastSum;
  out[offset + 2] = slowSum;
  out[offset + 3] = signalSum;
  out[offset + 4] = fastEma;
  out[offset + 5] = slowEma;
  out[offset + 6] = signalEma;
  out[offset + 7] = macdOut;
  out[offset + 8] = signalOut;
  out[offset + 9] = macdOut - signalOut;
}

/** Sma's state (its RollingSum's: [count, sum, untilResync, window]) after `close[from, to)`. */
export function smaWarmState(close: Float64Array, from: number, to: number, period: number, out: Float64Array, offset: number): void {
  const every = resyncInterval(period);
  const start = from + alignedStart(to - from, every, period);
  let count = 0;
  let sum = 0;
  let untilResync = 0;
  let t = start;
  for (; t < to && count < period; t++) {
    sum += close[t];
    if (++count === period) untilResync = every;
  }
  for (; t < to; t++) {
    sum += close[t] - close[t - period];
    if (--untilResync === 0) {
      untilResync = every;
      sum = windowSum(close, t + 1 - period, t + 1);
    }
  }
  out[offset] = count;
  out[offset + 1] = sum;
  out[offset + 2] = untilResync;
  copyWindow(close, to - count, count, period, out, offset + 3);
}

/** BollingerBands' state ([count, untilResync, sum, m2, last, run, upper, middle, lower, window]) after `close[from, to)`. */
export function bbandsWarmState(
  close: Float64Array, from: number, to: number, period: number, stdDev: number, out: Float64Array, offset: number,
): void {
  const every = resyncInterval(period);
  const start = from + alignedStart(to - from, every, period);
  let count = 0;
  let untilResync = 0;
  let sum = 0;
  let m2 = 0;
  let last = NaN;
  let run = 0;
  for (let t = start; t < to; t++) {
    const x = close[t];
    if (x === last) {
      if (run < period) run++;
    } else {
      run = 1;
      last = x;
    }
    if (count < period) {
      sum += x;
      if (++count === period) {
        untilResync = every;
        sum = windowSum(close, t + 1 - period, t + 1);
        m2 = squaredDeviations(close, t + 1 - period, t + 1, sum / period);
      }
      continue;
    }
    const old = close[t - period];
    const d = x - old;
    const oldMean = sum / period;
    sum += d;
    m2 += d * ((x - sum / period) + (old - oldMean));
    if (--untilResync === 0) {
      untilResync = every;
      sum = windowSum(close, t + 1 - period, t + 1);
      m2 = squaredDeviations(close, t + 1 - period, t + 1, sum / period);
    }
  }
  out[offset] = count;
  out[offset + 1] = untilResync;
  out[offset + 2] = sum;
  out[offset + 3] = m2;
  out[offset + 4] = last;
  out[offset + 5] = run;
  let upper = NaN;
  let middle = NaN;
  let lower = NaN;
  if (count === period) {
    // BollingerBands.publish.
    if (run === period) {
      upper = last;
      middle = last;
      lower = last;
    } else {
      const mean = sum / period;
      const band = m2 > 0 ? stdDev * Math.sqrt(m2 / period) : 0;
      upper = mean + band;
      middle = mean;
      lower = mean - band;
    }
  }
  out[offset + 6] = upper;
  out[offset + 7] = middle;
  out[offset + 8] = lower;
  copyWindow(close, to - count, count, period, out, offset + 9);
}

/** Sum of (x - mean)^2 over `values[from, to)`, oldest first: BollingerBands' two-pass re-summation. */
function squaredDeviations(values: Float64Array, from: number, to: number, mean: number): number {
  let m2 = 0;
  for (let k = from; k < to; k++) {
    const d = values[k] - mean;
    m2 += d * d;
  }
  return m2;
}

/**
 * Vwap's state ([count, untilResync, sumPv, sumVol, sumTp, traded, value, pv window, volume window, tp window])
 * after bars `[from, to)`.
 */
export function vwapWarmState(
  high: Float64Array, low: Float64Array, close: Float64Array, volume: Float64Array, from: number, to: number, period: number,
  out: Float64Array, offset: number,
): void {
  const every = resyncInterval(period);
  const start = from + alignedStart(to - from, every, period);
  let count = 0;
  let untilResync = 0;
  let sumPv = 0;
  let sumVol = 0;
  let sumTp = 0;
  let traded = 0;
  for (let t = start; t < to; t++) {
    const v = volume[t];
    const tp = typicalPrice(high[t], low[t], close[t]);
    const pv = tp * v;
    if (v !== 0) traded++;
    if (count < period) {
      sumPv += pv;
      sumVol += v;
      sumTp += tp;
      if (++count === period) untilResync = every;
      continue;
    }
    const o = t - period;
    const oldVol = volume[o];
    const oldTp = typicalPrice(high[o], low[o], close[o]);
    const oldPv = oldTp * oldVol;
    if (oldVol !== 0) traded--;
    sumPv += pv - oldPv;
    sumVol += v - oldVol;
    sumTp += tp - oldTp;
    if (--untilResync === 0 || (traded !== 0 && sumVol <= 0)) {
      if (untilResync === 0) untilResync = every;
      // Vwap.resync: the three window sums, oldest first.
      sumPv = 0;
      sumVol = 0;
      sumTp = 0;
      for (let k = t + 1 - period; k <= t; k++) {
        const kTp = typicalPrice(high[k], low[k], close[k]);
        sumPv += kTp * volume[k];
        sumVol += volume[k];
        sumTp += kTp;
      }
    } else if (traded === 0) {
      sumPv = 0;
      sumVol = 0;
    }
  }
  out[offset] = count;
  out[offset + 1] = untilResync;
  out[offset + 2] = sumPv;
  out[offset + 3] = sumVol;
  out[offset + 4] = sumTp;
  out[offset + 5] = traded;
  out[offset + 6] = count === period ? (traded === 0 ? sumTp / period : sumPv / sumVol) : NaN;
  const base = offset + 7;
  for (let k = 0; k < period; k++) {
    const t = to - count + k;
    const held = k < count;
    const tp = held ? typicalPrice(high[t], low[t], close[t]) : 0;
    out[base + k] = held ? tp * volume[t] : 0;
    out[base + period + k] = held ? volume[t] : 0;
    out[base + 2 * period + k] = tp;
  }
}

/**
 * Stochastic's state (see its saveState layout) after bars `[from, to)`: Stochastic.update over the aligned tail,
 * with the two deques and the two SMA rings in the kernel workspace.
 */
export function stochWarmState(
  high: Float64Array, low: Float64Array, close: Float64Array, from: number, to: number,
  fastKPeriod: number, slowKPeriod: number, slowDPeriod: number, out: Float64Array, offset: number,
): void {
  const everyK = resyncInterval(slowKPeriod);
  const everyD = resyncInterval(slowDPeriod);
  const start = from + stochTailStart(to - from, fastKPeriod, slowKPeriod, slowDPeriod);
  const capacity = nextPow2(fastKPeriod + 1);
  if (dequeBars.length < 2 * capacity) {
    dequeBars = new Int32Array(2 * capacity);
    dequeValues = new Float64Array(2 * capacity);
  }
  if (ringK.length < slowKPeriod) ringK = new Float64Array(nextPow2(slowKPeriod));
  if (ringD.length < slowDPeriod) ringD = new Float64Array(nextPow2(slowDPeriod));
  // Power-of-two rings as RollingSum keeps them: a mask per index instead of an integer division.
  const kMask = nextPow2(slowKPeriod) - 1;
  const dMask = nextPow2(slowDPeriod) - 1;
  const bars = dequeBars;
  const values = dequeValues;
  const kRing = ringK;
  const dRing = ringD;
  const mask = capacity - 1;
  const minBase = capacity; // the lowest-low deque's slots follow the highest-high deque's
  let maxHead = 0;
  let maxTail = 0;
  let minHead = 0;
  let minTail = 0;
  let seen = 0;
  let kCount = 0;
  let kSum = 0;
  let kUntil = 0;
  let kHead = 0;
  let dCount = 0;
  let dSum = 0;
  let dUntil = 0;
  let dHead = 0;
  let slowKOut = NaN;
  let slowDOut = NaN;
  for (let t = start; t < to; t++) {
    const now = t - start;
    const h = high[t];
    const l = low[t];
    while (maxHead !== maxTail && now - bars[maxHead & mask] >= fastKPeriod) maxHead++;
    while (maxHead !== maxTail && values[(maxTail - 1) & mask] <= h) maxTail--;
    bars[maxTail & mask] = now;
    values[maxTail & mask] = h;
    maxTail++;
    while (minHead !== minTail && now - bars[minBase + (minHead & mask)] >= fastKPeriod) minHead++;
    while (minHead !== minTail && values[minBase + ((minTail - 1) & mask)] >= l) minTail--;
    bars[minBase + (minTail & mask)] = now;
    values[minBase + (minTail & mask)] = l;
    minTail++;
    if (seen < fastKPeriod && ++seen < fastKPeriod) continue;
    const highest = values[maxHead & mask];
    const lowest = values[minBase + (minHead & mask)];
    const range = highest - lowest;
    const fastK = range === 0 ? FLAT_STOCH : 100 * ((close[t] - lowest) / range);
    // kWindow.push(fastK): RollingSum.push, its ring in ringK.
    if (kCount < slowKPeriod) {
      kRing[kHead & kMask] = fastK;
      kHead++;
      kSum += fastK;
      if (++kCount === slowKPeriod) kUntil = everyK;
      else continue;
    } else {
      kSum += fastK - kRing[(kHead - slowKPeriod) & kMask];
      kRing[kHead & kMask] = fastK;
      kHead++;
      if (--kUntil === 0) {
        kUntil = everyK;
        kSum = ringWindowSum(kRing, kMask, kHead, slowKPeriod);
      }
    }
    const slowK = kSum / slowKPeriod;
    // dWindow.push(slowK), its ring in ringD.
    if (dCount < slowDPeriod) {
      dRing[dHead & dMask] = slowK;
      dHead++;
      dSum += slowK;
      if (++dCount === slowDPeriod) dUntil = everyD;
      else continue;
    } else {
      dSum += slowK - dRing[(dHead - slowDPeriod) & dMask];
      dRing[dHead & dMask] = slowK;
      dHead++;
      if (--dUntil === 0) {
        dUntil = everyD;
        dSum = ringWindowSum(dRing, dMask, dHead, slowDPeriod);
      }
    }
    slowKOut = slowK;
    slowDOut = dSum / slowDPeriod;
  }
  const last = to - start - 1;
  const maxLength = maxTail - maxHead;
  const minLength = minTail - minHead;
  out[offset] = seen;
  out[offset + 1] = slowKOut;
  out[offset + 2] = slowDOut;
  out[offset + 3] = maxLength;
  out[offset + 4] = minLength;
  const maxOut = offset + 5;
  const minOut = maxOut + 2 * fastKPeriod;
  for (let k = 0; k < fastKPeriod; k++) {
    const maxSlot = (maxHead + k) & mask;
    const minSlot = minBase + ((minHead + k) & mask);
    out[maxOut + 2 * k] = k < maxLength ? last - bars[maxSlot] : 0;
    out[maxOut + 2 * k + 1] = k < maxLength ? values[maxSlot] : 0;
    out[minOut + 2 * k] = k < minLength ? last - bars[minSlot] : 0;
    out[minOut + 2 * k + 1] = k < minLength ? values[minSlot] : 0;
  }
  const kOut = minOut + 2 * fastKPeriod;
  writeRollingSum(kRing, kMask, kHead, kCount, kSum, kUntil, slowKPeriod, out, kOut);
  writeRollingSum(dRing, dMask, dHead, dCount, dSum, dUntil, slowDPeriod, out, kOut + 3 + slowKPeriod);
}

/** The first of `n` bars the stochastic's state depends on (its aligned tail: both SMAs' re-summations). */
export function stochTailStart(n: number, fastKPeriod: number, slowKPeriod: number, slowDPeriod: number): number {
  const alignment = leastCommonMultiple(resyncInterval(slowKPeriod), resyncInterval(slowDPeriod));
  return alignedStart(n, alignment, fastKPeriod + slowKPeriod + slowDPeriod - 2);
}

/** A RollingSum's state layout ([count, sum, untilResync, window oldest first]) from a kernel's ring. */
function writeRollingSum(
  ring: Float64Array, mask: number, head: number, count: number, sum: number, untilResync: number, period: number,
  out: Float64Array, offset: number,
): void {
  out[offset] = count;
  out[offset + 1] = sum;
  out[offset + 2] = untilResync;
  saveWindow(ring, mask, head, count, period, out, offset + 3);
}

/** `count` values of `values` from `at`, then zeros up to `slots`: a window in a state layout. */
function copyWindow(values: Float64Array, at: number, count: number, slots: number, out: Float64Array, offset: number): void {
  for (let k = 0; k < slots; k++) out[offset + k] = k < count ? values[at + k] : 0;
}
