/**
 * The Prometheus latency provider: asks a Prometheus server for the revision's quantile and sample count over
 * the window, computed from the engine's cumulative histogram, and for the engine's error counters the signal
 * checks judge (promql.ts renders the queries).
 *
 *   measure(target) --POST <address>/api/v1/query (form: query=...), three queries at once, each within timeoutMs-->
 *     quantile, samples: {"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[<ts>,"<number>"]}]}}
 *     signals:           the same with one series per counter, {"metric":{"__name__":"nexus_engine_ticks_received_total"},...}
 *     --> RevisionLatency { quantileMicros, samples, podsMeasured, signals }
 *
 * Queries go as POST form bodies (which /api/v1/query accepts like GET parameters), so a revision with many pods
 * cannot exceed a URL length limit.
 *
 * Guarantees:
 * - `measure` never throws and never rejects; every failure is `{ ok: false, error }` naming the address and the
 *   cause (network error, timeout, Prometheus' own errorType and error, or what is malformed in the response).
 * - No data is not an error: an empty vector or "NaN" gives quantileMicros undefined and samples 0, which the
 *   gate treats as Inconclusive, never as a breach.
 * - Values are microseconds (the query multiplies by 1e6). samples is the extrapolated increase() rounded to
 *   a whole count. podsMeasured is the number of pods the queries select: Prometheus aggregates over them and
 *   does not say which ones had series.
 * - signals are the counters' current values summed over the pods: counts since each pod started, as PodScrape
 *   reads them (renderSignalsQuery says why not an increase over the window). As with the latency queries, a
 *   selected pod Prometheus holds no series of is left out of the sums, not reported.
 * - All or nothing, as PodScrape: a failed signals query fails the measurement, never a silent zero. So does a
 *   counter with no series: the engine exports every one from its start, so none means Prometheus does not (yet)
 *   scrape the pods or does not keep that counter, and the checks would judge numbers that are not there.
 * - No pods is an error ("no running pods of revision X").
 */
import { defaultMaxReplyBytes, readBoundedBody } from './bounded-body.ts';
import { describeFetchError } from './pod-scrape.ts';
import { parseSampleValue, type ExpositionSample } from './exposition.ts';
import { renderLatencyQueries, renderSignalsQuery, signalCounters, type LatencyQueries } from './promql.ts';
import type { LatencyProvider, MeasureResult, MeasureTarget } from './provider.ts';
import { trustedFetch } from './trusted-fetch.ts';
import { readSignalCounts, type SignalCounts } from './signals.ts';

