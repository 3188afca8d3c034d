import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createPrometheusProvider, latencyFromValues, parseQueryResponse, queryEndpoint } from './prometheus.ts';
import type { MeasureResult, MeasureTarget } from './provider.ts';

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
};

const QUANTILE_QUERY =
  'histogram_quantile(0.99, sum by (le) (rate(nexus_engine_tick_to_order_latency_seconds_bucket{namespace="prod",pod=~"eng-7f9c-a|eng-7f9c-b"}[60s]))) * 1e6';
const SAMPLES_QUERY = 'sum(increase(nexus_engine_tick_to_order_latency_seconds_count{namespace="prod",pod=~"eng-7f9c-a|eng-7f9c-b"}[60s]))';

/** A real-shaped instant-query answer: a vector of one series per value. */
function vector(...values: string[]): string {
  return JSON.stringify({
    status: 'success',
    data: { resultType: 'vector', result: values.map((value) => ({ metric: {}, value: [1712345678.123, value] })) },
  });
}

interface Seen {
  url: string;
  method: string;
  contentType: string | null;
  query: string | null;
}

/** A fetch that answers each query with `answer(query)` and records what it was sent. */
function fakeFetch(answer: (query: string) => Response | Promise<Response>): { fetch: typeof fetch; seen: Seen[] } {
  const seen: Seen[] = [];
  const fetchImpl = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const query = new URLSearchParams(String(init?.body ?? '')).get('query');
    seen.push({ url: String(input), method: init?.method ?? 'GET', contentType: new Headers(init?.headers).get('content-type'), query });
    return answer(query ?? '');
  };
  return { fetch: fetchImpl as typeof fetch, seen };
}

const byQuery = (quantile: string, samples: string) => (query: string) =>
  new Response(query.startsWith('histogram_quantile') ? quantile : samples, { status: 200 });

function errorOf(result: MeasureResult): string {
  if (result.ok) throw new Error(`measured ${JSON.stringify(result.value)}`);
  return result.error;
}

describe('createPrometheusProvider', () => {
  it('POSTs both rendered queries to /api/v1/query and reads the quantile in µs and the rounded sample count', async () => {
    const { fetch, seen } = fakeFetch(byQuery(vector('182.5'), vector('1203.6')));
    const provider = createPrometheusProvider({ address: 'http://prometheus.monitoring:9090/', fetch });
    expect(await provider.measure(target)).toEqual({ ok: true, value: { quantileMicros: 182.5, samples: 1204, podsMeasured: 2 } });
    expect(seen.map((s) => s.query).sort()).toEqual([QUANTILE_QUERY, SAMPLES_QUERY]);
    for (const request of seen) {
      expect(request).toMatchObject({
        url: 'http://prometheus.monitoring:9090/api/v1/query',
        method: 'POST',
        contentType: 'application/x-www-form-urlencoded',
      });
    }
  });

  it('reports no data as quantile undefined and 0 samples, for empty vectors and for NaN', async () => {
    for (const [quantile, samples] of [[vector(), vector()], [vector('NaN'), vector('0')]]) {
      const { fetch } = fakeFetch(byQuery(quantile, samples));
      const result = await createPrometheusProvider({ address: 'http://prom:9090', fetch }).measure(target);
      expect(result).toEqual({ ok: true, value: { quantileMicros: undefined, samples: 0, podsMeasured: 2 } });
    }
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

  it('speaks HTTP to a real server: a form-encoded POST answered with JSON', async () => {
    const received: string[] = [];
    const server = createServer((request, response) => {
      let body = '';
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => (body += chunk));
      request.on('end', () => {
        const query = new URLSearchParams(body).get('query') ?? '';
        received.push(`${request.method} ${request.url} ${request.headers['content-type']} ${query}`);
        response.setHeader('Content-Type', 'application/json');
        response.end(query.startsWith('histogram_quantile') ? vector('95.25') : vector('4000'));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const result = await createPrometheusProvider({ address: `http://127.0.0.1:${port}/prometheus` }).measure(target);
      expect(result).toEqual({ ok: true, value: { quantileMicros: 95.25, samples: 4000, podsMeasured: 2 } });
      expect(received.sort()).toEqual([
        `POST /prometheus/api/v1/query application/x-www-form-urlencoded ${QUANTILE_QUERY}`,
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
