// Warm-state kernels, exported by build/wasm/indicators.wasm (AssemblyScript; see assembly/build.ts): each is a
// line-by-line port of the JS kernel of the same name in engine/indicators/warm-state.ts, which computes the
// state a streaming indicator is in after a history, in its class's `saveState` layout. The same f64 operations
// run in the same order (WebAssembly f64 arithmetic, sqrt included, is IEEE 754 round-to-nearest like JS, and
// nothing here is fused), so every state is the JS kernel's bit for bit; warm-state.test.ts proves it per kernel.
//
// Columns are f64 arrays of `n` values at byte addresses (a symbol's history, copied in by the JS side,
// engine/batch/wasm-warm-states.ts); for trades high, low and close are the same address. `out` receives the
// state from element 0. Counts and other integers are stored as f64, as saveState stores them.

import { ld, st, resyncInterval, nextPow2 } from './common';

/** indicator.ts alignedStart: the first value of the aligned tail a windowed indicator's state depends on. */
function alignedStart(length: i32, alignment: i32, warmupPeriod: i32): i32 {
  if (alignment == 0 || length < warmupPeriod) return 0;
  return (length - warmupPeriod) / alignment * alignment;
}

/** rolling-sum.ts windowSum: values[from, to) summed in index order from 0. */
function sumOf(values: usize, from: i32, to: i32): f64 {
  let s = 0.0;
  for (let i = from; i < to; i++) s += ld(values, i);
  return s;
}

/** rolling-sum.ts ringWindowSum. */
function ringSum(ring: usize, mask: i32, head: i32, count: i32): f64 {
  let s = 0.0;
  for (let k = count; k > 0; k--) s += ld(ring, (head - k) & mask);
  return s;
}

/** `count` values from `at`, then zeros up to `slots`: a window in a state layout (warm-state.ts copyWindow). */
function copyWindow(values: usize, at: i32, count: i32, slots: i32, out: usize, offset: i32): void {
  for (let k = 0; k < slots; k++) st(out, offset + k, k < count ? ld(values, at + k) : 0.0);
}

/** vwap.ts typicalPrice. */
// @ts-ignore: decorator
@inline function typicalPrice(high: f64, low: f64, close: f64): f64 {
  return (high + low + close) / 3;
}

/** `value` masked to itself when `keep`, else to +0, without a branch (x + +0 = x and x - +0 = x). */
// @ts-ignore: decorator
@inline function keepOrZero(value: f64, keep: bool): f64 {
  return reinterpret<f64>(reinterpret<i64>(value) & -(<i64>keep));
}

/** emaWarmState. */
export function emaWarmState(close: usize, n: i32, period: i32, out: usize): void {
  const alpha = 2 / <f64>(period + 1);
  let count = 0;
  let seedSum = 0.0;
  let value = NaN;
  let t = 0;
  for (; t < n && count < period; t++) {
    seedSum += ld(close, t);
    if (++count == period) value = seedSum / <f64>period;
  }
  for (; t < n; t++) value = (ld(close, t) - value) * alpha + value;
  st(out, 0, <f64>count);
  st(out, 1, seedSum);
  st(out, 2, value);
}

/** rsiWarmState. */
export function rsiWarmState(close: usize, n: i32, period: i32, out: usize): void {
  const p = <f64>period;
  const inverse = 1 / p;
  const pm1 = <f64>(period - 1);
  let count = 0;
  let prevClose = 0.0;
  let gain = 0.0;
  let loss = 0.0;
  let value = NaN;
  let t = 0;
  for (; t < n && count <= period; t++) {
    const change = ld(close, t) - prevClose;
    prevClose = ld(close, t);
    const c = count++;
    if (c == 0) continue;
    if (change < 0) loss -= change;
    else gain += change;
    if (c == period) {
      gain /= p;
      loss /= p;
      const total = gain + loss;
      value = total == 0 ? 50.0 : 100 * (gain / total);
    }
  }
  const steady = t < n;
  for (; t < n; t++) {
    const change = ld(close, t) - prevClose;
    prevClose = ld(close, t);
    // The JS kernel's two selects as masks: `change > 0 ? change : 0` and `change < 0 ? change : 0`.
    gain = (gain * pm1 + keepOrZero(change, change > 0)) * inverse;
    loss = (loss * pm1 - keepOrZero(change, change < 0)) * inverse;
  }
  if (steady) {
    const total = gain + loss;
    value = total == 0 ? 50.0 : 100 * (gain / total);
  }
  st(out, 0, <f64>count);
  st(out, 1, prevClose);
  st(out, 2, gain);
  st(out, 3, loss);
  st(out, 4, value);
}

