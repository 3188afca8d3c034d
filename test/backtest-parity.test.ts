import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, spawnNexus, waitForExit, waitForLine } from '../cli/lib/processes.ts';
import { runBacktest } from '../engine/backtest/backtest.ts';
import { monoNowNs } from '../engine/clock/monotonic.ts';
import { parseEngineConfig } from '../engine/config/engine-config.ts';
import { OrderSink } from '../engine/sim/order-sink.ts';
import { parseTickCsv } from '../engine/sim/tick-csv.ts';
import { loadStrategyModules } from '../engine/strategy/strategy-modules.ts';
import { Side } from '../engine/wire/layout.ts';
import { SymbolTable } from '../engine/wire/symbol-id.ts';
import { eventually } from './support/eventually.ts';

/**
 * Backtest and live run the same code: one tick CSV replayed by a real `nexus feed` process into a real
 * `nexus engine` process (a TypeScript strategy module, a built-in strategy and a sandboxed WebAssembly module),
 * whose orders reach a real
 * order gateway over ZeroMQ, gives per symbol the same sequence of orders (strategy, side, price, quantity) as
 * `runBacktest` over the same CSV and configuration. Both pipeline layouts.
 */
const symbols = ['AAPL', 'MSFT', 'NVDA', 'AMZN'];
const dir = mkdtempSync(join(tmpdir(), 'nexus-parity-'));
const csvPath = join(dir, 'ticks.csv');
const crossModule = fileURLToPath(new URL('../examples/strategies/ema-cross.ts', import.meta.url));
/** The same logic as a sandboxed WebAssembly module (npm run build:wasm, which the test command runs first). */
const crossWasm = fileURLToPath(new URL('../build/wasm/strategies/ema-cross.wasm', import.meta.url));

/** 6,000 ticks: trades on a per-symbol wave with a quote before every fourth trade, so limit prices use the book. */
function writeTicks(): number {
  const rows = ['exchange_ts_ns,symbol,kind,price,size'];
  let ts = 1_700_000_000_000_000_000;
  for (let i = 0; i < 4_800; i++) {
    const s = i % symbols.length;
    const price = 100 + s * 10 + 3 * Math.sin(i / (23 + s * 7)) + ((i * 7919) % 13) / 100;
    if (i % 4 === 0) {
      rows.push(`${(ts += 1000)},${symbols[s]},bid,${(price - 0.05).toFixed(4)},5`);
      rows.push(`${(ts += 1000)},${symbols[s]},ask,${(price + 0.05).toFixed(4)},5`);
    }
    rows.push(`${(ts += 1000)},${symbols[s]},trade,${price.toFixed(4)},10`);
  }
  writeFileSync(csvPath, rows.join('\n') + '\n');
  return rows.length - 1;
}

function engineDocument(ports: { feed: number; orders: number; control: number; metrics: number }, pipeline: Record<string, unknown>): Record<string, unknown> {
  return {
    symbols,
    indicators: [
      { name: 'fast', type: 'ema', params: { period: 5 } },
      { name: 'slow', type: 'ema', params: { period: 20 } },
      { name: 'bands', type: 'bbands', params: { period: 20, stdDev: 1.5 } },
    ],
    strategies: [
      { name: 'cross', module: crossModule, indicators: ['fast', 'slow'] },
      { name: 'breakout', type: 'bollingerBreakout', indicators: ['bands'], params: { orderQuantity: 2 } },
      { name: 'sandboxed', module: crossWasm, indicators: ['fast', 'slow'], params: { minSpread: 0.05, orderQuantity: 3 } },
    ],
    risk: { maxOrderQty: 100, maxPosition: 10_000, maxNotional: 1e9, priceBandBps: 5_000, ordersEnabled: true },
    zeromq: {
      endpoints: [
        { name: 'md', role: 'marketData', address: `tcp://127.0.0.1:${ports.feed}` },
        { name: 'orders', role: 'orders', address: `tcp://127.0.0.1:${ports.orders}` },
        { name: 'control', role: 'control', bind: `tcp://127.0.0.1:${ports.control}` },
      ],
    },
    metrics: { port: ports.metrics, host: '127.0.0.1' },
    pipeline,
    warmupTicks: 2_000,
  };
}

