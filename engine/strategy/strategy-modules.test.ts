import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { backtestProcess } from '../../test/support/engine-config.ts';
import { createStrategy } from './factory.ts';
import { checkDefinition, loadedStrategyModule, loadStrategyModules, StrategyModuleError } from './strategy-modules.ts';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const example = (name: string): string => fileURLToPath(new URL(`../../examples/strategies/${name}`, import.meta.url));

async function loadError(module: string): Promise<StrategyModuleError> {
  try {
    await loadStrategyModules([{ module }]);
  } catch (error) {
    if (error instanceof StrategyModuleError) return error;
    throw error;
  }
  throw new Error(`${module} loaded`);
}

describe('strategy modules', () => {
  it('loads a TypeScript module by path, once, and builds it with its params and roles validated', async () => {
    const path = example('ema-cross.ts');
    await loadStrategyModules([{ module: path }, { module: path }]);
    const definition = loadedStrategyModule(path);
    expect(definition?.definition.indicators).toEqual({ fast: 'ema', slow: 'ema' });
    const indicators = new Map([['e12', 'ema'], ['e26', 'ema'], ['r', 'rsi']]);
    const strategy = createStrategy({ name: 'x', module: path, indicators: ['e12', 'e26'], params: { minSpread: 0.01 } }, indicators, 'strategies[0]');
    expect(strategy).toMatchObject({ origin: `module ${path}`, roles: ['fast', 'slow'], stateSize: 2, params: { orderQuantity: 1, minSpread: 0.01 } });
    expect(() => createStrategy({ name: 'x', module: path, indicators: ['e12', 'r'] }, indicators, 'strategies[0]'))
      .toThrow(`strategies[0].indicators[1]: indicator "r" is of type rsi, module ${path} needs ema`);
    expect(() => createStrategy({ name: 'x', module: path, indicators: ['e12', 'e26'], params: { minSpread: -1 } }, indicators, 'strategies[0]'))
      .toThrow('strategies[0].params.minSpread: must be a number >= 0, got -1');
    expect(() => createStrategy({ name: 'x', module: path, indicators: ['e12', 'e26'], params: { window: 3 } }, indicators, 'strategies[0]'))
      .toThrow('strategies[0].params.window: unknown parameter for module');
  });

  it('runs a module\'s own cross-parameter check and names the parameter', async () => {
    const path = example('pairs-spread.ts');
    await loadStrategyModules([{ module: path }]);
    const indicators = new Map([['bands', 'bbands']]);
    expect(() => createStrategy({ name: 'p', module: path, indicators: ['bands'], params: { leg: 1, hedge: 1 } }, indicators, 'strategies[2]'))
      .toThrow('strategies[2].params.hedge: must differ from leg (1)');
  });

  it.each([
    ['missing.mjs', 'no such file'],
    ['no-default.mjs', 'its default export must be a strategy definition (export default defineStrategy({...})), got no default export'],
    ['no-handler.mjs', 'its definition has no onTrade handler'],
    ['bad-param.mjs', 'param "window" min 10 is above max 5'],
    ['syntax-error.mjs', 'cannot be loaded:'],
  ])('refuses %s, naming the module and the reason', async (name, reason) => {
    const error = await loadError(fixture(name));
    expect(error.message).toContain(`strategy module ${fixture(name)}: ${reason}`);
    expect(loadedStrategyModule(fixture(name))).toBeUndefined();
  });

  it('checks a definition\'s shape field by field', () => {
    const check = (value: unknown) => () => checkDefinition(value, 'm.mjs');
    expect(check({ onTrade: () => undefined, onTick: () => undefined })).toThrow('unknown field "onTick" in its definition');
    expect(check({ onTrade: () => undefined, onBar: 'rebalance' })).toThrow('onBar must be a function');
    expect(check({ onTrade: () => undefined, onBar: () => undefined })()).toMatchObject({ onBar: expect.any(Function) });
    expect(check({ onTrade: () => undefined, state: 1.5 })).toThrow('state must be an integer between 0 and 4096, got 1.5');
    expect(check({ onTrade: () => undefined, indicators: { fast: 'kama' } })).toThrow('indicator role "fast" has type "kama"');
    expect(check({ onTrade: () => undefined, params: { orderQuantity: { type: 'integer' } } })).toThrow('param "orderQuantity" is every strategy\'s own');
    expect(check({ onTrade: () => undefined, params: { size: { type: 'integer', min: 1, default: 0 } } })).toThrow('param "size" default 0 is outside its range');
    expect(check({ onTrade: () => undefined, params: { on: { type: 'string' } } })).toThrow('param "on" type must be number, integer or boolean, got "string"');
  });

  it('stops an engine whose TypeScript/JavaScript module never returns, naming the strategy and its module', async () => {
    const ended = await backtestProcess([{ name: 'spinner', module: fixture('loops.mjs') }, { name: 'probe', type: 'probe' }]);
    expect(ended.signal).toBe('SIGKILL');
    expect(ended.ms).toBeLessThan(15_000);
    expect(ended.stderr).toContain(`Strategy spinner (module ${fixture('loops.mjs')}) has not returned for`);
  }, 30_000);

  it('disables a TypeScript/JavaScript module that keeps what it allocates, naming it, while the others trade to the end', async () => {
    // The hoarder by a symlink, as a ConfigMap mounts a module (its keys are symlinks into ..data/): Node runs the
    // file the link points at, and the guard must still know it.
    const links = mkdtempSync(join(tmpdir(), 'nexus-module-link-'));
    const hoarder = join(links, 'strategy-hoards.mjs');
    symlinkSync(fixture('hoards.mjs'), hoarder);
    // 60,000 trades x 8 KiB kept is ~480 MiB: past a 256 MiB heap, the engine would die of it without the guard. A
    // replay runs flat out (about 400 MB/s of hoarding here), far faster than a live leak.
    const ended = await backtestProcess(
      [{ name: 'hoarder', module: hoarder }, { name: 'churner', module: fixture('churns.mjs') }, { name: 'probe', type: 'probe' }],
      ['AAPL', 'MSFT'],
      { trades: 60_000, args: ['--json'], env: { ...process.env, NODE_OPTIONS: '--max-old-space-size=256' } },
    ).finally(() => rmSync(links, { recursive: true, force: true }));
    expect(ended.stderr).not.toContain('heap out of memory');
    expect(ended.code).toBe(0);
    const result = JSON.parse(ended.stdout) as { faults: Array<{ strategy: string; reason: string }>; byStrategy: Record<string, { orders: number }> };
    expect(result.faults.map((fault) => fault.strategy)).toEqual(['hoarder']);
    expect(result.faults[0].reason).toMatch(
      new RegExp(`^heap: module ${hoarder.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} kept [\\d.]+ MiB alive in \\d+ ms \\(of [\\d.]+ MiB kept by the engine\\), and the heap grew by [\\d.]+ MiB after a full collection since the window before, while the engine's heap was at \\d+ of \\d+ MiB`),
    );
    // Garbage is not growth: the module that only churns trades on, and so does the built-in, on every trade.
    expect(result.byStrategy.churner.orders).toBe(60);
    expect(result.byStrategy.probe.orders).toBe(60_000);
  }, 30_000);
});
