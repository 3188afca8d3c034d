import { rowOffset, type BarPanel } from '../bars/bar-panel.ts';

/**
 * The rolling correlation matrix of bar returns across symbols, over a window of the panel: Pearson correlation
 * of r(t, s) = close(t, s) / close(t - 1, s) - 1 for the `window` returns ending at bar `bar`, for the first
 * `symbols` symbols of the panel. The N-squared work of a universe scan (pairs, clustering, portfolio risk).
 *
 * A symbol with a missing close in the window (never traded, or not yet) has NaN in its row and column; one whose
 * returns do not vary (a halted symbol: flat bars) has NaN off the diagonal (its correlation is undefined) and 1 on
 * it, like every other symbol.
 *
 * The reference computation, which other backends are held to: returns standardised per symbol (two-pass mean and
 * population deviation), transposed to one contiguous row per symbol, then each pair's dot product over the
 * window in index order with four partial sums (k mod 4) added as ((s0 + s1) + (s2 + s3)), divided by the window.
 * `workspace` holds symbols * window values; `out` symbols * symbols (row-major, symmetric).
 */
export function correlationMatrix(
  panel: BarPanel, bar: number, window: number, symbols: number, out: Float64Array, workspace: Float64Array,
): void {
  if (!Number.isInteger(window) || window < 2 || window > panel.capacity - 1) {
    throw new RangeError(`window must be an integer in [2, ${panel.capacity - 1}], got ${window}`);
  }
  if (bar < window) throw new RangeError(`bar ${bar} has only ${bar} returns before it, the window needs ${window}`);
  const m = symbols;
  const z = workspace;
  // Standardised returns, one row of `window` values per symbol (NaN row: a missing close).
  for (let s = 0; s < m; s++) {
    const row = s * window;
    let valid = true;
    for (let k = 0; k < window; k++) {
      const t = bar - window + 1 + k;
      const r = panel.close[rowOffset(panel, t) + s] / panel.close[rowOffset(panel, t - 1) + s] - 1;
      if (r !== r) valid = false;
      z[row + k] = r;
    }
    // The diagonal says whether the symbol has a full window: 1 (even when flat), else NaN.
    out[s * m + s] = valid ? 1 : Number.NaN;
    if (!valid) {
      z.fill(Number.NaN, row, row + window);
      continue;
    }
    let sum = 0;
    for (let k = 0; k < window; k++) sum += z[row + k];
    const mean = sum / window;
    let squares = 0;
    for (let k = 0; k < window; k++) squares += (z[row + k] - mean) * (z[row + k] - mean);
    const sd = Math.sqrt(squares / window);
    // A flat symbol: zero variance, its correlations undefined (NaN off the diagonal).
    const scale = sd === 0 ? Number.NaN : 1 / sd;
    for (let k = 0; k < window; k++) z[row + k] = (z[row + k] - mean) * scale;
  }
  for (let i = 0; i < m; i++) {
    const a = i * window;
    for (let j = i + 1; j < m; j++) {
      const b = j * window;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let k = 0;
      for (; k + 4 <= window; k += 4) {
        s0 += z[a + k] * z[b + k];
        s1 += z[a + k + 1] * z[b + k + 1];
        s2 += z[a + k + 2] * z[b + k + 2];
        s3 += z[a + k + 3] * z[b + k + 3];
      }
      for (; k < window; k++) s0 += z[a + k] * z[b + k];
      const c = ((s0 + s1) + (s2 + s3)) / window;
      out[i * m + j] = c;
      out[j * m + i] = c;
    }
  }
}
