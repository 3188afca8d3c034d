// Multi-symbol indicator kernels with f64x2 SIMD, compiled to build/wasm/indicators-simd.wasm with
// `--enable simd` (AssemblyScript; see assembly/build.ts).
//
// Layout: BAR-MAJOR panels. `symbols` series of `bars` values each are stored row by row, one row per bar:
//
//     element (bar t, symbol s) at index t * symbols + s
//
//              s=0    s=1    s=2    s=3    s=4
//     t=0    [ a0 ] [ b0 ] [ c0 ] [ d0 ] [ e0 ]     <- one row: every symbol's value at bar 0
//     t=1    [ a1 ] [ b1 ] [ c1 ] [ d1 ] [ e1 ]
//             \____ lane pair ___/ \__ pair _/ \_ tail: lane 0 of a half-loaded vector
//
// A single series' recursion (ema = (x - ema) * alpha + ema) is bound by the latency of its add chain; across
// symbols the chains are independent. Each kernel walks the rows in order and, within a row, two adjacent
// symbols per f64x2 vector (one 16-byte load of two closes); an odd last symbol runs in lane 0 of a
// half-loaded vector. Per-symbol state (EMA value, Wilder averages, window sums) lives in `state` arrays of
// `padded(symbols)` f64 in linear memory and is read and written once per row, so every row is a stream of
// independent vector operations and the memory traffic is sequential. Outputs use the same layout.
//
// Kernels take the symbols they compute (`symbols`, from the first column at the given addresses) apart from the
// row length (`stride`, the panel's symbol count): a worker thread runs the columns [first, first + symbols) of a
// panel in the shared memory by passing addresses offset by `first` and the panel's stride.
//
// Every lane performs exactly the operations of the JS batch function (smaBatch, emaBatch, rsiBatch, atrBatch,
// macdBatch) in the same order, with branches turned into bit selects that pick the same value, so each
// symbol's output equals the single-series result bit for bit. Inputs were checked by the caller.

import { resyncInterval } from './common';

export { heapBase, firstNonFinite, firstHighBelowLow } from './common';

/** Symbols rounded up to even: the length of every per-symbol `state` array (a whole vector per pair). */
export function padded(symbols: i32): i32 {
  return (symbols + 1) & ~1;
}

// Vector access at element index e: two lanes (a symbol pair) or one (the odd last symbol, lane 1 zero).
// @ts-ignore: decorator
@inline function ldv(base: usize, e: i32, half: bool): v128 {
  return half ? v128.load64_zero(base + (<usize>e << 3)) : v128.load(base + (<usize>e << 3));
}
// @ts-ignore: decorator
@inline function stv(base: usize, e: i32, v: v128, half: bool): void {
  if (half) v128.store64_lane(base + (<usize>e << 3), v, 0);
  else v128.store(base + (<usize>e << 3), v);
}
// State arrays are padded, so they are always accessed as whole vectors.
// @ts-ignore: decorator
@inline function lds(state: usize, s: i32): v128 {
  return v128.load(state + (<usize>s << 3));
}
// @ts-ignore: decorator
@inline function sts(state: usize, s: i32, v: v128): void {
  v128.store(state + (<usize>s << 3), v);
}

function zeroState(state: usize, symbols: i32): void {
  memory.fill(state, 0, <usize>padded(symbols) << 3);
}

/** Writes NaN to rows [from, to) of a panel. */
function nanRows(out: usize, symbols: i32, stride: i32, from: i32, to: i32): void {
  const nan = f64x2.splat(NaN);
  const pairs = symbols & ~1;
  for (let t = from; t < to; t++) {
    const row = t * stride;
    for (let s = 0; s < pairs; s += 2) stv(out, row + s, nan, false);
    if (symbols & 1) stv(out, row + pairs, nan, true);
  }
}

// ---- SMA (smaBatch) ----------------------------------------------------------------------------------------

