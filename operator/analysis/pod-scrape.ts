/**
 * The PodScrape latency provider: reads each engine pod's sliding-window gauges straight from its /metrics.
 *
 *   measure(target) --GET http://<pod ip>:<metricsPort><path> (all pods at once, each bounded by timeoutMs)-->
 *     parseExposition --> nexus_engine_tick_to_order_latency_window_micros{quantile="<q>"}
 *                         nexus_engine_tick_to_order_latency_window_samples
 *     --> aggregateWorstPod --> RevisionLatency
 *
 * Aggregation (conservative): the revision's quantile is the WORST pod's quantile, the maximum over pods whose
 * window holds samples, so a regression on one pod is never averaged away; samples are summed; podsMeasured is
 * the number of pods scraped. The engine's per-pod quantiles cannot be merged into an exact revision quantile
 * anyway, and the maximum is an upper bound of it.
 *
 * Guarantees:
 * - `measure` never throws and never rejects; every failure is `{ ok: false, error }`.
 * - All or nothing: if any pod fails (refused, timeout, HTTP status other than 200, a reply over `maxReplyBytes`,
 *   unparseable body, gauge missing), the result is an error naming every failing pod, its URL and the cause. Measuring only the
 *   remaining pods could hide exactly the slow one.
 * - A pod whose window is empty (samples 0, quantile NaN) adds 0 samples and no value; if every pod is empty the
 *   result is ok with quantileMicros undefined and samples 0 (the gate's Inconclusive, never a breach).
 * - No pods is an error ("no running pods of revision X"), not an empty measurement.
 */
import { defaultMaxReplyBytes, readBoundedBody } from './bounded-body.ts';
import { findSamples, parseExposition, type ExpositionSample } from './exposition.ts';
import type { LatencyMetric, LatencyProvider, MeasureResult, MeasureTarget, RevisionLatency, TargetPod } from './provider.ts';
import { addSignalCounts, readSignalCounts, type SignalCounts } from './signals.ts';
import { parseWindowReport, selectWindow, type ArrivedReport } from './window-report.ts';

/** The engine's gate window report, on the metrics port (engine/metrics/http-server.ts). */
export const gateWindowPath = '/gate/window';

/** The engine's gate gauges of each metric (docs/metrics.md, "The latency gate API"). */
export const windowGauges: Readonly<Record<LatencyMetric, { readonly quantile: string; readonly samples: string }>> = {
  Decision: { quantile: 'nexus_engine_decision_latency_window_micros', samples: 'nexus_engine_decision_latency_window_samples' },
  TickToOrder: { quantile: 'nexus_engine_tick_to_order_latency_window_micros', samples: 'nexus_engine_tick_to_order_latency_window_samples' },
};

export const DEFAULT_METRICS_PATH = '/metrics';

export interface PodScrapeOptions {
  /** The HTTP path of the engine's metrics (spec.analysis.latency.source.podScrape.path); default "/metrics". */
  readonly path?: string;
  /** The fetch to use (default: the global one); tests and proxies inject their own. */
  readonly fetch?: typeof fetch;
  /** The most bytes read of one pod's reply; a larger reply is a failed scrape (default 1 MiB). */
  readonly maxReplyBytes?: number;
  /** The operator's clock, for placing window report intervals in time (default Date.now). */
  readonly nowMs?: () => number;
}

/** One pod's window as read from its gauges; quantileMicros is undefined when its window is empty. */
export interface PodWindow {
  readonly pod: string;
  readonly quantileMicros: number | undefined;
  readonly samples: number;
  /** The pod's error-signal counters (signals.ts); absent in windows not read from a body. */
  readonly signals?: SignalCounts;
}

type PodScrape = { readonly ok: true; readonly window: PodWindow } | { readonly ok: false; readonly failure: string };

export function createPodScrapeProvider(options: PodScrapeOptions = {}): LatencyProvider {
  const path = options.path ?? DEFAULT_METRICS_PATH;
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const maxReplyBytes = options.maxReplyBytes ?? defaultMaxReplyBytes;
  const scraper: Scraper = { fetch: fetchImpl, path, maxReplyBytes, nowMs: options.nowMs ?? Date.now };
  return {
    async measure(target: MeasureTarget): Promise<MeasureResult> {
      try {
        return await measureRevision(scraper, target);
      } catch (error) {
        // Unreachable by design (scrapePod catches everything); kept so a bug can never reject into the caller.
        return { ok: false, error: `${revisionName(target)}: pod scrape failed: ${errorMessage(error)}` };
      }
    },
  };
}

interface Scraper {
  readonly fetch: typeof fetch;
  readonly path: string;
  readonly maxReplyBytes: number;
  readonly nowMs: () => number;
}

