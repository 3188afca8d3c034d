// The per-bar part of a universe scan, exported by build/wasm/scan.wasm (AssemblyScript; see assembly/build.ts):
// the column kernels of engine/indicators/column-kernels.ts (one indicator across every symbol, its state in
// arrays) and the cross-sections of engine/scans/cross-section.ts (rank and z-score across the symbols). Each
// function is a line-by-line port of its JS twin: the same f64 operations in the same order (WebAssembly f64
// arithmetic, sqrt included, is IEEE 754 round-to-nearest like JS, and nothing here is fused), so every value is
// the JS one bit for bit (engine/indicators/column-kernels.test.ts per kernel, engine/scans/cross-section.test.ts and
// bar-scanner.test.ts for the cross-sections and whole scans). The JS side
// (engine/scans/wasm-scan-kernels.ts) lays every array out in the module's memory and initialises it.
//
// Arrays are raw runs at byte addresses: f64 through ld/st, i32 through li/si. A ring of a windowed kernel is
// bar-major: element (ring slot k, symbol s) at k * n + s. Every column kernel takes the same leading arguments:
// the symbols `n`, the range [from, to) of them it updates (threads split the symbols: engine/scans/
// scan-helpers.ts), the row (close, high, low, volume: the ones it does not read are ignored) and its `value`.

import { ld, st, resyncInterval } from './common';

export { heapBase } from './common';

/** values[i] for an i32 array at byte address `base`. */
// @ts-ignore: decorator
@inline function li(base: usize, i: i32): i32 {
  return load<i32>(base + (<usize>i << 2));
}

/** values[i] = v for an i32 array at byte address `base`. */
// @ts-ignore: decorator
@inline function si(base: usize, i: i32, v: i32): void {
  store<i32>(base + (<usize>i << 2), v);
}

/** vwap.ts typicalPrice. */
// @ts-ignore: decorator
@inline function typicalPrice(high: f64, low: f64, close: f64): f64 {
  return (high + low + close) / 3;
}

const FLAT_RSI: f64 = 50;
const FLAT_STOCH: f64 = 50;

/**
 * RollingSumColumns.push for symbol s: `count`, `sum`, `until` (pushes to the next re-summation), `head` per symbol,
 * `ring` (mask + 1 slots of n).
 */
// @ts-ignore: decorator
@inline function rollingPush(
  n: i32, s: i32, x: f64, count: usize, sum: usize, until: usize, head: usize, ring: usize, mask: i32, period: i32,
): void {
  const h = li(head, s);
  si(head, s, h + 1);
  const c = li(count, s);
  if (c < period) {
    st(ring, (h & mask) * n + s, x);
    st(sum, s, ld(sum, s) + x);
    si(count, s, c + 1);
    if (c + 1 == period) si(until, s, resyncInterval(period));
    return;
  }
  // Read the leaving value before writing: with period == capacity both use the same slot.
  const old = ld(ring, ((h - period) & mask) * n + s);
  st(ring, (h & mask) * n + s, x);
  st(sum, s, ld(sum, s) + (x - old));
  const u = li(until, s) - 1;
  if (u == 0) {
    si(until, s, resyncInterval(period));
    // The window re-summed oldest first from 0 (ringWindowSum).
    let total = 0.0;
    for (let k = period; k > 0; k--) total += ld(ring, ((h + 1 - k) & mask) * n + s);
    st(sum, s, total);
  } else {
    si(until, s, u);
  }
}

/** SmaColumn.update. */
export function smaColumn(
  n: i32, from: i32, to: i32, close: usize, high: usize, low: usize, volume: usize, value: usize,
  count: usize, sum: usize, until: usize, head: usize, ring: usize, mask: i32, period: i32,
): void {
  for (let s = from; s < to; s++) {
    const c = ld(close, s);
    if (c != c) continue;
    rollingPush(n, s, c, count, sum, until, head, ring, mask, period);
    if (li(count, s) == period) st(value, s, ld(sum, s) / <f64>period);
  }
}

/** EmaColumn.update. */
export function emaColumn(n: i32, from: i32, to: i32, close: usize, high: usize, low: usize, volume: usize, value: usize, count: usize, seedSum: usize, period: i32): void {
  const alpha = 2 / <f64>(period + 1);
  for (let s = from; s < to; s++) {
    const c = ld(close, s);
    if (c != c) continue;
    const k = li(count, s);
    if (k == period) {
      const v = ld(value, s);
      st(value, s, (c - v) * alpha + v);
      continue;
    }
    const seeded = ld(seedSum, s) + c;
    st(seedSum, s, seeded);
    si(count, s, k + 1);
    if (k + 1 == period) st(value, s, seeded / <f64>period);
  }
}

