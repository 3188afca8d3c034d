import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../config-error.ts';
import { endpointFor, parseEngineConfig } from './engine-config.ts';
import { loadEngineConfig } from './load.ts';

const minimal = {
  symbols: ['AAPL'],
  zeromq: {
    endpoints: [
      { name: 'md', role: 'marketData', address: 'tcp://gw:5555' },
      { name: 'orders', role: 'orders', address: 'tcp://oms:5556' },
    ],
  },
};

function withOverrides(overrides: Record<string, unknown>): Record<string, unknown> {
  return { ...minimal, ...overrides };
}

describe('parseEngineConfig', () => {
  it('applies every default to a minimal config', () => {
    const config = parseEngineConfig(minimal);
    expect(config.pipeline).toEqual({
      layout: 'inline', workers: 1, ringCapacity: 65536, overflow: 'block', waitStrategy: 'yield', yieldEveryMicros: 2000,
    });
    expect(config.metrics).toEqual({ port: 9100, host: '0.0.0.0', windowSeconds: 30, windowIntervals: 6 });
    expect(config.warmupTicks).toBe(20_000);
    expect(config.shutdown.drainTimeoutMs).toBe(5_000);
    expect(config.faultInjection).toBeUndefined();
    expect('faultInjection' in config).toBe(false);
    expect(config.risk.ordersEnabled).toBe(true);
    expect(config.indicators).toEqual([]);
    expect(config.strategies).toEqual([]);
  });

  it('turns bindPort into a tcp address on the bind host and keeps topics', () => {
    const config = parseEngineConfig(
      withOverrides({
        zeromq: {
          endpoints: [
            { name: 'md', role: 'marketData', address: 'tcp://gw:5555', topics: ['md'] },
            { name: 'orders', role: 'orders', address: 'tcp://oms:5556' },
            { name: 'control', role: 'control', bindPort: 5560 },
          ],
        },
      }),
      '127.0.0.7',
    );
    expect(endpointFor(config, 'control')?.bind).toBe('tcp://127.0.0.7:5560');
    expect(endpointFor(config, 'marketData')).toMatchObject({ connect: 'tcp://gw:5555', topics: ['md'] });
    expect(endpointFor(config, 'signals')).toBeUndefined();
  });

  it('reads a history section and defaults its limits and onError fail; none means a cold start', () => {
    expect(parseEngineConfig(withOverrides({})).history).toBeUndefined();
    expect(parseEngineConfig(withOverrides({ history: { path: '/data/ticks.csv' } })).history).toEqual({
      path: '/data/ticks.csv', maxTradesPerSymbol: 100_000, strategyReplayTrades: 50, onError: 'fail',
    });
    const full = { path: 'h.csv', maxTradesPerSymbol: 2_000, strategyReplayTrades: 2_000, onError: 'coldStart' };
    expect(parseEngineConfig(withOverrides({ history: full })).history).toEqual(full);
  });

  it.each([
    [{ history: {} }, 'history.path: '],
    [{ history: { path: ' ' } }, 'history.path: must name a tick CSV file, got an empty string'],
    [{ history: { path: 'h.csv', maxTradesPerSymbol: 0 } }, 'history.maxTradesPerSymbol: must be an integer between 1 and 10000000, got 0'],
    [{ history: { path: 'h.csv', maxTradesPerSymbol: 10, strategyReplayTrades: 11 } },
      'history.strategyReplayTrades: must be at most maxTradesPerSymbol (10), got 11'],
    [{ history: { path: 'h.csv', onError: 'ignore' } }, 'history.onError: must be one of fail, coldStart, got "ignore"'],
    [{ indicators: [{ name: 'macd', type: 'macd', params: { fastPeriod: 12, slowPeriod: 26, signalPeriod: 9 } }], history: { path: 'h.csv', maxTradesPerSymbol: 20 } },
      'history.maxTradesPerSymbol: must be at least the longest indicator warm-up (34 trades), got 20'],
    [{ history: { path: 'h.csv', bars: 5 } }, 'history.bars: '],
  ])('rejects a bad history section: %j', (overrides, message) => {
    expect(() => parseEngineConfig(withOverrides(overrides))).toThrow(message);
  });

  it('reads a scans section: defaults, every configured indicator unless named, an optional correlation', () => {
    const base = { symbols: ['A', 'B', 'C'], indicators: [{ name: 'ema-5', type: 'ema', params: { period: 5 } }, { name: 'rsi-14', type: 'rsi', params: { period: 14 } }] };
    expect(parseEngineConfig(withOverrides({ ...base, scans: {} })).scans).toEqual({
      barIntervalMs: 1_000, panelBars: 256, indicators: ['ema-5', 'rsi-14'], topSymbols: 10,
    });
    const full = { barIntervalMs: 60_000, panelBars: 100, indicators: ['rsi-14'], correlation: { symbols: 3, window: 99 }, topSymbols: 1 };
    expect(parseEngineConfig(withOverrides({ ...base, scans: full })).scans).toEqual(full);
    expect(parseEngineConfig(withOverrides(base)).scans).toBeUndefined();
  });

  it.each([
    [{ scans: { indicators: ['nope'] } }, 'scans.indicators[0]: must name one of indicators (ema-5), got "nope"'],
    [{ scans: { indicators: ['ema-5', 'ema-5'] } }, 'scans.indicators[1]: names ema-5 again (already scans.indicators[0])'],
    [{ scans: { panelBars: 1 } }, 'scans.panelBars: must be an integer between 2 and 100000, got 1'],
    [{ scans: { correlation: { symbols: 4, window: 10 } } }, 'scans.correlation.symbols: must be an integer between 2 and 3, got 4'],
    [{ scans: { panelBars: 10, correlation: { symbols: 2, window: 10 } } }, 'scans.correlation.window: must be an integer between 2 and 9, got 10'],
    [{ scans: { barIntervalMs: 0 } }, 'scans.barIntervalMs: must be an integer between 1 and 86400000, got 0'],
    [{ scans: { every: 1 } }, 'scans.every: '],
    [{ symbols: Array.from({ length: 4_000 }, (_, i) => `S${i}`), scans: { panelBars: 100_000 } },
      'scans.panelBars: a panel of 4000 symbols x 100000 bars needs 15269 MiB of shared memory, at most 2048 MiB; keep fewer bars'],
  ])('rejects a bad scans section: %j', (overrides, message) => {
    const base = { symbols: ['A', 'B', 'C'], indicators: [{ name: 'ema-5', type: 'ema', params: { period: 5 } }] };
    expect(() => parseEngineConfig(withOverrides({ ...base, ...overrides }))).toThrow(message);
  });

  it('reads a fault injection section and defaults jitter 0, affectedPercent 100 and seed 1', () => {
    const full = { extraLatencyMicros: 400, jitterMicros: 100, affectedPercent: 25, seed: 7 };
    expect(parseEngineConfig(withOverrides({ faultInjection: full })).faultInjection).toEqual(full);
    expect(parseEngineConfig(withOverrides({ faultInjection: { extraLatencyMicros: 300 } })).faultInjection).toEqual({
      extraLatencyMicros: 300, jitterMicros: 0, affectedPercent: 100, seed: 1,
    });
    const edges = { extraLatencyMicros: 0, jitterMicros: 1_000_000, affectedPercent: 0, seed: 0xffff_ffff };
    expect(parseEngineConfig(withOverrides({ faultInjection: edges })).faultInjection).toEqual(edges);
  });

  it.each([
    [{ faultInjection: { extraLatencyMicros: 400, affectedPercent: 150 } },
      'faultInjection.affectedPercent: must be an integer between 0 and 100, got 150'],
    [{ faultInjection: { extraLatencyMicros: 400, affectedPercent: -1 } },
      'faultInjection.affectedPercent: must be an integer between 0 and 100, got -1'],
    [{ faultInjection: { extraLatencyMicros: 400, affectedPercent: 50.5 } },
      'faultInjection.affectedPercent: must be an integer between 0 and 100, got 50.5'],
    [{ faultInjection: { extraLatencyMicros: -1 } }, 'faultInjection.extraLatencyMicros: must be an integer between 0 and 1000000, got -1'],
    [{ faultInjection: { extraLatencyMicros: 1_000_001 } },
      'faultInjection.extraLatencyMicros: must be an integer between 0 and 1000000, got 1000001'],
    [{ faultInjection: { extraLatencyMicros: '400' } }, 'faultInjection.extraLatencyMicros: must be an integer between 0 and 1000000, got "400"'],
    [{ faultInjection: { extraLatencyMicros: 0.5 } }, 'faultInjection.extraLatencyMicros: must be an integer between 0 and 1000000, got 0.5'],
    [{ faultInjection: { jitterMicros: 100 } }, 'faultInjection.extraLatencyMicros: must be an integer between 0 and 1000000, got nothing'],
    [{ faultInjection: { extraLatencyMicros: 400, jitterMicros: -5 } },
      'faultInjection.jitterMicros: must be an integer between 0 and 1000000, got -5'],
    [{ faultInjection: { extraLatencyMicros: 400, jitterMicros: true } },
      'faultInjection.jitterMicros: must be an integer between 0 and 1000000, got true'],
    [{ faultInjection: { extraLatencyMicros: 400, seed: -1 } }, 'faultInjection.seed: must be an integer between 0 and 4294967295, got -1'],
    [{ faultInjection: { extraLatencyMicros: 400, seed: 2 ** 32 } },
      'faultInjection.seed: must be an integer between 0 and 4294967295, got 4294967296'],
    [{ faultInjection: { extraLatencyMicros: 400, seed: 'abc' } }, 'faultInjection.seed: must be an integer between 0 and 4294967295, got "abc"'],
    [{ faultInjection: { extraLatencyMicros: 400, latencyMicros: 1 } }, 'faultInjection.latencyMicros: unknown field (known: extraLatencyMicros, jitterMicros, affectedPercent, seed)'],
    [{ faultInjection: 400 }, 'faultInjection: must be an object, got 400'],
    [{ faultInjection: null }, 'faultInjection: must be an object, got null'],
    [{ faultInjection: [] }, 'faultInjection: must be an object, got []'],
    [{ faults: { extraLatencyMicros: 400 } }, 'faults: unknown field'],
  ])('rejects fault injection %j naming the field', (overrides, message) => {
    expect(() => parseEngineConfig(withOverrides(overrides))).toThrow(ConfigError);
    expect(() => parseEngineConfig(withOverrides(overrides))).toThrow(message);
  });

  it.each([
    [{ symbols: [] }, 'symbols: must list at least one symbol'],
    [{ symbols: ['AAPL', 'AAPL'] }, 'symbols[1]: duplicate symbol AAPL'],
    [{ symbols: ['AA PL'] }, 'symbols[0]: must be 1-32 characters'],
    [{ colour: 'blue' }, 'colour: unknown field'],
    [{ pipeline: { ringCapacity: 1000 } }, 'pipeline.ringCapacity: must be a power of two, got 1000'],
    [{ pipeline: { layout: 'threads' } }, 'pipeline.layout: must be one of inline, workers, got "threads"'],
    [{ pipeline: { workers: 0 } }, 'pipeline.workers: must be an integer between 1 and 64, got 0'],
    [{ metrics: { port: 70000 } }, 'metrics.port: must be an integer between 0 and 65535'],
    [{ risk: { maxOrderQty: -1 } }, 'risk.maxOrderQty'],
    [{ indicators: [{ name: 'x', type: 'sma', params: { period: 0 } }] }, 'indicators[0].params.period'],
    [{ indicators: [{ name: 'x', type: 'kama' }] }, 'indicators[0]'],
    [
      { indicators: [{ name: 'fast', type: 'ema', params: { period: 5 } }], strategies: [{ name: 's', type: 'macdCross', indicators: ['fast'] }] },
      'strategies[0].indicators[0]',
    ],
    [{ strategies: [{ name: 's', type: 'macdCross', indicators: ['missing'] }] }, 'strategies[0].indicators[0]'],
    [{ zeromq: { endpoints: [] } }, 'zeromq.endpoints: needs exactly one marketData endpoint, found 0'],
    [
      { zeromq: { endpoints: [{ role: 'marketData', address: 'tcp://a:1', bindPort: 2 }, { role: 'orders', address: 'tcp://b:1' }] } },
      'zeromq.endpoints[0]: set exactly one of address (connect), bind or bindPort',
    ],
    [
      { zeromq: { endpoints: [{ role: 'marketData', address: 'http://a:1' }, { role: 'orders', address: 'tcp://b:1' }] } },
      'zeromq.endpoints[0].address: must be a ZeroMQ address',
    ],
    [
      { zeromq: { endpoints: [{ role: 'marketData', address: 'tcp://a:1' }, { role: 'orders', address: 'tcp://b:1', topics: ['x'] }] } },
      'zeromq.endpoints[1].topics: only a marketData endpoint subscribes to topics',
    ],
    [
      { zeromq: { endpoints: [{ role: 'marketData', address: 'tcp://a:1' }, { role: 'orders', address: 'tcp://b:1' }, { role: 'control', address: 'tcp://c:1' }] } },
      'zeromq.endpoints[2]: a control endpoint must bind',
    ],
  ])('rejects %j naming the field', (overrides, message) => {
    expect(() => parseEngineConfig(withOverrides(overrides))).toThrow(ConfigError);
    expect(() => parseEngineConfig(withOverrides(overrides))).toThrow(message);
  });
});

