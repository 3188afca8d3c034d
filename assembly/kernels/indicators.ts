// Single-series indicator kernels, compiled to build/wasm/indicators.wasm (AssemblyScript; see
// assembly/build.ts). Each one is a line-by-line port of the JS batch function of the same name in
// engine/indicators/ (smaBatch, emaBatch, ...): the same f64 operations in the same order, so the results agree
// bit for bit (WebAssembly f64 arithmetic, sqrt included, is IEEE 754 round-to-nearest like JS, and nothing here
// is fused). Inputs were checked by the caller (finite, high >= low, volume >= 0, periods that fit); outputs are
// aligned with the inputs and NaN during warm-up. Pointers are byte addresses of f64 arrays of `n` values;
// `scratch` areas are sized by the caller as documented per kernel.

import { ld, st, resyncInterval, nextPow2 } from './common';

export { heapBase, firstNonFinite, firstHighBelowLow } from './common';

/** Sum of values[from..to) in index order (rolling-sum.ts windowSum). */
function windowSum(values: usize, from: i32, to: i32): f64 {
  let s = 0.0;
  for (let i = from; i < to; i++) s += ld(values, i);
  return s;
}

/** smaBatch. */
export function sma(close: usize, n: i32, period: i32, out: usize): void {
  const p = <f64>period;
  let sum = 0.0;
  for (let i = 0; i < period - 1; i++) {
    sum += ld(close, i);
    st(out, i, NaN);
  }
  sum += ld(close, period - 1);
  st(out, period - 1, sum / p);
  const every = resyncInterval(period);
  let i = period;
  for (let resyncAt = period - 1 + every; i < n; resyncAt += every) {
    const stop = resyncAt < n ? resyncAt : n;
    for (; i < stop; i++) {
      sum += ld(close, i) - ld(close, i - period);
      st(out, i, sum / p);
    }
    if (resyncAt < n) {
      sum = windowSum(close, i - period + 1, i + 1);
      st(out, i, sum / p);
      i++;
    }
  }
}

/** emaBatch. */
export function ema(close: usize, n: i32, period: i32, out: usize): void {
  const alpha = 2.0 / (<f64>period + 1.0);
  let sum = 0.0;
  for (let i = 0; i < period - 1; i++) {
    sum += ld(close, i);
    st(out, i, NaN);
  }
  sum += ld(close, period - 1);
  let e = sum / <f64>period;
  st(out, period - 1, e);
  for (let i = period; i < n; i++) {
    e = (ld(close, i) - e) * alpha + e;
    st(out, i, e);
  }
}

/** rsi.ts rsiFromAverages: 100 * g / (g + l), FLAT_RSI (50) when both are 0. */
// @ts-ignore: decorator
@inline function rsiFromAverages(gain: f64, loss: f64): f64 {
  const total = gain + loss;
  return total == 0 ? 50.0 : 100.0 * (gain / total);
}

/** rsiBatch. */
export function rsi(close: usize, n: i32, period: i32, out: usize): void {
  st(out, 0, NaN);
  let gain = 0.0;
  let loss = 0.0;
  const seedEnd = period < n ? period : n - 1;
  for (let i = 1; i <= seedEnd; i++) {
    const change = ld(close, i) - ld(close, i - 1);
    if (change < 0) loss -= change;
    else gain += change;
    st(out, i, NaN);
  }
  if (period >= n) return;
  const p = <f64>period;
  gain /= p;
  loss /= p;
  st(out, period, rsiFromAverages(gain, loss));
  const pm1 = <f64>(period - 1);
  const inv = 1.0 / p;
  for (let i = period + 1; i < n; i++) {
    const change = ld(close, i) - ld(close, i - 1);
    gain *= pm1;
    loss *= pm1;
    // `if (change < 0) loss -= change; else gain += change;` without a branch to mispredict on a random walk: the
    // change masked to itself or +0 by its sign test, so each line adds/subtracts either it or +0 (x +- 0 = x).
    const bits = reinterpret<i64>(change);
    const negativeMask = -(<i64>(change < 0));
    loss -= reinterpret<f64>(bits & negativeMask);
    gain += reinterpret<f64>(bits & ~negativeMask);
    gain *= inv;
    loss *= inv;
    st(out, i, rsiFromAverages(gain, loss));
  }
}