/** RsiColumn.update. */
export function rsiColumn(
  n: i32, from: i32, to: i32, close: usize, high: usize, low: usize, volume: usize, value: usize,
  count: usize, prevClose: usize, gain: usize, loss: usize, period: i32,
): void {
  const pm1 = <f64>(period - 1);
  const inverse = 1 / <f64>period;
  for (let s = from; s < to; s++) {
    const x = ld(close, s);
    if (x != x) continue;
    const change = x - ld(prevClose, s);
    st(prevClose, s, x);
    const c = li(count, s);
    if (c > period) {
      const g = (ld(gain, s) * pm1 + select<f64>(change, 0, change > 0)) * inverse;
      const l = (ld(loss, s) * pm1 - select<f64>(change, 0, change < 0)) * inverse;
      st(gain, s, g);
      st(loss, s, l);
      const total = g + l;
      st(value, s, total == 0 ? FLAT_RSI : 100 * (g / total));
      continue;
    }
    si(count, s, c + 1);
    if (c == 0) continue;
    if (change < 0) st(loss, s, ld(loss, s) - change);
    else st(gain, s, ld(gain, s) + change);
    if (c == period) {
      const g = ld(gain, s) / <f64>period;
      const l = ld(loss, s) / <f64>period;
      st(gain, s, g);
      st(loss, s, l);
      const total = g + l;
      st(value, s, total == 0 ? FLAT_RSI : 100 * (g / total));
    }
  }
}

/** MacdColumn.update. */
export function macdColumn(
  n: i32, from: i32, to: i32, close: usize, high: usize, low: usize, volume: usize, value: usize,
  count: usize, fastSum: usize, slowSum: usize, signalSum: usize,
  fastEma: usize, slowEma: usize, signalEma: usize, fastPeriod: i32, slowPeriod: i32, signalPeriod: i32,
): void {
  const fastAlpha = 2 / <f64>(fastPeriod + 1);
  const slowAlpha = 2 / <f64>(slowPeriod + 1);
  const signalAlpha = 2 / <f64>(signalPeriod + 1);
  const warm = slowPeriod + signalPeriod - 1;
  for (let s = from; s < to; s++) {
    const x = ld(close, s);
    if (x != x) continue;
    const c = li(count, s);
    if (c >= slowPeriod) {
      const f = ld(fastEma, s);
      st(fastEma, s, (x - f) * fastAlpha + f);
      const w = ld(slowEma, s);
      st(slowEma, s, (x - w) * slowAlpha + w);
    } else {
      st(slowSum, s, ld(slowSum, s) + x);
      if (c >= slowPeriod - fastPeriod) st(fastSum, s, ld(fastSum, s) + x);
      if (c < slowPeriod - 1) {
        si(count, s, c + 1);
        continue;
      }
      st(fastEma, s, ld(fastSum, s) / <f64>fastPeriod);
      st(slowEma, s, ld(slowSum, s) / <f64>slowPeriod);
    }
    const macd = ld(fastEma, s) - ld(slowEma, s);
    if (c >= warm) {
      const g = ld(signalEma, s);
      st(signalEma, s, (macd - g) * signalAlpha + g);
      st(value, s, macd);
      continue;
    }
    si(count, s, c + 1);
    st(signalSum, s, ld(signalSum, s) + macd);
    if (c + 1 == warm) {
      st(signalEma, s, ld(signalSum, s) / <f64>signalPeriod);
      st(value, s, macd);
    }
  }
}

/** BbandsColumn.resync: sum and M2 of symbol s's window, oldest first, `head` the ring position after the last. */
function bbandsResync(n: i32, s: i32, sum: usize, m2: usize, ring: usize, mask: i32, period: i32, head: i32): void {
  let total = 0.0;
  for (let k = period; k > 0; k--) total += ld(ring, ((head - k) & mask) * n + s);
  const mean = total / <f64>period;
  let squares = 0.0;
  for (let k = period; k > 0; k--) {
    const d = ld(ring, ((head - k) & mask) * n + s) - mean;
    squares += d * d;
  }
  st(sum, s, total);
  st(m2, s, squares);
}

/** BbandsColumn.publish: the upper band. */
// @ts-ignore: decorator
@inline function bbandsPublish(s: i32, value: usize, run: usize, sum: usize, m2: usize, last: usize, period: i32, stdDev: f64): void {
  if (li(run, s) == period) {
    st(value, s, ld(last, s));
    return;
  }
  const mean = ld(sum, s) / <f64>period;
  const squares = ld(m2, s);
  const band = squares > 0 ? stdDev * Math.sqrt(squares / <f64>period) : 0;
  st(value, s, mean + band);
}

