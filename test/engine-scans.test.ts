import { afterEach, describe, expect, it } from 'vitest';
import { Publisher, Subscriber } from 'zeromq';
import { Engine } from '../engine/app/engine.ts';
import { monoNowNs } from '../engine/clock/monotonic.ts';
import { parseEngineConfig } from '../engine/config/engine-config.ts';
import { OrderSink } from '../engine/sim/order-sink.ts';
import { loadStrategyModules } from '../engine/strategy/strategy-modules.ts';
import type { ScanReport } from '../engine/scans/scan-report.ts';
import { TickKind } from '../engine/wire/layout.ts';
import { symbolId } from '../engine/wire/symbol-id.ts';
import { TickFrameWriter } from '../engine/wire/tick-codec.ts';
import { fileURLToPath } from 'node:url';
import { eventually } from './support/eventually.ts';

/**
 * Bars and universe scans on real engines (both layouts) with real ZeroMQ sockets: trades with exchange times in
 * four one-second intervals close three bars; each close is scanned on the engine's scan thread and reported on
 * the signals socket (topic `scan`), while the engine keeps trading; the metrics count the bars and scans.
 */
const SYMBOLS = ['AAPL', 'MSFT', 'NVDA', 'AMZN'];
const SECOND = 1_000_000_000;
const engines: Engine[] = [];
const closers: Array<() => void> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) close();
  await Promise.all(engines.splice(0).map((engine) => engine.stop()));
});