type OrderKey = [strategy: number, side: string, price: number, quantity: number];

let tickCount = 0;
beforeAll(() => {
  tickCount = writeTicks();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each([
  ['inline', { layout: 'inline' }],
  ['workers', { layout: 'workers', workers: 2 }],
])('backtest parity, %s layout', (layout, pipeline) => {
  it('the live engine sends per symbol exactly the orders the backtest made', async () => {
    const ports = { feed: await freePort(), orders: await freePort(), control: await freePort(), metrics: await freePort() };
    const document = engineDocument(ports, pipeline);
    const configPath = join(dir, `engine-${layout}.json`);
    writeFileSync(configPath, JSON.stringify(document));

    const config = parseEngineConfig(document);
    await loadStrategyModules(config.strategies);
    const backtest = runBacktest({ config, ticks: parseTickCsv(readFileSync(csvPath, 'utf8'), csvPath), keepOrders: true });
    expect(backtest.byStrategy.cross.orders, 'the module trades').toBeGreaterThan(20);
    expect(backtest.byStrategy.breakout.orders, 'the built-in trades').toBeGreaterThan(20);
    expect(backtest.byStrategy.sandboxed.orders, 'the WebAssembly module trades').toBeGreaterThan(5);
    const expected = new Map(symbols.map((symbol) => [symbol, [] as OrderKey[]]));
    const strategyIndex = new Map(config.strategies.map((strategy, i) => [strategy.name, i]));
    for (const order of backtest.orderList ?? []) expected.get(order.symbol)?.push([strategyIndex.get(order.strategy) ?? -1, order.side, order.price, order.quantity]);

    const sink = new OrderSink({ ordersBind: `tcp://127.0.0.1:${ports.orders}`, clockNs: monoNowNs });
    await sink.open();
    const loop = sink.run();
    const symbolOf = new Map(new SymbolTable(symbols).ids.map((id, i) => [id, symbols[i]]));
    const received = new Map(symbols.map((symbol) => [symbol, [] as OrderKey[]]));
    sink.onOrder = (order) => received.get(symbolOf.get(order.symbolId) ?? '')?.push([order.strategyId, order.side === Side.Buy ? 'buy' : 'sell', order.price, order.quantity]);
    let output = '';
    const engine = spawnNexus(['engine', '--config', configPath]);
    engine.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    engine.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      await waitForLine(engine, /Engine started/, 30_000);
      const feed = spawnNexus(['feed', '--replay', csvPath, '--bind', `tcp://127.0.0.1:${ports.feed}`, '--rate', '50000', '--start-delay-ms', '1500']);
      expect(await waitForExit(feed, 60_000)).toBe(0);
      await eventually(async () => metric(ports.metrics, 'nexus_engine_ticks_received_total'), {
        until: (n) => n >= tickCount, timeoutMs: 20_000, what: `the engine received all ${tickCount} ticks`, context: () => output,
      });
      await eventually(async () => sink.counts.orders, { until: (n) => n >= backtest.total.orders, timeoutMs: 20_000, what: `${backtest.total.orders} orders at the gateway`, context: () => output });
      await new Promise((resolve) => setTimeout(resolve, 300)); // nothing more arrives
      expect(sink.counts.orders).toBe(backtest.total.orders);
      for (const symbol of symbols) expect(received.get(symbol), symbol).toEqual(expected.get(symbol));
    } finally {
      engine.kill('SIGTERM');
      await waitForExit(engine, 15_000);
      sink.close();
      await loop.catch(() => undefined);
    }
  }, 120_000);
});

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `));
  return Number(line?.split(' ')[1] ?? Number.NaN);
}