/** BbandsColumn.update. */
export function bbandsColumn(
  n: i32, from: i32, to: i32, close: usize, high: usize, low: usize, volume: usize, value: usize,
  count: usize, head: usize, until: usize, run: usize, sum: usize, m2: usize,
  last: usize, ring: usize, mask: i32, period: i32, stdDev: f64,
): void {
  const p = period;
  const every = resyncInterval(period);
  for (let s = from; s < to; s++) {
    const x = ld(close, s);
    if (x != x) continue;
    if (x == ld(last, s)) {
      const r = li(run, s);
      if (r < p) si(run, s, r + 1);
    } else {
      si(run, s, 1);
      st(last, s, x);
    }
    const h = li(head, s);
    si(head, s, h + 1);
    const c = li(count, s);
    if (c < p) {
      st(ring, (h & mask) * n + s, x);
      st(sum, s, ld(sum, s) + x);
      si(count, s, c + 1);
      if (c + 1 == p) {
        si(until, s, every);
        bbandsResync(n, s, sum, m2, ring, mask, p, h + 1);
        bbandsPublish(s, value, run, sum, m2, last, p, stdDev);
      }
      continue;
    }
    // Read the leaving value before writing: with period == capacity both use the same slot.
    const old = ld(ring, ((h - p) & mask) * n + s);
    st(ring, (h & mask) * n + s, x);
    const d = x - old;
    const oldSum = ld(sum, s);
    const oldMean = oldSum / <f64>p;
    const newSum = oldSum + d;
    st(sum, s, newSum);
    st(m2, s, ld(m2, s) + d * ((x - newSum / <f64>p) + (old - oldMean)));
    const u = li(until, s) - 1;
    if (u == 0) {
      si(until, s, every);
      bbandsResync(n, s, sum, m2, ring, mask, p, h + 1);
    } else {
      si(until, s, u);
    }
    bbandsPublish(s, value, run, sum, m2, last, p, stdDev);
  }
}

/** AtrColumn.update. */
export function atrColumn(
  n: i32, from: i32, to: i32, close: usize, high: usize, low: usize, volume: usize, value: usize,
  count: usize, prevClose: usize, atr: usize, period: i32,
): void {
  const p = period;
  const pm1 = <f64>(p - 1);
  const inverse = 1 / <f64>p;
  for (let s = from; s < to; s++) {
    const x = ld(close, s);
    if (x != x) continue;
    const h = ld(high, s);
    const l = ld(low, s);
    const previous = ld(prevClose, s);
    let tr = h - l;
    const up = abs<f64>(h - previous);
    if (up > tr) tr = up;
    const down = abs<f64>(l - previous);
    if (down > tr) tr = down;
    st(prevClose, s, x);
    const c = li(count, s);
    if (c > p) {
      const next = (ld(atr, s) * pm1 + tr) * inverse;
      st(atr, s, next);
      st(value, s, next);
      continue;
    }
    si(count, s, c + 1);
    if (c == 0) continue;
    st(atr, s, ld(atr, s) + tr);
    if (c == p) {
      const seeded = ld(atr, s) / <f64>p;
      st(atr, s, seeded);
      st(value, s, seeded);
    }
  }
}

/** VwapColumn.update. */
export function vwapColumn(
  n: i32, from: i32, to: i32, close: usize, high: usize, low: usize, volume: usize, value: usize,
  count: usize, head: usize, until: usize,
  traded: usize, sumPv: usize, sumVol: usize, sumTp: usize, pvRing: usize, volRing: usize, tpRing: usize, mask: i32, period: i32,
): void {
  const p = period;
  const every = resyncInterval(period);
  for (let s = from; s < to; s++) {
    const x = ld(close, s);
    if (x != x) continue;
    const v = ld(volume, s);
    const tp = typicalPrice(ld(high, s), ld(low, s), x);
    const pv = tp * v;
    if (v != 0) si(traded, s, li(traded, s) + 1);
    const h = li(head, s);
    si(head, s, h + 1);
    const slot = (h & mask) * n + s;
    const c = li(count, s);
    if (c < p) {
      st(pvRing, slot, pv);
      st(volRing, slot, v);
      st(tpRing, slot, tp);
      st(sumPv, s, ld(sumPv, s) + pv);
      st(sumVol, s, ld(sumVol, s) + v);
      st(sumTp, s, ld(sumTp, s) + tp);
      si(count, s, c + 1);
      if (c + 1 == p) {
        si(until, s, every);
        st(value, s, li(traded, s) == 0 ? ld(sumTp, s) / <f64>p : ld(sumPv, s) / ld(sumVol, s));
      }
      continue;
    }
    // Read the leaving bar before writing: with period == capacity both use the same slot.
    const oldSlot = ((h - p) & mask) * n + s;
    const oldPv = ld(pvRing, oldSlot);
    const oldVol = ld(volRing, oldSlot);
    const oldTp = ld(tpRing, oldSlot);
    st(pvRing, slot, pv);
    st(volRing, slot, v);
    st(tpRing, slot, tp);
    if (oldVol != 0) si(traded, s, li(traded, s) - 1);
    st(sumPv, s, ld(sumPv, s) + (pv - oldPv));
    st(sumVol, s, ld(sumVol, s) + (v - oldVol));
    st(sumTp, s, ld(sumTp, s) + (tp - oldTp));
    // Re-sum on schedule, or at once when rounding left no volume although a bar in the window traded.
    const u = li(until, s) - 1;
    si(until, s, u);
    const t = li(traded, s);
    if (u == 0 || (t != 0 && ld(sumVol, s) <= 0)) {
      if (u == 0) si(until, s, every);
      let pvs = 0.0;
      let vols = 0.0;
      let tps = 0.0;
      for (let k = p; k > 0; k--) {
        const at = ((h + 1 - k) & mask) * n + s;
        pvs += ld(pvRing, at);
        vols += ld(volRing, at);
        tps += ld(tpRing, at);
      }
      st(sumPv, s, pvs);
      st(sumVol, s, vols);
      st(sumTp, s, tps);
    } else if (t == 0) {
      st(sumPv, s, 0);
      st(sumVol, s, 0);
    }
    st(value, s, t == 0 ? ld(sumTp, s) / <f64>p : ld(sumPv, s) / ld(sumVol, s));
  }
}

