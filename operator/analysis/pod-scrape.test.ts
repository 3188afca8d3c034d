import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../cli/lib/processes.ts';
import { ManualClock } from '../../engine/clock/monotonic.ts';
import { createEngineMetrics, type EngineMetrics } from '../../engine/metrics/engine-metrics.ts';
import { startMetricsServer, type MetricsServer } from '../../engine/metrics/http-server.ts';
import { aggregateWorstPod, createPodScrapeProvider, podMetricsUrl, readPodWindow } from './pod-scrape.ts';
import type { MeasureResult, MeasureTarget, TargetPod } from './provider.ts';

/**
 * The provider against REAL engine metrics servers: each "pod" is the engine's own EngineMetrics (with prom-client's
 * default metrics, as in production) behind the engine's own HTTP server. A MeasureTarget has one metricsPort for
 * all its pods, so, like pods with distinct IPs and one container port, every pod of a test listens on the same
 * free port on its own loopback address (127.0.0.2, 127.0.0.3, ...; Linux routes all of 127/8 to loopback).
 */

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

interface EnginePod {
  readonly pod: TargetPod;
  readonly metrics: EngineMetrics;
  readonly clock: ManualClock;
}

/** An engine's metrics server for pod `name` on `ip:port`, with latencies recorded (µs) into its window. */
async function startEnginePod(name: string, ip: string, port: number, latenciesMicros: readonly number[]): Promise<EnginePod> {
  const clock = new ManualClock(1e12);
  const metrics = createEngineMetrics({
    frameRejectReasons: ['ok', 'truncated', 'bad_length'],
    tickRejectReasons: ['ok', 'bad_price'],
    strategies: ['probe'],
    windowSeconds: 30,
    windowIntervals: 6,
    clock, // held still unless a test moves it: nothing leaves the window
    wallClockMs: () => 1_000_000, // a wall-clock interval boundary: intervals start when the pod does
  });
  for (const micros of latenciesMicros) metrics.recordTickToOrder(micros * 1_000);
  const server: MetricsServer = await startMetricsServer({
    port, host: ip, registry: metrics.registry, isReady: () => true, gateWindow: (query) => metrics.gateWindow(query),
  });
  cleanups.push(() => server.close());
  return { pod: { name, ip }, metrics, clock };
}

/** A plain HTTP server on ip:port that accepts requests and never answers them. */
async function startSilentServer(ip: string, port: number): Promise<void> {
  const server: Server = createServer(() => {});
  await new Promise<void>((resolve) => server.listen(port, ip, resolve));
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
}

function targetOf(pods: readonly TargetPod[], metricsPort: number, overrides: Partial<MeasureTarget> = {}): MeasureTarget {
  return {
    namespace: 'prod',
    engineName: 'eng',
    revision: '7f9c',
    pods,
    metric: 'TickToOrder',
    quantile: '0.99',
    windowSeconds: 30,
    metricsPort,
    timeoutMs: 2_000,
    ...overrides,
  };
}

function repeat(micros: number, count: number): number[] {
  return new Array<number>(count).fill(micros);
}

function errorOf(result: MeasureResult): string {
  if (result.ok) throw new Error(`measured ${JSON.stringify(result.value)}`);
  return result.error;
}

const provider = createPodScrapeProvider({ path: '/metrics' });

