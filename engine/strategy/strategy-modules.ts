import { readFileSync } from 'node:fs';
import { register } from 'node:module';
import { extname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { indicatorTypes } from '../indicators/registry.ts';
import type { StrategyDefinition } from './sdk.ts';
import { compileWasmStrategy } from './wasm-strategy.ts';

/**
 * Strategy modules, by path (docs/strategy-sdk.md):
 *
 *   .js .mjs .ts   an ES module (TypeScript is compiled by the engine's loader) whose default export is a strategy
 *                  definition written on the SDK: code in the user's image, trusted like the engine itself
 *   .wasm          a sandboxed WebAssembly module on the AssemblyScript SDK (wasm-strategy.ts): no imports, bounded
 *                  memory, a per-call time budget, a watchdog; each configured strategy gets its own instance
 *
 * The engine loads every configured module once per thread before it builds its pipeline (`loadStrategyModules`);
 * `createStrategy` then finds them here by their configured path.
 *
 * A module that cannot be loaded or whose export is not a definition is a StrategyModuleError naming the module
 * and the reason; the engine exits 2 with it (a load-time error never starts a half-configured engine).
 */
/** A loaded module: its declarations, and for a sandboxed one a definition per configured strategy. */
export interface LoadedStrategyModule {
  readonly definition: StrategyDefinition;
  readonly instantiate?: (label: string) => StrategyDefinition;
}

const loaded = new Map<string, LoadedStrategyModule>();

/** The most numbers of memory a strategy may ask for, per symbol and shared. */
export const MAX_STRATEGY_STATE = 4096;

export class StrategyModuleError extends Error {
  constructor(readonly module: string, reason: string) {
    super(`strategy module ${module}: ${reason}`);
    this.name = 'StrategyModuleError';
  }
}

/** The module loaded for `module` (its configured path), or undefined when it was not loaded. */
export function loadedStrategyModule(module: string): LoadedStrategyModule | undefined {
  return loaded.get(module);
}

/** Loads every module the strategies name (each once; already loaded ones are kept). Throws StrategyModuleError. */
export async function loadStrategyModules(strategies: ReadonlyArray<{ readonly module?: string }>): Promise<void> {
  for (const module of new Set(strategies.flatMap((strategy) => (strategy.module === undefined ? [] : [strategy.module])))) {
    if (loaded.has(module)) continue;
    if (module.endsWith('.wasm')) {
      loaded.set(module, loadWasmModule(module));
      continue;
    }
    let namespace: Record<string, unknown>;
    try {
      namespace = await importModule(module);
    } catch (error) {
      const code = (error as { code?: string }).code;
      throw new StrategyModuleError(module, code === 'ERR_MODULE_NOT_FOUND' && String((error as Error).message).includes(resolve(module))
        ? 'no such file'
        : `cannot be loaded: ${(error as Error).message.split('\n')[0]}`);
    }
    loaded.set(module, { definition: checkDefinition(namespace.default, module) });
  }
}

/**
 * Imports an ES module by path. TypeScript goes through tsx (a runtime dependency), so a `.ts` module loads in the
 * engine image too, whose entry point is compiled JavaScript without a TypeScript loader.
 */
async function importModule(module: string): Promise<Record<string, unknown>> {
  resolveSdkAnywhere();
  const url = pathToFileURL(resolve(module)).href;
  if (!/\.[cm]?ts$/.test(module)) return (await import(url)) as Record<string, unknown>;
  const { tsImport } = await import('tsx/esm/api');
  return (await tsImport(url, import.meta.url)) as Record<string, unknown>;
}

let sdkResolved = false;

/**
 * Makes `nexus-trading/strategy` (and `/testing`) resolve to this engine's own SDK from a module anywhere, not only
 * inside the package (a ConfigMap's module is mounted beside the configuration, an image may keep modules in
 * /strategies): a resolve hook (node:module register). ES modules only (`.mts`, `.mjs`, or `.ts`/`.js` in a
 * package of type module); a module Node treats as CommonJS resolves through require, which the hook does not see.
 * Where hooks cannot be registered, modules inside the package still resolve the SDK by the package's exports.
 */
function resolveSdkAnywhere(): void {
  if (sdkResolved) return;
  sdkResolved = true;
  const extension = extname(fileURLToPath(import.meta.url));
  const targets = {
    'nexus-trading/strategy': new URL(`./sdk${extension}`, import.meta.url).href,
    'nexus-trading/strategy/testing': new URL(`../backtest/strategy-testing${extension}`, import.meta.url).href,
  };
  const hook = `const targets = ${JSON.stringify(targets)};
export async function resolve(specifier, context, next) {
  const url = targets[specifier];
  return url === undefined ? next(specifier, context) : { url, shortCircuit: true };
}`;
  try {
    register(`data:text/javascript,${encodeURIComponent(hook)}`);
  } catch {
    // No hooks here (an old runtime): the package's own exports still serve modules inside it.
  }
}

function loadWasmModule(module: string): LoadedStrategyModule {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(resolve(module));
  } catch (error) {
    throw new StrategyModuleError(module, (error as { code?: string }).code === 'ENOENT' ? 'no such file' : `cannot be read: ${(error as Error).message}`);
  }
  try {
    const strategy = compileWasmStrategy(bytes, (value) => checkDefinition(value, module));
    return { definition: strategy.declarations, instantiate: strategy.instantiate };
  } catch (error) {
    if (error instanceof StrategyModuleError) throw error;
    throw new StrategyModuleError(module, (error as Error).message);
  }
}

