// Shared helpers for the AssemblyScript indicator kernels (AssemblyScript, not TypeScript: compiled by asc,
// excluded from tsc and eslint). Arrays are raw f64 runs in linear memory addressed by byte pointers that the
// JS side (engine/batch/wasm-backend.ts) lays out; nothing here allocates.

/** values[i] for an f64 array at byte address `base`. */
// @ts-ignore: decorator
@inline export function ld(base: usize, i: i32): f64 {
  return load<f64>(base + (<usize>i << 3));
}

/** values[i] = v for an f64 array at byte address `base`. */
// @ts-ignore: decorator
@inline export function st(base: usize, i: i32, v: f64): void {
  store<f64>(base + (<usize>i << 3), v);
}

/** Re-summation interval of the drift-free rolling sums (engine/indicators/rolling-sum.ts, RESYNC_MIN 1024). */
// @ts-ignore: decorator
@inline export function resyncInterval(period: i32): i32 {
  return period > 1024 ? period : 1024;
}

/** Smallest power of two >= n (rolling-sum.ts nextPow2). */
export function nextPow2(n: i32): i32 {
  let c = 1;
  while (c < n) c <<= 1;
  return c;
}

/** Where the JS side may start laying out arrays: the first byte after this module's static data. */
export function heapBase(): usize {
  return __heap_base;
}

// ---- Input checks (SIMD; both modules are built with `--enable simd`) ------------------------------------------
// The JS side runs these on the inputs before any kernel writes an output, and on a hit re-runs its own check on
// the caller's array to build the RangeError (the same first index, so the same message). Blocks of CHECK_BLOCK
// values are scanned with independent vector accumulators and tested once per block; only a block that hit is
// scanned again value by value.

const CHECK_BLOCK: i32 = 512;

/** Index of the first NaN or +-Infinity among values[from, to), or -1. */
function firstNonFiniteIn(values: usize, from: i32, to: i32): i32 {
  for (let i = from; i < to; i++) {
    const v = ld(values, i);
    if (v - v != 0) return i;
  }
  return -1;
}

/** Index of the first NaN or +-Infinity among the `n` f64 at `values`, or -1. (v * 0 is 0 only for finite v.) */
export function firstNonFinite(values: usize, n: i32): i32 {
  const zero = f64x2.splat(0);
  let i = 0;
  while (i + CHECK_BLOCK <= n) {
    let a = zero;
    let b = zero;
    let c = zero;
    let d = zero;
    const end = i + CHECK_BLOCK;
    for (let j = i; j < end; j += 8) {
      const at = values + (<usize>j << 3);
      a = f64x2.add(a, f64x2.mul(v128.load(at), zero));
      b = f64x2.add(b, f64x2.mul(v128.load(at, 16), zero));
      c = f64x2.add(c, f64x2.mul(v128.load(at, 32), zero));
      d = f64x2.add(d, f64x2.mul(v128.load(at, 48), zero));
    }
    const sum = f64x2.add(f64x2.add(a, b), f64x2.add(c, d));
    if (v128.any_true(f64x2.ne(sum, sum))) return firstNonFiniteIn(values, i, end);
    i = end;
  }
  return firstNonFiniteIn(values, i, n);
}

/** Index of the first i in [from, to) with high[i] < low[i], or -1. */
function firstHighBelowLowIn(high: usize, low: usize, from: i32, to: i32): i32 {
  for (let i = from; i < to; i++) {
    if (ld(high, i) < ld(low, i)) return i;
  }
  return -1;
}

/** Index of the first i with high[i] < low[i] among `n` bars, or -1. */
export function firstHighBelowLow(high: usize, low: usize, n: i32): i32 {
  let i = 0;
  while (i + CHECK_BLOCK <= n) {
    let below = v128.splat<i64>(0);
    const end = i + CHECK_BLOCK;
    for (let j = i; j < end; j += 4) {
      const offset = <usize>j << 3;
      below = v128.or(below, f64x2.lt(v128.load(high + offset), v128.load(low + offset)));
      below = v128.or(below, f64x2.lt(v128.load(high + offset, 16), v128.load(low + offset, 16)));
    }
    if (v128.any_true(below)) return firstHighBelowLowIn(high, low, i, end);
    i = end;
  }
  return firstHighBelowLowIn(high, low, i, n);
}