describe('createPodScrapeProvider against engine metrics servers', () => {
  it('with windowSinceMs, also reads every pod\'s completed intervals after it, each interval once', async () => {
    const port = await freePort();
    const a = await startEnginePod('eng-7f9c-a', '127.0.0.2', port, repeat(50, 30));
    const b = await startEnginePod('eng-7f9c-b', '127.0.0.3', port, repeat(70, 20));
    let wallMs = 1_000_000;
    const windowed = createPodScrapeProvider({ path: '/metrics', nowMs: () => wallMs });
    const advance = (ms: number): void => {
      for (const pod of [a, b]) pod.clock.advanceNs(ms * 1e6);
      wallMs += ms;
    };
    // 5 s intervals: the first one completes 5 s later; until then the window holds nothing (it is still filling).
    const empty = await windowed.measure(targetOf([a.pod, b.pod], port, { windowSinceMs: 0 }));
    if (!empty.ok) throw new Error(empty.error);
    expect(empty.value.window?.distribution.samples).toBe(0);
    expect(empty.value.window?.throughMs).toBeUndefined();
    advance(5_000);
    const first = await windowed.measure(targetOf([a.pod, b.pod], port, { windowSinceMs: 0 }));
    if (!first.ok) throw new Error(first.error);
    expect(first.value.window?.distribution.samples).toBe(50);
    expect(first.value.window?.throughMs).toBe(wallMs);
    expect(first.value.window?.fromMs).toBe(wallMs - 5_000);
    // The next window starts where this one ended: the same interval is not judged again, a new one is.
    for (let i = 0; i < 7; i++) a.metrics.recordTickToOrder(900_000);
    advance(5_000);
    const second = await windowed.measure(targetOf([a.pod, b.pod], port, { windowSinceMs: first.value.window?.throughMs ?? Number.NaN }));
    if (!second.ok) throw new Error(second.error);
    expect(second.value.window?.distribution.samples).toBe(7);
    // Without windowSinceMs nothing but the gauges is read.
    const plain = await windowed.measure(targetOf([a.pod, b.pod], port));
    if (!plain.ok) throw new Error(plain.error);
    expect(plain.value.window).toBeUndefined();
  });

  it('fails the measurement, naming the pod, when a window report cannot be had', async () => {
    const port = await freePort();
    const metrics = createEngineMetrics({ frameRejectReasons: ['ok'], tickRejectReasons: ['ok'], strategies: ['probe'] });
    const server = await startMetricsServer({ port, host: '127.0.0.2', registry: metrics.registry, isReady: () => true });
    cleanups.push(() => server.close());
    const error = errorOf(await provider.measure(targetOf([{ name: 'eng-7f9c-a', ip: '127.0.0.2' }], port, { windowSinceMs: 0 })));
    expect(error).toBe(`revision 7f9c of prod/eng: 1 of 2 pod requests (metrics and window report) failed: pod eng-7f9c-a at http://127.0.0.2:${port}/gate/window?metric=tickToOrder&maxAgeMs=30000: HTTP 404 ("not found")`);
  });

  it("reports the worst pod's quantile and the samples summed over pods", async () => {
    const port = await freePort();
    const fast = await startEnginePod('eng-7f9c-a', '127.0.0.2', port, repeat(50, 300));
    const slow = await startEnginePod('eng-7f9c-b', '127.0.0.3', port, [...repeat(60, 100), ...repeat(400, 100)]);
    const result = await provider.measure(targetOf([fast.pod, slow.pod], port));
    if (!result.ok) throw new Error(result.error);
    expect(result.value.samples).toBe(500);
    expect(result.value.podsMeasured).toBe(2);
    // The engine reports the upper edge of its histogram bucket: never below the exact value, at most 0.78 % above.
    expect(result.value.quantileMicros).toBeGreaterThanOrEqual(400);
    expect(result.value.quantileMicros).toBeLessThanOrEqual(400 * (1 + 1 / 128));
  });

  it('reads the quantile the target asks for', async () => {
    const port = await freePort();
    const pod = await startEnginePod('eng-7f9c-a', '127.0.0.2', port, [...repeat(50, 90), ...repeat(300, 10)]);
    const result = await provider.measure(targetOf([pod.pod], port, { quantile: '0.5' }));
    if (!result.ok) throw new Error(result.error);
    expect(result.value.quantileMicros).toBeGreaterThanOrEqual(50);
    expect(result.value.quantileMicros).toBeLessThan(51);
  });

  it('fails naming the pod whose port is closed, even when the other pod answers', async () => {
    const port = await freePort();
    const up = await startEnginePod('eng-7f9c-a', '127.0.0.2', port, repeat(50, 10));
    const down: TargetPod = { name: 'eng-7f9c-b', ip: '127.0.0.3' }; // nothing listens on 127.0.0.3:port
    const error = errorOf(await provider.measure(targetOf([up.pod, down], port)));
    expect(error).toContain('revision 7f9c of prod/eng: 1 of 2 pods failed the scrape');
    expect(error).toContain(`pod eng-7f9c-b at http://127.0.0.3:${port}/metrics: fetch failed: connect ECONNREFUSED 127.0.0.3:${port}`);
    expect(error).not.toContain('eng-7f9c-a');
  });

  it('names every failing pod', async () => {
    const port = await freePort();
    const error = errorOf(await provider.measure(targetOf([{ name: 'p1', ip: '127.0.0.4' }, { name: 'p2', ip: '127.0.0.5' }], port)));
    expect(error).toContain('2 of 2 pods failed the scrape');
    expect(error).toContain(`pod p1 at http://127.0.0.4:${port}/metrics`);
    expect(error).toContain(`pod p2 at http://127.0.0.5:${port}/metrics`);
  });

  it('reports an empty window as no quantile and 0 samples, not as an error', async () => {
    const port = await freePort();
    const a = await startEnginePod('eng-7f9c-a', '127.0.0.2', port, []);
    const b = await startEnginePod('eng-7f9c-b', '127.0.0.3', port, []);
    expect(await provider.measure(targetOf([a.pod, b.pod], port))).toMatchObject({
      ok: true,
      value: { quantileMicros: undefined, samples: 0, podsMeasured: 2 },
    });
  });

  it('takes the quantile from the pods with samples when one pod is empty', async () => {
    const port = await freePort();
    const empty = await startEnginePod('eng-7f9c-a', '127.0.0.2', port, []);
    const busy = await startEnginePod('eng-7f9c-b', '127.0.0.3', port, repeat(100, 20));
    const result = await provider.measure(targetOf([empty.pod, busy.pod], port));
    if (!result.ok) throw new Error(result.error);
    expect(result.value).toMatchObject({ samples: 20, podsMeasured: 2 });
    expect(result.value.quantileMicros).toBeGreaterThanOrEqual(100);
    expect(result.value.quantileMicros).toBeLessThanOrEqual(100 * (1 + 1 / 128));
  });

  it('fails with a timeout when a pod accepts the connection but never answers', async () => {
    const port = await freePort();
    const up = await startEnginePod('eng-7f9c-a', '127.0.0.2', port, repeat(50, 10));
    await startSilentServer('127.0.0.3', port);
    const started = performance.now();
    const error = errorOf(await provider.measure(targetOf([up.pod, { name: 'eng-7f9c-b', ip: '127.0.0.3' }], port, { timeoutMs: 300 })));
    expect(error).toBe(
      `revision 7f9c of prod/eng: 1 of 2 pods failed the scrape: pod eng-7f9c-b at http://127.0.0.3:${port}/metrics: timed out after 300 ms`,
    );
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('fails with the HTTP status and body on a wrong path', async () => {
    const port = await freePort();
    const pod = await startEnginePod('eng-7f9c-a', '127.0.0.2', port, repeat(50, 10));
    const error = errorOf(await createPodScrapeProvider({ path: '/prometheus' }).measure(targetOf([pod.pod], port)));
    expect(error).toContain(`pod eng-7f9c-a at http://127.0.0.2:${port}/prometheus: HTTP 404 ("not found")`);
  });

  it('fails when the quantile is not exported, listing the ones that are', async () => {
    const port = await freePort();
    const pod = await startEnginePod('eng-7f9c-a', '127.0.0.2', port, repeat(50, 10));
    const error = errorOf(await provider.measure(targetOf([pod.pod], port, { quantile: '0.95' })));
    expect(error).toContain(
      'no nexus_engine_tick_to_order_latency_window_micros{quantile="0.95"} in the metrics (exported quantiles: 0.5, 0.9, 0.99, 0.999)',
    );
  });

  it('fails without pods', async () => {
    expect(errorOf(await provider.measure(targetOf([], 9100)))).toBe('no running pods of revision 7f9c of prod/eng');
  });
});

describe('readPodWindow', () => {
  const gauges = (samples: string, p99: string) =>
    [
      '# TYPE nexus_engine_tick_to_order_latency_window_micros gauge',
      `nexus_engine_tick_to_order_latency_window_micros{quantile="0.99"} ${p99}`,
      `nexus_engine_tick_to_order_latency_window_samples ${samples}`,
    ].join('\n');

  it.each([
    ['a window with samples', gauges('12', '87.5'), { pod: 'p', quantileMicros: 87.5, samples: 12 }],
    ['an empty window (NaN as prom-client writes it)', gauges('0', 'Nan'), { pod: 'p', quantileMicros: undefined, samples: 0 }],
  ])('reads %s', (_case, body, window) => {
    expect(readPodWindow('p', body, '0.99', 'TickToOrder')).toMatchObject(window);
  });

  it('reads the family of the metric asked for: decision latency by default in a spec, tick-to-order when asked', () => {
    const both = [
      'nexus_engine_decision_latency_window_micros{quantile="0.99"} 14.5',
      'nexus_engine_decision_latency_window_samples 12000',
      gauges('40', '87.5'),
    ].join('\n');
    expect(readPodWindow('p', both, '0.99', 'Decision')).toMatchObject({ pod: 'p', quantileMicros: 14.5, samples: 12000 });
    expect(readPodWindow('p', both, '0.99', 'TickToOrder')).toMatchObject({ pod: 'p', quantileMicros: 87.5, samples: 40 });
    expect(readPodWindow('p', gauges('40', '87.5'), '0.99', 'Decision')).toMatch(/no nexus_engine_decision_latency_window_samples/);
  });

  it.each([
    ['samples with a NaN quantile', gauges('5', 'NaN'), /is NaN while the window holds 5 samples/],
    ['an infinite quantile', gauges('5', '+Inf'), /is Infinity while the window holds 5 samples/],
    ['a fractional sample count', gauges('1.5', '10'), /window_samples is 1.5, not a sample count/],
    ['no samples gauge', 'nexus_engine_tick_to_order_latency_window_micros{quantile="0.99"} 1', /no nexus_engine_tick_to_order_latency_window_samples/],
    ['the gauge exported twice', `${gauges('1', '2')}\nnexus_engine_tick_to_order_latency_window_samples 1`, /window_samples is exported 2 times/],
    ['an unparseable body', '<html>oops</html>', /unparseable metrics: line 1/],
  ])('fails on %s', (_case, body, message) => {
    expect(readPodWindow('p', body, '0.99', 'TickToOrder')).toMatch(message);
  });
});

describe('aggregateWorstPod', () => {
  it.each([
    [
      'the maximum quantile over pods with samples, samples summed',
      [{ pod: 'a', quantileMicros: 80, samples: 1000 }, { pod: 'b', quantileMicros: 250, samples: 10 }, { pod: 'c', quantileMicros: undefined, samples: 0 }],
      { quantileMicros: 250, samples: 1010, podsMeasured: 3 },
    ],
    [
      'a quantile left over on an empty pod is ignored',
      [{ pod: 'a', quantileMicros: 80, samples: 5 }, { pod: 'b', quantileMicros: 900, samples: 0 }],
      { quantileMicros: 80, samples: 5, podsMeasured: 2 },
    ],
    ['no value when every pod is empty', [{ pod: 'a', quantileMicros: undefined, samples: 0 }], { quantileMicros: undefined, samples: 0, podsMeasured: 1 }],
    ['nothing from nothing', [], { quantileMicros: undefined, samples: 0, podsMeasured: 0 }],
  ])('%s', (_case, windows, latency) => {
    expect(aggregateWorstPod(windows)).toEqual(latency);
  });
});

describe('podMetricsUrl', () => {
  it('brackets IPv6 addresses', () => {
    expect(podMetricsUrl('10.1.2.3', 9100, '/metrics')).toBe('http://10.1.2.3:9100/metrics');
    expect(podMetricsUrl('fd00::5', 9100, '/metrics')).toBe('http://[fd00::5]:9100/metrics');
  });
});
