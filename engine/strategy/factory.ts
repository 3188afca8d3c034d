import { ConfigError } from '../config-error.ts';
import { bollingerBreakout } from './bollinger-breakout.ts';
import { macdCross } from './macd-cross.ts';
import { probe } from './probe.ts';
import { rsiReversion } from './rsi-reversion.ts';
import type { ParamSchema, ParamSpec, ParamValues, StrategyDefinition } from './sdk.ts';
import { loadedStrategyModule } from './strategy-modules.ts';
import { strategyOrigin, strategyTypes, type ConfiguredStrategy, type StrategyType } from './strategy.ts';

/** A strategy as written in the engine config (`strategies[i]`): a built-in `type` or a `module` path. */
export interface StrategySpecInput {
  name: string;
  type?: string;
  module?: string;
  params?: Record<string, unknown>;
  indicators?: string[];
}

/** The built-in strategies, each a definition on the SDK. */
export const builtinStrategies: Readonly<Record<StrategyType, StrategyDefinition>> = {
  macdCross: macdCross as StrategyDefinition,
  rsiReversion: rsiReversion as StrategyDefinition,
  bollingerBreakout: bollingerBreakout as StrategyDefinition,
  probe: probe as StrategyDefinition,
};

const MAX_ORDER_QUANTITY = 1_000_000_000;

/** Every strategy's `orderQuantity`: the size of an order that does not name one. */
const orderQuantitySpec: ParamSpec = { type: 'integer', min: 1, max: MAX_ORDER_QUANTITY, default: 1 };

/**
 * Builds a strategy from its config spec, validating everything a typo could get wrong, and throws ConfigError
 * naming the field: the type (one of `strategyTypes`) or the module (loaded beforehand by `loadStrategyModules`),
 * the params (`orderQuantity`: integer >= 1, default 1, plus the strategy's own, each of its declared type and range,
 * then its own cross-parameter `check`), and the indicators (one per role, each defined in `indicatorTypeByName` and
 * of the role's type, e.g. `strategies[0].indicators[0]: indicator "fast" is of type ema, macdCross needs macd`).
 * Pure: the same spec always yields an equivalent strategy.
 */
export function createStrategy(
  spec: StrategySpecInput,
  indicatorTypeByName: ReadonlyMap<string, string>,
  path: string,
): ConfiguredStrategy {
  if (typeof spec.name !== 'string' || spec.name === '') {
    throw new ConfigError(`${path}.name`, `must be a non-empty string, got ${describe(spec.name)}`);
  }
  const { definition, label, origin } = definitionOf(spec, path);
  const declared = definition.params ?? {};
  const params = readParams(spec.params ?? {}, declared, label, path);
  let problem: ReturnType<NonNullable<StrategyDefinition['check']>>;
  try {
    problem = definition.check?.(params);
  } catch (error) {
    throw new ConfigError(`${path}.params`, `${label}'s check threw: ${(error as Error).message}`);
  }
  if (problem !== undefined) throw new ConfigError(`${path}.params.${problem.param}`, problem.message);
  const roleTypes = Object.entries(definition.indicators ?? {});
  const indicatorNames = checkIndicators(label, roleTypes.map(([, type]) => type), spec.indicators ?? [], indicatorTypeByName, path);
  return {
    name: spec.name,
    origin,
    definition,
    params,
    roles: roleTypes.map(([role]) => role),
    indicatorNames,
    stateSize: definition.state ?? 0,
    sharedSize: definition.shared ?? 0,
  };
}

function definitionOf(spec: StrategySpecInput, path: string): { definition: StrategyDefinition; label: string; origin: string } {
  if (spec.module !== undefined) {
    if (spec.type !== undefined) throw new ConfigError(`${path}.module`, 'a strategy has either a built-in type or a module, not both');
    const module = loadedStrategyModule(spec.module);
    if (module === undefined) throw new ConfigError(`${path}.module`, `module ${describe(spec.module)} is not loaded (the engine loads every configured module at start)`);
    // A sandboxed module gets an instance of its own per configured strategy.
    const definition = module.instantiate?.(`${spec.name} (module ${spec.module})`) ?? module.definition;
    return { definition, label: strategyOrigin(spec), origin: strategyOrigin(spec) };
  }
  if (!(strategyTypes as readonly string[]).includes(spec.type ?? '')) {
    throw new ConfigError(`${path}.type`, `unknown strategy type ${describe(spec.type)} (known: ${strategyTypes.join(', ')}; or give a module)`);
  }
  const type = spec.type as StrategyType;
  return { definition: builtinStrategies[type], label: type, origin: strategyOrigin(spec) };
}

