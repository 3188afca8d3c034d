import { ratioOfOffset, type LatencyDistribution } from './distribution.ts';

/**
 * Canary against stable on one window, the statistical way (Kayenta's judge is the model): a Mann-Whitney U test
 * of "canary latency is stochastically larger", and the Hodges-Lehmann estimate of the canary/stable latency
 * ratio with its distribution-free (Moses) confidence bounds. Pure.
 *
 * Every statistic comes from the pairwise differences of log latency, canary sample minus stable sample, of
 * which there are m x n. On log bins (distribution.ts) a difference is a whole number of bins, so the m x n
 * differences are a histogram over offsets, built by convolving the two count vectors: O(bins^2), no sort.
 * - U = pairs with canary > stable + half the tied pairs (same bin).
 * - z = (U - mn/2) / sigma, sigma^2 = mn/12 x ((N + 1) - sum(t^3 - t) / (N (N - 1))), N = m + n, t = the pooled
 *   count of each bin (the tie correction); p = 1 - Phi(z), one-sided.
 * - ratio = 2^(median offset / 64): the median of all canary/stable sample ratios.
 * - bounds: with k = floor(mn/2 - z_c x sigma) (z_c the normal quantile of `confidence`), the k-th smallest and
 *   the k-th largest offsets; each is a one-sided bound at `confidence`. k < 1 (too few samples) gives 0 and
 *   Infinity: no bound.
 * Resolution: ratios are whole bins, 1.09 % apart. Samples from one pod are not independent of that pod's speed,
 * so the bounds are tighter than the truth across pods: that is what the gate's tolerance
 * (maxIncreasePercent) absorbs, and bench:rollout measures the resulting false-alarm rate.
 */
export interface Comparison {
  readonly canarySamples: number;
  readonly stableSamples: number;
  /** The Hodges-Lehmann estimate of canary/stable latency. */
  readonly ratio: number;
  /** One-sided lower bound of the ratio at the confidence asked for (0 when the samples allow none). */
  readonly ratioLow: number;
  /** One-sided upper bound of the ratio at the confidence asked for (Infinity when the samples allow none). */
  readonly ratioHigh: number;
  /** The U statistic's z-score (positive: canary slower). */
  readonly z: number;
  /** One-sided p-value of "canary is slower". */
  readonly pValue: number;
}

export function compareDistributions(canary: LatencyDistribution, stable: LatencyDistribution, confidence: number): Comparison {
  const m = canary.samples;
  const n = stable.samples;
  if (m === 0 || n === 0) throw new RangeError(`cannot compare an empty distribution (${m} canary, ${n} stable samples)`);
  const offsetMin = canary.bins[0] - stable.bins[stable.bins.length - 1];
  const offsetMax = canary.bins[canary.bins.length - 1] - stable.bins[0];
  const pairs = new Float64Array(offsetMax - offsetMin + 1);
  for (let i = 0; i < canary.bins.length; i++) {
    const base = canary.bins[i] - offsetMin;
    const weight = canary.counts[i];
    for (let j = 0; j < stable.bins.length; j++) pairs[base - stable.bins[j]] += weight * stable.counts[j];
  }
  const total = m * n;
  let u = 0;
  for (let offset = offsetMin; offset <= offsetMax; offset++) {
    const count = pairs[offset - offsetMin];
    if (offset > 0) u += count;
    else if (offset === 0) u += count / 2;
  }
  const sigma = Math.sqrt((total / 12) * (m + n + 1 - tieTerm(canary, stable) / ((m + n) * (m + n - 1))));
  const z = sigma > 0 ? (u - total / 2) / sigma : 0;
  const k = Math.floor(total / 2 - normalQuantile(confidence) * sigma);
  const offsetAtRank = (rank: number): number => {
    let seen = 0;
    for (let offset = offsetMin; offset <= offsetMax; offset++) {
      seen += pairs[offset - offsetMin];
      if (seen >= rank) return offset;
    }
    return offsetMax;
  };
  return {
    canarySamples: m,
    stableSamples: n,
    ratio: ratioOfOffset(offsetAtRank(Math.ceil(total / 2))),
    ratioLow: k >= 1 ? ratioOfOffset(offsetAtRank(k)) : 0,
    ratioHigh: k >= 1 ? ratioOfOffset(offsetAtRank(total - k + 1)) : Number.POSITIVE_INFINITY,
    z,
    pValue: 1 - normalCdf(z),
  };
}

/**
 * P(X >= k) for X ~ Binomial(n, p): how likely `k` or more of `n` samples lie above a true quantile (1 - p) by
 * chance. The gate's absolute budget under the Mann-Whitney method: the canary breaches thresholdMicros when its
 * samples above the threshold are too many for a p99 at or under it (this tail probability below 1 - confidence),
 * so one slow sample in a window of 50 is not a breach. Exact sum below n x p = 30, the normal approximation with
 * continuity correction above (the sum's first term underflows there).
 */
export function binomialTail(k: number, n: number, p: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  const mean = n * p;
  if (mean >= 30) return 1 - normalCdf((k - 0.5 - mean) / Math.sqrt(mean * (1 - p)));
  let term = (1 - p) ** n;
  let below = 0;
  for (let i = 0; i < k; i++) {
    below += term;
    term *= ((n - i) / (i + 1)) * (p / (1 - p));
  }
  return Math.max(0, 1 - below);
}

/** sum(t^3 - t) over the bins of the pooled sample: the tie correction of the U statistic's variance. */
function tieTerm(canary: LatencyDistribution, stable: LatencyDistribution): number {
  let sum = 0;
  let i = 0;
  let j = 0;
  while (i < canary.bins.length || j < stable.bins.length) {
    const bin = Math.min(i < canary.bins.length ? canary.bins[i] : Infinity, j < stable.bins.length ? stable.bins[j] : Infinity);
    let t = 0;
    if (i < canary.bins.length && canary.bins[i] === bin) t += canary.counts[i++];
    if (j < stable.bins.length && stable.bins[j] === bin) t += stable.counts[j++];
    sum += t * t * t - t;
  }
  return sum;
}

/** The standard normal CDF, through erfc (W. J. Cody's rational approximations via Numerical Recipes' erfcc: |error| < 1.2e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * x);
  const erfc = t * Math.exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
    + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return z >= 0 ? 1 - erfc / 2 : erfc / 2;
}

/** The standard normal quantile (P. J. Acklam's rational approximation, relative error < 1.2e-9), for 0 < p < 1. */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`a normal quantile needs 0 < p < 1, got ${p}`);
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - low) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}