// @ts-ignore: decorator
@inline function smaAdd(close: usize, sum: usize, row: i32, s: i32, half: bool): void {
  sts(sum, s, f64x2.add(lds(sum, s), ldv(close, row + s, half)));
}
// @ts-ignore: decorator
@inline function smaSlide(close: usize, out: usize, sum: usize, row: i32, back: i32, s: i32, p: v128, half: bool): void {
  const v = f64x2.add(lds(sum, s), f64x2.sub(ldv(close, row + s, half), ldv(close, row - back + s, half)));
  sts(sum, s, v);
  stv(out, row + s, f64x2.div(v, p), half);
}
// @ts-ignore: decorator
@inline function smaResum(close: usize, out: usize, sum: usize, stride: i32, t: i32, period: i32, s: i32, p: v128, half: bool): void {
  let v = f64x2.splat(0);
  for (let r = t - period + 1; r <= t; r++) v = f64x2.add(v, ldv(close, r * stride + s, half));
  sts(sum, s, v);
  stv(out, t * stride + s, f64x2.div(v, p), half);
}

/** smaBatch per symbol; `state` holds padded(symbols) f64. */
export function smaMany(close: usize, symbols: i32, stride: i32, bars: i32, period: i32, out: usize, state: usize): void {
  const pairs = symbols & ~1;
  const odd = (symbols & 1) != 0;
  const p = f64x2.splat(<f64>period);
  zeroState(state, symbols);
  nanRows(out, symbols, stride, 0, period - 1);
  for (let t = 0; t < period; t++) {
    const row = t * stride;
    for (let s = 0; s < pairs; s += 2) smaAdd(close, state, row, s, false);
    if (odd) smaAdd(close, state, row, pairs, true);
  }
  {
    const row = (period - 1) * stride;
    for (let s = 0; s < pairs; s += 2) stv(out, row + s, f64x2.div(lds(state, s), p), false);
    if (odd) stv(out, row + pairs, f64x2.div(lds(state, pairs), p), true);
  }
  const every = resyncInterval(period);
  const back = period * stride;
  let t = period;
  for (let resyncAt = period - 1 + every; t < bars; resyncAt += every) {
    const stop = resyncAt < bars ? resyncAt : bars;
    for (; t < stop; t++) {
      const row = t * stride;
      for (let s = 0; s < pairs; s += 2) smaSlide(close, out, state, row, back, s, p, false);
      if (odd) smaSlide(close, out, state, row, back, pairs, p, true);
    }
    if (resyncAt < bars) {
      for (let s = 0; s < pairs; s += 2) smaResum(close, out, state, stride, t, period, s, p, false);
      if (odd) smaResum(close, out, state, stride, t, period, pairs, p, true);
      t++;
    }
  }
}

// ---- EMA (emaBatch) ----------------------------------------------------------------------------------------

// @ts-ignore: decorator
@inline function emaStep(close: usize, out: usize, state: usize, row: i32, s: i32, alpha: v128, half: bool): void {
  const e = lds(state, s);
  const v = f64x2.add(f64x2.mul(f64x2.sub(ldv(close, row + s, half), e), alpha), e);
  sts(state, s, v);
  stv(out, row + s, v, half);
}

/** emaBatch per symbol; `state` holds padded(symbols) f64. */
export function emaMany(close: usize, symbols: i32, stride: i32, bars: i32, period: i32, out: usize, state: usize): void {
  const pairs = symbols & ~1;
  const odd = (symbols & 1) != 0;
  const p = f64x2.splat(<f64>period);
  const alpha = f64x2.splat(2.0 / (<f64>period + 1.0));
  zeroState(state, symbols);
  nanRows(out, symbols, stride, 0, period - 1);
  for (let t = 0; t < period; t++) {
    const row = t * stride;
    for (let s = 0; s < pairs; s += 2) smaAdd(close, state, row, s, false);
    if (odd) smaAdd(close, state, row, pairs, true);
  }
  {
    const row = (period - 1) * stride;
    for (let s = 0; s < pairs; s += 2) {
      const v = f64x2.div(lds(state, s), p);
      sts(state, s, v);
      stv(out, row + s, v, false);
    }
    if (odd) {
      const v = f64x2.div(lds(state, pairs), p);
      sts(state, pairs, v);
      stv(out, row + pairs, v, true);
    }
  }
  for (let t = period; t < bars; t++) {
    const row = t * stride;
    for (let s = 0; s < pairs; s += 2) emaStep(close, out, state, row, s, alpha, false);
    if (odd) emaStep(close, out, state, row, pairs, alpha, true);
  }
}