/** atrWarmState. */
export function atrWarmState(high: usize, low: usize, close: usize, n: i32, period: i32, out: usize): void {
  const p = <f64>period;
  const inverse = 1 / p;
  const pm1 = <f64>(period - 1);
  let count = 0;
  let prevClose = 0.0;
  let atr = 0.0;
  let value = NaN;
  for (let t = 0; t < n; t++) {
    const h = ld(high, t);
    const l = ld(low, t);
    let tr = h - l;
    const up = Math.abs(h - prevClose);
    if (up > tr) tr = up;
    const down = Math.abs(l - prevClose);
    if (down > tr) tr = down;
    prevClose = ld(close, t);
    if (count > period) {
      atr = (atr * pm1 + tr) * inverse;
      value = atr;
      continue;
    }
    const c = count++;
    if (c == 0) continue;
    atr += tr;
    if (c == period) {
      atr /= p;
      value = atr;
    }
  }
  st(out, 0, <f64>count);
  st(out, 1, prevClose);
  st(out, 2, atr);
  st(out, 3, value);
}

/** macdWarmState. */
export function macdWarmState(close: usize, n: i32, fastPeriod: i32, slowPeriod: i32, signalPeriod: i32, out: usize): void {
  const fastAlpha = 2 / <f64>(fastPeriod + 1);
  const slowAlpha = 2 / <f64>(slowPeriod + 1);
  const signalAlpha = 2 / <f64>(signalPeriod + 1);
  const warm = slowPeriod + signalPeriod - 1;
  let count = 0;
  let fastSum = 0.0;
  let slowSum = 0.0;
  let signalSum = 0.0;
  let fastEma = 0.0;
  let slowEma = 0.0;
  let signalEma = 0.0;
  let macdOut = NaN;
  let signalOut = NaN;
  let t = 0;
  for (; t < n && count < warm; t++) {
    const x = ld(close, t);
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
      fastEma = fastSum / <f64>fastPeriod;
      slowEma = slowSum / <f64>slowPeriod;
    }
    const macd = fastEma - slowEma;
    count = c + 1;
    signalSum += macd;
    if (count == warm) {
      signalEma = signalSum / <f64>signalPeriod;
      macdOut = macd;
      signalOut = signalEma;
    }
  }
  for (; t < n; t++) {
    const x = ld(close, t);
    fastEma = (x - fastEma) * fastAlpha + fastEma;
    slowEma = (x - slowEma) * slowAlpha + slowEma;
    const macd = fastEma - slowEma;
    signalEma = (macd - signalEma) * signalAlpha + signalEma;
    macdOut = macd;
    signalOut = signalEma;
  }
  st(out, 0, <f64>count);
  st(out, 1, fastSum);
  st(out, 2, slowSum);
  st(out, 3, signalSum);
  st(out, 4, fastEma);
  st(out, 5, slowEma);
  st(out, 6, signalEma);
  st(out, 7, macdOut);
  st(out, 8, signalOut);
  st(out, 9, macdOut - signalOut);
}

/** smaWarmState. */
export function smaWarmState(close: usize, n: i32, period: i32, out: usize): void {
  const every = resyncInterval(period);
  let count = 0;
  let sum = 0.0;
  let untilResync = 0;
  let t = alignedStart(n, every, period);
  for (; t < n && count < period; t++) {
    sum += ld(close, t);
    if (++count == period) untilResync = every;
  }
  for (; t < n; t++) {
    sum += ld(close, t) - ld(close, t - period);
    if (--untilResync == 0) {
      untilResync = every;
      sum = sumOf(close, t + 1 - period, t + 1);
    }
  }
  st(out, 0, <f64>count);
  st(out, 1, sum);
  st(out, 2, <f64>untilResync);
  copyWindow(close, n - count, count, period, out, 3);
}

/** warm-state.ts squaredDeviations. */
function squaredDeviations(values: usize, from: i32, to: i32, mean: f64): f64 {
  let m2 = 0.0;
  for (let k = from; k < to; k++) {
    const d = ld(values, k) - mean;
    m2 += d * d;
  }
  return m2;
}

