/**
 * How a scan's per-bar part is shared out among `threads` threads (the scan thread first, then its helpers:
 * wasm-scan-kernels.ts). Pure.
 */

/** Symbols per cut: 16 doubles are two cache lines and 16 int32 one, so per-symbol arrays never share a line across threads. */
export const SYMBOL_CUT = 16;

/**
 * Where `threads` threads split `n` symbols: [0, ..., n], inner cuts on multiples of SYMBOL_CUT (a thread may get
 * none when there are few symbols). Rows of the bar-major rings (k * n + s) line up with the cuts only when n is a
 * multiple of SYMBOL_CUT; elsewhere two threads may write one cache line of a row, which costs time, never values.
 */
export function symbolCuts(n: number, threads: number): number[] {
  return Array.from({ length: threads + 1 }, (_, i) => (i === threads ? n : Math.min(n, Math.round((i * n) / threads / SYMBOL_CUT) * SYMBOL_CUT)));
}

/**
 * Where `threads` threads split `jobs` cross-sections: [0, ..., jobs]. The scan thread, which also copies the
 * helpers' outputs out, takes the fewest: floor(jobs / threads), the first helpers one more each for the rest.
 */
export function jobCuts(jobs: number, threads: number): number[] {
  const base = Math.floor(jobs / threads);
  const extra = jobs % threads;
  const cuts = [0];
  for (let t = 0; t < threads; t++) cuts.push(cuts[t] + base + (t > 0 && t <= extra ? 1 : 0));
  return cuts;
}