// ---- RSI (rsiBatch) ----------------------------------------------------------------------------------------

// `if (change < 0) loss -= change; else gain += change;` as bit selects on the mask change < 0.
// @ts-ignore: decorator
@inline function rsiAccumulate(gain: v128, loss: v128, change: v128, gainState: usize, lossState: usize, s: i32): void {
  const negative = f64x2.lt(change, f64x2.splat(0));
  sts(lossState, s, v128.bitselect(f64x2.sub(loss, change), loss, negative));
  sts(gainState, s, v128.bitselect(gain, f64x2.add(gain, change), negative));
}
// rsiFromAverages: 50 where gain + loss == 0, else 100 * (gain / total).
// @ts-ignore: decorator
@inline function rsiValue(gain: v128, loss: v128): v128 {
  const total = f64x2.add(gain, loss);
  const value = f64x2.mul(f64x2.splat(100), f64x2.div(gain, total));
  return v128.bitselect(f64x2.splat(50), value, f64x2.eq(total, f64x2.splat(0)));
}
// @ts-ignore: decorator
@inline function rsiSeed(close: usize, gainState: usize, lossState: usize, row: i32, stride: i32, s: i32, half: bool): void {
  const change = f64x2.sub(ldv(close, row + s, half), ldv(close, row - stride + s, half));
  rsiAccumulate(lds(gainState, s), lds(lossState, s), change, gainState, lossState, s);
}
// @ts-ignore: decorator
@inline function rsiFirst(out: usize, gainState: usize, lossState: usize, row: i32, s: i32, p: v128, half: bool): void {
  const gain = f64x2.div(lds(gainState, s), p);
  const loss = f64x2.div(lds(lossState, s), p);
  sts(gainState, s, gain);
  sts(lossState, s, loss);
  stv(out, row + s, rsiValue(gain, loss), half);
}
// @ts-ignore: decorator
@inline function rsiStep(
  close: usize, out: usize, gainState: usize, lossState: usize, row: i32, stride: i32, s: i32, inv: v128, pm1: v128, half: bool,
): void {
  const change = f64x2.sub(ldv(close, row + s, half), ldv(close, row - stride + s, half));
  let gain = f64x2.mul(lds(gainState, s), pm1);
  let loss = f64x2.mul(lds(lossState, s), pm1);
  const negative = f64x2.lt(change, f64x2.splat(0));
  loss = v128.bitselect(f64x2.sub(loss, change), loss, negative);
  gain = v128.bitselect(gain, f64x2.add(gain, change), negative);
  gain = f64x2.mul(gain, inv);
  loss = f64x2.mul(loss, inv);
  sts(gainState, s, gain);
  sts(lossState, s, loss);
  stv(out, row + s, rsiValue(gain, loss), half);
}

