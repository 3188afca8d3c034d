import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createPrometheusProvider, latencyFromValues, parseQueryResponse, parseSignalsResponse, queryEndpoint, signalCountsFromSeries } from './prometheus.ts';
import type { MeasureResult, MeasureTarget } from './provider.ts';
import { parseExposition } from './exposition.ts';
import { readSignalCounts, type SignalCounts } from './signals.ts';

const target: MeasureTarget = {
  metric: 'TickToOrder',
  namespace: 'prod',
  engineName: 'eng',
  revision: '7f9c',
  pods: [
    { name: 'eng-7f9c-b', ip: '10.0.0.2' },
    { name: 'eng-7f9c-a', ip: '10.0.0.1' },
  ],
  quantile: '0.99',
  windowSeconds: 60,
  metricsPort: 9100,
  timeoutMs: 1_000,
  signals: true,
};

const QUANTILE_QUERY =
  'histogram_quantile(0.99, sum by (le) (rate(nexus_engine_tick_to_order_latency_seconds_bucket{namespace="prod",pod=~"eng-7f9c-a|eng-7f9c-b"}[60s]))) * 1e6';
const SAMPLES_QUERY = 'sum(increase(nexus_engine_tick_to_order_latency_seconds_count{namespace="prod",pod=~"eng-7f9c-a|eng-7f9c-b"}[60s]))';
const SIGNALS_QUERY =
  'sum by (__name__, result) ({__name__=~"nexus_engine_frames_received_total|nexus_engine_frames_rejected_total|nexus_engine_orders_total|'
  + 'nexus_engine_pool_exhausted_total|nexus_engine_ticks_lost_total|nexus_engine_ticks_received_total|nexus_engine_ticks_rejected_total",'
  + 'namespace="prod",pod=~"eng-7f9c-a|eng-7f9c-b"})';

/** The counters' current values as Prometheus answers the signals query: one series per counter, orders by result. */
const COUNTERS: ReadonlyArray<readonly [Record<string, string>, string]> = [
  [{ __name__: 'nexus_engine_frames_received_total' }, '500'],
  [{ __name__: 'nexus_engine_frames_rejected_total' }, '5'],
  [{ __name__: 'nexus_engine_orders_total', result: 'accepted' }, '90'],
  [{ __name__: 'nexus_engine_orders_total', result: 'denied' }, '10'],
  [{ __name__: 'nexus_engine_pool_exhausted_total' }, '0'],
  [{ __name__: 'nexus_engine_ticks_lost_total' }, '100'],
  [{ __name__: 'nexus_engine_ticks_received_total' }, '9900'],
  [{ __name__: 'nexus_engine_ticks_rejected_total' }, '30'],
];

/** What COUNTERS give the checks (the same sums readSignalCounts makes of one pod's /metrics). */
const SIGNALS: SignalCounts = {
  TicksRejected: { events: 30, total: 9900 },
  FramesRejected: { events: 5, total: 500 },
  TicksLost: { events: 100, total: 10000 },
  OrdersDenied: { events: 10, total: 100 },
  PoolExhausted: { events: 0, total: 9900 },
};

/** A real-shaped instant-query answer: a vector of one series per value. */
function vector(...values: string[]): string {
  return labelledVector(values.map((value) => [{}, value]));
}

/** A real-shaped instant-query answer whose series carry labels, as `sum by (__name__, result)` answers. */
function labelledVector(series: ReadonlyArray<readonly [Record<string, string>, string]>): string {
  return JSON.stringify({
    status: 'success',
    data: { resultType: 'vector', result: series.map(([metric, value]) => ({ metric, value: [1712345678.123, value] })) },
  });
}

const SIGNALS_REPLY = labelledVector(COUNTERS);

interface Seen {
  url: string;
  method: string;
  contentType: string | null;
  query: string | null;
  headers: Headers;
}

