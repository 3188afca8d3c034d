import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseEngineConfig, type EngineConfig } from '../config/engine-config.ts';
import { parseTickCsv } from '../sim/tick-csv.ts';
import { loadStrategyModules } from '../strategy/strategy-modules.ts';
import { runBacktest } from './backtest.ts';

const fixture = (name: string): string => fileURLToPath(new URL(`../strategy/fixtures/${name}`, import.meta.url));

function configOf(strategies: unknown[], symbols = ['AAPL', 'MSFT'], extra: Record<string, unknown> = {}): EngineConfig {
  return parseEngineConfig({
    ...extra,
    symbols,
    indicators: [{ name: 'fast', type: 'ema', params: { period: 3 } }, { name: 'slow', type: 'ema', params: { period: 8 } }],
    strategies,
    risk: { maxOrderQty: 100, maxPosition: 1_000, maxNotional: 1e9, priceBandBps: 5_000, ordersEnabled: true },
    zeromq: { endpoints: [{ name: 'md', role: 'marketData', address: 'tcp://127.0.0.1:1' }, { name: 'orders', role: 'orders', address: 'tcp://127.0.0.1:2' }] },
    warmupTicks: 0,
  });
}

/** `count` trades alternating AAPL and MSFT on a deterministic zig-zag, one microsecond apart. */
function tradesCsv(count: number, extra: string[] = []): string {
  const rows = ['exchange_ts_ns,symbol,kind,price,size', ...extra];
  for (let i = 0; i < count; i++) rows.push(`${1_000_000 + i * 1000},${i % 2 === 0 ? 'AAPL' : 'MSFT'},trade,${(100 + 5 * Math.sin(i / 17)).toFixed(4)},10`);
  return rows.join('\n');
}

const probe = { name: 'probe', type: 'probe', params: { orderQuantity: 1 } };

