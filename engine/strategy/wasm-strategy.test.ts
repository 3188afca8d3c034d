import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { backtestProcess } from '../../test/support/engine-config.ts';
import { runBacktest } from '../backtest/backtest.ts';
import { parseEngineConfig, type EngineConfig } from '../config/engine-config.ts';
import { parseTickCsv } from '../sim/tick-csv.ts';
import { loadStrategyModules, StrategyModuleError } from './strategy-modules.ts';
import type { StrategyDefinition } from './sdk.ts';
import { compileWasmStrategy, maximumPages } from './wasm-strategy.ts';

/**
 * Sandboxed WebAssembly strategies (built by npm run build:wasm, which the test command runs first): the example
 * decides exactly as its TypeScript twin, a module that imports anything is refused, and one that traps, grows its
 * memory without bound or never returns is stopped, named, while every other strategy keeps trading.
 */
const built = (name: string): string => fileURLToPath(new URL(`../../build/wasm/strategies/${name}`, import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'nexus-wasm-strategy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function configOf(strategies: unknown[]): EngineConfig {
  return parseEngineConfig({
    symbols: ['AAPL', 'MSFT'],
    indicators: [{ name: 'fast', type: 'ema', params: { period: 12 } }, { name: 'slow', type: 'ema', params: { period: 26 } }],
    strategies,
    risk: { maxOrderQty: 100, maxPosition: 1_000, maxNotional: 1e9, priceBandBps: 5_000, ordersEnabled: true },
    zeromq: { endpoints: [{ name: 'md', role: 'marketData', address: 'tcp://127.0.0.1:1' }, { name: 'orders', role: 'orders', address: 'tcp://127.0.0.1:2' }] },
    warmupTicks: 0,
  });
}

function tradesCsv(count: number): string {
  const rows = ['exchange_ts_ns,symbol,kind,price,size'];
  for (let i = 0; i < count; i++) rows.push(`${1_000_000 + i * 1000},${i % 2 === 0 ? 'AAPL' : 'MSFT'},trade,${(100 + 4 * Math.sin(i / 37) + (i % 7) / 50).toFixed(4)},10`);
  return rows.join('\n');
}

async function loadError(module: string): Promise<string> {
  try {
    await loadStrategyModules([{ module }]);
  } catch (error) {
    if (error instanceof StrategyModuleError) return error.message;
    throw error;
  }
  throw new Error(`${module} loaded`);
}

const probe = { name: 'probe', type: 'probe' };

/** `bytes` with every occurrence of the ASCII name `from` overwritten by `to` (the same length). */
function renamed(bytes: Uint8Array, from: string, to: string): Uint8Array {
  const copy = Buffer.from(bytes);
  const needle = Buffer.from(from);
  for (let at = copy.indexOf(needle); at >= 0; at = copy.indexOf(needle, at + 1)) Buffer.from(to).copy(copy, at);
  return copy;
}

describe('WebAssembly strategy modules', () => {
  it('decide exactly as the same logic in TypeScript: byte-identical orders over 20,000 trades', async () => {
    const wasm = { name: 'cross', module: built('ema-cross.wasm'), indicators: ['fast', 'slow'], params: { minSpread: 0.01 } };
    const typescript = { ...wasm, module: fileURLToPath(new URL('../../examples/strategies/ema-cross.ts', import.meta.url)) };
    await loadStrategyModules([wasm, typescript]);
    const ticks = parseTickCsv(tradesCsv(20_000), 'wave.csv');
    const sandboxed = runBacktest({ config: configOf([wasm]), ticks });
    const plain = runBacktest({ config: configOf([typescript]), ticks });
    expect(sandboxed.total.orders).toBeGreaterThan(50);
    expect(sandboxed.strategyFaults).toBe(0);
    expect(sandboxed.ordersSha256).toBe(plain.ordersSha256);
  });

  it('decide on bars exactly as the same logic in JavaScript: the scan, positions and state by symbol, orders that name it', async () => {
    const symbols = Array.from({ length: 10 }, (_, s) => `S${s}`);
    const wasm = { name: 'momentum', module: built('fixtures/bar-momentum.wasm'), params: { minZ: 0.3 } };
    const javascript = { ...wasm, module: fileURLToPath(new URL('./fixtures/bar-momentum.mjs', import.meta.url)) };
    await loadStrategyModules([wasm, javascript]);
    const rows = ['exchange_ts_ns,symbol,kind,price,size'];
    // 10 symbols trading every 100 ms for 90 s, each on a wave of its own period: returns, ranks and z-scores move.
    for (let i = 0; i < 10 * 900; i++) {
      const s = i % 10;
      const t = Math.floor(i / 10);
      rows.push(`${1_000_000_000 + t * 100_000_000 + s},S${s},trade,${(50 + 5 * s + 3 * Math.sin(t / (7 + 3 * s)) + (t % (3 + s)) / 40).toFixed(4)},10`);
    }
    const ticks = parseTickCsv(rows.join('\n'), 'universe.csv');
    const configFor = (strategy: unknown): EngineConfig => parseEngineConfig({
      symbols,
      indicators: [{ name: 'fast', type: 'ema', params: { period: 5 } }],
      strategies: [strategy],
      scans: { barIntervalMs: 1000, panelBars: 32, indicators: ['fast'], topSymbols: 2, correlation: { symbols: 2, window: 16 } },
      risk: { maxOrderQty: 100, maxPosition: 1_000, maxNotional: 1e9, priceBandBps: 5_000, ordersEnabled: true },
      zeromq: { endpoints: [{ name: 'md', role: 'marketData', address: 'tcp://127.0.0.1:1' }, { name: 'orders', role: 'orders', address: 'tcp://127.0.0.1:2' }] },
      warmupTicks: 0,
    });
    const sandboxed = runBacktest({ config: configFor(wasm), ticks });
    const plain = runBacktest({ config: configFor(javascript), ticks });
    expect(sandboxed.strategyFaults).toBe(0);
    expect(sandboxed.total.buys).toBeGreaterThan(10);
    expect(sandboxed.total.sells).toBeGreaterThan(10);
    expect(Object.values(sandboxed.bySymbol).filter((book) => book.orders > 0).length).toBeGreaterThan(3);
    expect(sandboxed.total).toEqual(plain.total);
    expect(sandboxed.ordersSha256).toBe(plain.ordersSha256);
  });

  it('refuses an onBar module that does not re-export nexusScan', async () => {
    const bytes = readFileSync(built('fixtures/bar-momentum.wasm'));
    // The export renamed in place (same length): a valid module that exports onBar and no nexusScan.
    expect(() => compileWasmStrategy(renamed(bytes, 'nexusScan', 'nexusScaX'), (value) => value as StrategyDefinition)).toThrow(
      'it exports onBar but not the function nexusScan: re-export it from the SDK (docs/strategy-sdk.md)',
    );
  });

  it('reads the memory maximum from the binary: the SDK builds with 256 pages', () => {
    expect(maximumPages(readFileSync(built('ema-cross.wasm')))).toBe(256);
  });

  it('refuses a module that imports anything, a file that is not WebAssembly, and a missing file, naming each', async () => {
    expect(await loadError(built('fixtures/imports.wasm'))).toContain('it imports env.now: a strategy module may import nothing');
    const text = join(dir, 'not.wasm');
    writeFileSync(text, 'export default {}');
    expect(await loadError(text)).toContain(`strategy module ${text}: not a valid WebAssembly module`);
    expect(await loadError(join(dir, 'missing.wasm'))).toBe(`strategy module ${join(dir, 'missing.wasm')}: no such file`);
  });

  it('disables a module that traps, or whose memory cannot grow, and keeps the other strategies trading', async () => {
    const traps = { name: 'traps', module: built('fixtures/traps.wasm') };
    const grows = { name: 'grows', module: built('fixtures/grows.wasm') };
    await loadStrategyModules([traps, grows]);
    const result = runBacktest({ config: configOf([traps, grows, probe]), ticks: parseTickCsv(tradesCsv(400), 'wave.csv') });
    expect(result.faults.map((fault) => [fault.strategy, fault.reason])).toEqual([
      ['grows', 'RuntimeError: unreachable'],
      ['traps', 'RuntimeError: unreachable'],
    ]);
    expect(result.byStrategy.traps.orders).toBe(49);
    // 256 pages of 64 KiB hold 15 blocks of 1 MiB beside the module's own data: the 16th call traps.
    expect(result.byStrategy.grows.orders).toBe(15);
    expect(result.byStrategy.probe.orders).toBe(400);
  });

  it('stops an engine whose module never returns, naming the strategy and its module', async () => {
    const ended = await backtestProcess([{ name: 'looper', module: built('fixtures/loops.wasm') }, probe], ['AAPL', 'MSFT']);
    expect(ended.signal).toBe('SIGKILL');
    expect(ended.ms).toBeLessThan(15_000);
    expect(ended.stderr).toContain(`Strategy looper (module ${built('fixtures/loops.wasm')}) has not returned for`);
    expect(ended.stderr).toContain('(the limit is 2000 ms): the engine stops so that its pod restarts');
  }, 30_000);
});