/** A fetch that answers each query with `answer(query)` and records what it was sent. */
function fakeFetch(answer: (query: string) => Response | Promise<Response>): { fetch: typeof fetch; seen: Seen[] } {
  const seen: Seen[] = [];
  const fetchImpl = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const query = new URLSearchParams(String(init?.body ?? '')).get('query');
    seen.push({ url: String(input), method: init?.method ?? 'GET', contentType: new Headers(init?.headers).get('content-type'), query, headers: new Headers(init?.headers) });
    return answer(query ?? '');
  };
  return { fetch: fetchImpl as typeof fetch, seen };
}

/** Answers each of the three queries with its body (the signals query with the recorded COUNTERS unless given). */
const byQuery = (quantile: string, samples: string, signals = SIGNALS_REPLY) => (query: string) =>
  new Response(query.startsWith('histogram_quantile') ? quantile : query.startsWith('sum by (__name__') ? signals : samples, { status: 200 });

function errorOf(result: MeasureResult): string {
  if (result.ok) throw new Error(`measured ${JSON.stringify(result.value)}`);
  return result.error;
}

describe('createPrometheusProvider', () => {
  it('POSTs the three rendered queries to /api/v1/query and reads the quantile in µs, the rounded sample count and the counters', async () => {
    const { fetch, seen } = fakeFetch(byQuery(vector('182.5'), vector('1203.6')));
    const provider = createPrometheusProvider({ address: 'http://prometheus.monitoring:9090/', fetch });
    expect(await provider.measure(target)).toEqual({ ok: true, value: { quantileMicros: 182.5, samples: 1204, podsMeasured: 2, signals: SIGNALS } });
    expect(seen.map((s) => s.query).sort()).toEqual([QUANTILE_QUERY, SIGNALS_QUERY, SAMPLES_QUERY]);
    for (const request of seen) {
      expect(request).toMatchObject({
        url: 'http://prometheus.monitoring:9090/api/v1/query',
        method: 'POST',
        contentType: 'application/x-www-form-urlencoded',
      });
    }
    // A spec without checks does not ask for the counters: only the two latency queries go out.
    const latencyOnly = fakeFetch(byQuery(vector('182.5'), vector('1203.6')));
    const plain = await createPrometheusProvider({ address: 'http://prometheus.monitoring:9090/', fetch: latencyOnly.fetch }).measure({ ...target, signals: false });
    expect(plain).toEqual({ ok: true, value: { quantileMicros: 182.5, samples: 1204, podsMeasured: 2 } });
    expect(latencyOnly.seen.map((s) => s.query).sort()).toEqual([QUANTILE_QUERY, SAMPLES_QUERY]);
  });

  it('sends the configured headers with every query, its own content type winning, and never names them in an error', async () => {
    const { fetch, seen } = fakeFetch(() => new Response('no', { status: 401 }));
    const provider = createPrometheusProvider({
      address: 'http://mimir:8080/prometheus', fetch,
      headers: { 'X-Scope-OrgID': 'team-a', authorization: 'Bearer s3cret', 'Content-Type': 'text/plain', Accept: 'text/html' },
    });
    const error = errorOf(await provider.measure({ ...target, signals: false }));
    expect(seen).toHaveLength(2);
    for (const request of seen) {
      expect(request.headers.get('x-scope-orgid')).toBe('team-a');
      expect(request.headers.get('authorization')).toBe('Bearer s3cret');
      expect(request.headers.get('content-type')).toBe('application/x-www-form-urlencoded');
      expect(request.headers.get('accept')).toBe('application/json');
    }
    expect(error).toContain('HTTP 401');
    expect(error).not.toContain('s3cret');
  });

  it('reports a market without trades as quantile undefined and 0 samples (the series exist, nothing in them)', async () => {
    for (const [quantile, samples] of [[vector(), vector('0')], [vector('NaN'), vector('0')]]) {
      const { fetch } = fakeFetch(byQuery(quantile, samples));
      const result = await createPrometheusProvider({ address: 'http://prom:9090', fetch }).measure(target);
      expect(result).toEqual({ ok: true, value: { quantileMicros: undefined, samples: 0, podsMeasured: 2, signals: SIGNALS } });
    }
  });

  it('fails, naming the query, when no series match at all: not scraped is not a closed market', async () => {
    const { fetch } = fakeFetch(byQuery(vector(), vector()));
    const error = errorOf(await createPrometheusProvider({ address: 'http://prom:9090', fetch }).measure(target));
    expect(error).toBe(`revision 7f9c of prod/eng: the samples query matched no series in Prometheus (${SAMPLES_QUERY}): are the pods scraped, with namespace and pod labels?`);
  });

  it('fails the whole measurement when the signals query fails, never reporting zero counts', async () => {
    const body = JSON.stringify({ status: 'error', errorType: 'timeout', error: 'query timed out in expression evaluation' });
    const { fetch } = fakeFetch((query) => (query === SIGNALS_QUERY ? new Response(body, { status: 503 }) : byQuery(vector('182.5'), vector('1203.6'))(query)));
    const error = errorOf(await createPrometheusProvider({ address: 'http://prom:9090', fetch }).measure(target));
    expect(error).toBe('revision 7f9c of prod/eng: signals query at http://prom:9090/api/v1/query: HTTP 503, Prometheus error timeout');
  });

  it('fails when a counter has no series, naming it: the engine exports every counter, so the pods or the counter are not in Prometheus', async () => {
    const withoutLost = labelledVector(COUNTERS.filter(([metric]) => metric.__name__ !== 'nexus_engine_ticks_lost_total'));
    const lost = errorOf(await createPrometheusProvider({ address: 'http://prom:9090', fetch: fakeFetch(byQuery(vector('1'), vector('1'), withoutLost)).fetch }).measure(target));
    expect(lost).toBe('revision 7f9c of prod/eng: signals query at http://prom:9090/api/v1/query: no series of nexus_engine_ticks_lost_total for the revision\'s pods '
      + '(Prometheus has not scraped them yet, or does not keep these counters)');
    const none = errorOf(await createPrometheusProvider({ address: 'http://prom:9090', fetch: fakeFetch(byQuery(vector(), vector(), vector())).fetch }).measure(target));
    expect(none).toContain("signals query at http://prom:9090/api/v1/query: no series of any of the engine's counters for the revision's pods");
  });

  it('gives up on a signals query that hangs after timeoutMs, while the latency queries answered', async () => {
    const answer = byQuery(vector('182.5'), vector('1203.6'));
    const fetchImpl = (async (_input: string | URL | Request, init?: RequestInit) => {
      const query = new URLSearchParams(String(init?.body ?? '')).get('query') ?? '';
      if (query !== SIGNALS_QUERY) return answer(query);
      return new Promise<Response>((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal?.reason)));
    }) as typeof fetch;
    const error = errorOf(await createPrometheusProvider({ address: 'http://prom:9090', fetch: fetchImpl }).measure({ ...target, timeoutMs: 50 }));
    expect(error).toBe('revision 7f9c of prod/eng: signals query at http://prom:9090/api/v1/query: timed out after 50 ms');
  });

  it('fails without pods and never calls Prometheus', async () => {
    const { fetch, seen } = fakeFetch(byQuery(vector('1'), vector('1')));
    const error = errorOf(await createPrometheusProvider({ address: 'http://prom:9090', fetch }).measure({ ...target, pods: [] }));
    expect(error).toBe('no running pods of revision 7f9c of prod/eng');
    expect(seen).toEqual([]);
  });

  it("carries Prometheus' documented errorType and none of the reply's text", async () => {
    const body = JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'invalid parameter "query": 1:1: parse error' });
    const { fetch } = fakeFetch(() => new Response(body, { status: 400 }));
    const error = errorOf(await createPrometheusProvider({ address: 'http://prom:9090', fetch }).measure(target));
    expect(error).toContain('revision 7f9c of prod/eng');
    expect(error).toContain('quantile query at http://prom:9090/api/v1/query: HTTP 400, Prometheus error bad_data');
    expect(error).toContain('samples query at');
    expect(error).toContain('signals query at http://prom:9090/api/v1/query: HTTP 400, Prometheus error bad_data');
    expect(error).not.toContain('invalid parameter');
  });

  it('never echoes a reply into status: an errorType outside the documented set, a page that is not JSON', async () => {
    const secret = 'root:x:0:0:root:/root:/bin/bash';
    const odd = JSON.stringify({ status: 'error', errorType: secret, error: secret });
    expect(errorOf(await createPrometheusProvider({ address: 'http://prom:9090', fetch: fakeFetch(() => new Response(odd, { status: 500 })).fetch }).measure(target)))
      .toContain('HTTP 500, Prometheus error of an unknown type');
    const page = errorOf(await createPrometheusProvider({ address: 'http://prom:9090', fetch: fakeFetch(() => new Response(`<html>${secret}</html>`, { status: 502 })).fetch }).measure(target));
    expect(page).toContain('HTTP 502, body is not JSON (44 characters, not shown)');
    expect(page).not.toContain(secret);
  });

  it('fails on a quantile of +Inf rather than reporting an infinite latency', async () => {
    const { fetch } = fakeFetch(byQuery(vector('+Inf'), vector('10')));
    const error = errorOf(await createPrometheusProvider({ address: 'http://prom:9090', fetch }).measure(target));
    expect(error).toContain('the quantile query returned Infinity, not a latency');
  });

  it('reports a refused connection with its cause', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 10.96.0.9:9090'), { code: 'ECONNREFUSED' });
    const { fetch } = fakeFetch(() => Promise.reject(new TypeError('fetch failed', { cause: refused })));
    const error = errorOf(await createPrometheusProvider({ address: 'http://prom:9090', fetch }).measure(target));
    expect(error).toContain('quantile query at http://prom:9090/api/v1/query: fetch failed: connect ECONNREFUSED 10.96.0.9:9090');
  });

  it('gives up after timeoutMs', async () => {
    const hanging = ((_input: string | URL | Request, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason));
      })) as typeof fetch;
    const started = performance.now();
    const error = errorOf(await createPrometheusProvider({ address: 'http://prom:9090', fetch: hanging }).measure({ ...target, timeoutMs: 50 }));
    expect(error).toContain('quantile query at http://prom:9090/api/v1/query: timed out after 50 ms');
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('never throws, even when fetch itself throws synchronously', async () => {
    const throwing = (() => {
      throw new Error('bad fetch');
    }) as typeof fetch;
    const error = errorOf(await createPrometheusProvider({ address: 'http://prom:9090', fetch: throwing }).measure(target));
    expect(error).toContain('bad fetch');
  });

  it('fails on an address that is not an http(s) URL and on a quantile it cannot render', async () => {
    const { fetch } = fakeFetch(byQuery(vector('1'), vector('1')));
    expect(errorOf(await createPrometheusProvider({ address: 'prom:9090', fetch }).measure(target))).toContain('is not an http(s) URL');
    expect(errorOf(await createPrometheusProvider({ address: 'http://prom:9090', fetch }).measure({ ...target, quantile: '2' }))).toContain(
      'cannot build the query: quantile must be a decimal between 0 and 1, got "2"',
    );
  });

  it('speaks HTTP to a real server: form-encoded POSTs answered with recorded Prometheus JSON, the counters included', async () => {
    const received: string[] = [];
    const server = createServer((request, response) => {
      let body = '';
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => (body += chunk));
      request.on('end', () => {
        const query = new URLSearchParams(body).get('query') ?? '';
        received.push(`${request.method} ${request.url} ${request.headers['content-type']} ${query}`);
        response.setHeader('Content-Type', 'application/json');
        response.end(query === SIGNALS_QUERY ? SIGNALS_REPLY : query.startsWith('histogram_quantile') ? vector('95.25') : vector('4000'));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const result = await createPrometheusProvider({ address: `http://127.0.0.1:${port}/prometheus` }).measure(target);
      expect(result).toEqual({ ok: true, value: { quantileMicros: 95.25, samples: 4000, podsMeasured: 2, signals: SIGNALS } });
      expect(received.sort()).toEqual([
        `POST /prometheus/api/v1/query application/x-www-form-urlencoded ${QUANTILE_QUERY}`,
        `POST /prometheus/api/v1/query application/x-www-form-urlencoded ${SIGNALS_QUERY}`,
        `POST /prometheus/api/v1/query application/x-www-form-urlencoded ${SAMPLES_QUERY}`,
      ]);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('parseQueryResponse', () => {
  it.each([
    ['a one-series vector', vector('182.5'), 182.5],
    ['an empty vector', vector(), undefined],
    ['NaN', vector('NaN'), undefined],
    ['+Inf (the caller rejects it)', vector('+Inf'), Infinity],
    ['a value in exponent form', vector('1.5e+06'), 1.5e6],
  ])('reads %s', (_case, body, value) => {
    expect(parseQueryResponse(200, body)).toEqual({ ok: true, value });
  });

  it('ignores warnings and the series labels', () => {
    const body = JSON.stringify({
      status: 'success',
      warnings: ['PromQL info: metric might not be a counter'],
      data: { resultType: 'vector', result: [{ metric: { job: 'engines' }, value: [1712345678, '7'] }] },
    });
    expect(parseQueryResponse(200, body)).toEqual({ ok: true, value: 7 });
  });

  it.each([
    ['a matrix', { status: 'success', data: { resultType: 'matrix', result: [] } }, /resultType is not "vector"/],
    ['a scalar', { status: 'success', data: { resultType: 'scalar', result: [1, '2'] } }, /resultType is not "vector"/],
    ['no data', { status: 'success' }, /data is missing/],
    ['a result that is not an array', { status: 'success', data: { resultType: 'vector', result: {} } }, /data.result is not an array/],
    ['two series', JSON.parse(vector('1', '2')), /expected at most one series, got 2/],
    ['a series without metric', { status: 'success', data: { resultType: 'vector', result: [{ value: [1, '2'] }] } }, /no metric object/],
    ['a value that is a number, not a string', { status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [1, 2] }] } }, /value is not \[<unix seconds>, "<number>"\]/],
    ['a native histogram instead of a value', { status: 'success', data: { resultType: 'vector', result: [{ metric: {}, histogram: [1, {}] }] } }, /value is not \[<unix seconds>, "<number>"\]/],
    ['a value that is not a number', { status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [1, 'abc'] }] } }, /the sample value is not a number/],
    ['an unknown status', { status: 'partial' }, /status is neither "success" nor "error"/],
    ['a JSON array', [], /the body is not an object/],
  ])('rejects %s', (_case, json, message) => {
    const result = parseQueryResponse(200, JSON.stringify(json));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(message);
  });

  it('rejects a success body with an error status', () => {
    expect(parseQueryResponse(503, vector('1'))).toEqual({ ok: false, error: 'HTTP 503 with status "success"' });
  });
});