export interface PrometheusProviderOptions {
  /** The server's base URL (spec.analysis.latency.source.prometheus.address), e.g. http://prometheus:9090. */
  readonly address: string;
  /** The fetch to use (default: the global one); tests inject their own. */
  readonly fetch?: typeof fetch;
  /** The most bytes read of one query's reply; a larger reply is a failed query (default 1 MiB). */
  readonly maxReplyBytes?: number;
  /**
   * Headers sent with every query (a tenant header, `authorization: Bearer ...` from the source's token Secret).
   * The query's own accept and content-type always win. Never part of an error message.
   */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * A PEM bundle of the certificate authorities an https address's certificate is checked against, instead of the
   * public roots (the source's caConfigMapRef). One that holds no certificate makes every measurement an Error.
   */
  readonly caBundle?: string;
}

/** A parsed reply, or what is wrong with it in the operator's own words. */
type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

/** An instant query's single value: undefined when the vector is empty or the value is NaN. */
export type QueryValue = Parsed<number | undefined>;

/** The signals query's counts, summed over the revision's pods. */
export type SignalsValue = Parsed<SignalCounts>;

/** One series of an instant vector: its labels and its value (NaN and ±Inf kept). */
export interface VectorSeries {
  readonly metric: Readonly<Record<string, unknown>>;
  readonly value: number;
}

export function createPrometheusProvider(options: PrometheusProviderOptions): LatencyProvider {
  let baseFetch: typeof fetch = options.fetch ?? globalThis.fetch;
  let setupError: string | undefined;
  if (options.fetch === undefined && options.caBundle !== undefined) {
    try {
      baseFetch = trustedFetch(options.caBundle);
    } catch (error) {
      setupError = (error as Error).message;
    }
  }
  // Header names are case-insensitive: lower-cased here, so the query's own accept and content-type replace a
  // user's `Content-Type` instead of being sent beside it.
  const extra = options.headers === undefined ? undefined : Object.fromEntries(Object.entries(options.headers).map(([key, value]) => [key.toLowerCase(), value]));
  const fetchImpl: typeof fetch = extra === undefined ? baseFetch
    : (input, init) => baseFetch(input, { ...init, headers: { ...extra, ...(init?.headers as Record<string, string> | undefined) } });
  return {
    async measure(target: MeasureTarget): Promise<MeasureResult> {
      if (setupError !== undefined) return { ok: false, error: `${revisionName(target)}: ${setupError}` };
      try {
        return await measureRevision(fetchImpl, options.address, options.maxReplyBytes ?? defaultMaxReplyBytes, target);
      } catch (error) {
        // Unreachable by design (every step returns its failure); kept so a bug can never reject into the caller.
        return { ok: false, error: `${revisionName(target)}: Prometheus query failed: ${describeFetchError(error, target.timeoutMs)}` };
      }
    },
  };
}

async function measureRevision(fetchImpl: typeof fetch, address: string, maxReplyBytes: number, target: MeasureTarget): Promise<MeasureResult> {
  if (target.pods.length === 0) return { ok: false, error: `no running pods of ${revisionName(target)}` };
  const endpoint = queryEndpoint(address);
  if (endpoint === undefined) return { ok: false, error: `${revisionName(target)}: Prometheus address ${JSON.stringify(address)} is not an http(s) URL` };
  let queries: LatencyQueries;
  let signalsQuery: string;
  try {
    queries = renderLatencyQueries(target);
    signalsQuery = renderSignalsQuery(target);
  } catch (error) {
    return { ok: false, error: `${revisionName(target)}: cannot build the query: ${(error as Error).message}` };
  }
  const query = <T>(label: string, text: string, parse: (status: number, body: string) => Parsed<T>): Promise<Parsed<T>> =>
    instantQuery(fetchImpl, endpoint, label, text, target.timeoutMs, maxReplyBytes, parse);
  const [quantile, samples, signals] = await Promise.all([
    query('quantile', queries.quantile, parseQueryResponse),
    query('samples', queries.samples, parseQueryResponse),
    target.signals === true ? query('signals', signalsQuery, parseSignalsResponse) : Promise.resolve(undefined),
  ]);
  const failures = [quantile, samples, signals].flatMap((result) => (result === undefined || result.ok ? [] : [result.error]));
  if (!quantile.ok || !samples.ok || signals?.ok === false) return { ok: false, error: `${revisionName(target)}: ${failures.join('; ')}` };
  // sum() over no series answers an empty vector, a count over series with no samples answers 0: no series at all
  // means Prometheus has nothing under this selector (pods not scraped yet, or scraped under other labels), which
  // says nothing about the market and must not pass for a closed one (Inconclusive).
  if (samples.value === undefined) {
    return { ok: false, error: `${revisionName(target)}: the samples query matched no series in Prometheus (${queries.samples}): are the pods scraped, with namespace and pod labels?` };
  }
  const latency = latencyFromValues(quantile.value, samples.value, new Set(target.pods.map((pod) => pod.name)).size);
  if (!latency.ok || signals === undefined) return latency;
  return { ok: true, value: { ...latency.value, signals: signals.value } };
}

/**
 * Checks and converts the two query values. Example: (182.5, 1203.6, 2) -> {quantileMicros 182.5, samples 1204,
 * podsMeasured 2}; (undefined, undefined, 2) -> {undefined, 0, 2}; (Infinity, ...) -> error.
 */
export function latencyFromValues(quantileMicros: number | undefined, samples: number | undefined, pods: number): MeasureResult {
  // +Inf comes from histogram_quantile when only the +Inf bucket has data: no usable figure, not a breach.
  if (quantileMicros !== undefined && !(Number.isFinite(quantileMicros) && quantileMicros >= 0)) {
    return { ok: false, error: `the quantile query returned ${quantileMicros}, not a latency` };
  }
  if (samples !== undefined && !(Number.isFinite(samples) && samples >= 0)) {
    return { ok: false, error: `the samples query returned ${samples}, not a count` };
  }
  return { ok: true, value: { quantileMicros, samples: Math.round(samples ?? 0), podsMeasured: pods } };
}

/** `<address>/api/v1/query`, keeping a path prefix (http://host/prometheus/ -> http://host/prometheus/api/v1/query). */
export function queryEndpoint(address: string): string | undefined {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/api/v1/query`;
  url.search = '';
  url.hash = '';
  return url.toString();
}

/**
 * One instant query within timeoutMs, its reply read by `parse`; `label` names it in errors ("quantile query at
 * ..."). Never rejects.
 */
async function instantQuery<T>(
  fetchImpl: typeof fetch,
  endpoint: string,
  label: string,
  query: string,
  timeoutMs: number,
  maxReplyBytes: number,
  parse: (status: number, body: string) => Parsed<T>,
): Promise<Parsed<T>> {
  const failed = (cause: string): Parsed<T> => ({ ok: false, error: `${label} query at ${endpoint}: ${cause}` });
  try {
    const response = await fetchImpl(endpoint, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ query }).toString(),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const read = await readBoundedBody(response, maxReplyBytes);
    if (!read.ok) return failed(read.error);
    const parsed = parse(response.status, read.text);
    return parsed.ok ? parsed : failed(parsed.error);
  } catch (error) {
    return failed(describeFetchError(error, timeoutMs));
  }
}

/** Prometheus's documented errorType values: the only words of a reply that reach status and Events. */
const prometheusErrorTypes = new Set(['bad_data', 'timeout', 'canceled', 'execution', 'internal', 'unavailable', 'not_found', 'not_acceptable']);

/**
 * Parses a /api/v1/query response body holding at most one series. What it reports is the operator's own words:
 * nothing of a reply's text reaches status or Events (a spec names the address, so the reply could be any
 * server's), only Prometheus's documented errorType and counts.
 * Prometheus answers errors with a 4xx/5xx status and a JSON body
 * `{"status":"error","errorType":"bad_data","error":"..."}`, so the body is read whatever the status.
 * Success must be a vector of at most one series whose value is `[<unix seconds>, "<float>"]`:
 * [] -> undefined, "NaN" -> undefined, "182.5" -> 182.5, "+Inf" -> Infinity (the caller rejects it).
 */
export function parseQueryResponse(status: number, body: string): QueryValue {
  const vector = parseVectorResponse(status, body);
  if (!vector.ok) return vector;
  if (vector.value.length === 0) return { ok: true, value: undefined };
  if (vector.value.length > 1) return malformed(`expected at most one series, got ${vector.value.length}`);
  const value = vector.value[0]?.value ?? Number.NaN;
  return { ok: true, value: Number.isNaN(value) ? undefined : value };
}

/** Parses the signals query's reply (renderSignalsQuery) into the checks' counts; see signalCountsFromSeries. */
export function parseSignalsResponse(status: number, body: string): SignalsValue {
  const vector = parseVectorResponse(status, body);
  return vector.ok ? signalCountsFromSeries(vector.value) : vector;
}

/**
 * The checks' counts from the signals query's series, summed as readSignalCounts sums a pod's /metrics (every
 * series of a counter; orders also by result). Every counter of `signalCounters` must have a series and every
 * value must be a count (finite, not negative); a series of another metric is malformed. Messages name only the
 * operator's own counter names, never a label value of the reply.
 * Example: ticks_received 10000, ticks_rejected 30, orders {accepted 90, denied 10}, the rest 0 ->
 * TicksRejected 30 of 10000, OrdersDenied 10 of 100, TicksLost 0 of 10000; without a ticks_lost series -> error
 * "no series of nexus_engine_ticks_lost_total ...".
 */
export function signalCountsFromSeries(series: readonly VectorSeries[]): SignalsValue {
  const samples: ExpositionSample[] = [];
  for (const { metric, value } of series) {
    const name = metric.__name__;
    if (typeof name !== 'string' || !signalCounters.includes(name)) return malformed('a series is not one of the counters queried');
    const result = metric.result;
    if (result !== undefined && typeof result !== 'string') return malformed(`a series of ${name} has a result label that is not a string`);
    if (!(Number.isFinite(value) && value >= 0)) return { ok: false, error: `${name} summed to ${value}, not a count` };
    samples.push({ name, labels: result === undefined ? {} : { result }, value });
  }
  const missing = signalCounters.filter((name) => !samples.some((sample) => sample.name === name));
  if (missing.length > 0) {
    const which = missing.length === signalCounters.length ? "any of the engine's counters" : missing.join(', ');
    // The engine exports every counter from its start: no series means Prometheus does not see these pods' counters.
    return { ok: false, error: `no series of ${which} for the revision's pods (Prometheus has not scraped them yet, or does not keep these counters)` };
  }
  return { ok: true, value: readSignalCounts(samples) };
}

