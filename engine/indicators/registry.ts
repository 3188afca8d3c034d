import { ConfigError } from '../config-error.ts';
import { Atr } from './atr.ts';
import { BollingerBands } from './bbands.ts';
import { Ema } from './ema.ts';
import { MAX_PERIOD, type IndicatorType, type StreamingIndicator } from './indicator.ts';
import { Macd } from './macd.ts';
import { Rsi } from './rsi.ts';
import { Sma } from './sma.ts';
import { Stochastic } from './stoch.ts';
import { Vwap } from './vwap.ts';

/**
 * The factory that turns configuration into streaming indicators: `createIndicator` validates a
 * `{ type, params }` object and throws a ConfigError naming the exact field (`strategies[0].indicators[1]
 * .params.period: must be an integer >= 1, got 0`); `parseIndicatorShorthand` reads the `macd:12:26:9` form.
 * Validation is complete before anything is constructed: unknown types, unknown params, missing params and
 * out-of-range values are all rejected, never defaulted.
 */
export const indicatorTypes: readonly IndicatorType[] = Object.freeze([
  'sma',
  'ema',
  'rsi',
  'macd',
  'bbands',
  'atr',
  'vwap',
  'stoch',
]);

/** A validated indicator spec: known type, every parameter present (defaults filled in) and in range. */
export interface ValidIndicatorSpec {
  readonly type: IndicatorType;
  readonly params: Readonly<Record<string, number>>;
}

interface ParamSchema {
  readonly name: string;
  /** 'period': integer in [1, MAX_PERIOD]; 'multiplier': finite number > 0. */
  readonly kind: 'period' | 'multiplier';
  readonly fallback?: number;
}

const period = (name: string, fallback?: number): ParamSchema => ({ name, kind: 'period', fallback });

/** Parameters per type, in shorthand order (`bbands:20:2.5` is period then stdDev). */
const schemas: Readonly<Record<IndicatorType, readonly ParamSchema[]>> = {
  sma: [period('period')],
  ema: [period('period')],
  rsi: [period('period')],
  macd: [period('fastPeriod'), period('slowPeriod'), period('signalPeriod')],
  bbands: [period('period'), { name: 'stdDev', kind: 'multiplier', fallback: 2 }],
  atr: [period('period')],
  vwap: [period('period')],
  stoch: [period('fastKPeriod', 14), period('slowKPeriod', 3), period('slowDPeriod', 3)],
};

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'number') return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function isIndicatorType(value: unknown): value is IndicatorType {
  return typeof value === 'string' && (indicatorTypes as readonly string[]).includes(value);
}

/** The problem with one parameter value, or null when it is valid. */
function paramProblem(schema: ParamSchema, value: unknown): string | null {
  if (schema.kind === 'period') {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
      return `must be an integer >= 1, got ${describe(value)}`;
    }
    if (value > MAX_PERIOD) return `must be at most ${MAX_PERIOD}, got ${value}`;
    return null;
  }
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    return `must be a finite number > 0, got ${describe(value)}`;
  }
  return null;
}

/** Cross-parameter rules; returns [param, problem] or null. */
function crossProblem(type: IndicatorType, params: Readonly<Record<string, number>>): [string, string] | null {
  if (type === 'macd' && params.fastPeriod >= params.slowPeriod) {
    return ['fastPeriod', `must be less than slowPeriod (${params.slowPeriod}), got ${params.fastPeriod}`];
  }
  return null;
}

function usage(type: IndicatorType): string {
  return [type, ...schemas[type].map((s) => s.name)].join(':');
}

/**
 * Validates an untrusted `{ type, params }` value and fills defaults. Throws ConfigError with the full field
 * path. Only `type` and `params` are read; other keys belong to the caller's schema.
 */
export function validateIndicatorSpec(spec: unknown, path: string): ValidIndicatorSpec {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
    throw new ConfigError(path, `must be an object with a "type" (${indicatorTypes.join(', ')}), got ${describe(spec)}`);
  }
  const raw = spec as Readonly<Record<string, unknown>>;
  const type = raw.type;
  if (!isIndicatorType(type)) {
    const what = typeof type === 'string' ? `unknown indicator type ${JSON.stringify(type)}` : `must be a string`;
    throw new ConfigError(`${path}.type`, `${what} (known: ${indicatorTypes.join(', ')}), got ${describe(type)}`);
  }
  const rawParams = raw.params ?? {};
  if (typeof rawParams !== 'object' || rawParams === null || Array.isArray(rawParams)) {
    throw new ConfigError(`${path}.params`, `must be an object, got ${describe(rawParams)}`);
  }
  const given = rawParams as Readonly<Record<string, unknown>>;
  const schema = schemas[type];
  for (const key of Object.keys(given)) {
    if (!schema.some((s) => s.name === key)) {
      const known = schema.map((s) => s.name).join(', ');
      throw new ConfigError(`${path}.params.${key}`, `unknown parameter for ${type} (known: ${known})`);
    }
  }
  const params: Record<string, number> = {};
  for (const s of schema) {
    const value = given[s.name] ?? s.fallback;
    if (value === undefined) {
      const what = s.kind === 'period' ? 'an integer >= 1' : 'a number > 0';
      throw new ConfigError(`${path}.params.${s.name}`, `is required for ${type} (${what})`);
    }
    const problem = paramProblem(s, value);
    if (problem !== null) throw new ConfigError(`${path}.params.${s.name}`, problem);
    params[s.name] = value as number;
  }
  const cross = crossProblem(type, params);
  if (cross !== null) throw new ConfigError(`${path}.params.${cross[0]}`, cross[1]);
  return { type, params };
}

