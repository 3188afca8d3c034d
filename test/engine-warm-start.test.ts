import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Publisher, Subscriber } from 'zeromq';
import { freePort, spawnNexus, waitForExit } from '../cli/lib/processes.ts';
import { Engine } from '../engine/app/engine.ts';
import { monoNowNs } from '../engine/clock/monotonic.ts';
import { parseEngineConfig, type EngineConfig } from '../engine/config/engine-config.ts';
import { standardIndicators } from '../engine/config/presets.ts';
import { OrderSink } from '../engine/sim/order-sink.ts';
import type { ScanReport } from '../engine/scans/scan-report.ts';
import { loadStrategyModules } from '../engine/strategy/strategy-modules.ts';
import { TickKind } from '../engine/wire/layout.ts';
import { symbolId } from '../engine/wire/symbol-id.ts';
import { TickFrameWriter } from '../engine/wire/tick-codec.ts';
import { eventually } from './support/eventually.ts';
import { marketTicks, streamedSinceOpen, tickCsv, type RecordedOrder } from './support/history.ts';

/**
 * Warm start on real engines with real ZeroMQ sockets, both pipeline layouts: an engine started "while the market
 * is open" from a history file becomes ready only once warm, and its orders on the live ticks that follow are
 * exactly those of an engine that has run since the open (streamed the same history tick by tick) - where a cold
 * engine would have waited out its indicators' warm-up first.
 */

const SYMBOLS = ['AAPL', 'MSFT', 'NVDA', 'AMZN'];
const HISTORY_TICKS = 12_000;
const market = marketTicks(SYMBOLS, HISTORY_TICKS + 1_500, 5);
const dir = mkdtempSync(join(tmpdir(), 'nexus-warm-start-'));
const historyPath = join(dir, 'history.csv');
writeFileSync(historyPath, tickCsv({ ...market, count: HISTORY_TICKS }));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const engines: Engine[] = [];
const closers: Array<() => void> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) close();
  await Promise.all(engines.splice(0).map((engine) => engine.stop()));
});

function engineDocument(feed: string, orders: string, extra: Record<string, unknown>): Record<string, unknown> {
  return {
    symbols: SYMBOLS,
    indicators: standardIndicators,
    strategies: [
      { name: 'macd-cross', type: 'macdCross', indicators: ['macd'], params: { orderQuantity: 10 } },
      { name: 'bb-breakout', type: 'bollingerBreakout', indicators: ['bb-20'], params: { orderQuantity: 5 } },
      { name: 'uptick-runs', module: fileURLToPath(new URL('../engine/strategy/fixtures/uptick-runs.mjs', import.meta.url)), params: { orderQuantity: 1 } },
    ],
    risk: { maxOrderQty: 1000, maxPosition: 1_000_000, maxNotional: 1e12, priceBandBps: 5_000, ordersEnabled: true },
    zeromq: {
      endpoints: [
        { name: 'md', role: 'marketData', address: feed },
        { name: 'orders', role: 'orders', address: orders },
      ],
    },
    metrics: { port: 0, host: '127.0.0.1' },
    warmupTicks: 0,
    history: { path: historyPath, maxTradesPerSymbol: 100_000, strategyReplayTrades: 20 },
    shutdown: { drainTimeoutMs: 2_000 },
    ...extra,
  };
}

/** The order gateway: every order it receives, decoded back to the engine's symbol index. */
async function startGateway(): Promise<{ address: string; orders: RecordedOrder[] }> {
  const sink = new OrderSink({ ordersBind: 'tcp://127.0.0.1:*', clockNs: monoNowNs, detectDuplicates: true });
  const address = (await sink.open()) ?? '';
  const indexOf = new Map(SYMBOLS.map((symbol, index) => [symbolId(symbol), index]));
  const orders: RecordedOrder[] = [];
  sink.onOrder = (order) => {
    orders.push({ symbolIndex: indexOf.get(order.symbolId) ?? -1, strategyId: order.strategyId, side: order.side, price: order.price, quantity: order.quantity });
  };
  const running = sink.run();
  closers.push(() => {
    sink.close();
    void running;
  });
  return { address, orders };
}

async function startFeed(): Promise<{ address: string; send: (i: number) => Promise<void>; sendBid: (symbolIndex: number, price: number) => Promise<void> }> {
  const socket = new Publisher({ linger: 0, sendHighWaterMark: 1_000_000 });
  await socket.bind('tcp://127.0.0.1:*');
  closers.push(() => socket.close());
  const writer = new TickFrameWriter(1);
  let sequence = 0;
  const publish = async (symbolIndex: number, kind: number, price: number, size: number, exchangeTs: number): Promise<void> => {
    const symbol = SYMBOLS[symbolIndex];
    writer.begin(7, sequence++);
    writer.append(symbolId(symbol), kind, price, size, exchangeTs, monoNowNs());
    await socket.send([Buffer.from(symbol), writer.finish(monoNowNs())]);
  };
  return {
    address: socket.lastEndpoint ?? '',
    send: (i) => publish(market.symbolIndex[i], market.kind[i], market.price[i], market.size[i], market.exchangeTsNs[i]),
    sendBid: (symbolIndex, price) => publish(symbolIndex, TickKind.Bid, price, 1, market.exchangeTsNs[HISTORY_TICKS - 1]),
  };
}

