import type { LatencyHistogram } from '../../engine/metrics/latency-histogram.ts';

export interface LatencySummary {
  readonly samples: number;
  readonly p50Micros: number;
  readonly p90Micros: number;
  readonly p99Micros: number;
  readonly p999Micros: number;
  readonly maxMicros: number;
}

/** Quantiles of a latency histogram in microseconds, rounded to 0.1 µs, for reports and JSON output. */
export function latencySummary(histogram: LatencyHistogram): LatencySummary {
  const micros = (ns: number): number => Math.round(ns / 100) / 10;
  const empty = histogram.count === 0;
  return {
    samples: histogram.count,
    p50Micros: empty ? 0 : micros(histogram.valueAtQuantile(0.5)),
    p90Micros: empty ? 0 : micros(histogram.valueAtQuantile(0.9)),
    p99Micros: empty ? 0 : micros(histogram.valueAtQuantile(0.99)),
    p999Micros: empty ? 0 : micros(histogram.valueAtQuantile(0.999)),
    maxMicros: empty ? 0 : micros(histogram.max),
  };
}