/**
 * StochColumn.update. Per symbol: `bar`, `seen`, the two deques' head and tail (`maxHead`, `maxTail`, `minHead`,
 * `minTail`), each deque its own slice of `capacity` entries from s * capacity (`maxBar`/`minBar` i32, `maxVal`/
 * `minVal` f64); `kWindow` and `dWindow` are RollingSumColumns (count, sum, until, head per symbol; a ring).
 */
export function stochColumn(
  n: i32, from: i32, to: i32, close: usize, high: usize, low: usize, volume: usize, value: usize,
  bar: usize, seen: usize,
  maxHead: usize, maxTail: usize, minHead: usize, minTail: usize, maxBar: usize, maxVal: usize, minBar: usize, minVal: usize,
  capacity: i32, fastK: i32,
  kCount: usize, kSum: usize, kUntil: usize, kHead: usize, kRing: usize, kMask: i32, slowK: i32,
  dCount: usize, dSum: usize, dUntil: usize, dHead: usize, dRing: usize, dMask: i32, slowD: i32,
): void {
  const mask = capacity - 1;
  for (let s = from; s < to; s++) {
    const x = ld(close, s);
    if (x != x) continue;
    const base = s * capacity;
    const now = li(bar, s);
    si(bar, s, now + 1);
    // Highest high: values decrease from head to tail; a new high evicts every value <= it from the tail.
    const hi = ld(high, s);
    let h = li(maxHead, s);
    let t = li(maxTail, s);
    while (h != t && now - li(maxBar, base + (h & mask)) >= fastK) h++;
    while (h != t && ld(maxVal, base + ((t - 1) & mask)) <= hi) t--;
    si(maxBar, base + (t & mask), now);
    st(maxVal, base + (t & mask), hi);
    si(maxHead, s, h);
    si(maxTail, s, t + 1);
    const highest = ld(maxVal, base + (h & mask));
    // Lowest low: the mirror image.
    const lo = ld(low, s);
    h = li(minHead, s);
    t = li(minTail, s);
    while (h != t && now - li(minBar, base + (h & mask)) >= fastK) h++;
    while (h != t && ld(minVal, base + ((t - 1) & mask)) >= lo) t--;
    si(minBar, base + (t & mask), now);
    st(minVal, base + (t & mask), lo);
    si(minHead, s, h);
    si(minTail, s, t + 1);
    const lowest = ld(minVal, base + (h & mask));

    const seenNow = li(seen, s);
    if (seenNow < fastK) {
      si(seen, s, seenNow + 1);
      if (seenNow + 1 < fastK) continue;
    }
    const range = highest - lowest;
    rollingPush(n, s, range == 0 ? FLAT_STOCH : 100 * ((x - lowest) / range), kCount, kSum, kUntil, kHead, kRing, kMask, slowK);
    if (li(kCount, s) != slowK) continue;
    const k = ld(kSum, s) / <f64>slowK;
    rollingPush(n, s, k, dCount, dSum, dUntil, dHead, dRing, dMask, slowD);
    if (li(dCount, s) != slowD) continue;
    st(value, s, k);
  }
}

// ---- Cross-sections (cross-section.ts) ---------------------------------------------------------------------------

/**
 * The rank is crossSectionRank's, computed by a different sort: any correct sort gives the same ranks, since equal
 * values share their average position whatever order they came in, and the arithmetic of a rank is the same. Here
 * values and their symbols are moved as pairs into sorted position (contiguous, so every later step reads them in
 * order), and a bucket pass (about one value a bucket) is finished by ONE insertion pass over everything when no
 * bucket holds more than GLOBAL_INSERTION_MAX values; otherwise each bucket is sorted on its own. A big bucket
 * (values that crowd a part of the range: a far outlier, prices over orders of magnitude, fat-tailed returns) is
 * bucketed again over its own lowest and highest value, the same way, into scratch arrays, and then sorted by one
 * insertion pass or, sub-bucket by sub-bucket, by an introsort (a quicksort that turns to a heapsort past
 * 2 log2 n levels: O(n log n) whatever the values).
 */
const GLOBAL_INSERTION_MAX: i32 = 32;
const INSERTION_MAX: i32 = 24;

/** Bytes of the rank workspace for up to `capacity` values. */
export function rankWorkspaceBytes(capacity: i32): i32 {
  return capacity * (8 + 8 + 4 + 4 + 4) + 2 * (bucketsFor(capacity) + 1) * 4 + 64;
}

/** Buckets for n values: the power of two at or above n. */
function bucketsFor(n: i32): i32 {
  let b = 1;
  while (b < n) b <<= 1;
  return b;
}