describe.each([
  ['inline', { layout: 'inline' }, 'wasm'],
  // The workers backend: the correlation on its pool, the per-bar part split over the scan thread's helpers.
  ['inline', { layout: 'inline' }, 'workers'],
  ['workers', { layout: 'workers', workers: 2 }, 'gpu'],
] as const)('scans at each bar close (%s layout, correlation on %s)', (_name, pipeline, backend) => {
  it('reports each closed bar on the signals socket, ranked across the symbols, and counts it', async () => {
    const feed = new Publisher({ linger: 0 });
    await feed.bind('tcp://127.0.0.1:*');
    closers.push(() => feed.close());
    // The order gateway: the orders of the onBar strategies (strategies 1 and 2), each of them once.
    const gateway = new OrderSink({ ordersBind: 'tcp://127.0.0.1:*', clockNs: monoNowNs, detectDuplicates: true });
    const gatewayAddress = (await gateway.open()) ?? '';
    const barOrders: Array<{ strategy: number; symbol: string; side: number; quantity: number }> = [];
    const bySymbolId = new Map(SYMBOLS.map((symbol) => [symbolId(symbol), symbol]));
    gateway.onOrder = (order) => {
      if (order.strategyId !== 0) barOrders.push({ strategy: order.strategyId, symbol: bySymbolId.get(order.symbolId) ?? '?', side: order.side, quantity: order.quantity });
    };
    const gatewayRun = gateway.run();
    closers.push(() => {
      gateway.close();
      void gatewayRun;
    });
    const leader = { name: 'leader', module: fileURLToPath(new URL('../engine/strategy/fixtures/bar-leader.mjs', import.meta.url)) };
    const unchecked = { name: 'unchecked', module: fileURLToPath(new URL('../engine/strategy/fixtures/bar-leader-unchecked.mjs', import.meta.url)) };
    await loadStrategyModules([leader, unchecked]);
    const config = parseEngineConfig({
      symbols: SYMBOLS,
      indicators: [{ name: 'ema-2', type: 'ema', params: { period: 2 } }, { name: 'rsi-2', type: 'rsi', params: { period: 2 } }],
      strategies: [{ name: 'probe', type: 'probe', params: { orderQuantity: 1 } }, leader, unchecked],
      risk: { maxOrderQty: 10, maxPosition: 1000, maxNotional: 1e9, priceBandBps: 5000, ordersEnabled: true },
      zeromq: {
        endpoints: [
          { name: 'md', role: 'marketData', address: feed.lastEndpoint ?? '' },
          { name: 'orders', role: 'orders', address: gatewayAddress },
          { name: 'signals', role: 'signals', bind: 'tcp://127.0.0.1:*' },
        ],
      },
      metrics: { port: 0, host: '127.0.0.1' },
      pipeline,
      backend,
      warmupTicks: 0,
      scans: { barIntervalMs: 1000, panelBars: 16, indicators: ['ema-2'], correlation: { symbols: 4, window: 2 }, topSymbols: 2 },
      shutdown: { drainTimeoutMs: 500 },
    });
    const engine = new Engine({ config, clockNs: monoNowNs, log: () => undefined });
    engines.push(engine);
    await engine.start();
    // Ready only once the scan thread has opened the backend asked for (the gpu: whatever adapter answers here).
    expect(engine.status().indicatorBackend).toMatchObject({ requested: backend, backend, reason: 'as configured', scanKernels: 'wasm' });
    const consumer = new Subscriber({ receiveTimeout: 10_000 });
    closers.push(() => consumer.close());
    consumer.connect(engine.endpoints.signals ?? '');
    consumer.subscribe('scan');
    consumer.subscribe('signals');

    const writer = new TickFrameWriter(1);
    let sequence = 0;
    const trade = async (s: number, price: number, atNs: number): Promise<void> => {
      writer.begin(3, sequence++);
      writer.append(symbolId(SYMBOLS[s]), TickKind.Trade, price, 10, atNs, monoNowNs());
      await feed.send([Buffer.from(SYMBOLS[s]), writer.finish(monoNowNs())]);
    };
    /** The next scan report, passing over the probe strategy's signals; on a timeout, the engine's scan counts say why. */
    const nextReport = async (): Promise<ScanReport> => {
      try {
        for (;;) {
          const [topic, body] = await consumer.receive();
          if (topic.toString() === 'scan') return JSON.parse(body.toString()) as ScanReport;
        }
      } catch (error) {
        const metrics = await (await fetch(`${engine.endpoints.metrics ?? ''}/metrics`)).text();
        const scans = metrics.split('\n').filter((line) => /^nexus_engine_(scans_total|bars_closed_total|other_shard)/.test(line));
        throw new Error(`no scan report: ${(error as Error).message}; ${scans.join(', ')}`, { cause: error });
      }
    };
    // Both sockets join asynchronously: trades of the first interval until the probe's signals come back.
    const joined = new Subscriber({ receiveTimeout: 100 });
    closers.push(() => joined.close());
    joined.connect(engine.endpoints.signals ?? '');
    joined.subscribe('signals');
    await eventually(async () => {
      await trade(0, 100, 50 * SECOND);
      return joined.receive().then(() => true, () => false);
    }, { timeoutMs: 10_000, intervalMs: 10, what: 'signals from the engine' });
    // Bar 0 (50 s): everyone at 100. Bar 1 (51 s): NVDA +3 %, AAPL +1 %, MSFT -1 %, AMZN -2 %. Bar 2 (52 s): back to
    // 100. Each bar's first trade closes the bar before; the test waits for its scan (bars are a second apart live).
    for (let s = 1; s < 4; s++) await trade(s, 100, 50 * SECOND + s);
    const moves = [[101, 99, 103, 98], [100, 100, 100, 100]];
    const reports: ScanReport[] = [];
    for (const [k, prices] of moves.entries()) {
      for (let s = 0; s < 4; s++) await trade(s, prices[s], (51 + k) * SECOND + s);
      reports.push(await nextReport());
    }
    await trade(0, 100, 53 * SECOND); // opens 53 s: closes bar 2
    reports.push(await nextReport());
    expect(reports.map((r) => [r.bar, r.barStartNs])).toEqual([[0, String(50n * BigInt(SECOND))], [1, String(51n * BigInt(SECOND))], [2, String(52n * BigInt(SECOND))]]);
    expect(reports[0].ranked).toBe(0); // the first bar has no return
    expect(reports[1].top.map((e) => e.symbol)).toEqual(['NVDA', 'AAPL']);
    expect(reports[1].bottom.map((e) => e.symbol)).toEqual(['AMZN', 'MSFT']);
    expect(reports[1].top[0]).toMatchObject({ returnRank: 1 });
    expect(reports[1].top[0].return).toBeCloseTo(0.03, 12);
    expect(reports[2].top[0].symbol).toBe('AMZN'); // 98 -> 100
    // AMZN's per-bar EMA(2): seeded with the mean of its bars 100, 98 (99), then (100 - 99) * 2/3 + 99.
    expect(reports[2].top[0].indicators['ema-2'].value).toBeCloseTo(99 + 2 / 3, 12);
    expect(reports[2].correlation?.window).toBe(2);
    // onBar at each close, with the scan the report shows: bar 1's leader NVDA, bar 2's AMZN (98 -> 100). In the
    // workers layout each of the two shards runs both strategies, and each order is still sent once: the shard that
    // decides for the symbol sends it; the other's instance of `unchecked` decided too, and was counted, not sent.
    await eventually(() => barOrders.length, { timeoutMs: 10_000, until: (n) => n >= 4, what: 'the onBar strategies\' orders' });
    await new Promise((resolve) => setTimeout(resolve, 200)); // room for a duplicate to arrive, if one were sent
    const byStrategy = (strategy: number): unknown[] => barOrders.filter((o) => o.strategy === strategy).map(({ strategy: _s, ...order }) => order);
    for (const strategy of [1, 2]) expect(byStrategy(strategy)).toEqual([{ symbol: 'NVDA', side: 1, quantity: 1 }, { symbol: 'AMZN', side: 1, quantity: 1 }]);
    expect(gateway.counts.duplicates).toBe(0);
    const metrics = await (await fetch(`${engine.endpoints.metrics ?? ''}/metrics`)).text();
    // Inline one instance decides for every symbol; with two shards, `unchecked`'s other instance decided both bars.
    expect(metrics).toContain(`nexus_engine_other_shard_decisions_total ${pipeline.layout === 'inline' ? 0 : 2}`);
    expect(metrics).toContain('nexus_engine_bars_closed_total 3');
    expect(metrics).toContain(`nexus_engine_indicator_backend{backend="${backend}"} 1`);
    expect(metrics).toContain('nexus_engine_indicator_backend{backend="js"} 0');
    expect(metrics).toContain('nexus_engine_scan_kernels{kernels="wasm"} 1');
    expect(metrics).toContain('nexus_engine_scans_total{result="completed"} 3');
    expect(metrics).toContain('nexus_engine_scans_total{result="failed"} 0');
    expect(metrics).toContain('nexus_engine_bar_anomalies_total{kind="bar_missed"} 0');
    expect(metrics).toContain('nexus_engine_bar_anomalies_total{kind="late_trade"} 0');
  });
});

describe('onBar strategies', () => {
  it('need scans: the engine refuses them otherwise, naming the strategy', async () => {
    const leader = { name: 'leader', module: fileURLToPath(new URL('../engine/strategy/fixtures/bar-leader.mjs', import.meta.url)) };
    await loadStrategyModules([leader]);
    const document = {
      symbols: SYMBOLS,
      indicators: [{ name: 'ema-2', type: 'ema', params: { period: 2 } }],
      strategies: [leader],
      zeromq: { endpoints: [{ name: 'md', role: 'marketData', address: 'tcp://127.0.0.1:1' }, { name: 'orders', role: 'orders', address: 'tcp://127.0.0.1:2' }] },
      metrics: { port: 0, host: '127.0.0.1' },
      warmupTicks: 0,
    };
    expect(() => new Engine({ config: parseEngineConfig(document), clockNs: monoNowNs, log: () => undefined }))
      .toThrow('strategies[0]: leader has an onBar handler: configure scans (docs/scans.md) to give it bars');
  });
});