/**
 * Reads a /api/v1/query reply as an instant vector of any number of series, each `[<unix seconds>, "<float>"]`.
 * An error reply gives its documented errorType only (see parseQueryResponse).
 */
function parseVectorResponse(status: number, body: string): Parsed<VectorSeries[]> {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, error: `HTTP ${status}, body is not JSON (${body.length} characters, not shown)` };
  }
  if (!isRecord(json)) return malformed('the body is not an object');
  if (json.status === 'error') {
    const errorType = typeof json.errorType === 'string' && prometheusErrorTypes.has(json.errorType) ? json.errorType : 'of an unknown type';
    return { ok: false, error: `HTTP ${status}, Prometheus error ${errorType}` };
  }
  if (json.status !== 'success') return malformed('status is neither "success" nor "error"');
  if (status !== 200) return { ok: false, error: `HTTP ${status} with status "success"` };
  return parseVector(json.data);
}

function parseVector(data: unknown): Parsed<VectorSeries[]> {
  if (!isRecord(data)) return malformed('data is missing');
  if (data.resultType !== 'vector') return malformed('resultType is not "vector"');
  if (!Array.isArray(data.result)) return malformed('data.result is not an array');
  const series: VectorSeries[] = [];
  for (const item of data.result as unknown[]) {
    if (!isRecord(item) || !isRecord(item.metric)) return malformed('the series has no metric object');
    const value = parseSampleTuple(item.value);
    if (!value.ok) return value;
    series.push({ metric: item.metric, value: value.value });
  }
  return { ok: true, value: series };
}

function parseSampleTuple(tuple: unknown): Parsed<number> {
  if (!Array.isArray(tuple) || tuple.length !== 2 || typeof tuple[0] !== 'number' || typeof tuple[1] !== 'string') {
    return malformed('value is not [<unix seconds>, "<number>"]');
  }
  const value = parseSampleValue(tuple[1]);
  return value === undefined ? malformed('the sample value is not a number') : { ok: true, value };
}

function malformed<T>(what: string): Parsed<T> {
  return { ok: false, error: `malformed response: ${what}` };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function revisionName(target: MeasureTarget): string {
  return `revision ${target.revision} of ${target.namespace}/${target.engineName}`;
}