// The workspace's arrays, laid out by layOut before a rank runs (one rank at a time per instance).
/** The finite values (-0 as +0) and their symbols, in sorted position. */
let sortedValue: usize = 0;
let sortedSymbol: usize = 0;
/** Where a big bucket's pairs are scattered into its sub-buckets, before they are copied back. */
let scratchValue: usize = 0;
let scratchSymbol: usize = 0;
/**
 * Symbol -> its bucket (-1: no value), then (once the pairs are in bucket position) a big bucket's value -> its
 * sub-bucket; per bucket its count, then its start (then its end, after the scatter); the same per sub-bucket.
 */
let bucketOf: usize = 0;
let bucketStart: usize = 0;
let subBucketStart: usize = 0;

function layOut(work: usize, capacity: i32): void {
  sortedValue = work;
  scratchValue = sortedValue + (<usize>capacity << 3);
  sortedSymbol = scratchValue + (<usize>capacity << 3);
  scratchSymbol = sortedSymbol + (<usize>capacity << 2);
  bucketOf = scratchSymbol + (<usize>capacity << 2);
  bucketStart = bucketOf + (<usize>capacity << 2);
  subBucketStart = bucketStart + (<usize>(bucketsFor(capacity) + 1) << 2);
}

/**
 * crossSectionRank: the fractional rank in [0, 1] of each finite value of values[0, n) into out (NaN for a NaN),
 * ties sharing their average rank, a single finite value 0.5; `work` a workspace of rankWorkspaceBytes(capacity).
 * `depth`: the introsort's quicksort levels before its heapsort (-1: 2 log2 of the bucket; tests pass 0).
 */
export function rank(values: usize, n: i32, out: usize, work: usize, capacity: i32, depth: i32): void {
  layOut(work, capacity);
  // The lowest and highest finite value, and how many: f64x2.pmin/pmax keep the accumulator when the value is NaN
  // (b < a ? b : a is false for a NaN b), so NaNs never enter; -0 may (v - -0 is v - +0: the same buckets).
  // The sum of the magnitudes too (a NaN masked to +0), for the bucket map.
  let low = f64x2.splat(Infinity);
  let high = f64x2.splat(-Infinity);
  let magnitudes = f64x2.splat(0);
  let finite = i64x2.splat(0);
  let s = 0;
  for (; s + 2 <= n; s += 2) {
    const v = v128.load(values + (<usize>s << 3));
    const has = f64x2.eq(v, v);
    low = f64x2.pmin(low, v);
    high = f64x2.pmax(high, v);
    magnitudes = f64x2.add(magnitudes, v128.and(f64x2.abs(v), has));
    finite = i64x2.sub(finite, has);
  }
  let lowest = min<f64>(f64x2.extract_lane(low, 0), f64x2.extract_lane(low, 1));
  let highest = max<f64>(f64x2.extract_lane(high, 0), f64x2.extract_lane(high, 1));
  let magnitude = f64x2.extract_lane(magnitudes, 0) + f64x2.extract_lane(magnitudes, 1);
  let m = <i32>(i64x2.extract_lane(finite, 0) + i64x2.extract_lane(finite, 1));
  if (s < n) {
    const v = ld(values, s);
    if (v == v) {
      m++;
      lowest = v < lowest ? v : lowest;
      highest = v > highest ? v : highest;
      magnitude += Math.abs(v);
    }
  }
  if (m <= 1) {
    for (let k = 0; k < n; k++) {
      const v = ld(values, k);
      st(out, k, v == v ? 0.5 : NaN);
    }
    return;
  }
  const buckets = bucketsFor(m);
  // No finite scale (an infinity among values of both signs, a span past the largest double, or below the
  // smallest): every value in bucket 0, and the introsort takes them all.
  const spread = setBucketMap(lowest, highest, magnitude / <f64>m, buckets);
  const byKey = bucketsByKey;
  const origin = bucketOrigin;
  const floorBits = bucketFloorBits;
  const originKey = bucketOriginKey;
  const scale = bucketScale;
  const last = buckets - 1;
  memory.fill(bucketStart, 0, <usize>(buckets + 1) << 2);
  for (let k = 0; k < n; k++) {
    const v = ld(values, k);
    if (v != v) {
      si(bucketOf, k, -1);
      st(out, k, NaN);
      continue;
    }
    const at = spread ? bucketOfValue(v, byKey, origin, floorBits, originKey, scale, last) : 0;
    si(bucketOf, k, at);
    si(bucketStart, at, li(bucketStart, at) + 1);
  }
  const biggest = countsToStarts(bucketStart, buckets);
  for (let k = 0; k < n; k++) {
    const b = li(bucketOf, k);
    if (b < 0) continue;
    const at = li(bucketStart, b);
    si(bucketStart, b, at + 1);
    const v = ld(values, k);
    st(sortedValue, at, v == 0 ? 0 : v);
    si(sortedSymbol, at, k);
  }
  if (!spread) {
    introsort(0, m, introsortLevels(m, depth));
  } else if (biggest <= GLOBAL_INSERTION_MAX) {
    // Every value is at most GLOBAL_INSERTION_MAX - 1 places from where it belongs (only within its bucket).
    insertionSort(0, m);
  } else {
    // bucketStart[b] is now bucket b's end.
    let from = 0;
    for (let b = 0; b < buckets; b++) {
      const to = li(bucketStart, b);
      if (to - from > INSERTION_MAX) rebucket(from, to, depth);
      else if (to - from > 1) insertionSort(from, to);
      from = to;
    }
  }
  // Runs of equal values share the average of their positions.
  const spread1 = <f64>(m - 1);
  for (let first = 0; first < m; ) {
    const v = ld(sortedValue, first);
    let end = first + 1;
    while (end < m && ld(sortedValue, end) == v) end++;
    const r = <f64>(first + end - 1) / 2 / spread1;
    for (let k = first; k < end; k++) st(out, li(sortedSymbol, k), r);
    first = end;
  }
}

