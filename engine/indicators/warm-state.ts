import { Atr } from './atr.ts';
import { Ema } from './ema.ts';
import { FLAT_RSI, Rsi } from './rsi.ts';
import { replayStart, type StreamingIndicator } from './indicator.ts';
import { Macd } from './macd.ts';
import { BollingerBands } from './bbands.ts';
import { Sma } from './sma.ts';
import { Stochastic } from './stoch.ts';
import { Vwap } from './vwap.ts';

/**
 * Warm-state kernels: the state a streaming indicator would be in after a history, computed straight from the
 * history's columns, bit for bit what `update` would have left (the same operations in the same order), in the
 * `saveState` layout of its class. This is how a warm start seeds an engine from history without feeding it tick
 * by tick (docs/warm-start.md).
 *
 * The recursions (EMA, RSI, MACD, ATR) depend on every value, so their kernels run the whole history, but as a
 * loop over local variables, several times faster than the class's `update` on object fields. The windowed
 * indicators depend only on an aligned tail (`replayStart`): the target itself is fed that tail, which is bounded
 * by the re-summation period and the warm-up whatever the history's length.
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
 * Brings `indicator`, freshly constructed or reset, to the state `update` leaves after bars `[from, to)` of
 * `columns`. `scratch` holds at least the largest `stateSize` of a recursion (10 doubles for MACD).
 */
export function warmIndicator(indicator: StreamingIndicator, columns: HistoryColumns, from: number, to: number, scratch: Float64Array): void {
  if (indicator instanceof Ema) {
    emaWarmState(columns.close, from, to, indicator.period, scratch, 0);
  } else if (indicator instanceof Rsi) {
    rsiWarmState(columns.close, from, to, indicator.period, scratch, 0);
  } else if (indicator instanceof Macd) {
    macdWarmState(columns.close, from, to, indicator.fastPeriod, indicator.slowPeriod, indicator.signalPeriod, scratch, 0);
  } else if (indicator instanceof Atr) {
    atrWarmState(columns.high, columns.low, columns.close, from, to, indicator.period, scratch, 0);
  } else {
    // A windowed indicator: its aligned tail through its own update (see StreamingIndicator.replayAlignment), in
    // a loop per class so that each loop's update call has one receiver class and inlines (a loop shared by the
    // four classes measured 2-4x slower: 63 ns per stochastic update instead of ~15).
    const start = from + replayStart(indicator, to - from);
    if (indicator instanceof Sma) feedSma(indicator, columns, start, to);
    else if (indicator instanceof BollingerBands) feedBbands(indicator, columns, start, to);
    else if (indicator instanceof Vwap) feedVwap(indicator, columns, start, to);
    else if (indicator instanceof Stochastic) feedStoch(indicator, columns, start, to);
    else for (let t = start; t < to; t++) indicator.update(columns.close[t], columns.high[t], columns.low[t], columns.volume[t]);
    return;
  }
  indicator.loadState(scratch, 0);
}

function feedSma(indicator: Sma, { close }: HistoryColumns, from: number, to: number): void {
  for (let t = from; t < to; t++) indicator.update(close[t]);
}

function feedBbands(indicator: BollingerBands, { close }: HistoryColumns, from: number, to: number): void {
  for (let t = from; t < to; t++) indicator.update(close[t]);
}

function feedVwap(indicator: Vwap, { high, low, close, volume }: HistoryColumns, from: number, to: number): void {
  for (let t = from; t < to; t++) indicator.update(close[t], high[t], low[t], volume[t]);
}

function feedStoch(indicator: Stochastic, { high, low, close }: HistoryColumns, from: number, to: number): void {
  for (let t = from; t < to; t++) indicator.update(close[t], high[t], low[t]);
}

/** The largest state a recursion's kernel writes (MACD's), the least `scratch` that warmIndicator needs. */
export const RECURSION_STATE_SIZE = 10;

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
  for (; t < to; t++) {
    const change = close[t] - prevClose;
    prevClose = close[t];
    gain *= pm1;
    loss *= pm1;
    if (change < 0) loss -= change;
    else gain += change;
    gain *= inverse;
    loss *= inverse;
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