/** The orders an engine that has run since the open sends on the live ticks (one tick per frame, as published). */
function referenceOrders(config: EngineConfig): RecordedOrder[] {
  const reference = streamedSinceOpen(config, { ...market, count: HISTORY_TICKS }, 100_000);
  for (let i = HISTORY_TICKS; i < market.count; i++) reference.tick(market.symbolIndex[i], market.kind[i], market.price[i], market.size[i]);
  return reference.orders;
}

// Both layouts on the wasm warm-state kernels, as `auto` runs them (docs/warm-start.md): the inline engine on its
// own thread, each worker of the workers layout on its own instance. (The JS kernels are held to the same orders
// in engine/pipeline/warm-start.test.ts.)
describe.each([
  ['inline', { layout: 'inline' }, 'wasm'],
  ['workers', { layout: 'workers', workers: 2 }, 'auto'],
] as const)('a real engine warm-started from history (%s layout, backend %s)', (_name, pipeline, backend) => {
  it('is ready only once warm, then trades from its first live tick exactly as an engine running since the open', async () => {
    const gateway = await startGateway();
    const feed = await startFeed();
    // Scans on 100 ms bars: the history's 12 s are 119 closed bars, built before ready (docs/scans.md).
    const scans = { barIntervalMs: 100, panelBars: 32, indicators: ['ema-20', 'rsi-14'], correlation: { symbols: 4, window: 16 }, topSymbols: 2 };
    const config = parseEngineConfig(engineDocument(feed.address, gateway.address, {
      pipeline, scans, backend,
      zeromq: {
        endpoints: [
          { name: 'md', role: 'marketData', address: feed.address },
          { name: 'orders', role: 'orders', address: gateway.address },
          { name: 'signals', role: 'signals', bind: 'tcp://127.0.0.1:*' },
        ],
      },
    }));
    await loadStrategyModules(config.strategies);
    const engine = new Engine({ config, clockNs: monoNowNs, log: () => undefined });
    engines.push(engine);
    await engine.start();
    const status = engine.status() as { ready: boolean; warmStart: Record<string, unknown>; ticks: { received: number } };
    expect(status.ready).toBe(true);
    expect(status.warmStart).toMatchObject({ state: 'warm', symbols: SYMBOLS.length, backend: 'wasm', shortSymbols: 0 });
    expect(status.warmStart.seededTrades).toBeGreaterThan(5_000);
    expect(status.warmStart.bars).toBe(119);
    const scanReports: ScanReport[] = [];
    const consumer = new Subscriber({ receiveTimeout: 15_000 });
    closers.push(() => consumer.close());
    consumer.connect(engine.endpoints.signals ?? '');
    consumer.subscribe('scan');
    void (async () => {
      for await (const [, body] of consumer) scanReports.push(JSON.parse(body.toString()) as ScanReport);
    })().catch(() => undefined);

    // The subscription reaches the feed asynchronously: until the engine has one, publish a bid it already has (the
    // history's last for AAPL), which changes nothing however many copies arrive; then the live ticks, each once.
    const lastBid = lastHistoryBid(0);
    await eventually(async () => {
      await feed.sendBid(0, lastBid);
      return (engine.status() as typeof status).ticks.received;
    }, { timeoutMs: 10_000, intervalMs: 50, until: (received) => received > 0, what: 'a tick through the subscription' });
    for (let i = HISTORY_TICKS; i < market.count; i++) await feed.send(i);

    const expected = referenceOrders(config);
    expect(expected.length).toBeGreaterThan(10);
    await eventually(() => gateway.orders.length, { timeoutMs: 15_000, until: (n) => n >= expected.length, what: `${expected.length} orders at the gateway` });
    const bySymbol = (orders: readonly RecordedOrder[]) => SYMBOLS.map((_, s) => orders.filter((o) => o.symbolIndex === s));
    expect(bySymbol(gateway.orders)).toEqual(bySymbol(expected));
    // The first live bar close is scanned with the history's bars: a full correlation window and stable indicators
    // at once, where a cold engine would wait 16 bars for its first correlation.
    const first = await eventually(() => scanReports[0], { timeoutMs: 10_000, what: 'the first live scan report' });
    expect(first.bar).toBe(119);
    expect(first.correlation?.most?.correlation).toBeGreaterThanOrEqual(-1);
    expect(first.top[0].indicators['ema-20'].value).not.toBeNull();
    const firstOrderTick = firstLiveTickWithOrder(config);
    expect(firstOrderTick).toBeLessThan(HISTORY_TICKS + 60); // a cold engine's MACD alone needs 34 trades per symbol
  });
});

