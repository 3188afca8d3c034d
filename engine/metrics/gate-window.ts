import type { SlidingWindowQuantiles } from './sliding-window.ts';

/**
 * The latency gate's window report: the completed intervals of one sliding window (sliding-window.ts), each with
 * its own sparse histogram, served at `GET /gate/window?metric=decision&maxAgeMs=20000` (http-server.ts).
 *
 *   window ring:  [ i-3 ][ i-2 ][ i-1 ][ i (filling) ]
 *   report:        ^ completed, ended <= maxAgeMs ago, oldest first; the filling interval is never reported
 *
 * Why intervals and not one quantile: the operator's Mann-Whitney gate (operator/analysis/distribution.ts) judges
 * consecutive, non-overlapping windows that it grows interval by interval until they hold enough samples, and
 * compares canary and stable on the same intervals; it needs the samples, not a summary, and it needs to know
 * which of them it has already judged. An interval is named by its age (`endAgeMs`: how long before the reply it
 * ended), so the operator maps it onto its own clock without sharing the engine's monotonic one.
 *
 * Each bucket is [upper edge in ns, count] of the engine's HDR histogram (0.78 % wide); the report is exact at that
 * resolution. Wire format version 1; docs/metrics.md, "The latency gate API".
 */

/** The latencies a window report can be asked for: decision latency (every trade) or tick-to-order (orders). */
export const gateWindowMetrics = ['decision', 'tickToOrder'] as const;
export type GateWindowMetric = (typeof gateWindowMetrics)[number];

export interface GateWindowInterval {
  /** How long before the report the interval ended, ms (>= 0). */
  readonly endAgeMs: number;
  readonly samples: number;
  /** Non-empty buckets, ascending: [upper edge ns, count]. */
  readonly buckets: ReadonlyArray<readonly [number, number]>;
}

export interface GateWindowReport {
  readonly version: 1;
  readonly metric: GateWindowMetric;
  /** The length of every interval, ms. */
  readonly intervalMs: number;
  /** The completed intervals that ended at most maxAgeMs ago, oldest first. */
  readonly intervals: readonly GateWindowInterval[];
}

/** The query the endpoint accepts, validated. */
export interface GateWindowQuery {
  readonly metric: GateWindowMetric;
  readonly maxAgeMs: number;
}

/** The largest maxAgeMs accepted: the engine's longest window (3600 s). */
export const maxGateWindowAgeMs = 3_600_000;

/**
 * Reads `metric` (required: decision | tickToOrder) and `maxAgeMs` (optional integer 0..3600000, default the whole
 * window) from a query string. Returns the query or a one-line error for a 400 reply.
 * Examples: "metric=decision&maxAgeMs=15000" -> { decision, 15000 }; "metric=fills" -> an error naming the choices.
 */
export function parseGateWindowQuery(search: URLSearchParams): GateWindowQuery | string {
  const metric = search.get('metric');
  if (metric === null) return `metric is required: one of ${gateWindowMetrics.join(', ')}`;
  if (!(gateWindowMetrics as readonly string[]).includes(metric)) {
    return `metric ${JSON.stringify(metric)} is not one of ${gateWindowMetrics.join(', ')}`;
  }
  const age = search.get('maxAgeMs');
  if (age === null) return { metric: metric as GateWindowMetric, maxAgeMs: maxGateWindowAgeMs };
  if (!/^[0-9]{1,7}$/.test(age) || Number(age) > maxGateWindowAgeMs) {
    return `maxAgeMs ${JSON.stringify(age)} is not an integer from 0 to ${maxGateWindowAgeMs}`;
  }
  return { metric: metric as GateWindowMetric, maxAgeMs: Number(age) };
}

/** The report of `window`'s completed intervals ended at most `maxAgeMs` before its latest rotation. */
export function gateWindowReport(window: SlidingWindowQuantiles, metric: GateWindowMetric, maxAgeMs: number): GateWindowReport {
  const intervals: GateWindowInterval[] = [];
  const now = window.nowMs;
  window.forEachCompletedInterval(maxAgeMs, (interval, endMs) => {
    // Whole milliseconds: the engine's monotonic clock has fractions, the wire format has none.
    intervals.push({ endAgeMs: Math.max(0, Math.round(now - endMs)), samples: interval.count, buckets: interval.nonEmptyBuckets([]) });
  });
  return { version: 1, metric, intervalMs: window.intervalMs, intervals };
}