/** rsiBatch per symbol; `state` holds 2 * padded(symbols) f64 (average gains, then average losses). */
export function rsiMany(close: usize, symbols: i32, stride: i32, bars: i32, period: i32, out: usize, state: usize): void {
  const pairs = symbols & ~1;
  const odd = (symbols & 1) != 0;
  const gainState = state;
  const lossState = state + (<usize>padded(symbols) << 3);
  memory.fill(state, 0, <usize>padded(symbols) << 4);
  const seedEnd = period < bars ? period : bars - 1;
  nanRows(out, symbols, stride, 0, seedEnd + 1);
  for (let t = 1; t <= seedEnd; t++) {
    const row = t * stride;
    for (let s = 0; s < pairs; s += 2) rsiSeed(close, gainState, lossState, row, stride, s, false);
    if (odd) rsiSeed(close, gainState, lossState, row, stride, pairs, true);
  }
  if (period >= bars) return;
  const p = f64x2.splat(<f64>period);
  const pm1 = f64x2.splat(<f64>(period - 1));
  {
    const row = period * stride;
    for (let s = 0; s < pairs; s += 2) rsiFirst(out, gainState, lossState, row, s, p, false);
    if (odd) rsiFirst(out, gainState, lossState, row, pairs, p, true);
  }
  const inv = f64x2.splat(1.0 / <f64>period);
  for (let t = period + 1; t < bars; t++) {
    const row = t * stride;
    for (let s = 0; s < pairs; s += 2) rsiStep(close, out, gainState, lossState, row, stride, s, inv, pm1, false);
    if (odd) rsiStep(close, out, gainState, lossState, row, stride, pairs, inv, pm1, true);
  }
}

// ---- ATR (atrBatch) ----------------------------------------------------------------------------------------

// trueRange: `if (up > tr) tr = up` is pmax(tr, up) (tr < up ? up : tr), which keeps the first maximum.
// @ts-ignore: decorator
@inline function trueRange(high: usize, low: usize, close: usize, row: i32, stride: i32, s: i32, half: bool): v128 {
  const h = ldv(high, row + s, half);
  const l = ldv(low, row + s, half);
  const prevClose = ldv(close, row - stride + s, half);
  let tr = f64x2.sub(h, l);
  tr = f64x2.pmax(tr, f64x2.abs(f64x2.sub(h, prevClose)));
  return f64x2.pmax(tr, f64x2.abs(f64x2.sub(l, prevClose)));
}
// @ts-ignore: decorator
@inline function atrSeed(high: usize, low: usize, close: usize, state: usize, row: i32, stride: i32, s: i32, half: bool): void {
  sts(state, s, f64x2.add(lds(state, s), trueRange(high, low, close, row, stride, s, half)));
}
// @ts-ignore: decorator
@inline function atrStep(
  high: usize, low: usize, close: usize, out: usize, state: usize, row: i32, stride: i32, s: i32, inv: v128, pm1: v128, half: bool,
): void {
  const tr = trueRange(high, low, close, row, stride, s, half);
  const v = f64x2.mul(f64x2.add(f64x2.mul(lds(state, s), pm1), tr), inv);
  sts(state, s, v);
  stv(out, row + s, v, half);
}

/** atrBatch per symbol; `state` holds padded(symbols) f64. */
export function atrMany(
  high: usize, low: usize, close: usize, symbols: i32, stride: i32, bars: i32, period: i32, out: usize, state: usize,
): void {
  const pairs = symbols & ~1;
  const odd = (symbols & 1) != 0;
  zeroState(state, symbols);
  const seedEnd = period < bars ? period : bars - 1;
  nanRows(out, symbols, stride, 0, seedEnd + 1);
  for (let t = 1; t <= seedEnd; t++) {
    const row = t * stride;
    for (let s = 0; s < pairs; s += 2) atrSeed(high, low, close, state, row, stride, s, false);
    if (odd) atrSeed(high, low, close, state, row, stride, pairs, true);
  }
  if (period >= bars) return;
  const p = f64x2.splat(<f64>period);
  const pm1 = f64x2.splat(<f64>(period - 1));
  {
    const row = period * stride;
    for (let s = 0; s < pairs; s += 2) {
      const v = f64x2.div(lds(state, s), p);
      sts(state, s, v);
      stv(out, row + s, v, false);
    }
    if (odd) {
      const v = f64x2.div(lds(state, pairs), p);
      sts(state, pairs, v);
      stv(out, row + pairs, v, true);
    }
  }
  const inv = f64x2.splat(1.0 / <f64>period);
  for (let t = period + 1; t < bars; t++) {
    const row = t * stride;
    for (let s = 0; s < pairs; s += 2) atrStep(high, low, close, out, state, row, stride, s, inv, pm1, false);
    if (odd) atrStep(high, low, close, out, state, row, stride, pairs, inv, pm1, true);
  }
}

