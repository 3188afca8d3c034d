/**
 * A log-linear (HDR-style) histogram of integer nanoseconds with preallocated counts, for recording one latency
 * per order on the hot path and reading exact-enough quantiles at scrape time.
 *
 * Bucket layout (SUB_BUCKETS = 128 per power of two):
 *
 *   value v            shift s = max(0, floor(log2 v) - 7)     index = s * 128 + (v >>> s)
 *   0 .. 255           s = 0, one bucket per nanosecond        index = v                 (exact)
 *   256 .. 511         s = 1, buckets 2 ns wide                index = 256 .. 383
 *   2^e .. 2^(e+1)-1   s = e - 7, buckets 2^s ns wide           128 buckets per power of two
 *
 * Worked examples: 100 -> index 100 (bucket [100, 100]); 10_000 -> s = 6, 10_000 >>> 6 = 156, index 924,
 * bucket [9_984, 10_047]; 2^32 -> s = 25, index 3_328, bucket [2^32, 2^32 + 2^25 - 1].
 *
 * Every bucket above 255 spans [m * 2^s, (m + 1) * 2^s - 1] with m >= 128, so its width is at most 1/128
 * (0.78 %) of any value in it: that is the relative error of every figure this class reports.
 *
 * Guarantees:
 * - `record(ns)` is O(1) and allocation-free; values are truncated to integer nanoseconds; values at or above
 *   2^32 take a float path (division by an exact power of two) instead of 32-bit bit operations.
 * - Values above `highestTrackableNs` (default 100 s) are recorded as `highestTrackableNs` and counted in
 *   `clampedHighCount`; negative values and NaN are recorded as 0 and counted in `clampedLowCount`. Nothing
 *   is dropped: `count` always equals the number of `record` calls since the last `reset`.
 * - Counts are float64, exact up to 2^53 samples.
 */
export const SUB_BUCKET_BITS = 7;
export const SUB_BUCKETS = 1 << SUB_BUCKET_BITS; // 128
/** Largest relative width of a bucket: every reported value is within this fraction of the true one. */
export const MAX_RELATIVE_ERROR = 1 / SUB_BUCKETS;

const TWO_POW_32 = 4294967296;
/** INV_POW2[s] = 2^-s, exact, so `Math.floor(v * INV_POW2[s])` is `v >>> s` for values beyond 32 bits. */
const INV_POW2 = new Float64Array(64);
for (let s = 0; s < 64; s++) INV_POW2[s] = 2 ** -s;

export const DEFAULT_HIGHEST_TRACKABLE_NS = 100_000_000_000; // 100 s
const MAX_SUPPORTED_NS = Number.MAX_SAFE_INTEGER;

/**
 * The bucket index of a non-negative integer value (pure; the arithmetic `record` inlines).
 * Examples: 0 -> 0, 255 -> 255, 256 -> 256, 511 -> 383, 10_000 -> 924, 2^32 -> 3_328.
 */
export function bucketIndexOf(value: number): number {
  BUCKET_SCRATCH[0] = value;
  return bucketIndexAt(BUCKET_SCRATCH, 0);
}

const BUCKET_SCRATCH = new Float64Array(1);

/** `bucketIndexOf(values[index])`, the value read here: no double crosses the call (hot loops: shared-latency.ts). */
export function bucketIndexAt(values: Float64Array, index: number): number {
  const value = values[index];
  if (value < 256) return value < 0 ? 0 : Math.floor(value);
  if (value < TWO_POW_32) {
    const v = value >>> 0;
    const shift = 24 - Math.clz32(v); // floor(log2 v) - 7
    return (shift << SUB_BUCKET_BITS) + (v >>> shift);
  }
  const shift = 56 - Math.clz32(Math.floor(value / TWO_POW_32)); // 32 + floor(log2(hi)) - 7
  return shift * SUB_BUCKETS + Math.floor(value * INV_POW2[shift]);
}

/** The smallest value that lands in bucket `index`. Example: 924 -> 9_984. */
export function bucketLowerBound(index: number): number {
  if (index < 256) return index;
  const shift = (index >>> SUB_BUCKET_BITS) - 1;
  return (index - shift * SUB_BUCKETS) * 2 ** shift;
}

/** The largest value that lands in bucket `index`. Example: 924 -> 10_047. */
export function bucketUpperBound(index: number): number {
  if (index < 256) return index;
  const shift = (index >>> SUB_BUCKET_BITS) - 1;
  return (index - shift * SUB_BUCKETS + 1) * 2 ** shift - 1;
}