/** Registers a definition under a name without a file (tests, the backtest of an in-process strategy). */
export function registerStrategyModule(module: string, definition: unknown): void {
  loaded.set(module, { definition: checkDefinition(definition, module) });
}

/** The module's default export as a strategy definition, or a StrategyModuleError saying what is wrong with it. */
export function checkDefinition(value: unknown, module: string): StrategyDefinition {
  const fail = (reason: string): never => {
    throw new StrategyModuleError(module, reason);
  };
  if (typeof value !== 'object' || value === null) return fail('its default export must be a strategy definition (export default defineStrategy({...})), got ' + (value === undefined ? 'no default export' : typeof value));
  const definition = value as Record<string, unknown>;
  const known = ['description', 'params', 'indicators', 'state', 'shared', 'check', 'setup', 'onTrade', 'onQuote', 'onBar'];
  for (const key of Object.keys(definition)) if (!known.includes(key)) fail(`unknown field ${JSON.stringify(key)} in its definition (known: ${known.join(', ')})`);
  if (typeof definition.onTrade !== 'function') fail('its definition has no onTrade handler');
  for (const key of ['onQuote', 'onBar', 'setup', 'check']) if (definition[key] !== undefined && typeof definition[key] !== 'function') fail(`${key} must be a function`);
  for (const key of ['state', 'shared']) {
    const size = definition[key];
    if (size !== undefined && !(typeof size === 'number' && Number.isInteger(size) && size >= 0 && size <= MAX_STRATEGY_STATE)) fail(`${key} must be an integer between 0 and ${MAX_STRATEGY_STATE}, got ${String(size)}`);
  }
  const indicators = definition.indicators ?? {};
  if (typeof indicators !== 'object' || indicators === null) fail('indicators must map roles to indicator types');
  for (const [role, type] of Object.entries(indicators as Record<string, unknown>)) {
    if (!(indicatorTypes as readonly unknown[]).includes(type)) fail(`indicator role ${JSON.stringify(role)} has type ${JSON.stringify(type)} (known: ${indicatorTypes.join(', ')})`);
  }
  const params = definition.params ?? {};
  if (typeof params !== 'object' || params === null) fail('params must map names to parameter declarations');
  for (const [name, spec] of Object.entries(params as Record<string, unknown>)) checkParam(name, spec, fail);
  return definition as unknown as StrategyDefinition;
}

function checkParam(name: string, value: unknown, fail: (reason: string) => never): void {
  const where = `param ${JSON.stringify(name)}`;
  if (name === 'orderQuantity') fail(`${where} is every strategy's own (the default order size): do not declare it`);
  if (typeof value !== 'object' || value === null) fail(`${where} must be a declaration like { type: 'number', default: 1 }`);
  const spec = value as Record<string, unknown>;
  if (spec.type === 'boolean') {
    if (spec.default !== undefined && typeof spec.default !== 'boolean') fail(`${where} default must be true or false`);
    return;
  }
  if (spec.type !== 'number' && spec.type !== 'integer') fail(`${where} type must be number, integer or boolean, got ${JSON.stringify(spec.type)}`);
  for (const key of ['default', 'min', 'max']) {
    const bound = spec[key];
    if (bound !== undefined && !(typeof bound === 'number' && Number.isFinite(bound))) fail(`${where} ${key} must be a finite number`);
  }
  const { min, max } = spec as { min?: number; max?: number; default?: number };
  const fallback = spec.default as number | undefined;
  if (min !== undefined && max !== undefined && min > max) fail(`${where} min ${min} is above max ${max}`);
  if (fallback !== undefined && ((min !== undefined && fallback < min) || (max !== undefined && fallback > max))) fail(`${where} default ${fallback} is outside its range`);
  if (spec.type === 'integer' && fallback !== undefined && !Number.isInteger(fallback)) fail(`${where} is an integer, its default ${fallback} is not`);
}