// ---- MACD (macdBatch) --------------------------------------------------------------------------------------

// @ts-ignore: decorator
@inline function macdSeedSums(close: usize, fast: usize, slow: usize, row: i32, s: i32, withFast: bool, half: bool): void {
  const x = ldv(close, row + s, half);
  sts(slow, s, f64x2.add(lds(slow, s), x));
  if (withFast) sts(fast, s, f64x2.add(lds(fast, s), x));
}
// @ts-ignore: decorator
@inline function macdSeedEmas(fast: usize, slow: usize, signal: usize, s: i32, fp: v128, sp: v128): void {
  const f = f64x2.div(lds(fast, s), fp);
  const w = f64x2.div(lds(slow, s), sp);
  sts(fast, s, f);
  sts(slow, s, w);
  sts(signal, s, f64x2.sub(f, w));
}
// @ts-ignore: decorator
@inline function macdSeedSignal(
  close: usize, fast: usize, slow: usize, signal: usize, row: i32, s: i32, fa: v128, sa: v128, half: bool,
): void {
  const x = ldv(close, row + s, half);
  const f0 = lds(fast, s);
  const w0 = lds(slow, s);
  const f = f64x2.add(f64x2.mul(f64x2.sub(x, f0), fa), f0);
  const w = f64x2.add(f64x2.mul(f64x2.sub(x, w0), sa), w0);
  sts(fast, s, f);
  sts(slow, s, w);
  sts(signal, s, f64x2.add(lds(signal, s), f64x2.sub(f, w)));
}
// @ts-ignore: decorator
@inline function macdFirst(
  fast: usize, slow: usize, signal: usize, macdOut: usize, signalOut: usize, histOut: usize, row: i32, s: i32, gp: v128, half: bool,
): void {
  const sig = f64x2.div(lds(signal, s), gp);
  const m = f64x2.sub(lds(fast, s), lds(slow, s));
  sts(signal, s, sig);
  stv(macdOut, row + s, m, half);
  stv(signalOut, row + s, sig, half);
  stv(histOut, row + s, f64x2.sub(m, sig), half);
}
// @ts-ignore: decorator
@inline function macdStep(
  close: usize, fast: usize, slow: usize, signal: usize, macdOut: usize, signalOut: usize, histOut: usize,
  row: i32, s: i32, fa: v128, sa: v128, ga: v128, half: bool,
): void {
  const x = ldv(close, row + s, half);
  const f0 = lds(fast, s);
  const w0 = lds(slow, s);
  const g0 = lds(signal, s);
  const f = f64x2.add(f64x2.mul(f64x2.sub(x, f0), fa), f0);
  const w = f64x2.add(f64x2.mul(f64x2.sub(x, w0), sa), w0);
  const m = f64x2.sub(f, w);
  const g = f64x2.add(f64x2.mul(f64x2.sub(m, g0), ga), g0);
  sts(fast, s, f);
  sts(slow, s, w);
  sts(signal, s, g);
  stv(macdOut, row + s, m, half);
  stv(signalOut, row + s, g, half);
  stv(histOut, row + s, f64x2.sub(m, g), half);
}

