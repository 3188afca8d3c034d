/**
 * How a scan's per-bar part is cut into units that its threads claim (the scan thread and its helpers:
 * wasm-scan-kernels.ts, scan-claims.ts). Pure.
 */

/**
 * Symbol chunks of the columns per thread: enough that a thread the machine runs late leaves its share to the
 * others a chunk at a time, few enough that each chunk's kernel calls (one per column) cost little beside it.
 */
export const CHUNKS_PER_THREAD = 4;

/** Symbols per cut: 16 doubles are two cache lines and 16 int32 one, so per-symbol arrays never share a line across threads. */
const SYMBOL_CUT = 16;

/**
 * Where `n` symbols are cut into `chunks` chunks: [0, ..., n], inner cuts on multiples of SYMBOL_CUT (a chunk may
 * be empty when there are few symbols). Rows of the bar-major rings (k * n + s) line up with the cuts only when n
 * is a multiple of SYMBOL_CUT; elsewhere two threads may write one cache line of a row, which costs time, never
 * values.
 */
export function symbolCuts(n: number, chunks: number): number[] {
  return Array.from({ length: chunks + 1 }, (_, i) => (i === chunks ? n : Math.min(n, Math.round((i * n) / chunks / SYMBOL_CUT) * SYMBOL_CUT)));
}
