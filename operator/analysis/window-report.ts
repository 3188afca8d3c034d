import type { GateWindowInterval, GateWindowReport } from '../../engine/metrics/gate-window.ts';
import { DistributionBuilder, type LatencyDistribution } from './distribution.ts';

/**
 * The operator's side of the engine's window report (engine/metrics/gate-window.ts): reads a reply body strictly,
 * and selects from every pod's report the intervals that ended after the gate's window start: the consecutive,
 * non-overlapping window the Mann-Whitney gate judges. Pure.
 *
 *   pod reports (each with the operator time its reply arrived)
 *     --> each interval's end on the operator's clock = arrival - endAgeMs
 *     --> keep intervals that ended after `sinceMs` --> one LatencyDistribution over all pods
 *         fromMs = earliest kept interval's start, throughMs = latest kept interval's end
 *
 * The next window starts at `throughMs`, so an interval is judged once: a completed interval never changes, and
 * the one still filling is never in a report. Engines align their intervals to wall-clock multiples of the
 * interval (engine-metrics.ts), so canary and stable intervals cover the same times, and each mapped end is
 * rounded to that boundary: a reply's network delay (milliseconds against 1 s intervals) cannot move it.
 */

/** One pod's report and when (operator wall-clock ms) its reply arrived. */
export interface ArrivedReport {
  readonly pod: string;
  readonly report: GateWindowReport;
  readonly arrivedMs: number;
}

export interface SelectedWindow {
  readonly distribution: LatencyDistribution;
  /** Start of the earliest interval kept (wall ms); undefined when none was. */
  readonly fromMs: number | undefined;
  /** End of the latest interval kept (wall ms); undefined when none was. */
  readonly throughMs: number | undefined;
}

/** Every pod's intervals that ended after `sinceMs` and no later than `untilMs`, merged. */
export function selectWindow(reports: readonly ArrivedReport[], sinceMs: number, untilMs = Number.POSITIVE_INFINITY): SelectedWindow {
  const builder = new DistributionBuilder();
  let fromMs: number | undefined;
  let throughMs: number | undefined;
  for (const { report, arrivedMs } of reports) {
    for (const interval of report.intervals) {
      // Engines align their intervals to wall-clock multiples of intervalMs: the end, placed on this clock, is
      // rounded to that boundary, so the reply's network delay cannot make one interval look new twice.
      const endMs = Math.round((arrivedMs - interval.endAgeMs) / report.intervalMs) * report.intervalMs;
      if (endMs <= sinceMs || endMs > untilMs) continue;
      for (const [ns, count] of interval.buckets) builder.add(ns, count);
      const startMs = endMs - report.intervalMs;
      fromMs = fromMs === undefined || startMs < fromMs ? startMs : fromMs;
      throughMs = throughMs === undefined || endMs > throughMs ? endMs : throughMs;
    }
  }
  return { distribution: builder.build(), fromMs, throughMs };
}

/**
 * Reads a window report reply, checking every field (a reply from another engine version, or not from an engine,
 * is an error naming what is wrong, never a silently empty window). Returns the report or the message.
 */
export function parseWindowReport(body: string, metric: GateWindowReport['metric']): GateWindowReport | string {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    return `the window report is not JSON: ${(error as Error).message}`;
  }
  if (!isRecord(value)) return 'the window report is not a JSON object';
  if (value.version !== 1) return `window report version ${JSON.stringify(value.version)} is not 1 (the engine is from another release)`;
  if (value.metric !== metric) return `the window report is of metric ${JSON.stringify(value.metric)}, not ${metric}`;
  if (!isCount(value.intervalMs) || value.intervalMs < 1) return `the window report's intervalMs ${JSON.stringify(value.intervalMs)} is not a positive integer`;
  if (!Array.isArray(value.intervals)) return "the window report's intervals is not a list";
  const intervals: GateWindowInterval[] = [];
  for (const [index, raw] of (value.intervals as unknown[]).entries()) {
    const interval = readInterval(raw);
    if (typeof interval === 'string') return `the window report's intervals[${index}]: ${interval}`;
    intervals.push(interval);
  }
  return { version: 1, metric, intervalMs: value.intervalMs, intervals };
}

function readInterval(raw: unknown): GateWindowInterval | string {
  if (!isRecord(raw)) return 'not an object';
  if (!isCount(raw.endAgeMs)) return `endAgeMs ${JSON.stringify(raw.endAgeMs)} is not a non-negative integer`;
  if (!isCount(raw.samples)) return `samples ${JSON.stringify(raw.samples)} is not a non-negative integer`;
  if (!Array.isArray(raw.buckets)) return 'buckets is not a list';
  let total = 0;
  const buckets: Array<readonly [number, number]> = [];
  for (const bucket of raw.buckets as unknown[]) {
    if (!Array.isArray(bucket) || bucket.length !== 2 || !isCount(bucket[0]) || !isCount(bucket[1])) {
      return `bucket ${JSON.stringify(bucket)} is not [upper edge ns, count]`;
    }
    total += bucket[1];
    buckets.push([bucket[0], bucket[1]]);
  }
  if (total !== raw.samples) return `its buckets hold ${total} samples, not ${raw.samples}`;
  return { endAgeMs: raw.endAgeMs, samples: raw.samples, buckets };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