/** macdBatch per symbol; `state` holds 3 * padded(symbols) f64 (fast EMA, slow EMA, signal). */
export function macdMany(
  close: usize, symbols: i32, stride: i32, bars: i32, fastPeriod: i32, slowPeriod: i32, signalPeriod: i32,
  macdOut: usize, signalOut: usize, histOut: usize, state: usize,
): void {
  const pairs = symbols & ~1;
  const odd = (symbols & 1) != 0;
  const stateBytes = <usize>padded(symbols) << 3;
  const fast = state;
  const slow = state + stateBytes;
  const signal = state + 2 * stateBytes;
  const first = slowPeriod + signalPeriod - 2;
  const warmEnd = first < bars ? first : bars;
  nanRows(macdOut, symbols, stride, 0, warmEnd);
  nanRows(signalOut, symbols, stride, 0, warmEnd);
  nanRows(histOut, symbols, stride, 0, warmEnd);
  if (first >= bars) return;

  memory.fill(state, 0, 3 * stateBytes);
  const fastStart = slowPeriod - fastPeriod;
  for (let t = 0; t < slowPeriod; t++) {
    const row = t * stride;
    const withFast = t >= fastStart;
    if (withFast) {
      for (let s = 0; s < pairs; s += 2) macdSeedSums(close, fast, slow, row, s, true, false);
      if (odd) macdSeedSums(close, fast, slow, row, pairs, true, true);
    } else {
      for (let s = 0; s < pairs; s += 2) macdSeedSums(close, fast, slow, row, s, false, false);
      if (odd) macdSeedSums(close, fast, slow, row, pairs, false, true);
    }
  }
  const fa = f64x2.splat(2.0 / (<f64>fastPeriod + 1.0));
  const sa = f64x2.splat(2.0 / (<f64>slowPeriod + 1.0));
  const ga = f64x2.splat(2.0 / (<f64>signalPeriod + 1.0));
  const fp = f64x2.splat(<f64>fastPeriod);
  const sp = f64x2.splat(<f64>slowPeriod);
  const gp = f64x2.splat(<f64>signalPeriod);
  for (let s = 0; s < symbols; s += 2) macdSeedEmas(fast, slow, signal, s, fp, sp);
  for (let t = slowPeriod; t <= first; t++) {
    const row = t * stride;
    for (let s = 0; s < pairs; s += 2) macdSeedSignal(close, fast, slow, signal, row, s, fa, sa, false);
    if (odd) macdSeedSignal(close, fast, slow, signal, row, pairs, fa, sa, true);
  }
  {
    const row = first * stride;
    for (let s = 0; s < pairs; s += 2) macdFirst(fast, slow, signal, macdOut, signalOut, histOut, row, s, gp, false);
    if (odd) macdFirst(fast, slow, signal, macdOut, signalOut, histOut, row, pairs, gp, true);
  }
  for (let t = first + 1; t < bars; t++) {
    const row = t * stride;
    for (let s = 0; s < pairs; s += 2) {
      macdStep(close, fast, slow, signal, macdOut, signalOut, histOut, row, s, fa, sa, ga, false);
    }
    if (odd) macdStep(close, fast, slow, signal, macdOut, signalOut, histOut, row, pairs, fa, sa, ga, true);
  }
}

// ---- Gram matrix (engine/batch/gram.ts: gramBatch) ------------------------------------------------------------
//
// Rows are row-major here (row i's `length` values contiguous), not bar-major: out[i][j] = (z_i . z_j) / length.
// The reference keeps four partial sums by k mod 4; two f64x2 accumulators hold them as lanes (s0, s1) and
// (s2, s3), so every lane adds exactly the products the JS loop adds, in the same order (wasm has no fused
// multiply-add outside relaxed SIMD), and the result is the reference's bit for bit.

