/**
 * The latency gate's PromQL (latency, and the counters of the signal checks), rendered from data by pure functions
 * (no I/O, no clock). The Prometheus provider (prometheus.ts) sends these; tests pin them exactly.
 *
 * Guarantees:
 * - Every value from the outside (namespace, pod names) is written as an escaped PromQL string literal, and pod
 *   names are regex-quoted before they go into `pod=~`, so a hostile name can neither break out of the literal
 *   nor widen the selector: `pod=~"a.b"` would also match "axb", `pod=~"a\\.b"` matches only "a.b".
 * - Numbers (quantile, window) are validated and written in a canonical form; anything else is a RangeError.
 * - The quantile query answers in MICROSECONDS: the `* 1e6` is part of the PromQL, so the figure pasted into the
 *   Prometheus UI is the figure compared with `thresholdMicros`.
 * - Rendering is deterministic: pod names are de-duplicated and sorted, so the same pods give the same query.
 * - The signals query selects the same pods with the same selector as the latency queries.
 */
import type { LatencyMetric, MeasureTarget } from './provider.ts';

/** The engine's cumulative histogram (seconds) of each metric, see docs/metrics.md. */
export const latencyHistograms: Readonly<Record<LatencyMetric, string>> = {
  Decision: 'nexus_engine_decision_latency_seconds',
  TickToOrder: 'nexus_engine_tick_to_order_latency_seconds',
};

export interface LatencyQueries {
  /** One-element vector: the revision's latency at the quantile over the window, in µs (NaN when no samples). */
  readonly quantile: string;
  /** One-element vector: tick-to-order samples the revision's pods recorded over the window. */
  readonly samples: string;
}

export type LatencyQueryTarget = Pick<MeasureTarget, 'namespace' | 'pods' | 'quantile' | 'windowSeconds' | 'metric'>;

/**
 * Renders the two instant queries for one revision. Throws RangeError when there are no pods or the quantile or
 * window is not a valid number (the provider turns that into an error result).
 *
 * Example: namespace "prod", pods "eng-a", "eng-b", quantile "0.99", window 60 s, metric TickToOrder (Decision,
 * the default, reads nexus_engine_decision_latency_seconds the same way):
 *   quantile: histogram_quantile(0.99, sum by (le) (rate(nexus_engine_tick_to_order_latency_seconds_bucket{namespace="prod",pod=~"eng-a|eng-b"}[60s]))) * 1e6
 *   samples:  sum(increase(nexus_engine_tick_to_order_latency_seconds_count{namespace="prod",pod=~"eng-a|eng-b"}[60s]))
 */
export function renderLatencyQueries(target: LatencyQueryTarget): LatencyQueries {
  const quantile = renderQuantile(target.quantile);
  const range = renderRange(target.windowSeconds);
  const selector = renderPodSelector(target.namespace, target.pods.map((pod) => pod.name));
  const histogram = latencyHistograms[target.metric];
  return {
    quantile: `histogram_quantile(${quantile}, sum by (le) (rate(${histogram}_bucket${selector}[${range}]))) * 1e6`,
    samples: `sum(increase(${histogram}_count${selector}[${range}]))`,
  };
}

/**
 * The engine's counters the signal checks read, exactly those readSignalCounts (signals.ts) sums: ticks and frames
 * received and rejected, ticks lost, orders by result, pool exhaustions (docs/metrics.md). The engine exports every
 * one of them from its start, so a revision's pods that Prometheus scrapes have a series of each.
 */
export const signalCounters: readonly string[] = [
  'nexus_engine_frames_received_total',
  'nexus_engine_frames_rejected_total',
  'nexus_engine_orders_total',
  'nexus_engine_pool_exhausted_total',
  'nexus_engine_ticks_lost_total',
  'nexus_engine_ticks_received_total',
  'nexus_engine_ticks_rejected_total',
];

export type SignalsQueryTarget = Pick<MeasureTarget, 'namespace' | 'pods'>;

