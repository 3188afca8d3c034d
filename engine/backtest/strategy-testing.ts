import { fileURLToPath } from 'node:url';
import { runBacktest, type BacktestResult } from './backtest.ts';
import { parseEngineConfig } from '../config/engine-config.ts';
import { GeneratedTick } from '../sim/random-walk.ts';
import { defaultRegimeWalk, RegimeWalk } from '../sim/regime-walk.ts';
import type { TickTable } from '../sim/tick-csv.ts';
import { TickKind } from '../wire/layout.ts';
import { loadStrategyModules } from '../strategy/strategy-modules.ts';

/**
 * Testing a strategy module (`nexus-trading/strategy/testing`; docs/strategy-sdk.md): run it through the engine's
 * own pipeline over ticks, with nothing but the module, the indicators it reads and its params, and look at what it
 * did. What `nexus strategy init` scaffolds a test with.
 *
 *     const result = await backtestStrategy({
 *       module: new URL('./my-strategy.ts', import.meta.url),
 *       indicators: [{ name: 'fast', type: 'ema', params: { period: 12 } }, ...],
 *       bind: ['fast', 'slow'],
 *       ticks: syntheticTicks({ symbols: ['AAPL', 'MSFT'], trades: 20_000 }),
 *     });
 *     assert.ok(result.total.orders > 0);
 */
export interface StrategyTest {
  /** The module: a path or a file URL. */
  readonly module: string | URL;
  /** The indicators to configure, as in the engine configuration. */
  readonly indicators?: ReadonlyArray<{ readonly name: string; readonly type: string; readonly params?: Readonly<Record<string, number>> }>;
  /** The configured indicators bound to the strategy's roles, in role order. */
  readonly bind?: readonly string[];
  readonly params?: Readonly<Record<string, number | boolean>>;
  readonly ticks: TickTable;
  /** Risk limits (defaults: generous enough that risk denies nothing in a test). */
  readonly risk?: Readonly<Record<string, number | boolean>>;
}

export type { BacktestResult, TickTable };

/** Backtests one strategy module over `ticks`; keeps every order (`orderList`). */
export async function backtestStrategy(test: StrategyTest): Promise<BacktestResult> {
  const module = typeof test.module === 'string' ? test.module : fileURLToPath(test.module);
  const strategy = { name: 'strategy', module, indicators: [...(test.bind ?? [])], params: { ...(test.params ?? {}) } };
  await loadStrategyModules([strategy]);
  const config = parseEngineConfig({
    symbols: test.ticks.symbols,
    indicators: test.indicators ?? [],
    strategies: [strategy],
    risk: { maxOrderQty: 1_000_000, maxPosition: 1_000_000_000, maxNotional: 1e15, priceBandBps: 9_999, ordersEnabled: true, ...(test.risk ?? {}) },
    zeromq: { endpoints: [{ name: 'md', role: 'marketData', address: 'tcp://127.0.0.1:1' }, { name: 'orders', role: 'orders', address: 'tcp://127.0.0.1:2' }] },
    warmupTicks: 0,
  });
  return runBacktest({ config, ticks: test.ticks, keepOrders: true });
}

/**
 * Deterministic trades for tests: per symbol the regime path `nexus feed --path regime` publishes (smooth trends
 * that turn every 200 to 600 trades of a symbol here), `trades` of them in all, round-robin over the symbols, a
 * millisecond apart.
 */
export function syntheticTicks(options: { readonly symbols: readonly string[]; readonly trades: number; readonly seed?: number; readonly startPrice?: number }): TickTable {
  const count = options.trades;
  const walk = new RegimeWalk({
    symbolCount: options.symbols.length, seed: options.seed ?? 1, tradeRatio: 1, startPrice: options.startPrice ?? 100,
    // About 400 trades per symbol per regime, so a test of a few thousand trades sees trends turn.
    ticksPerSecond: 400 * options.symbols.length, regimeSeconds: 1, levelSpread: defaultRegimeWalk.levelSpread,
  });
  const tick = new GeneratedTick();
  const table = {
    symbols: [...options.symbols], count,
    symbolIndex: new Int32Array(count), kind: new Uint8Array(count).fill(TickKind.Trade),
    price: new Float64Array(count), size: new Float64Array(count), exchangeTsNs: new Float64Array(count),
  };
  for (let i = 0; i < count; i++) {
    walk.next(tick);
    table.symbolIndex[i] = tick.symbolIndex;
    table.price[i] = tick.price;
    table.size[i] = tick.size;
    table.exchangeTsNs[i] = 1_700_000_000_000_000_000 + i * 1_000_000;
  }
  return table;
}