export class LatencyHistogram {
  /** Counts per bucket; length `bucketCount`. Read-only for callers. */
  readonly counts: Float64Array;
  readonly bucketCount: number;
  readonly highestTrackableNs: number;
  private totalCount = 0;
  private totalSum = 0;
  private minValue = Infinity;
  private maxValue = -Infinity;
  private clampedHigh = 0;
  private clampedLow = 0;

  constructor(highestTrackableNs: number = DEFAULT_HIGHEST_TRACKABLE_NS) {
    if (!Number.isInteger(highestTrackableNs) || highestTrackableNs < 256 || highestTrackableNs > MAX_SUPPORTED_NS) {
      throw new RangeError(`highestTrackableNs must be an integer in [256, 2^53-1], got ${highestTrackableNs}`);
    }
    this.highestTrackableNs = highestTrackableNs;
    this.bucketCount = bucketIndexOf(highestTrackableNs) + 1;
    this.counts = new Float64Array(this.bucketCount);
  }

  /** The value being recorded (recordSample). */
  private readonly sample = new Float64Array(1);

  /** Records one latency in nanoseconds. O(1), allocation-free; see the class comment for clamping. */
  record(ns: number): void {
    const sample = this.sample;
    sample[0] = ns;
    this.recordSample();
  }

  /**
   * Records `sample[0]`. The value is read here rather than passed: a double passed to a call V8 does not inline
   * is boxed (16 B), and `recordSince` runs once per trade.
   */
  private recordSample(): void {
    let v = this.sample[0];
    if (!(v >= 0)) {
      v = 0;
      this.clampedLow++;
    } else if (v > this.highestTrackableNs) {
      v = this.highestTrackableNs;
      this.clampedHigh++;
    }
    let index: number;
    if (v < TWO_POW_32) {
      v = v >>> 0;
      if (v < 256) {
        index = v;
      } else {
        const shift = 24 - Math.clz32(v);
        index = (shift << SUB_BUCKET_BITS) + (v >>> shift);
      }
    } else {
      v = Math.floor(v);
      const shift = 56 - Math.clz32(Math.floor(v / TWO_POW_32));
      index = shift * SUB_BUCKETS + Math.floor(v * INV_POW2[shift]);
    }
    this.counts[index]++;
    this.totalCount++;
    this.totalSum += v;
    if (v < this.minValue) this.minValue = v;
    if (v > this.maxValue) this.maxValue = v;
  }

  /**
   * Records `nowNs - stampsNs[i]` for the first `count` stamps: a batch in one loop inside this class, so no sample
   * crosses a call boundary as a double (which V8 may box when it does not inline the call).
   */
  recordSince(stampsNs: Float64Array, count: number, nowNs: number): void {
    const sample = this.sample;
    for (let i = 0; i < count; i++) {
      sample[0] = nowNs - stampsNs[i];
      this.recordSample();
    }
  }

  /** Samples recorded since the last reset. */
  get count(): number {
    return this.totalCount;
  }

  /** Sum of the recorded (truncated, clamped) values in nanoseconds. */
  get sum(): number {
    return this.totalSum;
  }

  /** Smallest recorded value, exact; 0 when empty. */
  get min(): number {
    return this.totalCount === 0 ? 0 : this.minValue;
  }

  /** Largest recorded value, exact; 0 when empty. */
  get max(): number {
    return this.totalCount === 0 ? 0 : this.maxValue;
  }

  /** Samples above `highestTrackableNs`, recorded as `highestTrackableNs`. */
  get clampedHighCount(): number {
    return this.clampedHigh;
  }

  /** Negative or NaN samples, recorded as 0. */
  get clampedLowCount(): number {
    return this.clampedLow;
  }

  /**
   * The value at quantile `q` (0..1) by nearest rank: the bucket holding the ceil(q * count)-th smallest sample
   * (at least the 1st), reported as that bucket's UPPER edge capped at the exact `max` (and floored at the exact
   * `min`); rank 1 returns the exact `min`. So the result is never below the exact sample quantile and at most 0.78 % above it: a latency gate
   * reading it can only err on the strict side. Values below 256 ns are exact. Returns 0 when empty.
   * O(buckets), allocation-free.
   */
  valueAtQuantile(q: number): number {
    if (this.totalCount === 0) return 0;
    const quantile = q < 0 ? 0 : q > 1 ? 1 : q;
    const rank = Math.max(1, Math.ceil(quantile * this.totalCount));
    if (rank === 1) return this.minValue; // the smallest sample is known exactly
    const last = bucketIndexOf(this.maxValue);
    const counts = this.counts;
    let seen = 0;
    let index = bucketIndexOf(this.minValue);
    for (; index < last; index++) {
      seen += counts[index];
      if (seen >= rank) break;
    }
    const upper = bucketUpperBound(index);
    if (upper > this.maxValue) return this.maxValue;
    return upper < this.minValue ? this.minValue : upper;
  }