// @ts-ignore: decorator
@inline function gramPair(z: usize, length: i32, a: usize, b: usize): f64 {
  let lo = f64x2.splat(0);
  let hi = f64x2.splat(0);
  let k = 0;
  for (; k + 4 <= length; k += 4) {
    const offset = <usize>k << 3;
    lo = f64x2.add(lo, f64x2.mul(v128.load(a + offset), v128.load(b + offset)));
    hi = f64x2.add(hi, f64x2.mul(v128.load(a + offset + 16), v128.load(b + offset + 16)));
  }
  let s0 = f64x2.extract_lane(lo, 0);
  for (; k < length; k++) s0 += load<f64>(a + (<usize>k << 3)) * load<f64>(b + (<usize>k << 3));
  return ((s0 + f64x2.extract_lane(lo, 1)) + (f64x2.extract_lane(hi, 0) + f64x2.extract_lane(hi, 1))) / <f64>length;
}

// Two pairs (i, j) and (i, j + 1) at once: each load of row i serves both, and four independent add chains
// hide the add latency. Each pair's lanes still add exactly its own products in the reference order.
// @ts-ignore: decorator
@inline function gramTwoPairs(length: i32, a: usize, b: usize, c: usize, out: usize): void {
  let lo0 = f64x2.splat(0);
  let hi0 = f64x2.splat(0);
  let lo1 = f64x2.splat(0);
  let hi1 = f64x2.splat(0);
  let k = 0;
  for (; k + 4 <= length; k += 4) {
    const offset = <usize>k << 3;
    const x0 = v128.load(a + offset);
    const x1 = v128.load(a + offset + 16);
    lo0 = f64x2.add(lo0, f64x2.mul(x0, v128.load(b + offset)));
    hi0 = f64x2.add(hi0, f64x2.mul(x1, v128.load(b + offset + 16)));
    lo1 = f64x2.add(lo1, f64x2.mul(x0, v128.load(c + offset)));
    hi1 = f64x2.add(hi1, f64x2.mul(x1, v128.load(c + offset + 16)));
  }
  let s0 = f64x2.extract_lane(lo0, 0);
  let t0 = f64x2.extract_lane(lo1, 0);
  for (; k < length; k++) {
    const x = load<f64>(a + (<usize>k << 3));
    s0 += x * load<f64>(b + (<usize>k << 3));
    t0 += x * load<f64>(c + (<usize>k << 3));
  }
  const n = <f64>length;
  store<f64>(out, ((s0 + f64x2.extract_lane(lo0, 1)) + (f64x2.extract_lane(hi0, 0) + f64x2.extract_lane(hi0, 1))) / n);
  store<f64>(out, ((t0 + f64x2.extract_lane(lo1, 1)) + (f64x2.extract_lane(hi1, 0) + f64x2.extract_lane(hi1, 1))) / n, 8);
}

function gramRow(z: usize, rows: i32, length: i32, out: usize, i: i32): void {
  const stride = <usize>length << 3;
  const a = z + <usize>i * stride;
  const rowOut = out + ((<usize>i * <usize>rows) << 3);
  let j = i;
  for (; j + 2 <= rows; j += 2) gramTwoPairs(length, a, z + <usize>j * stride, z + <usize>(j + 1) * stride, rowOut + (<usize>j << 3));
  if (j < rows) store<f64>(rowOut + (<usize>j << 3), gramPair(z, length, a, z + <usize>j * stride));
  // The lower triangle: row i's entries mirrored into column i.
  for (let m = i + 1; m < rows; m++) store<f64>(out + ((<usize>m * <usize>rows + <usize>i) << 3), load<f64>(rowOut + (<usize>m << 3)));
}

/**
 * Folded rows [first, first + count) of the Gram matrix of `rows` rows of `length` values at `z` into `out`
 * (rows x rows): folded row f is row f and row rows - 1 - f, equal work per folded row (gramFolded in gram.ts).
 */
export function gramFolded(z: usize, rows: i32, length: i32, out: usize, first: i32, count: i32): void {
  for (let f = first; f < first + count; f++) {
    gramRow(z, rows, length, out, f);
    const mirror = rows - 1 - f;
    if (mirror > f) gramRow(z, rows, length, out, mirror);
  }
}
