import { bucketIndexAt, bucketIndexOf, DEFAULT_HIGHEST_TRACKABLE_NS } from './latency-histogram.ts';

/**
 * Latency recorded on one thread and read on another without a message per sample: a worker thread records into
 * a SharedArrayBuffer laid out as LatencyHistogram buckets, and the main thread drains what is new into its own
 * histograms (`LatencyHistogram.addCounts`) every few hundred milliseconds. Float64 words:
 *
 *     [0] sum of the recorded values (ns)      [1 .. 1 + buckets)  count per LatencyHistogram bucket
 *
 * The worker is the only writer; the reader keeps its own copy of what it has seen and takes the difference.
 * Readers see each word whole (aligned 8-byte stores on x86-64 and arm64); a sample being recorded during a drain
 * is counted now or at the next drain, never twice, and its sum may land one drain apart from its count.
 */
const SUM = 0;
const HEADER = 1;

/** The number of buckets of a LatencyHistogram up to `highestTrackableNs`. */
function bucketCount(highestTrackableNs: number): number {
  return bucketIndexOf(highestTrackableNs) + 1;
}

/** Bytes of the shared block for one recorder. */
export function sharedLatencyBytes(highestTrackableNs: number = DEFAULT_HIGHEST_TRACKABLE_NS): number {
  return (HEADER + bucketCount(highestTrackableNs)) * 8;
}

/**
 * Records a batch of latencies at once: `nowNs - stampsNs[i]` for the first `count` stamps. One call per input batch
 * instead of one per sample keeps the per-sample work inside one monomorphic loop (a callback per double may box it).
 */
export interface BatchLatencyRecorder {
  recordSince(stampsNs: Float64Array, count: number, nowNs: number): void;
}

/** The writing side (a worker thread). `recordSince` is O(count) and allocation-free. */
export class SharedLatencyRecorder implements BatchLatencyRecorder {
  private readonly words: Float64Array;
  private readonly counts: Float64Array;
  private readonly sample = new Float64Array(1);

  constructor(sab: SharedArrayBuffer, private readonly highestTrackableNs: number = DEFAULT_HIGHEST_TRACKABLE_NS) {
    if (sab.byteLength !== sharedLatencyBytes(highestTrackableNs)) throw new RangeError(`shared latency block needs ${sharedLatencyBytes(highestTrackableNs)} bytes, got ${sab.byteLength}`);
    this.words = new Float64Array(sab, 0, HEADER);
    this.counts = new Float64Array(sab, HEADER * 8);
  }

  /** Records each latency in nanoseconds (negative or NaN as 0, above the highest trackable value as that value). */
  recordSince(stampsNs: Float64Array, count: number, nowNs: number): void {
    const highest = this.highestTrackableNs;
    const counts = this.counts;
    const sample = this.sample;
    let sum = 0;
    for (let i = 0; i < count; i++) {
      const ns = nowNs - stampsNs[i];
      const value = ns >= 0 ? (ns > highest ? highest : Math.floor(ns)) : 0;
      sample[0] = value;
      counts[bucketIndexAt(sample, 0)]++; // through an array: a double passed to a call may be boxed, per trade
      sum += value;
    }
    this.words[SUM] += sum;
  }
}

/** What a drain adds new samples into (LatencyHistogram, SlidingWindowQuantiles). */
export interface BucketCountsTarget {
  addCounts(delta: ArrayLike<number>, from: number, to: number, sumNs: number): void;
}

/** The reading side (the main thread). */
export class SharedLatencyDrain {
  private readonly words: Float64Array;
  private readonly counts: Float64Array;
  private readonly seen: Float64Array;
  private readonly delta: Float64Array;
  private seenSum = 0;

  constructor(sab: SharedArrayBuffer) {
    this.words = new Float64Array(sab, 0, HEADER);
    this.counts = new Float64Array(sab, HEADER * 8);
    this.seen = new Float64Array(this.counts.length);
    this.delta = new Float64Array(this.counts.length);
  }

  /** Adds every sample recorded since the last drain into each target; returns how many. Allocation-free. */
  drainInto(targets: readonly BucketCountsTarget[]): number {
    const { counts, seen, delta } = this;
    let from = -1;
    let to = -1;
    let added = 0;
    for (let index = 0; index < counts.length; index++) {
      const now = counts[index];
      const d = now - seen[index];
      delta[index] = d;
      if (d > 0) {
        if (from < 0) from = index;
        to = index;
        added += d;
        seen[index] = now;
      }
    }
    if (added === 0) return 0;
    const sum = this.words[SUM];
    const sumNs = sum - this.seenSum;
    this.seenSum = sum;
    for (const target of targets) target.addCounts(delta, from, to, sumNs);
    return added;
  }
}
