import type { SignalCounts } from './signals.ts';
import type { SelectedWindow } from './window-report.ts';
/**
 * The latency gate's measurement contract. A provider measures one revision's tick-to-order latency at the
 * configured quantile over the analysis window and reports either a value or an error; it never decides
 * anything (verdict.ts does, purely). Providers: PodScrape (pod-scrape.ts, each pod's /metrics sliding-window
 * gauge) and Prometheus (prometheus.ts, histogram_quantile over the engine's histogram).
 */

/** One engine pod the gate may scrape: its name and the IP its metrics server listens on. */
export interface TargetPod {
  readonly name: string;
  readonly ip: string;
}

/** What to measure: one revision of one TradingEngine. */
/** What the gate samples: `Decision` (every trade, the default) or `TickToOrder` (orders only); docs/metrics.md. */
export type LatencyMetric = 'Decision' | 'TickToOrder';

export interface MeasureTarget {
  readonly namespace: string;
  readonly engineName: string;
  readonly revision: string;
  /** The revision's running pods with an IP (PodScrape reads these; Prometheus selects by the same names). */
  readonly pods: readonly TargetPod[];
  /** The latency sampled (spec.analysis.latency.metric): decision latency (every trade) or tick-to-order. */
  readonly metric: LatencyMetric;
  /** The gated quantile as written in the spec ("0.99"). */
  readonly quantile: string;
  readonly windowSeconds: number;
  /**
   * Set by the Mann-Whitney gate: also read each pod's window report and select the intervals that ended after
   * this time (wall ms), the start of the gate's next window (window-report.ts).
   */
  readonly windowSinceMs?: number;
  /** With windowSinceMs: the end of the window (wall ms, an interval boundary); later intervals wait for the next one. */
  readonly windowUntilMs?: number;
  /** Set when the spec has signal checks: the Prometheus source then also queries the engine's error counters. */
  readonly signals?: boolean;
  readonly metricsPort: number;
  readonly timeoutMs: number;
}

/** A revision's latency over the window: the quantile in microseconds (undefined when no sample) and the sample count. */
export interface RevisionLatency {
  /** The quantile in µs; undefined when the window holds no samples (the engine exports NaN then). */
  readonly quantileMicros: number | undefined;
  /** Samples in the window, summed over the pods measured. */
  readonly samples: number;
  /** Pods whose figures went into the value. */
  readonly podsMeasured: number;
  /** The engine's error signals since each pod started, summed over the pods (both providers; for the checks). */
  readonly signals?: SignalCounts;
  /** The samples since `windowSinceMs`, over all pods (PodScrape, when asked for). */
  readonly window?: SelectedWindow;
}

export type MeasureResult =
  | { readonly ok: true; readonly value: RevisionLatency }
  | { readonly ok: false; readonly error: string };

export interface LatencyProvider {
  /** Never throws: every failure (timeout, refused connection, bad payload, no pods) is an `ok: false` result. */
  measure(target: MeasureTarget): Promise<MeasureResult>;
}