/** bbandsWarmState. */
export function bbandsWarmState(close: usize, n: i32, period: i32, stdDev: f64, out: usize): void {
  const p = <f64>period;
  const every = resyncInterval(period);
  let count = 0;
  let untilResync = 0;
  let sum = 0.0;
  let m2 = 0.0;
  let last = NaN;
  let run = 0;
  for (let t = alignedStart(n, every, period); t < n; t++) {
    const x = ld(close, t);
    if (x == last) {
      if (run < period) run++;
    } else {
      run = 1;
      last = x;
    }
    if (count < period) {
      sum += x;
      if (++count == period) {
        untilResync = every;
        sum = sumOf(close, t + 1 - period, t + 1);
        m2 = squaredDeviations(close, t + 1 - period, t + 1, sum / p);
      }
      continue;
    }
    const old = ld(close, t - period);
    const d = x - old;
    const oldMean = sum / p;
    sum += d;
    m2 += d * ((x - sum / p) + (old - oldMean));
    if (--untilResync == 0) {
      untilResync = every;
      sum = sumOf(close, t + 1 - period, t + 1);
      m2 = squaredDeviations(close, t + 1 - period, t + 1, sum / p);
    }
  }
  st(out, 0, <f64>count);
  st(out, 1, <f64>untilResync);
  st(out, 2, sum);
  st(out, 3, m2);
  st(out, 4, last);
  st(out, 5, <f64>run);
  let upper = NaN;
  let middle = NaN;
  let lower = NaN;
  if (count == period) {
    if (run == period) {
      upper = last;
      middle = last;
      lower = last;
    } else {
      const mean = sum / p;
      const band = m2 > 0 ? stdDev * Math.sqrt(m2 / p) : 0.0;
      upper = mean + band;
      middle = mean;
      lower = mean - band;
    }
  }
  st(out, 6, upper);
  st(out, 7, middle);
  st(out, 8, lower);
  copyWindow(close, n - count, count, period, out, 9);
}

/** vwapWarmState. */
export function vwapWarmState(high: usize, low: usize, close: usize, volume: usize, n: i32, period: i32, out: usize): void {
  const p = <f64>period;
  const every = resyncInterval(period);
  let count = 0;
  let untilResync = 0;
  let sumPv = 0.0;
  let sumVol = 0.0;
  let sumTp = 0.0;
  let traded = 0;
  for (let t = alignedStart(n, every, period); t < n; t++) {
    const v = ld(volume, t);
    const tp = typicalPrice(ld(high, t), ld(low, t), ld(close, t));
    const pv = tp * v;
    if (v != 0) traded++;
    if (count < period) {
      sumPv += pv;
      sumVol += v;
      sumTp += tp;
      if (++count == period) untilResync = every;
      continue;
    }
    const o = t - period;
    const oldVol = ld(volume, o);
    const oldTp = typicalPrice(ld(high, o), ld(low, o), ld(close, o));
    const oldPv = oldTp * oldVol;
    if (oldVol != 0) traded--;
    sumPv += pv - oldPv;
    sumVol += v - oldVol;
    sumTp += tp - oldTp;
    if (--untilResync == 0 || (traded != 0 && sumVol <= 0)) {
      if (untilResync == 0) untilResync = every;
      sumPv = 0;
      sumVol = 0;
      sumTp = 0;
      for (let k = t + 1 - period; k <= t; k++) {
        const kTp = typicalPrice(ld(high, k), ld(low, k), ld(close, k));
        sumPv += kTp * ld(volume, k);
        sumVol += ld(volume, k);
        sumTp += kTp;
      }
    } else if (traded == 0) {
      sumPv = 0;
      sumVol = 0;
    }
  }
  st(out, 0, <f64>count);
  st(out, 1, <f64>untilResync);
  st(out, 2, sumPv);
  st(out, 3, sumVol);
  st(out, 4, sumTp);
  st(out, 5, <f64>traded);
  st(out, 6, count == period ? (traded == 0 ? sumTp / p : sumPv / sumVol) : NaN);
  const base = 7;
  for (let k = 0; k < period; k++) {
    const t = n - count + k;
    const held = k < count;
    const tp = held ? typicalPrice(ld(high, t), ld(low, t), ld(close, t)) : 0.0;
    st(out, base + k, held ? tp * ld(volume, t) : 0.0);
    st(out, base + period + k, held ? ld(volume, t) : 0.0);
    st(out, base + 2 * period + k, tp);
  }
}

/**
 * The largest of values[from, from + length) (length >= 1), branch-free: f64x2.pmax (`a < b ? b : a`) over pairs,
 * then across the two lanes. For values that are neither NaN nor -0 it is the deque's highest, bit for bit (equal
 * values have equal bits); `stochWarmState` checks that before it takes this path.
 */