/**
 * How values map to buckets, set by setBucketMap for values in [lowest, highest]. Linear in the value where that
 * spreads them; otherwise linear in a log-like key, logKey: a value's magnitude bits read as an integer (which grow
 * with a double about as its logarithm does) less those of a floor, signed as the value. The key serves
 * - values of one sign over orders of magnitude (prices, volumes, their averages: a linear map crowds most of them
 *   into its first buckets);
 * - fat tails (returns, MACD: a few far values stretch a linear range that the rest crowd the middle of).
 * Magnitudes below the floor share the key 0.
 * Both maps are monotone: a subtraction of the same origin (exact for keys, and a conversion that keeps their
 * order), a product by the same positive scale, a rounding to an integer. So equal values share a bucket and a
 * lower value never lands in a higher bucket, which is all the sort after it needs.
 */
let bucketsByKey = false;
let bucketOrigin: f64 = 0;
let bucketFloorBits: i64 = 0;
let bucketOriginKey: i64 = 0;
let bucketScale: f64 = 0;

const MAGNITUDE_BITS: i64 = 0x7FFFFFFFFFFFFFFF;

/** logKey of v, its magnitude floored at the magnitude whose bits are `floorBits`. */
// @ts-ignore: decorator
@inline function logKey(v: f64, floorBits: i64): i64 {
  const above = (reinterpret<i64>(v) & MAGNITUDE_BITS) - floorBits;
  const key = above > 0 ? above : 0;
  return v < 0 ? -key : key;
}

/**
 * Sets the map of [lowest, highest] (lowest < highest, `meanMagnitude` the values' mean |v|) onto `buckets`;
 * false when it has no finite scale.
 */
function setBucketMap(lowest: f64, highest: f64, meanMagnitude: f64, buckets: i32): bool {
  const oneSign = lowest > 0 || highest < 0;
  const smallest = oneSign ? min<f64>(Math.abs(lowest), Math.abs(highest)) : 0;
  const largest = max<f64>(Math.abs(lowest), Math.abs(highest));
  // The key map for values of one sign past 16x apart (a log-uniform spread puts 1/16 of them or more into a linear
  // map's first bucket), its floor their smallest magnitude; for values of both signs whose largest magnitude is
  // past 8x their mean (a uniform spread is 2x, a normal one's extremes at 10,000 values about 5x: a far value
  // stretches a linear range the others crowd a small part of), its floor 2^-10 of the mean (9.765625e-4).
  const keyed = oneSign ? largest > smallest * 16 : largest > meanMagnitude * 8;
  if (keyed) {
    const floor = oneSign ? smallest : meanMagnitude * 9.765625e-4;
    bucketFloorBits = reinterpret<i64>(floor);
    bucketOriginKey = logKey(lowest, bucketFloorBits);
    const span = logKey(highest, bucketFloorBits) - bucketOriginKey;
    if (span > 0) {
      bucketsByKey = true;
      bucketScale = <f64>buckets / <f64>span;
      return true;
    }
  }
  bucketsByKey = false;
  bucketOrigin = lowest;
  bucketScale = <f64>buckets / (highest - lowest);
  return bucketScale < Infinity && bucketScale > 0;
}

/**
 * The bucket of v under the map (the map's fields passed in, as locals of the caller's loop), at most `last`. Its
 * position x is in [0, buckets], never NaN: v is in the map's [lowest, highest] (NaN left out), a map without a
 * finite positive scale is never used, and with `buckets` a power of two the highest value's position rounds to
 * `buckets` at most. So it is rounded to the nearest integer (ties to even) by adding 2^52 and reading the low
 * bits: monotone like a truncation (bucket 0 holds positions up to 0.5, the last from last - 0.5), and a third
 * cheaper in this pass than a saturating truncation.
 */
// @ts-ignore: decorator
@inline function bucketOfValue(v: f64, byKey: bool, origin: f64, floorBits: i64, originKey: i64, scale: f64, last: i32): i32 {
  const x = byKey ? <f64>(logKey(v, floorBits) - originKey) * scale : (v - origin) * scale;
  const b = <i32>reinterpret<i64>(x + 4503599627370496.0);
  return b < last ? b : last;
}