  /**
   * Samples whose whole bucket lies at or below `ns`: every sample <= `ns` except those sharing the one bucket
   * that straddles `ns` (at most 0.78 % below it), which are counted above. For cumulative Prometheus buckets
   * (`le`), this errs towards reporting higher latency. O(buckets).
   */
  countAtOrBelow(ns: number): number {
    if (!(ns >= 0)) return 0;
    if (ns >= this.maxValue) return this.totalCount;
    let last = bucketIndexOf(Math.min(ns, this.highestTrackableNs));
    if (bucketUpperBound(last) > ns) last--;
    let total = 0;
    const counts = this.counts;
    for (let index = 0; index <= last; index++) total += counts[index];
    return total;
  }

  /**
   * Writes `countAtOrBelow(boundsNs[i])` into `out[i]` for ascending `boundsNs` in one pass over the buckets
   * (what a Prometheus histogram export needs). Allocation-free.
   */
  cumulativeCounts(boundsNs: ArrayLike<number>, out: Float64Array): void {
    const counts = this.counts;
    let index = 0;
    let total = 0;
    for (let i = 0; i < boundsNs.length; i++) {
      const bound = boundsNs[i];
      if (bound >= this.maxValue) {
        out[i] = this.totalCount;
        continue;
      }
      let last = bucketIndexOf(Math.min(bound, this.highestTrackableNs));
      if (bucketUpperBound(last) > bound) last--;
      for (; index <= last; index++) total += counts[index];
      out[i] = total;
    }
  }

  /**
   * Adds per-bucket counts (`delta[from..to]`, by bucket index) recorded elsewhere, e.g. by a worker thread into
   * shared memory (shared-latency.ts), with their `sumNs`. The exact min and max of those samples are not known:
   * they are taken as the lowest bucket's lower edge and the highest bucket's upper edge (within 0.78 %, erring
   * high for the max). O(to - from), allocation-free.
   */
  addCounts(delta: ArrayLike<number>, from: number, to: number, sumNs: number): void {
    let added = 0;
    const target = this.counts;
    for (let index = from; index <= to; index++) {
      target[index] += delta[index];
      added += delta[index];
    }
    if (added === 0) return;
    this.totalCount += added;
    this.totalSum += sumNs;
    const low = bucketLowerBound(from);
    const high = Math.min(bucketUpperBound(to), this.highestTrackableNs);
    if (low < this.minValue) this.minValue = low;
    if (high > this.maxValue) this.maxValue = high;
  }

  /** Adds every sample of `other` (same `highestTrackableNs`) into this histogram. O(used buckets of other). */
  addFrom(other: LatencyHistogram): void {
    if (other.bucketCount !== this.bucketCount) {
      throw new RangeError(`cannot merge histograms of ${other.bucketCount} and ${this.bucketCount} buckets`);
    }
    if (other.totalCount === 0) return;
    const last = bucketIndexOf(other.maxValue);
    const source = other.counts;
    const target = this.counts;
    for (let index = bucketIndexOf(other.minValue); index <= last; index++) target[index] += source[index];
    this.totalCount += other.totalCount;
    this.totalSum += other.totalSum;
    this.clampedHigh += other.clampedHigh;
    this.clampedLow += other.clampedLow;
    if (other.minValue < this.minValue) this.minValue = other.minValue;
    if (other.maxValue > this.maxValue) this.maxValue = other.maxValue;
  }

  /**
   * Writes the histogram's non-empty buckets into `out` as [upper edge ns, count] pairs, ascending: the sparse form
   * the latency gate's window report carries (gate-window.ts). O(used buckets); allocates the pairs.
   */
  nonEmptyBuckets(out: Array<[number, number]>): Array<[number, number]> {
    if (this.totalCount === 0) return out;
    const last = bucketIndexOf(this.maxValue);
    const counts = this.counts;
    for (let index = bucketIndexOf(this.minValue); index <= last; index++) {
      if (counts[index] !== 0) out.push([bucketUpperBound(index), counts[index]]);
    }
    return out;
  }

  /** Forgets every sample. Clears only the buckets in use, so resetting a sparse histogram is cheap. */
  reset(): void {
    if (this.totalCount !== 0) {
      this.counts.fill(0, bucketIndexOf(this.minValue), bucketIndexOf(this.maxValue) + 1);
    }
    this.totalCount = 0;
    this.totalSum = 0;
    this.minValue = Infinity;
    this.maxValue = -Infinity;
    this.clampedHigh = 0;
    this.clampedLow = 0;
  }
}