/** macdBatch (three outputs). */
export function macd(
  close: usize, n: i32, fastPeriod: i32, slowPeriod: i32, signalPeriod: i32,
  macdOut: usize, signalOut: usize, histOut: usize,
): void {
  const first = slowPeriod + signalPeriod - 2;
  const warmEnd = first < n ? first : n;
  for (let i = 0; i < warmEnd; i++) {
    st(macdOut, i, NaN);
    st(signalOut, i, NaN);
    st(histOut, i, NaN);
  }
  if (first >= n) return;

  let slowSum = 0.0;
  let fastSum = 0.0;
  const fastStart = slowPeriod - fastPeriod;
  for (let i = 0; i < slowPeriod; i++) {
    slowSum += ld(close, i);
    if (i >= fastStart) fastSum += ld(close, i);
  }
  const fastAlpha = 2.0 / (<f64>fastPeriod + 1.0);
  const slowAlpha = 2.0 / (<f64>slowPeriod + 1.0);
  const signalAlpha = 2.0 / (<f64>signalPeriod + 1.0);
  let fastEma = fastSum / <f64>fastPeriod;
  let slowEma = slowSum / <f64>slowPeriod;
  let signalSum = fastEma - slowEma;
  for (let i = slowPeriod; i <= first; i++) {
    fastEma = (ld(close, i) - fastEma) * fastAlpha + fastEma;
    slowEma = (ld(close, i) - slowEma) * slowAlpha + slowEma;
    signalSum += fastEma - slowEma;
  }
  let signal = signalSum / <f64>signalPeriod;
  let m = fastEma - slowEma;
  st(macdOut, first, m);
  st(signalOut, first, signal);
  st(histOut, first, m - signal);
  for (let i = first + 1; i < n; i++) {
    const x = ld(close, i);
    fastEma = (x - fastEma) * fastAlpha + fastEma;
    slowEma = (x - slowEma) * slowAlpha + slowEma;
    m = fastEma - slowEma;
    signal = (m - signal) * signalAlpha + signal;
    st(macdOut, i, m);
    st(signalOut, i, signal);
    st(histOut, i, m - signal);
  }
}

/** bbands.ts windowM2: sum of squared deviations from `mean` over values[from..to), in index order. */
function windowM2(values: usize, from: i32, to: i32, mean: f64): f64 {
  let m2 = 0.0;
  for (let i = from; i < to; i++) {
    const d = ld(values, i) - mean;
    m2 += d * d;
  }
  return m2;
}

/** bbands.ts writeBands. */
// @ts-ignore: decorator
@inline function writeBands(
  upper: usize, middle: usize, lower: usize, i: i32,
  constant: bool, x: f64, mean: f64, m2: f64, p: f64, stdDev: f64,
): void {
  if (constant) {
    st(upper, i, x);
    st(middle, i, x);
    st(lower, i, x);
    return;
  }
  const band = m2 > 0 ? stdDev * Math.sqrt(m2 / p) : 0.0;
  st(upper, i, mean + band);
  st(middle, i, mean);
  st(lower, i, mean - band);
}

/** bbandsBatch (three outputs). */
export function bbands(
  close: usize, n: i32, period: i32, stdDev: f64, upper: usize, middle: usize, lower: usize,
): void {
  const p = <f64>period;
  let last = NaN;
  let run = 0;
  for (let i = 0; i < period; i++) {
    const x = ld(close, i);
    if (x == last) {
      if (run < period) run++;
    } else {
      run = 1;
      last = x;
    }
    st(upper, i, NaN);
    st(middle, i, NaN);
    st(lower, i, NaN);
  }
  let sum = windowSum(close, 0, period);
  let m2 = windowM2(close, 0, period, sum / p);
  writeBands(upper, middle, lower, period - 1, run == period, last, sum / p, m2, p, stdDev);

  const every = resyncInterval(period);
  let i = period;
  for (let resyncAt = period - 1 + every; i < n; resyncAt += every) {
    const stop = resyncAt < n ? resyncAt : n;
    for (; i < stop; i++) {
      const x = ld(close, i);
      if (x == last) {
        if (run < period) run++;
      } else {
        run = 1;
        last = x;
      }
      const old = ld(close, i - period);
      const d = x - old;
      const oldMean = sum / p;
      sum += d;
      m2 += d * ((x - sum / p) + (old - oldMean));
      writeBands(upper, middle, lower, i, run == period, x, sum / p, m2, p, stdDev);
    }
    if (resyncAt < n) {
      const x = ld(close, i);
      if (x == last) {
        if (run < period) run++;
      } else {
        run = 1;
        last = x;
      }
      sum = windowSum(close, i - period + 1, i + 1);
      m2 = windowM2(close, i - period + 1, i + 1, sum / p);
      writeBands(upper, middle, lower, i, run == period, x, sum / p, m2, p, stdDev);
      i++;
    }
  }
}