/** The last bid of symbol `s` in the history: re-sending it changes no engine's book. */
function lastHistoryBid(s: number): number {
  for (let i = HISTORY_TICKS - 1; i >= 0; i--) if (market.symbolIndex[i] === s && market.kind[i] === TickKind.Bid) return market.price[i];
  throw new Error(`no bid of ${SYMBOLS[s]} in the history`);
}

/** The index of the first live tick on which the reference orders (how soon a warm engine trades). */
function firstLiveTickWithOrder(config: EngineConfig): number {
  const reference = streamedSinceOpen(config, { ...market, count: HISTORY_TICKS }, 100_000);
  for (let i = HISTORY_TICKS; i < market.count; i++) {
    reference.tick(market.symbolIndex[i], market.kind[i], market.price[i], market.size[i]);
    if (reference.orders.length > 0) return i;
  }
  return market.count;
}

describe('an engine process with a history', () => {
  it('is not ready until the warm start is done, and ready with the warm-start metrics after it', async () => {
    const metricsPort = await freePort();
    const configPath = join(dir, 'engine-process.json');
    // A longer history than above (every tick of it replayed through the strategies), so the warm start is seen.
    writeFileSync(configPath, JSON.stringify(engineDocument('tcp://127.0.0.1:1', 'tcp://127.0.0.1:2', {
      metrics: { port: metricsPort, host: '127.0.0.1' },
      history: { path: historyPath, maxTradesPerSymbol: 100_000, strategyReplayTrades: 3_000 },
    })));
    const child = spawnNexus(['engine', '--config', configPath]);
    closers.push(() => child.kill('SIGKILL'));
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const answers: string[] = [];
    const ready = await eventually(async () => {
      const reply = await fetch(`http://127.0.0.1:${metricsPort}/readyz`).catch(() => undefined);
      if (reply === undefined) return false;
      const body = (await reply.text()).trim();
      if (answers.at(-1) !== body) answers.push(body);
      return reply.status === 200 ? output : false;
    }, { timeoutMs: 30_000, intervalMs: 5, what: 'the engine ready', context: () => output });
    // Never ready before the warm start: every answer before the first "ready" said so (the warm start runs on the
    // main thread, so a probe sent during it is answered after it), and the warm start's line came first.
    expect(answers.slice(0, -1).every((answer) => /warming up/.test(answer))).toBe(true);
    expect(answers.at(-1)).toBe('ready');
    expect(ready).toMatch(/Engine warm-started from history path=\S+ symbols=4 seededTrades=\d+ replayedTicks=\d+ durationMs=[\d.]+ backend=wasm reason="backend auto: wasm runs the warm-state kernels/);
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toContain('nexus_engine_warm_start{state="warm"} 1');
    expect(metrics).toContain('nexus_engine_warm_start{state="cold"} 0');
    expect(metrics).toContain('nexus_engine_warm_start_backend{backend="wasm"} 1');
    expect(metrics).toContain('nexus_engine_warm_start_backend{backend="js"} 0');
    expect(metrics).toMatch(/nexus_engine_warm_start_trades\{part="replayed"\} [1-9]\d{3,}/);
    expect(metrics).toContain('nexus_engine_warm_start_short_symbols 0');
    expect(metrics).toContain('nexus_engine_ready 1');
  });
});

describe('a history the engine cannot use', () => {
  it('stops the start (exit 2) naming the file, row and column, or starts cold when onError is coldStart', async () => {
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'exchange_ts_ns,symbol,kind,price,size\n1,AAPL,trade,100,1\n2,AAPL,trade,abc,1\n');
    const configPath = join(dir, 'engine.json');
    const document = engineDocument('tcp://127.0.0.1:1', 'tcp://127.0.0.1:2', { history: { path: bad } });
    writeFileSync(configPath, JSON.stringify(document));
    const child = spawnNexus(['engine', '--config', configPath]);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    expect(await waitForExit(child, 20_000)).toBe(2);
    expect(stderr).toContain(`nexus engine: history ${bad}: row 3, column price: must be a finite number > 0, got "abc"`);

    const gateway = await startGateway();
    const feed = await startFeed();
    const lines: string[] = [];
    const config = parseEngineConfig(engineDocument(feed.address, gateway.address, { history: { path: bad, onError: 'coldStart' } }));
    await loadStrategyModules(config.strategies);
    const engine = new Engine({ config, clockNs: monoNowNs, log: (line) => lines.push(line) });
    engines.push(engine);
    await engine.start();
    expect((engine.status() as { warmStart: unknown }).warmStart).toEqual({ state: 'cold', shortSymbols: 0 });
    expect(lines.find((line) => line.startsWith('Warning: history'))).toBe(
      `Warning: history ${bad}: row 3, column price: must be a finite number > 0, got "abc"; starting with cold indicators (history.onError coldStart)`,
    );
  });
});