// @ts-ignore: decorator
@inline function highestOf(values: usize, from: i32, length: i32): f64 {
  const base = values + (<usize>from << 3);
  let acc = f64x2.splat(load<f64>(base));
  let k = 1;
  for (; k + 2 <= length; k += 2) acc = f64x2.pmax(acc, v128.load(base + (<usize>k << 3)));
  if (k < length) acc = f64x2.pmax(acc, f64x2.splat(load<f64>(base + (<usize>k << 3))));
  return f64x2.extract_lane(f64x2.pmax(acc, v128.shuffle<u64>(acc, acc, 1, 0)), 0);
}

/** The smallest of values[from, from + length), as `highestOf` with f64x2.pmin (`b < a ? b : a`). */
// @ts-ignore: decorator
@inline function lowestOf(values: usize, from: i32, length: i32): f64 {
  const base = values + (<usize>from << 3);
  let acc = f64x2.splat(load<f64>(base));
  let k = 1;
  for (; k + 2 <= length; k += 2) acc = f64x2.pmin(acc, v128.load(base + (<usize>k << 3)));
  if (k < length) acc = f64x2.pmin(acc, f64x2.splat(load<f64>(base + (<usize>k << 3))));
  return f64x2.extract_lane(f64x2.pmin(acc, v128.shuffle<u64>(acc, acc, 1, 0)), 0);
}

/** Whether values[from, to) has a NaN, an infinity or a -0 (where a max by comparison and the deque could differ). */
function anyUnordered(values: usize, from: i32, to: i32): bool {
  let bad = 0;
  for (let t = from; t < to; t++) {
    const v = ld(values, t);
    bad |= <i32>(v - v != 0) | <i32>(reinterpret<i64>(v) == 0x8000000000000000);
  }
  return bad != 0;
}

/** Bytes of scratch `stochWarmState` needs: the two deques (bar numbers and values) and the two SMA rings. */
export function stochWarmScratchBytes(fastKPeriod: i32, slowKPeriod: i32, slowDPeriod: i32): i32 {
  const capacity = nextPow2(fastKPeriod + 1);
  return 2 * capacity * 8 + 2 * capacity * 4 + nextPow2(slowKPeriod) * 8 + nextPow2(slowDPeriod) * 8;
}

/** A RollingSum's state layout from a kernel's ring (warm-state.ts writeRollingSum). */
function writeRollingSum(
  ring: usize, mask: i32, head: i32, count: i32, sum: f64, untilResync: i32, period: i32, out: usize, offset: i32,
): void {
  st(out, offset, <f64>count);
  st(out, offset + 1, sum);
  st(out, offset + 2, <f64>untilResync);
  for (let k = 0; k < period; k++) st(out, offset + 3 + k, k < count ? ld(ring, (head - count + k) & mask) : 0.0);
}

/**
 * stochWarmState; `scratch` holds stochWarmScratchBytes(...) bytes. `start` is the aligned tail's first bar, which
 * the caller computes as the JS kernel does (the least common multiple of the two re-summation intervals can pass
 * 2^31 for large periods, so it is not computed in i32 here).
 */
