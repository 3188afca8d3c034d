import { ConfigError } from '../config-error.ts';
import { BollingerBreakoutStrategy } from './bollinger-breakout.ts';
import { MacdCrossStrategy } from './macd-cross.ts';
import { ProbeStrategy } from './probe.ts';
import { defaultRsiReversionParams, RsiReversionStrategy } from './rsi-reversion.ts';
import { strategyTypes, type Strategy, type StrategyType } from './strategy.ts';

/** A strategy as written in the engine config (`strategies[i]`). */
export interface StrategySpecInput {
  name: string;
  type: string;
  params?: Record<string, unknown>;
  indicators?: string[];
}

export interface CreatedStrategy {
  readonly strategy: Strategy;
  /** The indicator names the strategy reads, in the order `evaluate` receives their readers. */
  readonly indicatorNames: string[];
}

/** What each strategy type needs: the indicator types it reads (in order) and its type-specific params. */
const requirements: Readonly<Record<StrategyType, { readonly indicators: readonly string[]; readonly params: readonly string[] }>> = {
  macdCross: { indicators: ['macd'], params: [] },
  rsiReversion: { indicators: ['rsi'], params: ['oversold', 'overbought'] },
  bollingerBreakout: { indicators: ['bbands'], params: [] },
  probe: { indicators: [], params: [] },
};

const MAX_ORDER_QUANTITY = 1_000_000_000;

/**
 * Builds a strategy from its config spec, validating everything a typo could get wrong, and throws ConfigError
 * naming the field: the type (one of `strategyTypes`), the params (`orderQuantity`: integer >= 1, default 1,
 * plus the type's own), and the indicators (each name defined in `indicatorTypeByName` and of the type the
 * strategy needs, e.g. `strategies[0].indicators[0]: indicator "fast" is of type ema, macdCross needs macd`).
 * Pure: the same spec always yields an equivalent strategy.
 */
export function createStrategy(
  spec: StrategySpecInput,
  indicatorTypeByName: ReadonlyMap<string, string>,
  path: string,
): CreatedStrategy {
  if (typeof spec.name !== 'string' || spec.name === '') {
    throw new ConfigError(`${path}.name`, `must be a non-empty string, got ${describe(spec.name)}`);
  }
  if (!(strategyTypes as readonly string[]).includes(spec.type)) {
    throw new ConfigError(`${path}.type`, `unknown strategy type ${describe(spec.type)} (known: ${strategyTypes.join(', ')})`);
  }
  const type = spec.type as StrategyType;
  const needs = requirements[type];
  const params = spec.params ?? {};
  const known = ['orderQuantity', ...needs.params];
  for (const key of Object.keys(params)) {
    if (!known.includes(key)) {
      throw new ConfigError(`${path}.params.${key}`, `unknown parameter for ${type} (known: ${known.join(', ')})`);
    }
  }
  const orderQuantity = readOrderQuantity(params.orderQuantity, `${path}.params.orderQuantity`);
  const indicatorNames = checkIndicators(type, needs.indicators, spec.indicators ?? [], indicatorTypeByName, path);

  let strategy: Strategy;
  switch (type) {
    case 'macdCross':
      strategy = new MacdCrossStrategy(spec.name, orderQuantity);
      break;
    case 'rsiReversion': {
      const oversold = readLevel(params.oversold, defaultRsiReversionParams.oversold, `${path}.params.oversold`);
      const overbought = readLevel(params.overbought, defaultRsiReversionParams.overbought, `${path}.params.overbought`);
      if (!(oversold < overbought)) {
        throw new ConfigError(`${path}.params.oversold`, `must be below overbought (${overbought}), got ${oversold}`);
      }
      strategy = new RsiReversionStrategy(spec.name, orderQuantity, { oversold, overbought });
      break;
    }
    case 'bollingerBreakout':
      strategy = new BollingerBreakoutStrategy(spec.name, orderQuantity);
      break;
    case 'probe':
      strategy = new ProbeStrategy(spec.name, orderQuantity);
      break;
  }
  return { strategy, indicatorNames };
}

function checkIndicators(
  type: StrategyType,
  neededTypes: readonly string[],
  names: readonly unknown[],
  indicatorTypeByName: ReadonlyMap<string, string>,
  path: string,
): string[] {
  if (names.length > neededTypes.length) {
    const what = neededTypes.length === 0 ? 'no indicators' : `${neededTypes.length} indicator(s) (${neededTypes.join(', ')})`;
    throw new ConfigError(`${path}.indicators[${neededTypes.length}]`, `${type} takes ${what}, got ${names.length}`);
  }
  if (names.length < neededTypes.length) {
    throw new ConfigError(
      `${path}.indicators`,
      `${type} needs ${neededTypes.length} indicator(s) (${neededTypes.join(', ')}), got ${names.length}`,
    );
  }
  return names.map((name, i) => {
    const at = `${path}.indicators[${i}]`;
    if (typeof name !== 'string' || name === '') throw new ConfigError(at, `must be an indicator name, got ${describe(name)}`);
    const actual = indicatorTypeByName.get(name);
    if (actual === undefined) {
      const defined = [...indicatorTypeByName.keys()];
      throw new ConfigError(at, `no indicator named ${describe(name)} (defined: ${defined.length === 0 ? 'none' : defined.join(', ')})`);
    }
    if (actual !== neededTypes[i]) {
      throw new ConfigError(at, `indicator ${describe(name)} is of type ${actual}, ${type} needs ${neededTypes[i]}`);
    }
    return name;
  });
}

function readOrderQuantity(value: unknown, path: string): number {
  if (value === undefined) return 1;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_ORDER_QUANTITY) {
    throw new ConfigError(path, `must be an integer between 1 and ${MAX_ORDER_QUANTITY}, got ${describe(value)}`);
  }
  return value;
}

/** An RSI level: a number strictly between 0 and 100. */
function readLevel(value: unknown, fallback: number, path: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0 && value < 100)) {
    throw new ConfigError(path, `must be a number between 0 and 100 (exclusive), got ${describe(value)}`);
  }
  return value;
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