/** atr.ts trueRange: max(high - low, |high - prevClose|, |low - prevClose|), first maximum kept. */
// @ts-ignore: decorator
@inline function trueRange(high: f64, low: f64, prevClose: f64): f64 {
  // `if (up > tr) tr = up` without a branch to mispredict: the three ranges are >= +0 (high >= low is checked,
  // x - x is +0, abs never gives -0), and non-negative doubles order like their bit patterns as integers, so an
  // integer select (a cmov) keeps the same value.
  const range = reinterpret<i64>(high - low);
  const up = reinterpret<i64>(Math.abs(high - prevClose));
  const down = reinterpret<i64>(Math.abs(low - prevClose));
  const tr = select<i64>(up, range, up > range);
  return reinterpret<f64>(select<i64>(down, tr, down > tr));
}

/** atrBatch. */
export function atr(high: usize, low: usize, close: usize, n: i32, period: i32, out: usize): void {
  st(out, 0, NaN);
  let a = 0.0;
  const seedEnd = period < n ? period : n - 1;
  for (let i = 1; i <= seedEnd; i++) {
    a += trueRange(ld(high, i), ld(low, i), ld(close, i - 1));
    st(out, i, NaN);
  }
  if (period >= n) return;
  const p = <f64>period;
  a /= p;
  st(out, period, a);
  const pm1 = <f64>(period - 1);
  const inv = 1.0 / p;
  for (let i = period + 1; i < n; i++) {
    a = (a * pm1 + trueRange(ld(high, i), ld(low, i), ld(close, i - 1))) * inv;
    st(out, i, a);
  }
}

/** vwap.ts typicalPrice: (high + low + close) / 3. */
// @ts-ignore: decorator
@inline function typicalPrice(high: f64, low: f64, close: f64): f64 {
  return (high + low + close) / 3.0;
}

function windowPv(high: usize, low: usize, close: usize, volume: usize, from: i32, to: i32): f64 {
  let s = 0.0;
  for (let k = from; k < to; k++) s += typicalPrice(ld(high, k), ld(low, k), ld(close, k)) * ld(volume, k);
  return s;
}

function windowTp(high: usize, low: usize, close: usize, from: i32, to: i32): f64 {
  let s = 0.0;
  for (let k = from; k < to; k++) s += typicalPrice(ld(high, k), ld(low, k), ld(close, k));
  return s;
}

/** vwapBatch. */
export function vwap(high: usize, low: usize, close: usize, volume: usize, n: i32, period: i32, out: usize): void {
  const p = <f64>period;
  let sumPv = 0.0;
  let sumVol = 0.0;
  let sumTp = 0.0;
  let traded = 0;
  for (let i = 0; i < period; i++) {
    const tp = typicalPrice(ld(high, i), ld(low, i), ld(close, i));
    const v = ld(volume, i);
    if (v != 0) traded++;
    sumPv += tp * v;
    sumVol += v;
    sumTp += tp;
    st(out, i, NaN);
  }
  st(out, period - 1, traded == 0 ? sumTp / p : sumPv / sumVol);
  const every = resyncInterval(period);
  let i = period;
  for (let resyncAt = period - 1 + every; i < n; resyncAt += every) {
    const stop = resyncAt < n ? resyncAt : n;
    for (; i < stop; i++) {
      const j = i - period;
      const tp = typicalPrice(ld(high, i), ld(low, i), ld(close, i));
      const v = ld(volume, i);
      const oldTp = typicalPrice(ld(high, j), ld(low, j), ld(close, j));
      const oldVol = ld(volume, j);
      if (v != 0) traded++;
      if (oldVol != 0) traded--;
      sumPv += tp * v - oldTp * oldVol;
      sumVol += v - oldVol;
      sumTp += tp - oldTp;
      if (traded == 0) {
        sumPv = 0;
        sumVol = 0;
      } else if (sumVol <= 0) {
        sumPv = windowPv(high, low, close, volume, j + 1, i + 1);
        sumVol = windowSum(volume, j + 1, i + 1);
        sumTp = windowTp(high, low, close, j + 1, i + 1);
      }
      st(out, i, traded == 0 ? sumTp / p : sumPv / sumVol);
    }
    if (resyncAt < n) {
      if (ld(volume, i) != 0) traded++;
      if (ld(volume, i - period) != 0) traded--;
      sumPv = windowPv(high, low, close, volume, i - period + 1, i + 1);
      sumVol = windowSum(volume, i - period + 1, i + 1);
      sumTp = windowTp(high, low, close, i - period + 1, i + 1);
      st(out, i, traded == 0 ? sumTp / p : sumPv / sumVol);
      i++;
    }
  }
}