export function stochWarmState(
  high: usize, low: usize, close: usize, n: i32, start: i32, fastKPeriod: i32, slowKPeriod: i32, slowDPeriod: i32,
  out: usize, scratch: usize,
): void {
  const everyK = resyncInterval(slowKPeriod);
  const everyD = resyncInterval(slowDPeriod);
  const capacity = nextPow2(fastKPeriod + 1);
  const kMask = nextPow2(slowKPeriod) - 1;
  const dMask = nextPow2(slowDPeriod) - 1;
  // Scratch: deque values (max half, then min half), deque bar numbers, then the two rings.
  const values = scratch;
  const bars = values + (<usize>(2 * capacity) << 3);
  const kRing = bars + (<usize>(2 * capacity) << 2);
  const dRing = kRing + (<usize>(kMask + 1) << 3);
  const mask = capacity - 1;
  const minBase = capacity;
  const skf = <f64>slowKPeriod;
  const sdf = <f64>slowDPeriod;
  let maxHead = 0;
  let maxTail = 0;
  let minHead = 0;
  let minTail = 0;
  let seen = 0;
  let kCount = 0;
  let kSum = 0.0;
  let kUntil = 0;
  let kHead = 0;
  let dCount = 0;
  let dSum = 0.0;
  let dUntil = 0;
  let dHead = 0;
  let slowKOut = NaN;
  let slowDOut = NaN;
  // The deques cost several mispredicted branches per value on a random walk. Where the max by comparison is the
  // deque's (no NaN, infinity or -0 in the tail), each window's highest and lowest come from highestOf/lowestOf
  // instead, and the deques take only the last fastKPeriod values: they end holding exactly what the whole tail
  // leaves in them (an element leaves a deque only for a later one of the same window, or by age).
  const fast = n - start > fastKPeriod && !anyUnordered(high, start, n) && !anyUnordered(low, start, n);
  const dequeFrom = fast ? n - fastKPeriod : start;
  for (let t = start; t < n; t++) {
    const now = t - start;
    if (t >= dequeFrom) {
      const h = ld(high, t);
      const l = ld(low, t);
      while (maxHead != maxTail && now - load<i32>(bars + (<usize>(maxHead & mask) << 2)) >= fastKPeriod) maxHead++;
      while (maxHead != maxTail && ld(values, (maxTail - 1) & mask) <= h) maxTail--;
      store<i32>(bars + (<usize>(maxTail & mask) << 2), now);
      st(values, maxTail & mask, h);
      maxTail++;
      while (minHead != minTail && now - load<i32>(bars + (<usize>(minBase + (minHead & mask)) << 2)) >= fastKPeriod) minHead++;
      while (minHead != minTail && ld(values, minBase + ((minTail - 1) & mask)) >= l) minTail--;
      store<i32>(bars + (<usize>(minBase + (minTail & mask)) << 2), now);
      st(values, minBase + (minTail & mask), l);
      minTail++;
    }
    if (seen < fastKPeriod && ++seen < fastKPeriod) continue;
    const highest = fast ? highestOf(high, t + 1 - fastKPeriod, fastKPeriod) : ld(values, maxHead & mask);
    const lowest = fast ? lowestOf(low, t + 1 - fastKPeriod, fastKPeriod) : ld(values, minBase + (minHead & mask));
    const range = highest - lowest;
    const fastK = range == 0 ? 50.0 : 100 * ((ld(close, t) - lowest) / range);
    if (kCount < slowKPeriod) {
      st(kRing, kHead & kMask, fastK);
      kHead++;
      kSum += fastK;
      if (++kCount == slowKPeriod) kUntil = everyK;
      else continue;
    } else {
      kSum += fastK - ld(kRing, (kHead - slowKPeriod) & kMask);
      st(kRing, kHead & kMask, fastK);
      kHead++;
      if (--kUntil == 0) {
        kUntil = everyK;
        kSum = ringSum(kRing, kMask, kHead, slowKPeriod);
      }
    }
    const slowK = kSum / skf;
    if (dCount < slowDPeriod) {
      st(dRing, dHead & dMask, slowK);
      dHead++;
      dSum += slowK;
      if (++dCount == slowDPeriod) dUntil = everyD;
      else continue;
    } else {
      dSum += slowK - ld(dRing, (dHead - slowDPeriod) & dMask);
      st(dRing, dHead & dMask, slowK);
      dHead++;
      if (--dUntil == 0) {
        dUntil = everyD;
        dSum = ringSum(dRing, dMask, dHead, slowDPeriod);
      }
    }
    slowKOut = slowK;
    slowDOut = dSum / sdf;
  }
  const last = n - start - 1;
  const maxLength = maxTail - maxHead;
  const minLength = minTail - minHead;
  st(out, 0, <f64>seen);
  st(out, 1, slowKOut);
  st(out, 2, slowDOut);
  st(out, 3, <f64>maxLength);
  st(out, 4, <f64>minLength);
  const maxOut = 5;
  const minOut = maxOut + 2 * fastKPeriod;
  for (let k = 0; k < fastKPeriod; k++) {
    const maxSlot = (maxHead + k) & mask;
    const minSlot = minBase + ((minHead + k) & mask);
    st(out, maxOut + 2 * k, k < maxLength ? <f64>(last - load<i32>(bars + (<usize>maxSlot << 2))) : 0.0);
    st(out, maxOut + 2 * k + 1, k < maxLength ? ld(values, maxSlot) : 0.0);
    st(out, minOut + 2 * k, k < minLength ? <f64>(last - load<i32>(bars + (<usize>minSlot << 2))) : 0.0);
    st(out, minOut + 2 * k + 1, k < minLength ? ld(values, minSlot) : 0.0);
  }
  const kOut = minOut + 2 * fastKPeriod;
  writeRollingSum(kRing, kMask, kHead, kCount, kSum, kUntil, slowKPeriod, out, kOut);
  writeRollingSum(dRing, dMask, dHead, dCount, dSum, dUntil, slowDPeriod, out, kOut + 3 + slowKPeriod);
}
