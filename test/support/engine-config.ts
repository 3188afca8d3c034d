import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnNexus, waitForExit } from '../../cli/lib/processes.ts';
import { parseEngineConfig, type EngineConfig } from '../../engine/config/engine-config.ts';
import { standardIndicators } from '../../engine/config/presets.ts';

/**
 * A small valid engine config for tests and benchmarks: `probe` signals on every trade so every tick is measured,
 * risk limits loose enough that probe orders pass. Override any top-level field.
 */
export function probeConfig(overrides: Record<string, unknown> = {}): EngineConfig {
  return parseEngineConfig({
    symbols: ['AAPL', 'MSFT', 'NVDA', 'AMZN'],
    indicators: standardIndicators,
    strategies: [{ name: 'probe', type: 'probe', params: { orderQuantity: 1 } }],
    risk: { maxOrderQty: 1000, maxPosition: 1_000_000, maxNotional: 1e12, priceBandBps: 5_000, ordersEnabled: true },
    zeromq: {
      endpoints: [
        { name: 'md', role: 'marketData', address: 'tcp://127.0.0.1:1' },
        { name: 'orders', role: 'orders', address: 'tcp://127.0.0.1:2' },
      ],
    },
    warmupTicks: 0,
    ...overrides,
  });
}

/** The loopback ports of one engine process under test; `signals` only when the test listens to signals. */
export interface EnginePorts {
  readonly feed: number;
  readonly orders: number;
  readonly control: number;
  readonly metrics: number;
  readonly signals?: number;
}

/**
 * The config document (what `nexus engine --config` reads) of a probe engine on loopback: it connects to the test's
 * feed (PUB) and order gateway (PULL), binds its control socket, metrics and (with a signals port) its signal PUB.
 * One fast indicator, probe orders on every trade, tight risk limits. Override any top-level field.
 */
export function loopbackEngineDocument(symbols: readonly string[], ports: EnginePorts, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    symbols,
    indicators: [{ name: 'ema-5', type: 'ema', params: { period: 5 } }],
    strategies: [{ name: 'probe', type: 'probe', params: { orderQuantity: 1 } }],
    risk: { maxOrderQty: 10, maxPosition: 100, maxNotional: 1_000_000, priceBandBps: 1000, ordersEnabled: true },
    zeromq: {
      endpoints: [
        { name: 'md', role: 'marketData', address: `tcp://127.0.0.1:${ports.feed}` },
        { name: 'orders', role: 'orders', address: `tcp://127.0.0.1:${ports.orders}` },
        ...(ports.signals === undefined ? [] : [{ name: 'signals', role: 'signals', bind: `tcp://127.0.0.1:${ports.signals}` }]),
        { name: 'control', role: 'control', bind: `tcp://127.0.0.1:${ports.control}` },
      ],
    },
    metrics: { port: ports.metrics, host: '127.0.0.1' },
    ...overrides,
  };
}

/** What `backtestProcess` may change: how many trades (100), extra arguments (`--json`), the process environment. */
export interface BacktestProcessOptions {
  readonly trades?: number;
  readonly args?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Runs `nexus backtest` as a real process with `strategies` over 100 trades (or `options.trades`), the symbols
 * taking turns, and returns how it ended: its exit code or signal, its output and how long it ran. For watchdog
 * tests: a strategy that never returns must get the process killed (SIGKILL) with the strategy named.
 */
export async function backtestProcess(
  strategies: readonly unknown[],
  symbols: readonly string[] = ['AAPL'],
  options: BacktestProcessOptions = {},
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; ms: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'nexus-backtest-process-'));
  try {
    const trades = options.trades ?? 100;
    const rows = ['exchange_ts_ns,symbol,kind,price,size', ...Array.from({ length: trades }, (_, i) => `${1000 + i},${symbols[i % symbols.length]},trade,${100 + (i % 5)},1`)];
    writeFileSync(join(dir, 'ticks.csv'), rows.join('\n'));
    writeFileSync(join(dir, 'engine.json'), JSON.stringify({
      symbols,
      strategies,
      zeromq: { endpoints: [{ name: 'md', role: 'marketData', address: 'tcp://127.0.0.1:1' }, { name: 'orders', role: 'orders', address: 'tcp://127.0.0.1:2' }] },
    }));
    const child = spawnNexus(['backtest', '--config', join(dir, 'engine.json'), '--ticks', join(dir, 'ticks.csv'), ...(options.args ?? [])], options.env);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const closed = new Promise((resolve) => child.once('close', resolve)); // its output read to the end
    const started = Date.now();
    await waitForExit(child, 20_000);
    await closed;
    return { code: child.exitCode, signal: child.signalCode, stdout, stderr, ms: Date.now() - started };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