/** Bytes of scratch that `stoch` needs: two index deques and the fastK ring (stoch.ts stochBatch workspace). */
export function stochScratchBytes(fastKPeriod: i32, slowKPeriod: i32): i32 {
  return 2 * nextPow2(fastKPeriod + 1) * 4 + nextPow2(slowKPeriod) * 8;
}

/** stoch.ts fastK: 100 * (close - lowestLow) / range, FLAT_STOCH (50) on a zero range. */
// @ts-ignore: decorator
@inline function fastK(close: f64, highestHigh: f64, lowestLow: f64): f64 {
  const range = highestHigh - lowestLow;
  return range == 0 ? 50.0 : 100.0 * ((close - lowestLow) / range);
}

/** i32 deque slot `k` of the index deques at `deque`. */
// @ts-ignore: decorator
@inline function dq(deque: usize, k: i32): i32 {
  return load<i32>(deque + (<usize>k << 2));
}

/** stochBatch (two outputs); `scratch` holds stochScratchBytes(fastKPeriod, slowKPeriod) bytes. */
export function stoch(
  high: usize, low: usize, close: usize, n: i32, fk: i32, sk: i32, sd: i32,
  slowKOut: usize, slowDOut: usize, scratch: usize,
): void {
  const dequeCap = nextPow2(fk + 1);
  const ringCap = nextPow2(sk);
  const deque = scratch;
  const minDeque = scratch + (<usize>dequeCap << 2);
  const ring = scratch + (<usize>(2 * dequeCap) << 2);
  const dm = dequeCap - 1;
  const rm = ringCap - 1;
  let maxHead = 0;
  let maxTail = 0;
  let minHead = 0;
  let minTail = 0;

  const kEvery = resyncInterval(sk);
  const dEvery = resyncInterval(sd);
  const skf = <f64>sk;
  const sdf = <f64>sd;
  let kCount = 0;
  let kSum = 0.0;
  let kUntil = 0;
  let dCount = 0;
  let dSum = 0.0;
  let dUntil = 0;
  const firstSlowK = fk + sk - 2;

  for (let i = 0; i < n; i++) {
    while (maxHead != maxTail && dq(deque, maxHead & dm) <= i - fk) maxHead++;
    const hi = ld(high, i);
    while (maxHead != maxTail && ld(high, dq(deque, (maxTail - 1) & dm)) <= hi) maxTail--;
    store<i32>(deque + (<usize>(maxTail & dm) << 2), i);
    maxTail++;
    while (minHead != minTail && dq(minDeque, minHead & dm) <= i - fk) minHead++;
    const lo = ld(low, i);
    while (minHead != minTail && ld(low, dq(minDeque, (minTail - 1) & dm)) >= lo) minTail--;
    store<i32>(minDeque + (<usize>(minTail & dm) << 2), i);
    minTail++;
    st(slowDOut, i, NaN);
    if (i < fk - 1) {
      st(slowKOut, i, NaN);
      continue;
    }

    const k = fastK(ld(close, i), ld(high, dq(deque, maxHead & dm)), ld(low, dq(minDeque, minHead & dm)));
    const kSlot = i - (fk - 1);
    if (kCount < sk) {
      st(ring, kSlot & rm, k);
      kSum += k;
      if (++kCount == sk) kUntil = kEvery;
    } else {
      const old = ld(ring, (kSlot - sk) & rm);
      st(ring, kSlot & rm, k);
      kSum += k - old;
      if (--kUntil == 0) {
        kUntil = kEvery;
        kSum = 0;
        for (let s = kSlot - sk + 1; s <= kSlot; s++) kSum += ld(ring, s & rm);
      }
    }
    if (kCount < sk) {
      st(slowKOut, i, NaN);
      continue;
    }
    const slowK = kSum / skf;
    st(slowKOut, i, slowK);
    if (dCount < sd) {
      dSum += slowK;
      if (++dCount == sd) dUntil = dEvery;
    } else {
      dSum += slowK - ld(slowKOut, i - sd);
      if (--dUntil == 0) {
        dUntil = dEvery;
        dSum = 0;
        for (let s = i - sd + 1; s <= i; s++) dSum += ld(slowKOut, s);
      }
    }
    if (dCount == sd) st(slowDOut, i, dSum / sdf);
  }
  const first = firstSlowK + sd - 1;
  for (let i = firstSlowK; i < first && i < n; i++) st(slowKOut, i, NaN);
}

// The warm-state kernels (a warm start's per-symbol states, bit for bit the JS ones) ship in this module too.
export {
  emaWarmState, rsiWarmState, atrWarmState, macdWarmState, smaWarmState, bbandsWarmState, vwapWarmState,
  stochWarmScratchBytes, stochWarmState,
} from './warm-state';