async function measureRevision(scraper: Scraper, target: MeasureTarget): Promise<MeasureResult> {
  if (target.pods.length === 0) return { ok: false, error: `no running pods of ${revisionName(target)}` };
  if (!scraper.path.startsWith('/')) return { ok: false, error: `${revisionName(target)}: metrics path must start with "/", got ${JSON.stringify(scraper.path)}` };
  const windowSince = target.windowSinceMs;
  const [scrapes, reports] = await Promise.all([
    Promise.all(target.pods.map((pod) => scrapePod(scraper, pod, target))),
    windowSince === undefined ? Promise.resolve([]) : Promise.all(target.pods.map((pod) => fetchWindowReport(scraper, pod, target))),
  ]);
  const failures = [...scrapes, ...reports].flatMap((scrape) => (scrape.ok ? [] : [scrape.failure]));
  if (failures.length > 0) {
    return {
      ok: false,
      error: windowSince === undefined
        ? `${revisionName(target)}: ${failures.length} of ${target.pods.length} pods failed the scrape: ${failures.join('; ')}`
        : `${revisionName(target)}: ${failures.length} of ${target.pods.length * 2} pod requests (metrics and window report) failed: ${failures.join('; ')}`,
    };
  }
  const latency = aggregateWorstPod(scrapes.flatMap((scrape) => (scrape.ok ? [scrape.window] : [])));
  if (windowSince === undefined) return { ok: true, value: latency };
  const window = selectWindow(reports.flatMap((report) => (report.ok ? [report.arrived] : [])), windowSince, target.windowUntilMs);
  return { ok: true, value: { ...latency, window } };
}

type WindowFetch = { readonly ok: true; readonly arrived: ArrivedReport } | { readonly ok: false; readonly failure: string };

/**
 * Fetches one pod's gate window report (engine/metrics/gate-window.ts) within timeoutMs; its intervals are placed
 * in time from when the reply's headers arrived, the closest this side gets to when the engine wrote the ages.
 */
async function fetchWindowReport(scraper: Scraper, pod: TargetPod, target: MeasureTarget): Promise<WindowFetch> {
  const metric = target.metric === 'Decision' ? 'decision' : 'tickToOrder';
  const url = `${podMetricsUrl(pod.ip, target.metricsPort, gateWindowPath)}?metric=${metric}&maxAgeMs=${target.windowSeconds * 1000}`;
  const reply = await getPod(scraper, pod, url, 'application/json', target.timeoutMs);
  if (!reply.ok) return reply;
  const report = parseWindowReport(reply.text, metric);
  return typeof report === 'string' ? { ok: false, failure: `${reply.where}: ${report}` } : { ok: true, arrived: { pod: pod.name, report, arrivedMs: reply.arrivedMs } };
}

/**
 * The revision's latency from its pods' windows: the maximum quantile over pods with samples (undefined when
 * none has any), the sum of samples, and the number of pods.
 * Example: [{p99 80, 1000 samples}, {p99 250, 10 samples}, {empty}] -> {quantileMicros 250, samples 1010, podsMeasured 3}.
 */
export function aggregateWorstPod(windows: readonly PodWindow[]): RevisionLatency {
  let worst: number | undefined;
  let samples = 0;
  let signals: SignalCounts | undefined;
  for (const window of windows) {
    samples += window.samples;
    if (window.signals !== undefined) signals = signals === undefined ? window.signals : addSignalCounts(signals, window.signals);
    if (window.samples > 0 && window.quantileMicros !== undefined) {
      worst = worst === undefined ? window.quantileMicros : Math.max(worst, window.quantileMicros);
    }
  }
  return { quantileMicros: worst, samples, podsMeasured: windows.length, ...(signals === undefined ? {} : { signals }) };
}

/** Scrapes one pod within timeoutMs (connect, headers and body together). Never rejects. */
async function scrapePod(scraper: Scraper, pod: TargetPod, target: MeasureTarget): Promise<PodScrape> {
  const reply = await getPod(scraper, pod, podMetricsUrl(pod.ip, target.metricsPort, scraper.path), 'text/plain;version=0.0.4', target.timeoutMs);
  if (!reply.ok) return reply;
  const window = readPodWindow(pod.name, reply.text, target.quantile, target.metric);
  return typeof window === 'string' ? { ok: false, failure: `${reply.where}: ${window}` } : { ok: true, window };
}

type PodReply =
  | { readonly ok: true; readonly text: string; readonly arrivedMs: number; readonly where: string }
  | { readonly ok: false; readonly failure: string };

/**
 * One GET to a pod within timeoutMs (connect, headers and body together), read within maxReplyBytes; a failure
 * names the pod, the URL and the cause (refused, timed out, too large, not 200 with an excerpt). `arrivedMs`: when
 * the reply's headers arrived. Never rejects.
 */
