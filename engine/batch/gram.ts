import { jsValueChecks, outputArray, type ValueChecks } from '../indicators/batch-checks.ts';

/**
 * The Gram matrix of rows, the N-squared core of a rolling correlation matrix (engine/scans/correlation.ts: rows
 * are symbols' standardised returns over the window, so each entry is a Pearson correlation):
 *
 *     out[i * rows + j] = (z_i . z_j) / length        z_i = z[i * length .. (i + 1) * length), row-major
 *
 * Every backend has it (`gram` in BatchBackend). The reference order, which js, wasm and workers follow exactly so
 * that their results are bit-identical: for each pair j >= i, four partial sums by k mod 4 over k ascending
 * (s0 += z_i[k] z_j[k] for k = 0, 4, 8, ..., and the tail k >= 4 * floor(length / 4) into s0 as well), then
 * ((s0 + s1) + (s2 + s3)) / length, written at (i, j) and (j, i). The gpu backend computes in f32, within
 * GRAM_GPU_TOLERANCE of it for standardised rows.
 *
 * Checks, in order, all before any output is written: rows an integer >= 0, length an integer >= 1, z holding
 * exactly rows * length values, `out` (when given) rows * rows slots not sharing z's memory, every value of z
 * finite (the first bad index named).
 */
export interface GramFunction {
  (z: Float64Array, rows: number, length: number, out?: Float64Array): Float64Array;
}

/**
 * How far a gpu result may be from the reference, absolute, when every row is standardised (mean 0, population
 * deviation 1: |entry| <= 1): the inputs rounded to f32 on upload and a sum of `length` f32 products, whose
 * rounding grows with the length; measured 2.2e-7 at most over 1,000 rows of 256 (Mesa llvmpipe), so this leaves
 * more than two orders of margin.
 */
export const GRAM_GPU_TOLERANCE = 1e-4;

/** The checks of `gram`, in its order; returns `out` or a new rows * rows array. */
export function prepareGram(
  z: Float64Array, rows: number, length: number, out: Float64Array | undefined, values: ValueChecks = jsValueChecks,
): Float64Array {
  if (!Number.isInteger(rows) || rows < 0) throw new RangeError(`rows must be an integer >= 0, got ${rows}`);
  if (!Number.isInteger(length) || length < 1) throw new RangeError(`length must be an integer >= 1, got ${length}`);
  if (z.length !== rows * length) throw new RangeError(`z has ${z.length} values, expected rows x length = ${rows * length}`);
  const result = outputArray('out', out, rows * rows, [z]);
  if (rows > 0) values.finite('z', z);
  return result;
}

/**
 * The number of folded rows of a `rows`-row Gram matrix: folded row f is row f and row rows - 1 - f, which
 * together have rows + 1 pairs j >= i, so equal ranges of folded rows are equal work (how workers split it).
 */
export function foldedRows(rows: number): number {
  return (rows + 1) >> 1;
}

/** The reference Gram matrix (the js backend's `gram`). */
export const gramBatch: GramFunction = (z, rows, length, out) => {
  const result = prepareGram(z, rows, length, out);
  gramFolded(z, rows, length, result, 0, foldedRows(rows));
  return result;
};

/**
 * Folded rows [first, first + count) of the Gram matrix into `out`, in the reference order (no checks: callers
 * ran prepareGram). Distinct folded ranges write disjoint entries.
 */
export function gramFolded(z: Float64Array, rows: number, length: number, out: Float64Array, first: number, count: number): void {
  for (let f = first; f < first + count; f++) {
    gramRow(z, rows, length, out, f);
    const mirror = rows - 1 - f;
    if (mirror > f) gramRow(z, rows, length, out, mirror);
  }
}

function gramRow(z: Float64Array, rows: number, length: number, out: Float64Array, i: number): void {
  const a = i * length;
  for (let j = i; j < rows; j++) {
    const b = j * length;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let k = 0;
    for (; k + 4 <= length; k += 4) {
      s0 += z[a + k] * z[b + k];
      s1 += z[a + k + 1] * z[b + k + 1];
      s2 += z[a + k + 2] * z[b + k + 2];
      s3 += z[a + k + 3] * z[b + k + 3];
    }
    for (; k < length; k++) s0 += z[a + k] * z[b + k];
    const c = ((s0 + s1) + (s2 + s3)) / length;
    out[i * rows + j] = c;
    out[j * rows + i] = c;
  }
}