describe('parseSignalsResponse', () => {
  it('sums every series of a counter and tells denied orders by their result label', () => {
    expect(parseSignalsResponse(200, SIGNALS_REPLY)).toEqual({ ok: true, value: SIGNALS });
  });

  it("carries Prometheus' errorType and reads the envelope as the latency queries do", () => {
    expect(parseSignalsResponse(422, JSON.stringify({ status: 'error', errorType: 'execution', error: 'x' }))).toEqual({ ok: false, error: 'HTTP 422, Prometheus error execution' });
    expect(parseSignalsResponse(200, JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [] } }))).toEqual({ ok: false, error: 'malformed response: resultType is not "vector"' });
  });
});

describe('signalCountsFromSeries', () => {
  const series = (rows: ReadonlyArray<readonly [Record<string, unknown>, number]>) => rows.map(([metric, value]) => ({ metric, value }));
  const recorded = series(COUNTERS.map(([metric, value]) => [metric, Number(value)]));

  it('gives the counts readSignalCounts gives for the same counters read from a pod\'s /metrics', () => {
    const body = COUNTERS.map(([{ __name__: name, result }, value]) => `${name}${result === undefined ? '' : `{result="${result}"}`} ${value}`).join('\n');
    const parsed = parseExposition(body);
    if (!parsed.ok) throw new Error(parsed.error);
    expect(readSignalCounts(parsed.samples)).toEqual(SIGNALS);
    expect(signalCountsFromSeries(recorded)).toEqual({ ok: true, value: SIGNALS });
  });

  it('adds series of the same counter (a Prometheus that kept another label apart)', () => {
    const twice = [...recorded, { metric: { __name__: 'nexus_engine_ticks_rejected_total' }, value: 70 }];
    const result = signalCountsFromSeries(twice);
    expect(result.ok && result.value.TicksRejected).toEqual({ events: 100, total: 9900 });
  });

  it.each([
    ['a negative value', -1, 'nexus_engine_ticks_received_total summed to -1, not a count'],
    ['NaN', Number.NaN, 'nexus_engine_ticks_received_total summed to NaN, not a count'],
    ['+Inf', Infinity, 'nexus_engine_ticks_received_total summed to Infinity, not a count'],
  ])('fails on %s rather than judging it', (_case, value, message) => {
    const rows = recorded.map((row) => (row.metric.__name__ === 'nexus_engine_ticks_received_total' ? { ...row, value } : row));
    expect(signalCountsFromSeries(rows)).toEqual({ ok: false, error: message });
  });

  it('fails on a series of a metric it did not ask for, without echoing its name', () => {
    const result = signalCountsFromSeries([...recorded, { metric: { __name__: 'root:x:0:0' }, value: 1 }]);
    expect(result).toEqual({ ok: false, error: 'malformed response: a series is not one of the counters queried' });
    expect(signalCountsFromSeries([...recorded, { metric: {}, value: 1 }]).ok).toBe(false);
  });

  it('names every counter without a series', () => {
    const rows = recorded.filter((row) => row.metric.__name__ !== 'nexus_engine_orders_total' && row.metric.__name__ !== 'nexus_engine_pool_exhausted_total');
    expect(signalCountsFromSeries(rows)).toEqual({
      ok: false,
      error: "no series of nexus_engine_orders_total, nexus_engine_pool_exhausted_total for the revision's pods (Prometheus has not scraped them yet, or does not keep these counters)",
    });
  });
});