async function getPod(scraper: Scraper, pod: TargetPod, url: string, accept: string, timeoutMs: number): Promise<PodReply> {
  const where = `pod ${pod.name} at ${url}`;
  try {
    const response = await scraper.fetch(url, { headers: { accept }, signal: AbortSignal.timeout(timeoutMs) });
    const arrivedMs = scraper.nowMs();
    const read = await readBoundedBody(response, scraper.maxReplyBytes);
    if (!read.ok) return { ok: false, failure: `${where}: ${read.error}` };
    if (response.status !== 200) return { ok: false, failure: `${where}: HTTP ${response.status}${bodyExcerpt(read.text)}` };
    return { ok: true, text: read.text, arrivedMs, where };
  } catch (error) {
    return { ok: false, failure: `${where}: ${describeFetchError(error, timeoutMs)}` };
  }
}

/**
 * One pod's window from its /metrics body, or what is wrong with it. The quantile is looked up by the exact
 * label value the spec gives ("0.99"); the engine exports 0.5, 0.9, 0.99 and 0.999.
 */
export function readPodWindow(pod: string, body: string, quantile: string, metric: LatencyMetric): PodWindow | string {
  const gauges = windowGauges[metric];
  const parsed = parseExposition(body);
  if (!parsed.ok) return `unparseable metrics: ${parsed.error}`;
  const samples = readSingle(parsed.samples, gauges.samples, {});
  if (typeof samples === 'string') return samples;
  if (!Number.isInteger(samples) || samples < 0) return `${gauges.samples} is ${samples}, not a sample count`;
  const value = readSingle(parsed.samples, gauges.quantile, { quantile });
  if (typeof value === 'string') return `${value}${exportedQuantiles(parsed.samples, gauges.quantile)}`;
  const signals = readSignalCounts(parsed.samples);
  if (samples === 0) return { pod, quantileMicros: undefined, samples: 0, signals };
  if (!Number.isFinite(value) || value < 0) {
    return `${gauges.quantile}{quantile="${quantile}"} is ${value} while the window holds ${samples} samples`;
  }
  return { pod, quantileMicros: value, samples, signals };
}

/** The value of the one sample `name{labels}`; a message when it is missing or exported more than once. */
function readSingle(samples: readonly ExpositionSample[], name: string, labels: Readonly<Record<string, string>>): number | string {
  const found = findSamples(samples, name, labels);
  const series = `${name}${formatLabels(labels)}`;
  if (found.length === 0) return `no ${series} in the metrics`;
  if (found.length > 1) return `${series} is exported ${found.length} times`;
  return found[0].value;
}

function exportedQuantiles(samples: readonly ExpositionSample[], gauge: string): string {
  const quantiles = findSamples(samples, gauge).map((sample) => sample.labels.quantile);
  return quantiles.length === 0 ? '' : ` (exported quantiles: ${quantiles.join(', ')})`;
}

function formatLabels(labels: Readonly<Record<string, string>>): string {
  const pairs = Object.entries(labels).map(([key, value]) => `${key}=${JSON.stringify(value)}`);
  return pairs.length === 0 ? '' : `{${pairs.join(',')}}`;
}

/** `http://<ip>:<port><path>`, with an IPv6 address in brackets. Example: ("fd00::5", 9100, "/metrics") -> http://[fd00::5]:9100/metrics. */
export function podMetricsUrl(ip: string, port: number, path: string): string {
  const host = ip.includes(':') ? `[${ip}]` : ip;
  return `http://${host}:${port}${path}`;
}

/**
 * A one-line cause for a failed fetch: "timed out after 2000 ms" for the AbortSignal.timeout, otherwise the
 * error's message with the network cause undici hides in `cause` ("fetch failed: connect ECONNREFUSED 10.0.0.5:9100").
 */
export function describeFetchError(error: unknown, timeoutMs: number): string {
  // AbortSignal.timeout rejects with a DOMException named TimeoutError (from fetch or from reading the body).
  if (typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'TimeoutError') {
    return `timed out after ${timeoutMs} ms`;
  }
  const message = errorMessage(error);
  const cause = error instanceof Error ? error.cause : undefined;
  return cause === undefined ? message : `${message}: ${errorMessage(cause)}`;
}

function errorMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  if (error.message !== '') return error.message;
  return typeof code === 'string' ? code : error.name;
}

/** A short quote of an error body for the message: ` ("not found")`, or nothing when the body is empty. */
export function bodyExcerpt(body: string): string {
  const text = body.trim().replace(/\s+/g, ' ');
  if (text === '') return '';
  return ` (${JSON.stringify(text.length > 200 ? `${text.slice(0, 197)}...` : text)})`;
}

function revisionName(target: MeasureTarget): string {
  return `revision ${target.revision} of ${target.namespace}/${target.engineName}`;
}