/**
 * Sorts the pairs in [from, to), a big bucket, by value: bucketed again over their own lowest and highest value
 * (about one a sub-bucket), then one insertion pass, or per sub-bucket an introsort when one still holds more than
 * GLOBAL_INSERTION_MAX (values that crowd even this range: ties, a cluster next to an outlier).
 */
function rebucket(from: i32, to: i32, depth: i32): void {
  const size = to - from;
  let lowest = ld(sortedValue, from);
  let highest = lowest;
  let magnitude = Math.abs(lowest);
  for (let i = from + 1; i < to; i++) {
    const v = ld(sortedValue, i);
    lowest = v < lowest ? v : lowest;
    highest = v > highest ? v : highest;
    magnitude += Math.abs(v);
  }
  if (lowest == highest) return; // all equal: already in order
  const buckets = bucketsFor(size);
  if (!setBucketMap(lowest, highest, magnitude / <f64>size, buckets)) {
    introsort(from, to, introsortLevels(size, depth));
    return;
  }
  const byKey = bucketsByKey;
  const origin = bucketOrigin;
  const floorBits = bucketFloorBits;
  const originKey = bucketOriginKey;
  const scale = bucketScale;
  const last = buckets - 1;
  memory.fill(subBucketStart, 0, <usize>(buckets + 1) << 2);
  for (let i = from; i < to; i++) {
    const at = bucketOfValue(ld(sortedValue, i), byKey, origin, floorBits, originKey, scale, last);
    si(bucketOf, i - from, at);
    si(subBucketStart, at, li(subBucketStart, at) + 1);
  }
  const biggest = countsToStarts(subBucketStart, buckets);
  for (let i = from; i < to; i++) {
    const b = li(bucketOf, i - from);
    const at = li(subBucketStart, b);
    si(subBucketStart, b, at + 1);
    st(scratchValue, at, ld(sortedValue, i));
    si(scratchSymbol, at, li(sortedSymbol, i));
  }
  memory.copy(sortedValue + (<usize>from << 3), scratchValue, <usize>size << 3);
  memory.copy(sortedSymbol + (<usize>from << 2), scratchSymbol, <usize>size << 2);
  if (biggest <= GLOBAL_INSERTION_MAX) {
    insertionSort(from, to);
    return;
  }
  // subBucketStart[b] is now sub-bucket b's end, relative to `from`.
  let start = from;
  for (let b = 0; b < buckets; b++) {
    const end = from + li(subBucketStart, b);
    if (end - start > 1) introsort(start, end, introsortLevels(end - start, depth));
    start = end;
  }
}

/**
 * Turns per-bucket counts at `counts` (buckets of them) into each bucket's start, in place; returns the largest
 * count.
 */
function countsToStarts(counts: usize, buckets: i32): i32 {
  let position = 0;
  let biggest = 0;
  for (let b = 0; b < buckets; b++) {
    const count = li(counts, b);
    si(counts, b, position);
    position += count;
    biggest = count > biggest ? count : biggest;
  }
  return biggest;
}

/** The introsort's quicksort levels for `size` values: `depth` as given, or 2 log2 of the size for -1. */
// @ts-ignore: decorator
@inline function introsortLevels(size: i32, depth: i32): i32 {
  return depth < 0 ? 2 * (32 - clz<i32>(size)) : depth;
}

/** Sorts the pairs in [from, to) by value, by insertion. */
function insertionSort(from: i32, to: i32): void {
  for (let i = from + 1; i < to; i++) {
    const v = ld(sortedValue, i);
    if (!(v < ld(sortedValue, i - 1))) continue;
    const symbol = li(sortedSymbol, i);
    let j = i - 1;
    do {
      st(sortedValue, j + 1, ld(sortedValue, j));
      si(sortedSymbol, j + 1, li(sortedSymbol, j));
      j--;
    } while (j >= from && ld(sortedValue, j) > v);
    st(sortedValue, j + 1, v);
    si(sortedSymbol, j + 1, symbol);
  }
}

// @ts-ignore: decorator
@inline function swapPairs(a: i32, b: i32): void {
  const v = ld(sortedValue, a);
  st(sortedValue, a, ld(sortedValue, b));
  st(sortedValue, b, v);
  const s = li(sortedSymbol, a);
  si(sortedSymbol, a, li(sortedSymbol, b));
  si(sortedSymbol, b, s);
}

/**
 * Sorts the pairs in [from, to) by value: a quicksort (median of three, Dijkstra's three-way partition, so equal
 * values are set aside, not recursed into; the smaller side recursed, the larger looped), insertion below
 * INSERTION_MAX, a heapsort once `depth` levels are spent.
 */
