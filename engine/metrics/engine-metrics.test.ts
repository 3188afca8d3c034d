import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock/monotonic.ts';
import { DenyReason, RiskEngine } from '../risk/risk-engine.ts';
import { createWindowSnapshot } from './sliding-window.ts';
import { createEngineMetrics, TICK_TO_ORDER_BUCKETS_MICROS, type EngineMetricsOptions } from './engine-metrics.ts';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

interface Family {
  type: string;
  help: string;
  samples: Sample[];
}

/** A strict parser of the Prometheus text format (0.0.4) subset prom-client writes. */
function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  let current: Family | undefined;
  let currentName = '';
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const help = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (help) {
      currentName = help[1];
      current = { type: '', help: help[2], samples: [] };
      if (families.has(currentName)) throw new Error(`duplicate family ${currentName}`);
      families.set(currentName, current);
      continue;
    }
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      if (type[1] !== currentName || current === undefined) throw new Error(`TYPE without HELP: ${line}`);
      current.type = type[2];
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!sample || current === undefined) throw new Error(`unparseable line: ${line}`);
    if (!sample[1].startsWith(currentName)) throw new Error(`sample ${sample[1]} outside its family ${currentName}`);
    const labels: Record<string, string> = {};
    for (const pair of (sample[2] ?? '').split(',').filter(Boolean)) {
      const match = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"$/.exec(pair);
      if (!match) throw new Error(`bad label ${pair} in ${line}`);
      labels[match[1]] = match[2];
    }
    const raw = sample[3];
    const value = raw === 'Nan' || raw === 'NaN' ? Number.NaN : raw === '+Inf' ? Infinity : Number(raw);
    if (raw !== 'Nan' && raw !== 'NaN' && Number.isNaN(value)) throw new Error(`bad value in ${line}`);
    current.samples.push({ name: sample[1], labels, value });
  }
  return families;
}

function valueOf(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  const family = [...families.entries()].find(([familyName]) => name.startsWith(familyName))?.[1];
  const sample = family?.samples.find(
    (s) => s.name === name && Object.entries(labels).every(([key, value]) => s.labels[key] === value),
  );
  if (sample === undefined) throw new Error(`no sample ${name} ${JSON.stringify(labels)}`);
  return sample.value;
}

function options(clock: ManualClock, overrides: Partial<EngineMetricsOptions> = {}): EngineMetricsOptions {
  return {
    frameRejectReasons: ['ok', 'truncated', 'bad_length'],
    tickRejectReasons: ['ok', 'bad_price', 'bad_size'],
    strategies: ['cross', 'probe'],
    rings: ['intake'],
    windowSeconds: 3,
    windowIntervals: 3,
    clock,
    wallClockMs: () => 0, // intervals start when the metrics are made (a wall-clock boundary)
    defaultMetrics: false,
    ...overrides,
  };
}

