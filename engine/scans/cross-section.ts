/**
 * Cross-sectional statistics of one value per symbol at a bar: rank and z-score across the symbols that have a
 * value (NaN marks a symbol without one, which gets NaN back and is left out of the statistics). Pure and
 * allocation-free apart from the workspace the caller passes.
 */

/**
 * Fractional rank in [0, 1] of each finite value among the finite values: 0 the lowest, 1 the highest, ties share
 * their average rank; a single finite value ranks 0.5. `sorted` and `runRank` are workspaces of at least
 * values.length. Example: [3, 1, NaN, 2, 2] -> [1, 0, NaN, 0.5, 0.5].
 * O(n log n): one numeric sort (Float64Array.prototype.sort), one pass giving each sorted position its run's
 * rank, then one binary search per value.
 */
export function crossSectionRank(values: Float64Array, out: Float64Array, sorted: Float64Array, runRank: Float64Array): void {
  let n = 0;
  for (let s = 0; s < values.length; s++) {
    const v = values[s];
    if (v === v) sorted[n++] = v;
  }
  const finite = sorted.subarray(0, n);
  finite.sort();
  // Each sorted position's rank: the average of its run of equal values, in one pass.
  for (let first = 0; first < n; ) {
    let last = first;
    while (last + 1 < n && finite[last + 1] === finite[first]) last++;
    const rank = n === 1 ? 0.5 : (first + last) / 2 / (n - 1);
    for (let k = first; k <= last; k++) runRank[k] = rank;
    first = last + 1;
  }
  for (let s = 0; s < values.length; s++) {
    const v = values[s];
    out[s] = v !== v ? Number.NaN : runRank[lowerBound(finite, v)];
  }
}

/**
 * (value - mean) / standard deviation (population) across the finite values; 0 for every value when they are all
 * equal (no dispersion), NaN for a missing one. Example: [1, 2, 3, NaN] -> [-1.2247, 0, 1.2247, NaN].
 * Two passes (mean, then squared deviations), so a large common level does not cancel the spread.
 */
export function crossSectionZScore(values: Float64Array, out: Float64Array): void {
  let n = 0;
  let sum = 0;
  for (let s = 0; s < values.length; s++) {
    const v = values[s];
    if (v === v) {
      n++;
      sum += v;
    }
  }
  const mean = n === 0 ? 0 : sum / n;
  let squares = 0;
  for (let s = 0; s < values.length; s++) {
    const v = values[s];
    if (v === v) squares += (v - mean) * (v - mean);
  }
  const sd = n === 0 ? 0 : Math.sqrt(squares / n);
  for (let s = 0; s < values.length; s++) {
    const v = values[s];
    out[s] = v !== v ? Number.NaN : sd === 0 ? 0 : (v - mean) / sd;
  }
}

/** The first index of `sorted` holding a value >= v. */
function lowerBound(sorted: Float64Array, v: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
