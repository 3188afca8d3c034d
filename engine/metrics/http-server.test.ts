import { Agent, request } from 'node:http';
import { Counter, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { gateWindowReport } from './gate-window.ts';
import { startMetricsServer, type MetricsServer } from './http-server.ts';
import { SlidingWindowQuantiles } from './sliding-window.ts';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(server: MetricsServer, path: string, method = 'GET', agent: Agent | false = false): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port: server.port, path, method, agent }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

const servers: MetricsServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function start(state: { ready: boolean; healthy: boolean }, registry = new Registry()): Promise<MetricsServer> {
  const server = await startMetricsServer({
    port: 0,
    host: '127.0.0.1',
    registry,
    isReady: () => state.ready,
    isHealthy: () => state.healthy,
    readinessDetail: () => 'warming up',
  });
  servers.push(server);
  return server;
}

describe('startMetricsServer', () => {
  it('serves the gate window report as JSON, answers 400 with the reason for a bad query, and 404 without one', async () => {
    const window = new SlidingWindowQuantiles({ intervalMs: 1000, intervals: 4, startMs: 0 });
    window.record(250_000);
    window.rotate(1500);
    const server = await startMetricsServer({
      port: 0, host: '127.0.0.1', registry: new Registry(), isReady: () => true,
      gateWindow: (query) => gateWindowReport(window, query.metric, query.maxAgeMs),
    });
    servers.push(server);
    const reply = await call(server, '/gate/window?metric=decision&maxAgeMs=5000');
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('application/json');
    expect(JSON.parse(reply.body)).toEqual({ version: 1, metric: 'decision', intervalMs: 1000, intervals: [{ endAgeMs: 500, samples: 1, buckets: [[250_879, 1]] }] });
    const bad = await call(server, '/gate/window?metric=fills');
    expect([bad.status, bad.body]).toEqual([400, 'metric "fills" is not one of decision, tickToOrder\n']);
    const without = await start({ ready: true, healthy: true });
    expect((await call(without, '/gate/window?metric=decision')).status).toBe(404);
  });

  it('binds a free port when asked for port 0', async () => {
    const server = await start({ ready: true, healthy: true });
    expect(server.port).toBeGreaterThan(0);
    expect(server.host).toBe('127.0.0.1');
  });

  it('serves the registry in Prometheus text format with its content type', async () => {
    const registry = new Registry();
    new Counter({ name: 'nexus_engine_test_total', help: 'A test counter.', registers: [registry] }).inc(3);
    const server = await start({ ready: true, healthy: true }, registry);
    const reply = await call(server, '/metrics?name[]=x');
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(reply.body).toContain('# TYPE nexus_engine_test_total counter\nnexus_engine_test_total 3\n');
  });

  it('answers readiness from isReady with a reason when not ready', async () => {
    const state = { ready: false, healthy: true };
    const server = await start(state);
    expect(await call(server, '/readyz')).toMatchObject({ status: 503, body: 'warming up\n' });
    state.ready = true;
    expect(await call(server, '/readyz')).toMatchObject({ status: 200, body: 'ready\n' });
  });

  it('answers liveness from isHealthy', async () => {
    const state = { ready: false, healthy: true };
    const server = await start(state);
    expect(await call(server, '/healthz')).toMatchObject({ status: 200, body: 'ok\n' });
    state.healthy = false;
    expect(await call(server, '/healthz')).toMatchObject({ status: 503, body: 'unhealthy\n' });
  });

  it('answers 404 for other paths, 405 for other methods and HEAD without a body', async () => {
    const server = await start({ ready: true, healthy: true });
    expect((await call(server, '/')).status).toBe(404);
    expect((await call(server, '/metrics/extra')).status).toBe(404);
    const post = await call(server, '/metrics', 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    expect(await call(server, '/healthz', 'HEAD')).toMatchObject({ status: 200, body: '' });
  });

  it('answers 500 when the registry fails', async () => {
    const registry = new Registry();
    new Counter({
      name: 'nexus_engine_broken_total',
      help: 'Fails on collect.',
      registers: [registry],
      collect() {
        throw new Error('boom');
      },
    });
    const server = await start({ ready: true, healthy: true }, registry);
    expect(await call(server, '/metrics')).toMatchObject({ status: 500, body: 'metrics failed: boom\n' });
  });

  it('stops listening on close, even with a keep-alive connection open', async () => {
    const server = await startMetricsServer({ port: 0, host: '127.0.0.1', registry: new Registry(), isReady: () => true });
    const keepAlive = new Agent({ keepAlive: true });
    const reply = await call(server, '/healthz', 'GET', keepAlive);
    expect(reply.status).toBe(200);
    expect(reply.headers.connection).toBe('keep-alive');
    await server.close();
    await expect(call(server, '/healthz')).rejects.toThrow(/ECONNREFUSED/);
    keepAlive.destroy();
  });

  it('rejects when the port is taken', async () => {
    const first = await start({ ready: true, healthy: true });
    await expect(
      startMetricsServer({ port: first.port, host: '127.0.0.1', registry: new Registry(), isReady: () => true }),
    ).rejects.toThrow(/EADDRINUSE/);
  });
});