/**
 * Renders the one instant query for the signal checks of one revision: every counter in `signalCounters`,
 * summed over the revision's pods (the latency queries' selector) and over every label but the metric name and
 * `result`, which tells denied orders from accepted ones. One series per counter, two for orders_total.
 *
 * The values are the counters as they stand, NOT an increase over the window: the checks judge ratios since each
 * pod started (SignalCounts in signals.ts, what PodScrape reads from /metrics), and judgeChecks compares the
 * canary's ratio since its start with the stable's since its start and counts minEvents in the same totals. A
 * counter reset (a restarted container) starts that pod's count again, as PodScrape sees it too.
 * Throws RangeError without pods.
 *
 * Example: namespace "prod", pods "eng-b", "eng-a" (the name alternation is written on one line):
 *   sum by (__name__, result) ({__name__=~"nexus_engine_frames_received_total|nexus_engine_frames_rejected_total|
 *     nexus_engine_orders_total|nexus_engine_pool_exhausted_total|nexus_engine_ticks_lost_total|
 *     nexus_engine_ticks_received_total|nexus_engine_ticks_rejected_total",namespace="prod",pod=~"eng-a|eng-b"})
 */
export function renderSignalsQuery(target: SignalsQueryTarget): string {
  const names = signalCounters.map(quoteRegexMeta).join('|');
  const matchers = renderPodMatchers(target.namespace, target.pods.map((pod) => pod.name));
  return `sum by (__name__, result) ({__name__=~${promqlString(names)},${matchers}})`;
}

/**
 * `{namespace="<ns>",pod=~"<p1>|<p2>"}` with both values escaped. Throws RangeError without pods: an empty
 * alternation would match nothing (or, written carelessly, everything).
 * Example: ("prod", ["b", "a.1"]) -> {namespace="prod",pod=~"a\\.1|b"}
 */
export function renderPodSelector(namespace: string, podNames: readonly string[]): string {
  return `{${renderPodMatchers(namespace, podNames)}}`;
}

/** The selector's matchers without the braces, to join with others: `namespace="<ns>",pod=~"<p1>|<p2>"`. */
function renderPodMatchers(namespace: string, podNames: readonly string[]): string {
  if (podNames.length === 0) throw new RangeError('no pods to select');
  const alternation = [...new Set(podNames)].sort().map(quoteRegexMeta).join('|');
  return `namespace=${promqlString(namespace)},pod=~${promqlString(alternation)}`;
}

/**
 * A PromQL double-quoted string literal holding exactly `value`: backslash and double quote are escaped, and so
 * is every control character (\n, \r, \t by name, the rest as \u00XX), since a raw newline ends the literal.
 * Examples: a"b -> "a\"b", a\b -> "a\\b", line break -> "\n".
 */
export function promqlString(value: string): string {
  let out = '"';
  for (const char of value) out += escapeStringChar(char);
  return `${out}"`;
}

const NAMED_ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeStringChar(char: string): string {
  const named = NAMED_ESCAPES[char];
  if (named !== undefined) return named;
  const code = char.codePointAt(0) ?? 0;
  if (code < 0x20 || code === 0x7f) return `\\u${code.toString(16).padStart(4, '0')}`;
  return char;
}

/**
 * Escapes RE2 metacharacters so the regex matches `value` literally (the set Go's regexp.QuoteMeta escapes).
 * Prometheus anchors label regexes, so the alternation "a|b" matches exactly "a" or "b".
 * Example: "eng.v2+(1)" -> "eng\.v2\+\(1\)".
 */
export function quoteRegexMeta(value: string): string {
  return value.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

/**
 * The quantile as a PromQL number: a decimal in [0, 1] written as given after validation ("0.99" -> 0.99).
 * Throws RangeError otherwise ("1.5", "abc", "0.99) or vector(1"), so nothing but a number reaches the query.
 */
export function renderQuantile(quantile: string): string {
  if (!/^(?:0(?:\.\d+)?|1(?:\.0+)?|\.\d+)$/.test(quantile)) {
    throw new RangeError(`quantile must be a decimal between 0 and 1, got ${JSON.stringify(quantile)}`);
  }
  return quantile;
}

/**
 * The window as a PromQL range duration: whole seconds as "<n>s", otherwise whole milliseconds as "<n>ms"
 * (PromQL durations take integers only). Examples: 60 -> "60s", 1.5 -> "1500ms". Throws RangeError for a window
 * that is not positive and finite, shorter than 1 ms or too long to write as an integer.
 */
export function renderRange(windowSeconds: number): string {
  if (!Number.isFinite(windowSeconds) || windowSeconds <= 0) {
    throw new RangeError(`window must be a positive number of seconds, got ${windowSeconds}`);
  }
  if (Number.isSafeInteger(windowSeconds)) return `${windowSeconds}s`;
  const milliseconds = Math.round(windowSeconds * 1000);
  if (milliseconds < 1 || !Number.isSafeInteger(milliseconds)) {
    throw new RangeError(`window must be between 1 ms and 2^53 ms, got ${windowSeconds} s`);
  }
  return `${milliseconds}ms`;
}