function introsort(from: i32, to: i32, depth: i32): void {
  let lo = from;
  let hi = to;
  while (hi - lo > INSERTION_MAX) {
    if (depth-- == 0) {
      heapsort(lo, hi);
      return;
    }
    const a = ld(sortedValue, lo);
    const b = ld(sortedValue, (lo + hi) >>> 1);
    const c = ld(sortedValue, hi - 1);
    const pivot = a < b ? (b < c ? b : a < c ? c : a) : (a < c ? a : b < c ? c : b);
    let lt = lo;
    let i = lo;
    let gt = hi - 1;
    while (i <= gt) {
      const v = ld(sortedValue, i);
      if (v < pivot) swapPairs(i++, lt++);
      else if (v > pivot) swapPairs(i, gt--);
      else i++;
    }
    if (lt - lo < hi - gt - 1) {
      introsort(lo, lt, depth);
      lo = gt + 1;
    } else {
      introsort(gt + 1, hi, depth);
      hi = lt;
    }
  }
  insertionSort(lo, hi);
}

/** Sorts the pairs in [from, to) by value: a heapsort (max-heap, sifted down). */
function heapsort(from: i32, to: i32): void {
  const n = to - from;
  for (let root = (n >> 1) - 1; root >= 0; root--) siftDown(from, root, n);
  for (let end = n - 1; end > 0; end--) {
    swapPairs(from, from + end);
    siftDown(from, 0, end);
  }
}

function siftDown(base: i32, root: i32, n: i32): void {
  let parent = root;
  for (;;) {
    let child = 2 * parent + 1;
    if (child >= n) return;
    if (child + 1 < n && ld(sortedValue, base + child + 1) > ld(sortedValue, base + child)) child++;
    if (!(ld(sortedValue, base + child) > ld(sortedValue, base + parent))) return;
    swapPairs(base + parent, base + child);
    parent = child;
  }
}

/**
 * crossSectionZScore: (value - mean) / population standard deviation across the finite values of values[0, n),
 * each sum in four lanes (value i in lane i % 4: the two lanes of `low` then of `high`), added up as
 * (lane 0 + lane 1) + (lane 2 + lane 3), as the JS function does. A NaN adds +0 (masked to all-zero bits).
 */
export function zscore(values: usize, n: i32, out: usize): void {
  let low = f64x2.splat(0);
  let high = f64x2.splat(0);
  let count = i64x2.splat(0);
  let s = 0;
  for (; s + 4 <= n; s += 4) {
    const at = values + (<usize>s << 3);
    const a = v128.load(at);
    const b = v128.load(at, 16);
    const aHas = f64x2.eq(a, a);
    const bHas = f64x2.eq(b, b);
    low = f64x2.add(low, v128.and(a, aHas));
    high = f64x2.add(high, v128.and(b, bHas));
    count = i64x2.sub(i64x2.sub(count, aHas), bHas);
  }
  let sum0 = f64x2.extract_lane(low, 0);
  let sum1 = f64x2.extract_lane(low, 1);
  let sum2 = f64x2.extract_lane(high, 0);
  const sum3 = f64x2.extract_lane(high, 1);
  let m = <i32>(i64x2.extract_lane(count, 0) + i64x2.extract_lane(count, 1));
  for (; s < n; s++) {
    const v = ld(values, s);
    if (v != v) continue;
    m++;
    const lane = s & 3;
    if (lane == 0) sum0 += v;
    else if (lane == 1) sum1 += v;
    else sum2 += v;
  }
  const mean = m == 0 ? 0 : ((sum0 + sum1) + (sum2 + sum3)) / <f64>m;
  const means = f64x2.splat(mean);
  low = f64x2.splat(0);
  high = f64x2.splat(0);
  for (s = 0; s + 4 <= n; s += 4) {
    const at = values + (<usize>s << 3);
    const a = f64x2.sub(v128.load(at), means);
    const b = f64x2.sub(v128.load(at, 16), means);
    low = f64x2.add(low, v128.and(f64x2.mul(a, a), f64x2.eq(a, a)));
    high = f64x2.add(high, v128.and(f64x2.mul(b, b), f64x2.eq(b, b)));
  }
  sum0 = f64x2.extract_lane(low, 0);
  sum1 = f64x2.extract_lane(low, 1);
  sum2 = f64x2.extract_lane(high, 0);
  const squares3 = f64x2.extract_lane(high, 1);
  for (; s < n; s++) {
    const v = ld(values, s) - mean;
    if (v != v) continue;
    const lane = s & 3;
    if (lane == 0) sum0 += v * v;
    else if (lane == 1) sum1 += v * v;
    else sum2 += v * v;
  }
  const sd = m == 0 ? 0 : Math.sqrt(((sum0 + sum1) + (sum2 + squares3)) / <f64>m);
  if (sd == 0) {
    for (s = 0; s < n; s++) {
      const v = ld(values, s);
      st(out, s, v != v ? NaN : 0);
    }
    return;
  }
  // (NaN - mean) / sd is NaN: a missing value stays missing.
  const sds = f64x2.splat(sd);
  for (s = 0; s + 2 <= n; s += 2) {
    v128.store(out + (<usize>s << 3), f64x2.div(f64x2.sub(v128.load(values + (<usize>s << 3)), means), sds));
  }
  if (s < n) st(out, s, (ld(values, s) - mean) / sd);
}
