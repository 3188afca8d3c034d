// Shared helpers for the AssemblyScript indicator kernels (AssemblyScript, not TypeScript: compiled by asc,
// excluded from tsc and eslint). Arrays are raw f64 runs in linear memory addressed by byte pointers that the
// JS side (engine/indicators/backends/wasm-backend.ts) lays out; nothing here allocates.

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