describe('createEngineMetrics', () => {
  it('exports the hot-path counters under nexus_engine_ names with their labels', async () => {
    const clock = new ManualClock(1e12);
    const metrics = createEngineMetrics(options(clock));
    const c = metrics.counters;
    c.framesReceived = 10;
    c.ticksReceived = 160;
    c.framesRejected[1] = 2;
    c.ticksRejected[2] = 3;
    c.ticksLost = 4;
    c.ringOccupancy[0] = 0.25;
    c.ringDropped[0] = 5;
    c.signals[1] = 7;
    c.ordersAccepted = 6;
    c.ordersDenied[DenyReason.MaxPosition] = 1;
    c.ordersDenied[DenyReason.PriceBand] = 2;
    c.ordersPublished = 6;
    c.poolExhausted[0] = 1;
    c.ordersEnabled = 1;
    c.ready = 1;
    const families = parseExposition(await metrics.registry.metrics());

    expect(valueOf(families, 'nexus_engine_frames_received_total')).toBe(10);
    expect(valueOf(families, 'nexus_engine_ticks_received_total')).toBe(160);
    expect(valueOf(families, 'nexus_engine_frames_rejected_total', { reason: 'truncated' })).toBe(2);
    expect(valueOf(families, 'nexus_engine_frames_rejected_total', { reason: 'bad_length' })).toBe(0);
    expect(valueOf(families, 'nexus_engine_ticks_rejected_total', { reason: 'bad_size' })).toBe(3);
    expect(valueOf(families, 'nexus_engine_ticks_lost_total')).toBe(4);
    expect(valueOf(families, 'nexus_engine_ring_occupancy', { ring: 'intake' })).toBe(0.25);
    expect(valueOf(families, 'nexus_engine_ring_dropped_total', { ring: 'intake' })).toBe(5);
    expect(valueOf(families, 'nexus_engine_signals_total', { strategy: 'probe' })).toBe(7);
    expect(valueOf(families, 'nexus_engine_orders_total', { result: 'accepted' })).toBe(6);
    expect(valueOf(families, 'nexus_engine_orders_total', { result: 'denied' })).toBe(3);
    expect(valueOf(families, 'nexus_engine_orders_denied_total', { reason: 'max_position' })).toBe(1);
    expect(valueOf(families, 'nexus_engine_orders_denied_total', { reason: 'kill_switch' })).toBe(0);
    expect(valueOf(families, 'nexus_engine_orders_published_total')).toBe(6);
    expect(valueOf(families, 'nexus_engine_pool_exhausted_total', { pool: 'order' })).toBe(1);
    expect(valueOf(families, 'nexus_engine_orders_enabled')).toBe(1);
    expect(valueOf(families, 'nexus_engine_ready')).toBe(1);
    expect(families.get('nexus_engine_frames_rejected_total')?.samples.some((s) => s.labels.reason === 'ok')).toBe(false);
    expect(families.get('nexus_engine_orders_denied_total')?.samples.some((s) => s.labels.reason === 'accepted')).toBe(false);
    for (const [name, family] of families) {
      expect(name).toMatch(/^nexus_engine_/);
      expect(family.type).toBe(name.endsWith('_total') ? 'counter' : family.type);
    }
    metrics.stop();
  });

  it('exports the configured fault injection delay as a gauge, 0 when fault injection is off', async () => {
    const off = createEngineMetrics(options(new ManualClock(1e12)));
    const on = createEngineMetrics(options(new ManualClock(1e12), { faultInjectionExtraLatencyMicros: 400 }));
    const offFamilies = parseExposition(await off.registry.metrics());
    const onFamilies = parseExposition(await on.registry.metrics());
    expect(offFamilies.get('nexus_engine_fault_injection_extra_latency_micros')?.type).toBe('gauge');
    expect(valueOf(offFamilies, 'nexus_engine_fault_injection_extra_latency_micros')).toBe(0);
    expect(valueOf(onFamilies, 'nexus_engine_fault_injection_extra_latency_micros')).toBe(400);
    off.stop();
    on.stop();
  });

  it('exports tick-to-order latency as a valid cumulative Prometheus histogram in seconds', async () => {
    const clock = new ManualClock(1e12);
    const metrics = createEngineMetrics(options(clock));
    const samplesNs = [5_000, 15_000, 15_000, 95_000, 120_000, 450_000, 2_500_000, 45_000_000, 90_000_000_000];
    for (const ns of samplesNs) metrics.recordTickToOrder(ns);
    const families = parseExposition(await metrics.registry.metrics());
    const family = families.get('nexus_engine_tick_to_order_latency_seconds');
    expect(family?.type).toBe('histogram');
    const buckets = family?.samples.filter((s) => s.name === 'nexus_engine_tick_to_order_latency_seconds_bucket') ?? [];
    expect(buckets.map((s) => s.labels.le)).toEqual([
      ...TICK_TO_ORDER_BUCKETS_MICROS.map((micros) => String(micros / 1e6)),
      '+Inf',
    ]);
    expect(buckets[0].labels.le).toBe('0.00001');
    expect(buckets.at(-2)?.labels.le).toBe('60');
    for (let i = 1; i < buckets.length; i++) {
      expect(buckets[i].value).toBeGreaterThanOrEqual(buckets[i - 1].value);
      if (i < buckets.length - 1) expect(Number(buckets[i].labels.le)).toBeGreaterThan(Number(buckets[i - 1].labels.le));
    }
    const le = (seconds: string) => buckets.find((s) => s.labels.le === seconds)?.value;
    expect(le('0.00001')).toBe(1);
    expect(le('0.00002')).toBe(3);
    expect(le('0.0001')).toBe(4);
    expect(le('0.000125')).toBe(5);
    expect(le('0.0005')).toBe(6);
    expect(le('0.003')).toBe(7);
    expect(le('0.01')).toBe(7);
    // 45 ms is counted by a finite bound (10 ms was the top one before): histogram_quantile can see it.
    expect(le('0.04')).toBe(7);
    expect(le('0.05')).toBe(8);
    expect(le('60')).toBe(8);
    expect(le('+Inf')).toBe(9);
    expect(valueOf(families, 'nexus_engine_tick_to_order_latency_seconds_count')).toBe(9);
    const sumSeconds = samplesNs.reduce((a, b) => a + b, 0) / 1e9;
    expect(valueOf(families, 'nexus_engine_tick_to_order_latency_seconds_sum')).toBeCloseTo(sumSeconds, 12);
  });

  it('aligns the window intervals to wall-clock multiples of the interval, so every pod cuts them at the same times', () => {
    const clock = new ManualClock(1e12);
    // Made at wall 1234.567 s: the first interval ends at wall 1235.000 s, 433 ms later.
    const metrics = createEngineMetrics(options(clock, { wallClockMs: () => 1_234_567 }));
    metrics.recordTickToOrder(200_000);
    clock.advanceNs(432e6);
    expect(metrics.gateWindow({ metric: 'tickToOrder', maxAgeMs: 60_000 }).intervals).toEqual([]);
    clock.advanceNs(1e6 + 250e6);
    const [first] = metrics.gateWindow({ metric: 'tickToOrder', maxAgeMs: 60_000 }).intervals;
    expect(first).toMatchObject({ endAgeMs: 250, samples: 1 });
  });

  it('exports the window gate gauges and lets old samples leave the window', async () => {
    const clock = new ManualClock(1e12);
    const metrics = createEngineMetrics(options(clock)); // 3 intervals of 1 s
    const read = async () => {
      const families = parseExposition(await metrics.registry.metrics());
      return {
        p50: valueOf(families, 'nexus_engine_tick_to_order_latency_window_micros', { quantile: '0.5' }),
        p99: valueOf(families, 'nexus_engine_tick_to_order_latency_window_micros', { quantile: '0.99' }),
        p999: valueOf(families, 'nexus_engine_tick_to_order_latency_window_micros', { quantile: '0.999' }),
        samples: valueOf(families, 'nexus_engine_tick_to_order_latency_window_samples'),
        seconds: valueOf(families, 'nexus_engine_tick_to_order_latency_window_seconds'),
        count: valueOf(families, 'nexus_engine_tick_to_order_latency_seconds_count'),
      };
    };
    for (let i = 1; i <= 100; i++) metrics.recordTickToOrder(i * 1_000); // 1..100 µs
    clock.advanceMs(500);
    let figures = await read();
    expect(figures.samples).toBe(100);
    expect(figures.seconds).toBe(0.5);
    expect(figures.p50).toBeGreaterThanOrEqual(50);
    expect(figures.p50).toBeLessThanOrEqual(50 * 1.01);
    expect(figures.p99).toBeGreaterThanOrEqual(99);
    expect(figures.p99).toBeLessThanOrEqual(99 * 1.01);
    expect(figures.p999).toBe(100);

    clock.advanceMs(2_499); // t = 2.999 s: still inside 3 intervals
    figures = await read();
    expect(figures.samples).toBe(100);
    clock.advanceMs(1); // t = 3 s: the first interval expires
    figures = await read();
    expect(figures.samples).toBe(0);
    expect(figures.p99).toBeNaN();
    expect(figures.count).toBe(100); // the cumulative histogram keeps everything
  });

  it('reads shared producer arrays and runs refresh once per scrape', async () => {
    const clock = new ManualClock(0);
    const risk = new RiskEngine(
      { maxOrderQty: 1, maxPosition: 1, maxNotional: 1e6, priceBandBps: 100, ordersEnabled: true },
      1,
    );
    let refreshes = 0;
    const metrics = createEngineMetrics(options(clock, {
      shared: { ordersDenied: risk.denials },
      refresh: (counters) => {
        refreshes++;
        counters.ordersAccepted = risk.acceptedCount;
        counters.ordersEnabled = risk.ordersEnabled ? 1 : 0;
      },
    }));
    risk.check(0, 1, 1, 100); // no reference price yet
    risk.onTrade(0, 100);
    risk.check(0, 1, 1, 100);
    const families = parseExposition(await metrics.registry.metrics());
    expect(refreshes).toBe(1);
    expect(valueOf(families, 'nexus_engine_orders_denied_total', { reason: 'no_reference_price' })).toBe(1);
    expect(valueOf(families, 'nexus_engine_orders_total', { result: 'accepted' })).toBe(1);
    expect(valueOf(families, 'nexus_engine_orders_enabled')).toBe(1);
    await metrics.registry.metrics();
    expect(refreshes).toBe(2);
    expect(() => createEngineMetrics(options(clock, { shared: { signals: new Float64Array(1) } }))).toThrow(RangeError);
  });

  it('registers prom-client default metrics on its own registry only, including GC durations', async () => {
    const metrics = createEngineMetrics(options(new ManualClock(0), { defaultMetrics: true }));
    const text = await metrics.registry.metrics();
    expect(text).toContain('# TYPE nodejs_gc_duration_seconds histogram');
    expect(text).toContain('nodejs_eventloop_lag_p99_seconds');
    expect(text).toContain('process_cpu_user_seconds_total');
    const { register } = await import('prom-client');
    expect(await register.metrics()).not.toContain('nexus_engine_');
  });

  it('rotates the window on an unref\'d timer and stops it', async () => {
    const clock = new ManualClock(0);
    const metrics = createEngineMetrics(options(clock, { windowSeconds: 0.04, windowIntervals: 2 })); // 2 x 20 ms
    metrics.recordTickToOrder(1_000);
    clock.advanceMs(40);
    expect(metrics.window.snapshot(createWindowSnapshot()).samples).toBe(1); // nothing rotated it yet
    metrics.startWindowTimer();
    metrics.startWindowTimer();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(metrics.window.snapshot(createWindowSnapshot()).samples).toBe(0);
    metrics.stop();
    metrics.recordTickToOrder(1_000);
    clock.advanceMs(40);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(metrics.window.snapshot(createWindowSnapshot()).samples).toBe(1); // stopped: no rotation
  });
});