describe('loadEngineConfig', () => {
  it('reads YAML from --config before the environment, and inline JSON from the environment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nexus-config-'));
    const path = join(dir, 'engine.yaml');
    writeFileSync(path, 'symbols: [MSFT]\nzeromq:\n  endpoints:\n    - {role: marketData, address: "tcp://a:1"}\n    - {role: orders, address: "tcp://b:1"}\n');
    const fromFile = loadEngineConfig({ configPath: path, env: { NEXUS_ENGINE_CONFIG_INLINE: JSON.stringify(minimal) } });
    expect(fromFile.config.symbols).toEqual(['MSFT']);
    expect(fromFile.origin).toBe(path);
    const fromEnv = loadEngineConfig({ env: { NEXUS_ENGINE_CONFIG_INLINE: JSON.stringify(minimal), NEXUS_BIND_HOST: '127.0.0.9' } });
    expect(fromEnv.config.symbols).toEqual(['AAPL']);
    expect(fromEnv.config.metrics.host).toBe('127.0.0.9');
  });

  it('finds a relative history path under NEXUS_HISTORY_DIR (a mounted volume), else beside the configuration', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nexus-config-'));
    const path = join(dir, 'engine.yaml');
    writeFileSync(path, JSON.stringify({ ...minimal, history: { path: 'day/ticks.csv' } }));
    expect(loadEngineConfig({ configPath: path, env: { NEXUS_HISTORY_DIR: '/var/lib/nexus-history' } }).config.history?.path).toBe('/var/lib/nexus-history/day/ticks.csv');
    expect(loadEngineConfig({ configPath: path, env: {} }).config.history?.path).toBe(join(dir, 'day/ticks.csv'));
    writeFileSync(path, JSON.stringify({ ...minimal, history: { path: '/opt/ticks.csv' } }));
    expect(loadEngineConfig({ configPath: path, env: { NEXUS_HISTORY_DIR: '/var/lib/nexus-history' } }).config.history?.path).toBe('/opt/ticks.csv');
    rmSync(dir, { recursive: true, force: true });
  });

  it('takes the batch backend from the config (default auto), NEXUS_INDICATOR_BACKEND first, and names a bad one', () => {
    const inline = JSON.stringify({ ...minimal, backend: 'wasm' });
    expect(loadEngineConfig({ env: { NEXUS_ENGINE_CONFIG_INLINE: JSON.stringify(minimal) } }).config.backend).toBe('auto');
    expect(loadEngineConfig({ env: { NEXUS_ENGINE_CONFIG_INLINE: inline } }).config.backend).toBe('wasm');
    expect(loadEngineConfig({ env: { NEXUS_ENGINE_CONFIG_INLINE: inline, NEXUS_INDICATOR_BACKEND: 'gpu' } }).config.backend).toBe('gpu');
    expect(() => loadEngineConfig({ env: { NEXUS_ENGINE_CONFIG_INLINE: inline, NEXUS_INDICATOR_BACKEND: 'cuda' } })).toThrow(
      'NEXUS_INDICATOR_BACKEND: must be one of auto, js, wasm, workers, gpu, got "cuda"',
    );
    expect(() => parseEngineConfig({ ...minimal, backend: 'tpu' })).toThrow(/backend/);
  });

  it('names the problem when there is no config, an unreadable file, or broken YAML', () => {
    expect(() => loadEngineConfig({ env: {} })).toThrow('config: no configuration: pass --config PATH or set NEXUS_ENGINE_CONFIG');
    expect(() => loadEngineConfig({ configPath: '/nonexistent/engine.yaml', env: {} })).toThrow('cannot read /nonexistent/engine.yaml');
    expect(() => loadEngineConfig({ env: { NEXUS_ENGINE_CONFIG_INLINE: 'symbols: [a' } })).toThrow('is not valid YAML/JSON');
  });
});
