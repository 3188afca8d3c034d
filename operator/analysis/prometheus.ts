/**
 * The Prometheus latency provider: asks a Prometheus server for the revision's quantile and sample count over
 * the window, computed from the engine's cumulative histogram (promql.ts renders the queries).
 *
 *   measure(target) --POST <address>/api/v1/query (form: query=...), both queries at once, each within timeoutMs-->
 *     {"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[<ts>,"<number>"]}]}}
 *     --> RevisionLatency { quantileMicros, samples, podsMeasured }
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
 * - No pods is an error ("no running pods of revision X").
 */
import { defaultMaxReplyBytes, readBoundedBody } from './bounded-body.ts';
import { describeFetchError } from './pod-scrape.ts';
import { parseSampleValue } from './exposition.ts';
import { renderLatencyQueries, type LatencyQueries } from './promql.ts';
import type { LatencyProvider, MeasureResult, MeasureTarget } from './provider.ts';

export interface PrometheusProviderOptions {
  /** The server's base URL (spec.analysis.latency.source.prometheus.address), e.g. http://prometheus:9090. */
  readonly address: string;
  /** The fetch to use (default: the global one); tests inject their own. */
  readonly fetch?: typeof fetch;
  /** The most bytes read of one query's reply; a larger reply is a failed query (default 1 MiB). */
  readonly maxReplyBytes?: number;
}

/** An instant query's single value: undefined when the vector is empty or the value is NaN. */
export type QueryValue = { readonly ok: true; readonly value: number | undefined } | { readonly ok: false; readonly error: string };

export function createPrometheusProvider(options: PrometheusProviderOptions): LatencyProvider {
  const fetchImpl = options.fetch ?? globalThis.fetch;
  return {
    async measure(target: MeasureTarget): Promise<MeasureResult> {
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
  try {
    queries = renderLatencyQueries(target);
  } catch (error) {
    return { ok: false, error: `${revisionName(target)}: cannot build the query: ${(error as Error).message}` };
  }
  const [quantile, samples] = await Promise.all([
    instantQuery(fetchImpl, endpoint, 'quantile', queries.quantile, target.timeoutMs, maxReplyBytes),
    instantQuery(fetchImpl, endpoint, 'samples', queries.samples, target.timeoutMs, maxReplyBytes),
  ]);
  const failures = [quantile, samples].flatMap((result) => (result.ok ? [] : [result.error]));
  if (!quantile.ok || !samples.ok) return { ok: false, error: `${revisionName(target)}: ${failures.join('; ')}` };
  return latencyFromValues(quantile.value, samples.value, new Set(target.pods.map((pod) => pod.name)).size);
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

/** One instant query within timeoutMs; `label` names it in errors ("quantile query at ..."). Never rejects. */
async function instantQuery(
  fetchImpl: typeof fetch,
  endpoint: string,
  label: string,
  query: string,
  timeoutMs: number,
  maxReplyBytes: number,
): Promise<QueryValue> {
  const failed = (cause: string): QueryValue => ({ ok: false, error: `${label} query at ${endpoint}: ${cause}` });
  try {
    const response = await fetchImpl(endpoint, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ query }).toString(),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const read = await readBoundedBody(response, maxReplyBytes);
    if (!read.ok) return failed(read.error);
    const parsed = parseQueryResponse(response.status, read.text);
    return parsed.ok ? parsed : failed(parsed.error);
  } catch (error) {
    return failed(describeFetchError(error, timeoutMs));
  }
}

/** Prometheus's documented errorType values: the only words of a reply that reach status and Events. */
const prometheusErrorTypes = new Set(['bad_data', 'timeout', 'canceled', 'execution', 'internal', 'unavailable', 'not_found', 'not_acceptable']);

/**
 * Parses a /api/v1/query response body. What it reports is the operator's own words: nothing of a reply's text
 * reaches status or Events (a spec names the address, so the reply could be any server's), only Prometheus's
 * documented errorType and counts.
 * Prometheus answers errors with a 4xx/5xx status and a JSON body
 * `{"status":"error","errorType":"bad_data","error":"..."}`, so the body is read whatever the status.
 * Success must be a vector of at most one series whose value is `[<unix seconds>, "<float>"]`:
 * [] -> undefined, "NaN" -> undefined, "182.5" -> 182.5, "+Inf" -> Infinity (the caller rejects it).
 */
export function parseQueryResponse(status: number, body: string): QueryValue {
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

function parseVector(data: unknown): QueryValue {
  if (!isRecord(data)) return malformed('data is missing');
  if (data.resultType !== 'vector') return malformed('resultType is not "vector"');
  if (!Array.isArray(data.result)) return malformed('data.result is not an array');
  if (data.result.length === 0) return { ok: true, value: undefined };
  if (data.result.length > 1) return malformed(`expected at most one series, got ${data.result.length}`);
  const series: unknown = data.result[0];
  if (!isRecord(series) || !isRecord(series.metric)) return malformed('the series has no metric object');
  return parseSampleTuple(series.value);
}

function parseSampleTuple(tuple: unknown): QueryValue {
  if (!Array.isArray(tuple) || tuple.length !== 2 || typeof tuple[0] !== 'number' || typeof tuple[1] !== 'string') {
    return malformed('value is not [<unix seconds>, "<number>"]');
  }
  const value = parseSampleValue(tuple[1]);
  if (value === undefined) return malformed('the sample value is not a number');
  return { ok: true, value: Number.isNaN(value) ? undefined : value };
}

function malformed(what: string): QueryValue {
  return { ok: false, error: `malformed response: ${what}` };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function revisionName(target: MeasureTarget): string {
  return `revision ${target.revision} of ${target.namespace}/${target.engineName}`;
}