/** The strategy's params: every key declared (or orderQuantity), of its type and range, defaults filled in. */
function readParams(given: Readonly<Record<string, unknown>>, declared: Readonly<Record<string, ParamSpec>>, label: string, path: string): ParamValues<ParamSchema> {
  const specs: Record<string, ParamSpec> = { orderQuantity: orderQuantitySpec, ...declared };
  const known = Object.keys(specs);
  for (const key of Object.keys(given)) {
    if (!known.includes(key)) throw new ConfigError(`${path}.params.${key}`, `unknown parameter for ${label} (known: ${known.join(', ')})`);
  }
  const values: Record<string, number | boolean> = {};
  for (const [key, param] of Object.entries(specs)) values[key] = readParam(given[key], param, `${path}.params.${key}`);
  return Object.freeze(values) as ParamValues<ParamSchema>;
}

function readParam(value: unknown, param: ParamSpec, path: string): number | boolean {
  if (value === undefined) {
    if (param.default === undefined) throw new ConfigError(path, 'is required (it has no default)');
    return param.default;
  }
  if (param.type === 'boolean') {
    if (typeof value !== 'boolean') throw new ConfigError(path, `must be true or false, got ${describe(value)}`);
    return value;
  }
  const min = param.min ?? -Number.MAX_VALUE;
  const max = param.max ?? Number.MAX_VALUE;
  const what = param.type === 'integer' ? 'an integer' : 'a number';
  const range = param.min !== undefined && param.max !== undefined ? ` between ${param.min} and ${param.max}` : param.min !== undefined ? ` >= ${param.min}` : param.max !== undefined ? ` <= ${param.max}` : '';
  const valid = typeof value === 'number' && Number.isFinite(value) && (param.type !== 'integer' || Number.isInteger(value)) && value >= min && value <= max;
  if (!valid) throw new ConfigError(path, `must be ${what}${range}, got ${describe(value)}`);
  return value;
}

function checkIndicators(
  label: string,
  neededTypes: readonly string[],
  names: readonly unknown[],
  indicatorTypeByName: ReadonlyMap<string, string>,
  path: string,
): string[] {
  if (names.length > neededTypes.length) {
    const what = neededTypes.length === 0 ? 'no indicators' : `${neededTypes.length} indicator(s) (${neededTypes.join(', ')})`;
    throw new ConfigError(`${path}.indicators[${neededTypes.length}]`, `${label} takes ${what}, got ${names.length}`);
  }
  if (names.length < neededTypes.length) {
    throw new ConfigError(`${path}.indicators`, `${label} needs ${neededTypes.length} indicator(s) (${neededTypes.join(', ')}), got ${names.length}`);
  }
  return names.map((name, i) => {
    const at = `${path}.indicators[${i}]`;
    if (typeof name !== 'string' || name === '') throw new ConfigError(at, `must be an indicator name, got ${describe(name)}`);
    const actual = indicatorTypeByName.get(name);
    if (actual === undefined) {
      const defined = [...indicatorTypeByName.keys()];
      throw new ConfigError(at, `no indicator named ${describe(name)} (defined: ${defined.length === 0 ? 'none' : defined.join(', ')})`);
    }
    if (actual !== neededTypes[i]) throw new ConfigError(at, `indicator ${describe(name)} is of type ${actual}, ${label} needs ${neededTypes[i]}`);
    return name;
  });
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** The engine config's shape these read, written out: engine/config imports this folder, not the other way round. */
interface BarHandlerConfig {
  readonly strategies: ReadonlyArray<{ readonly name: string; readonly module?: string }>;
  readonly scans?: object;
}

/** Whether a configured strategy (its module loaded) has an onBar handler; no built-in strategy has one. */
function hasBarHandler(spec: { readonly module?: string }): boolean {
  return spec.module !== undefined && loadedStrategyModule(spec.module)?.definition.onBar !== undefined;
}

/** Whether any configured strategy has an onBar handler (a backtest builds bars and scans only then). */
export function anyBarHandlers(config: Pick<BarHandlerConfig, 'strategies'>): boolean {
  return config.strategies.some(hasBarHandler);
}

/**
 * Strategies with an onBar handler need `scans` (their bars, docs/scans.md): throws ConfigError naming the strategy
 * otherwise. (In the workers layout every shard runs its own instance of such a strategy, deciding for the shard's
 * symbols: BarContext.handles.) Reads the loaded modules' definitions (no built-in strategy has onBar) without
 * instantiating anything; call it once the modules are loaded.
 */
export function checkBarHandlers(config: BarHandlerConfig): void {
  config.strategies.forEach((spec, i) => {
    if (!hasBarHandler(spec)) return;
    if (config.scans === undefined) {
      throw new ConfigError(`strategies[${i}]`, `${spec.name} has an onBar handler: configure scans (docs/scans.md) to give it bars`);
    }
  });
}