/** Builds the streaming indicator for an already validated spec. */
export function instantiate(spec: ValidIndicatorSpec): StreamingIndicator {
  const p = spec.params;
  switch (spec.type) {
    case 'sma':
      return new Sma(p.period);
    case 'ema':
      return new Ema(p.period);
    case 'rsi':
      return new Rsi(p.period);
    case 'macd':
      return new Macd(p.fastPeriod, p.slowPeriod, p.signalPeriod);
    case 'bbands':
      return new BollingerBands(p.period, p.stdDev);
    case 'atr':
      return new Atr(p.period);
    case 'vwap':
      return new Vwap(p.period);
    case 'stoch':
      return new Stochastic(p.fastKPeriod, p.slowKPeriod, p.slowDPeriod);
  }
}

/**
 * Validates `spec` (see validateIndicatorSpec) and builds its streaming indicator.
 * Example: `createIndicator({ type: 'macd', params: { fastPeriod: 12, slowPeriod: 26, signalPeriod: 9 } }, 'x')`.
 */
export function createIndicator(
  spec: { type: string; params?: Record<string, unknown> },
  path: string,
): StreamingIndicator {
  return instantiate(validateIndicatorSpec(spec, path));
}

/**
 * The most updates any of `specs` needs before its first output (0 for none): how much history warms them all.
 * Validates each like createIndicator (field paths `indicators[i]`).
 */
export function longestWarmup(specs: ReadonlyArray<{ type: string; params?: Readonly<Record<string, unknown>> }>): number {
  let longest = 0;
  specs.forEach((spec, i) => {
    longest = Math.max(longest, createIndicator({ type: spec.type, params: { ...spec.params } }, `indicators[${i}]`).warmupPeriod);
  });
  return longest;
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Parses the shorthand `type:param:param...` in schema order and validates it like a spec, filling defaults for
 * trailing parameters that have one. Orders: sma|ema|rsi|atr|vwap:period, macd:fast:slow:signal,
 * bbands:period[:stdDev], stoch[:fastK[:slowK[:slowD]]].
 * Examples: 'macd:12:26:9' -> { type: 'macd', params: { fastPeriod: 12, slowPeriod: 26, signalPeriod: 9 } };
 * 'bbands:20' -> { type: 'bbands', params: { period: 20, stdDev: 2 } }.
 * Throws ConfigError at `path` quoting the text.
 */
export function parseIndicatorShorthand(text: string, path = 'indicator'): ValidIndicatorSpec {
  const quoted = JSON.stringify(text);
  const fail = (message: string): never => {
    throw new ConfigError(path, `${quoted}: ${message}`);
  };
  const [type, ...fields] = text.split(':').map((part) => part.trim());
  if (!isIndicatorType(type)) {
    return fail(`unknown indicator type ${JSON.stringify(type)} (known: ${indicatorTypes.join(', ')})`);
  }
  const schema = schemas[type];
  if (fields.length > schema.length) {
    return fail(`${type} takes at most ${schema.length} parameter(s) (${usage(type)}), got ${fields.length}`);
  }
  const params: Record<string, number> = {};
  for (let i = 0; i < schema.length; i++) {
    const s = schema[i];
    const field = fields[i];
    if (field === undefined) {
      if (s.fallback === undefined) fail(`missing ${s.name} (expected ${usage(type)})`);
      continue;
    }
    if (!NUMBER.test(field)) fail(`${s.name} must be a number, got ${JSON.stringify(field)}`);
    params[s.name] = Number(field);
  }
  try {
    return validateIndicatorSpec({ type, params }, path);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // Restate the problem against the text the user wrote rather than a params path they never typed.
    const field = error.path.slice(`${path}.params.`.length);
    return fail(`${field} ${error.message.slice(error.path.length + 2)}`);
  }
}
