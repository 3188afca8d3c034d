import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseEngineConfig, type EngineConfig } from '../config/engine-config.ts';
import { parseTickCsv } from '../sim/tick-csv.ts';
import { loadStrategyModules } from '../strategy/strategy-modules.ts';
import { runBacktest } from './backtest.ts';

const fixture = (name: string): string => fileURLToPath(new URL(`../strategy/fixtures/${name}`, import.meta.url));

function configOf(strategies: unknown[], symbols = ['AAPL', 'MSFT']): EngineConfig {
  return parseEngineConfig({
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
});
