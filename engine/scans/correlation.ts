import { rowOffset, type BarPanel } from '../bars/bar-panel.ts';
import { gramBatch } from '../batch/gram.ts';

/**
 * The rolling correlation matrix of bar returns across symbols, over a window of the panel: Pearson correlation
 * of r(t, s) = close(t, s) / close(t - 1, s) - 1 for the `window` returns ending at bar `bar`, for the first
 * `symbols` symbols of the panel. The N-squared work of a universe scan (pairs, clustering, portfolio risk).
 *
 * A symbol with a missing close in the window (never traded, or not yet) or a return that is not finite (a close of
 * 0 before it) has NaN in its row and column, the diagonal included; one whose returns do not vary (a halted symbol:
 * flat bars), or overflow the deviation's sums, has NaN off the diagonal (its correlation is undefined) and 1 on it,
 * like every other symbol.
 *
 * Three steps, only the middle one on the chosen backend:
 *   1. here: each symbol's returns standardised (two-pass mean and population deviation), the symbols with a
 *      defined correlation packed into consecutive rows of `z` (so the backend sees only finite values: a GPU
 *      shader may assume there is no NaN);
 *   2. the backend's `gram` (engine/batch/gram.ts): every pair's mean product, the correlation;
 *   3. here: the packed matrix spread back to symbol order, NaN for the others, 1 on the diagonal.
 * js, wasm and workers give the same bits (gram.ts's reference order); gpu within GRAM_GPU_TOLERANCE.
 */

/** A backend's Gram function (any BatchBackend), and where it wants its arrays (in place, no copies). */
export interface GramBackend {
  gram(z: Float64Array, rows: number, length: number, out?: Float64Array): Float64Array | Promise<Float64Array>;
  allocate?(length: number): Float64Array;
}

/** The reference backend: gram.ts on this thread. */
export const jsGram: GramBackend = { gram: gramBatch };

/** A symbol's place in the packed rows, or why it has none. */
const MISSING = -2;
const FLAT = -1;

/** Preallocated arrays for one size (symbols x window), reused by every computation. */
export class CorrelationWorkspace {
  /** Packed standardised returns, one row of `window` values per defined symbol. */
  readonly z: Float64Array;
  /** The packed Gram matrix. */
  readonly gram: Float64Array;
  /** Packed row -> symbol. */
  readonly rowSymbol: Int32Array;
  /** Symbol -> packed row, FLAT or MISSING. */
  readonly slot: Int32Array;

  constructor(readonly symbols: number, readonly window: number, allocate: (length: number) => Float64Array = (n) => new Float64Array(n)) {
    this.z = allocate(symbols * window);
    this.gram = allocate(symbols * symbols);
    this.rowSymbol = new Int32Array(symbols);
    this.slot = new Int32Array(symbols);
  }
}

/** Throws RangeError unless `window` returns ending at `bar` are in the panel. */
export function checkCorrelationWindow(panel: BarPanel, bar: number, window: number): void {
  if (!Number.isInteger(window) || window < 2 || window > panel.capacity - 1) {
    throw new RangeError(`window must be an integer in [2, ${panel.capacity - 1}], got ${window}`);
  }
  if (bar < window) throw new RangeError(`bar ${bar} has only ${bar} returns before it, the window needs ${window}`);
}

/**
 * Step 1: the standardised returns of the symbols with a defined correlation, packed; returns how many rows.
 * Pure apart from the workspace.
 */
export function packStandardisedReturns(panel: BarPanel, bar: number, work: CorrelationWorkspace): number {
  const { window, symbols, z, rowSymbol, slot } = work;
  checkCorrelationWindow(panel, bar, window);
  let rows = 0;
  for (let s = 0; s < symbols; s++) {
    const row = rows * window;
    let valid = true;
    for (let k = 0; k < window; k++) {
      const t = bar - window + 1 + k;
      const r = panel.close[rowOffset(panel, t) + s] / panel.close[rowOffset(panel, t - 1) + s] - 1;
      if (r - r !== 0) valid = false; // NaN (a missing close) or an infinite return
      z[row + k] = r;
    }
    if (!valid) {
      slot[s] = MISSING;
      continue;
    }
    let sum = 0;
    for (let k = 0; k < window; k++) sum += z[row + k];
    const mean = sum / window;
    let squares = 0;
    for (let k = 0; k < window; k++) squares += (z[row + k] - mean) * (z[row + k] - mean);
    const sd = Math.sqrt(squares / window);
    const scale = 1 / sd;
    // A flat symbol (zero variance), or one whose returns overflow the sums (a bad print far off the others): its
    // correlations are undefined, and the backend is never handed a value that is not finite.
    if (!(sd > 0 && sd < Infinity && scale < Infinity)) {
      slot[s] = FLAT;
      continue;
    }
    for (let k = 0; k < window; k++) z[row + k] = (z[row + k] - mean) * scale;
    slot[s] = rows;
    rowSymbol[rows++] = s;
  }
  return rows;
}

/** Step 3: the packed Gram matrix of `rows` rows into `out` (symbols x symbols, row-major). */
export function spreadCorrelation(work: CorrelationWorkspace, rows: number, out: Float64Array): void {
  const { symbols: m, gram, rowSymbol, slot } = work;
  if (rows === m) {
    // Every symbol defined (the usual case): symbol order is packed order.
    out.set(gram.subarray(0, m * m));
  } else {
    out.fill(Number.NaN);
    for (let a = 0; a < rows; a++) {
      const target = rowSymbol[a] * m;
      for (let b = 0; b < rows; b++) out[target + rowSymbol[b]] = gram[a * rows + b];
    }
  }
  for (let s = 0; s < m; s++) out[s * m + s] = slot[s] === MISSING ? Number.NaN : 1;
}

/** The correlation matrix on `backend` into `out` (symbols x symbols); awaits the backend's gram. */
export async function correlationMatrixOn(
  backend: GramBackend, panel: BarPanel, bar: number, work: CorrelationWorkspace, out: Float64Array,
): Promise<void> {
  const rows = packStandardisedReturns(panel, bar, work);
  if (rows > 0) await backend.gram(work.z.subarray(0, rows * work.window), rows, work.window, work.gram.subarray(0, rows * rows));
  spreadCorrelation(work, rows, out);
}

/** The correlation matrix on this thread with the reference Gram (synchronous). */
export function correlationMatrix(panel: BarPanel, bar: number, work: CorrelationWorkspace, out: Float64Array): void {
  const rows = packStandardisedReturns(panel, bar, work);
  if (rows > 0) gramBatch(work.z.subarray(0, rows * work.window), rows, work.window, work.gram.subarray(0, rows * rows));
  spreadCorrelation(work, rows, out);
}
