import { DEFAULT_HIGHEST_TRACKABLE_NS, LatencyHistogram } from './latency-histogram.ts';

/**
 * Latency quantiles over a sliding time window: a ring of K LatencyHistograms, each covering `intervalMs`.
 *
 *        oldest live                         current
 *   [ h(i+1) ][ h(i+2) ] ... [ h(i-1) ][ h(i) ] <- record(ns)
 *   '----------- K intervals: the window -----------'
 *   rotate(now): for each whole interval elapsed, step to the next slot and clear it (it held the oldest data)
 *
 * Pure logic, time injected: `rotate(nowMs)` is driven by a timer in the engine (and before each snapshot), and
 * `record(ns)` never reads a clock. Guarantees:
 * - A sample recorded during interval [s, s + intervalMs) is visible until the first `rotate(now)` with
 *   now >= s + K * intervalMs, then gone: it stays between (K - 1) and K intervals.
 * - A jump of K or more intervals clears every slot; a clock that goes backwards changes nothing.
 * - `record` is the histogram's O(1), allocation-free record; `snapshot` allocates nothing.
 */
export interface WindowSnapshot {
  /** Quantiles in nanoseconds (each the bucket's upper edge, at most 0.78 % above exact); NaN when no samples. */
  p50Ns: number;
  p90Ns: number;
  p99Ns: number;
  p999Ns: number;
  /** Samples in the window. */
  samples: number;
  /** Time the window's data spans: from the start of the oldest live interval (or the window's start, if
   * later) to the latest `rotate` time. Grows to K * intervalMs after start-up. */
  windowMs: number;
  /** Largest sample in the window, exact; NaN when no samples. */
  maxNs: number;
}

export function createWindowSnapshot(): WindowSnapshot {
  return { p50Ns: NaN, p90Ns: NaN, p99Ns: NaN, p999Ns: NaN, samples: 0, windowMs: 0, maxNs: NaN };
}

/**
 * The length of one interval of a window of `windowSeconds` cut into `intervals`, ms (at least 1): the engine's
 * rule, which the operator's Mann-Whitney gate must share to cut its windows on the engine's boundaries.
 * Example: (20, 20) -> 1000; (30, 6) -> 5000.
 */
export function windowIntervalMs(windowSeconds: number, intervals: number): number {
  return Math.max(1, Math.round((windowSeconds * 1000) / intervals));
}

export interface SlidingWindowOptions {
  /** Length of one interval in milliseconds (integer >= 1). */
  readonly intervalMs: number;
  /** Number of intervals K in the window (integer >= 1). */
  readonly intervals: number;
  /** The time the window starts, in the same milliseconds `rotate` is given. */
  readonly startMs: number;
  readonly highestTrackableNs?: number;
}

export class SlidingWindowQuantiles {
  readonly intervalMs: number;
  readonly intervals: number;
  private readonly slots: LatencyHistogram[];
  private readonly scratch: LatencyHistogram;
  private current = 0;
  private currentStartMs: number;
  private readonly startMs: number;
  private lastNowMs: number;

  constructor(options: SlidingWindowOptions) {
    const { intervalMs, intervals, startMs } = options;
    if (!Number.isInteger(intervalMs) || intervalMs < 1) throw new RangeError(`intervalMs must be an integer >= 1, got ${intervalMs}`);
    if (!Number.isInteger(intervals) || intervals < 1) throw new RangeError(`intervals must be an integer >= 1, got ${intervals}`);
    if (!Number.isFinite(startMs)) throw new RangeError(`startMs must be finite, got ${startMs}`);
    const highest = options.highestTrackableNs ?? DEFAULT_HIGHEST_TRACKABLE_NS;
    this.intervalMs = intervalMs;
    this.intervals = intervals;
    this.slots = Array.from({ length: intervals }, () => new LatencyHistogram(highest));
    this.scratch = new LatencyHistogram(highest);
    this.startMs = startMs;
    this.currentStartMs = startMs;
    this.lastNowMs = startMs;
  }

  /** Nominal window length: K * intervalMs. */
  get lengthMs(): number {
    return this.intervals * this.intervalMs;
  }

  /** Records one latency into the current interval. O(1), allocation-free. */
  record(ns: number): void {
    this.slots[this.current].record(ns);
  }

  /** Records a batch into the current interval (LatencyHistogram.recordSince). */
  recordSince(stampsNs: Float64Array, count: number, nowNs: number): void {
    this.slots[this.current].recordSince(stampsNs, count, nowNs);
  }

  /** Adds per-bucket counts recorded elsewhere into the current interval (LatencyHistogram.addCounts). */
  addCounts(delta: ArrayLike<number>, from: number, to: number, sumNs: number): void {
    this.slots[this.current].addCounts(delta, from, to, sumNs);
  }

  /** Advances the ring by the whole intervals elapsed since the current one began, clearing expired slots. */
  rotate(nowMs: number): void {
    if (!(nowMs > this.lastNowMs)) return;
    this.lastNowMs = nowMs;
    const elapsed = Math.floor((nowMs - this.currentStartMs) / this.intervalMs);
    if (elapsed <= 0) return;
    const steps = elapsed < this.intervals ? elapsed : this.intervals;
    for (let i = 0; i < steps; i++) {
      this.current = this.current + 1 === this.intervals ? 0 : this.current + 1;
      this.slots[this.current].reset();
    }
    this.currentStartMs += elapsed * this.intervalMs;
  }

  /** Merges the live intervals and writes quantiles, count and span into `out`. Allocation-free. */
  snapshot(out: WindowSnapshot): WindowSnapshot {
    const merged = this.scratch;
    merged.reset();
    for (let i = 0; i < this.intervals; i++) merged.addFrom(this.slots[i]);
    const oldestStartMs = this.currentStartMs - (this.intervals - 1) * this.intervalMs;
    out.windowMs = this.lastNowMs - (oldestStartMs > this.startMs ? oldestStartMs : this.startMs);
    out.samples = merged.count;
    if (merged.count === 0) {
      out.p50Ns = out.p90Ns = out.p99Ns = out.p999Ns = out.maxNs = NaN;
    } else {
      out.p50Ns = merged.valueAtQuantile(0.5);
      out.p90Ns = merged.valueAtQuantile(0.9);
      out.p99Ns = merged.valueAtQuantile(0.99);
      out.p999Ns = merged.valueAtQuantile(0.999);
      out.maxNs = merged.max;
    }
    return out;
  }

  /**
   * Visits each COMPLETED interval (never the current, still filling one) that ended at most `maxAgeMs` before the
   * latest `rotate` time, oldest first, with the time it ended. What the latency gate's consecutive windows read
   * (gate-window.ts): a completed interval never changes again until it expires, so two reads agree on it.
   */
  forEachCompletedInterval(maxAgeMs: number, visit: (interval: LatencyHistogram, endMs: number) => void): void {
    for (let age = this.intervals - 1; age >= 1; age--) {
      const endMs = this.currentStartMs - (age - 1) * this.intervalMs;
      const startMs = endMs - this.intervalMs;
      if (startMs < this.startMs || this.lastNowMs - endMs > maxAgeMs) continue;
      const index = (this.current - age + this.intervals) % this.intervals;
      visit(this.slots[index], endMs);
    }
  }

  /** The latest time the window was rotated to. */
  get nowMs(): number {
    return this.lastNowMs;
  }
}