describe('runBacktest', () => {
  it('fills each order at its limit price (the far side of the book, else the last trade) and marks the position to the last trade', () => {
    const ticks = parseTickCsv([
      'exchange_ts_ns,symbol,kind,price,size',
      '1,AAPL,bid,99,5',
      '2,AAPL,ask,101,5',
      '3,AAPL,trade,100,1', // probe buys at the ask, 101
      '4,AAPL,trade,102,1', // long: sells at the bid, 99
      '5,AAPL,trade,103,1', // flat: buys at the ask, 101; marked at 103 -> pnl -2 + 2
    ].join('\n'), 'book.csv');
    const result = runBacktest({ config: configOf([probe]), ticks, keepOrders: true });
    expect(result.orderList?.map((order) => [order.side, order.price, order.quantity])).toEqual([['buy', 101, 1], ['sell', 99, 1], ['buy', 101, 1]]);
    expect(result.bySymbol.AAPL).toEqual({ orders: 3, buys: 2, sells: 1, position: 1, cash: -103, pnl: 0, lastPrice: 103 });
    expect(result.total).toMatchObject({ orders: 3, position: 1, pnl: 0 });
    expect(result).toMatchObject({ ticks: 5, trades: 3, quotes: 2, ordersDenied: 0, strategyFaults: 0 });
  });

  it('gives byte-identical orders for the same input (equal SHA-256 over the order frames), and different ones for another config', async () => {
    const ticks = parseTickCsv(tradesCsv(4_000), 'zigzag.csv');
    const cross = { name: 'cross', module: fileURLToPath(new URL('../../examples/strategies/ema-cross.ts', import.meta.url)), indicators: ['fast', 'slow'] };
    await loadStrategyModules([cross]);
    const config = configOf([cross, probe]);
    const first = runBacktest({ config, ticks, keepOrders: true });
    const second = runBacktest({ config, ticks, keepOrders: true });
    expect(first.byStrategy.cross.orders).toBeGreaterThan(10);
    expect(second.ordersSha256).toBe(first.ordersSha256);
    expect(second.orderList).toEqual(first.orderList);
    const other = runBacktest({ config: configOf([cross, { ...probe, params: { orderQuantity: 2 } }]), ticks });
    expect(other.ordersSha256).not.toBe(first.ordersSha256);
  });

  it('skips and counts ticks of a symbol the configuration does not trade', () => {
    const ticks = parseTickCsv(tradesCsv(10, ['0,TSLA,trade,250,1', '0,TSLA,trade,251,1']), 'extra.csv');
    const result = runBacktest({ config: configOf([probe]), ticks });
    expect(result.ticksSkipped).toEqual({ TSLA: 2 });
    expect(result).toMatchObject({ ticks: 12, trades: 10, ticksRejected: 0 });
    expect(result.total.orders).toBe(10);
  });

  it('disables a strategy that throws (counted, once) and keeps every other strategy trading', async () => {
    const thrower = { name: 'thrower', module: fixture('throws-on-trade.mjs') };
    const flooder = { name: 'flooder', module: fixture('floods-orders.mjs') };
    await loadStrategyModules([thrower, flooder]);
    const ticks = parseTickCsv(tradesCsv(400), 'zigzag.csv');
    const result = runBacktest({ config: configOf([thrower, flooder, probe]), ticks });
    expect(result.strategyFaults).toBe(2);
    expect(result.faults).toEqual([
      { strategy: 'flooder', origin: `module ${fixture('floods-orders.mjs')}`, reason: 'StrategyFault: more than 16 orders in one call' },
      { strategy: 'thrower', origin: `module ${fixture('throws-on-trade.mjs')}`, reason: 'Error: deliberate failure on trade 50' },
    ]);
    expect(result.byStrategy.thrower.orders).toBe(49);
    // The flooder's first 16 orders of its one call went through risk before the 17th faulted it.
    expect(result.byStrategy.flooder.orders).toBe(16);
    expect(result.byStrategy.probe.orders).toBe(400);
  });

  describe('onBar strategies', () => {
    const scans = { barIntervalMs: 1000, panelBars: 16, indicators: ['fast'], topSymbols: 2 };
    /** AAPL 100, MSFT 50, NVDA 10, each trading every 100 ms for 3.5 s; NVDA +5 % in bar 1, AAPL +1 % in bar 2. */
    const barsCsv = (): string => {
      const rows = ['exchange_ts_ns,symbol,kind,price,size'];
      for (let ms = 0; ms < 3_500; ms += 100) {
        const t = ms * 1_000_000;
        rows.push(`${t},AAPL,trade,${ms >= 2_000 ? 101 : 100},10`, `${t + 1},MSFT,trade,50,10`, `${t + 2},NVDA,trade,${ms >= 1_000 ? 10.5 : 10},10`);
      }
      return rows.join('\n');
    };

    it('hands each bar close\'s scan to onBar, before the closing trade, and its orders name their symbols', async () => {
      const leader = { name: 'leader', module: fixture('bar-leader.mjs') };
      await loadStrategyModules([leader]);
      const config = configOf([leader], ['AAPL', 'MSFT', 'NVDA'], { scans });
      const ticks = parseTickCsv(barsCsv(), 'bars.csv');
      const result = runBacktest({ config, ticks, keepOrders: true });
      // Bar 0 has no return; bar 1 (closed by the trade at 2 s) ranks NVDA first; bar 2 (closed at 3 s) AAPL.
      expect(result.orderList?.map((o) => [o.symbol, o.side, o.price, o.quantity, o.tickTimeNs])).toEqual([
        ['NVDA', 'buy', 10.5, 1, 2_000_000_000],
        ['AAPL', 'buy', 101, 1, 3_000_000_000],
      ]);
      expect(runBacktest({ config, ticks }).ordersSha256).toBe(result.ordersSha256);
    });

    it('runs the cross-sectional momentum example over many symbols, deterministically', async () => {
      const momentum = { name: 'momentum', module: fileURLToPath(new URL('../../examples/strategies/bar-momentum.ts', import.meta.url)), params: { minZ: 0.5 } };
      await loadStrategyModules([momentum]);
      const symbols = Array.from({ length: 40 }, (_, s) => `S${s}`);
      const config = configOf([momentum], symbols, { scans: { ...scans, indicators: ['fast'] } });
      const rows = ['exchange_ts_ns,symbol,kind,price,size'];
      for (let i = 0; i < 40 * 600; i++) {
        const s = i % 40;
        rows.push(`${i * 5_000_000},S${s},trade,${(50 + s + 5 * Math.sin(i / (40 * (3 + (s % 7))))).toFixed(3)},10`);
      }
      const ticks = parseTickCsv(rows.join('\n'), 'universe.csv');
      const first = runBacktest({ config, ticks, keepOrders: true });
      expect(first.byStrategy.momentum.buys).toBeGreaterThan(5);
      expect(first.byStrategy.momentum.sells).toBeGreaterThan(5);
      expect(first.strategyFaults).toBe(0);
      expect(runBacktest({ config, ticks }).ordersSha256).toBe(first.ordersSha256);
    });

    it('refuses an onBar strategy without scans, and disables one whose onBar order names no symbol', async () => {
      const leader = { name: 'leader', module: fixture('bar-leader.mjs') };
      const unnamed = { name: 'unnamed', module: fixture('bar-unnamed-order.mjs') };
      await loadStrategyModules([leader, unnamed]);
      const ticks = parseTickCsv(barsCsv(), 'bars.csv');
      expect(() => runBacktest({ config: configOf([probe, leader], ['AAPL', 'MSFT', 'NVDA']), ticks })).toThrow(
        'strategies[1]: leader has an onBar handler: configure scans (docs/scans.md) to give it bars',
      );
      const result = runBacktest({ config: configOf([unnamed, leader], ['AAPL', 'MSFT', 'NVDA'], { scans }), ticks });
      expect(result.faults).toEqual([{ strategy: 'unnamed', origin: `module ${fixture('bar-unnamed-order.mjs')}`, reason: 'StrategyFault: an onBar order must name its symbol' }]);
      expect(result.byStrategy.leader.orders).toBe(2);
    });
  });
});