describe('latencyFromValues', () => {
  it.each([
    [182.5, 1203.6, { quantileMicros: 182.5, samples: 1204, podsMeasured: 2 }],
    [undefined, undefined, { quantileMicros: undefined, samples: 0, podsMeasured: 2 }],
    [undefined, 12, { quantileMicros: undefined, samples: 12, podsMeasured: 2 }],
    [0, 0, { quantileMicros: 0, samples: 0, podsMeasured: 2 }],
  ])('(%s µs, %s samples) is ok', (quantile, samples, value) => {
    expect(latencyFromValues(quantile, samples, 2)).toEqual({ ok: true, value });
  });

  it.each([
    [Infinity, 1, /quantile query returned Infinity/],
    [-1, 1, /quantile query returned -1/],
    [1, -Infinity, /samples query returned -Infinity/],
    [1, -3, /samples query returned -3/],
  ])('(%s µs, %s samples) is an error', (quantile, samples, message) => {
    const result = latencyFromValues(quantile, samples, 2);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(message);
  });
});

describe('queryEndpoint', () => {
  it.each([
    ['http://prometheus:9090', 'http://prometheus:9090/api/v1/query'],
    ['http://prometheus:9090/', 'http://prometheus:9090/api/v1/query'],
    ['https://example.com/prometheus/', 'https://example.com/prometheus/api/v1/query'],
    ['http://prom:9090/?x=1#y', 'http://prom:9090/api/v1/query'],
  ])('%s -> %s', (address, endpoint) => {
    expect(queryEndpoint(address)).toBe(endpoint);
  });

  it.each(['prom:9090', 'ftp://prom', '', 'not a url'])('rejects %j', (address) => {
    expect(queryEndpoint(address)).toBeUndefined();
  });
});
