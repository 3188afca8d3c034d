import { ConfigError } from '../config-error.ts';
import type { AnyBatchBackend } from './batch-backend.ts';
import type { IndicatorType } from '../indicators/indicator.ts';
import { instantiate, parseIndicatorShorthand, type ValidIndicatorSpec } from '../indicators/registry.ts';

/** The bar columns the indicators read (a BarTable from bars-csv.ts fits), all of one length. */
export interface BarColumns {
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  readonly volume: Float64Array;
}

/** One requested indicator: its validated spec and its canonical key (see indicatorKey). */
export interface IndicatorRequest {
  readonly key: string;
  readonly spec: ValidIndicatorSpec;
}

/** One output series, aligned with the input bars (NaN during warm-up). */
export interface OutputSeries {
  /** `sma:20`, or `macd:12:26:9.signal` for one output of a multi-output indicator. */
  readonly key: string;
  /** The indicator's canonical key (`macd:12:26:9`), shared by all of its outputs. */
  readonly indicator: string;
  readonly values: Float64Array;
}

/** An indicator could not be computed over these bars (too short for a period, overflow); names the indicator. */
export class IndicatorComputeError extends Error {
  constructor(readonly indicator: string, detail: string, options?: { cause?: unknown }) {
    super(`${indicator}: ${detail}`, options);
    this.name = 'IndicatorComputeError';
  }
}

/** Parameters in shorthand order, the same order parseIndicatorShorthand reads them in. */
const shorthandOrder: Readonly<Record<IndicatorType, readonly string[]>> = {
  sma: ['period'],
  ema: ['period'],
  rsi: ['period'],
  macd: ['fastPeriod', 'slowPeriod', 'signalPeriod'],
  bbands: ['period', 'stdDev'],
  atr: ['period'],
  vwap: ['period'],
  stoch: ['fastKPeriod', 'slowKPeriod', 'slowDPeriod'],
};

/** Output names of the multi-output indicators, in the order they are listed; single-output ones have none. */
const outputNames: Readonly<Record<IndicatorType, readonly string[]>> = {
  sma: [],
  ema: [],
  rsi: [],
  macd: ['macd', 'signal', 'histogram'],
  bbands: ['upper', 'middle', 'lower'],
  atr: [],
  vwap: [],
  stoch: ['slowK', 'slowD'],
};

/**
 * The canonical shorthand of a spec: the type and every parameter, defaults included, each number written the
 * shortest way that reads back exactly. Parsing it gives the same spec back, so the key does not depend on how
 * the user spelled the shorthand.
 * Examples: `sma: 020` -> 'sma:20'; `bbands:20` -> 'bbands:20:2'; `bbands:20:2.50` -> 'bbands:20:2.5';
 * `stoch` -> 'stoch:14:3:3'.
 */
export function indicatorKey(spec: ValidIndicatorSpec): string {
  return [spec.type, ...shorthandOrder[spec.type].map((name) => String(spec.params[name]))].join(':');
}

/** The keys of an indicator's outputs: `[key]`, or `key.name` per output. Example: 'stoch:14:3:3' -> ['stoch:14:3:3.slowK', 'stoch:14:3:3.slowD']. */
export function outputKeys(spec: ValidIndicatorSpec): string[] {
  const key = indicatorKey(spec);
  const names = outputNames[spec.type];
  return names.length === 0 ? [key] : names.map((name) => `${key}.${name}`);
}

/**
 * Parses a comma-separated list of shorthands (`sma:20,macd:12:26:9,bbands:20`) with the registry's
 * parseIndicatorShorthand. Throws ConfigError at `path` naming the bad shorthand, an empty entry, or two
 * entries with the same canonical key (`sma:20,sma:020`).
 */
export function parseIndicatorList(text: string, path = 'indicators'): IndicatorRequest[] {
  const entries = text.split(',').map((entry) => entry.trim());
  if (entries.length === 1 && entries[0] === '') throw new ConfigError(path, 'is empty (expected e.g. sma:20,macd:12:26:9)');
  const requests: IndicatorRequest[] = [];
  const seen = new Map<string, string>();
  entries.forEach((entry, index) => {
    if (entry === '') throw new ConfigError(path, `entry ${index + 1} is empty`);
    const spec = parseIndicatorShorthand(entry, path);
    const key = indicatorKey(spec);
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      throw new ConfigError(path, `${JSON.stringify(entry)} repeats ${JSON.stringify(earlier)} (both are ${key})`);
    }
    seen.set(key, entry);
    requests.push({ key, spec });
  });
  return requests;
}

/**
 * Computes every requested indicator over `bars` with `backend` and returns their outputs in request order
 * (a multi-output indicator's outputs in its own order: macd, signal, histogram; upper, middle, lower; slowK,
 * slowD), each aligned with the bars and NaN during warm-up. A backend RangeError (a period longer than the
 * input) becomes an IndicatorComputeError naming the indicator; so does a non-finite output past the warm-up
 * (bars near the double range overflow), naming the first such 1-based data row.
 * Example: 40 bars, [sma:20, macd:12:26:9] -> keys sma:20, macd:12:26:9.macd, .signal, .histogram; sma:20 is
 * NaN for rows 1-19, macd's three outputs for rows 1-33.
 */
export async function computeIndicators(
  bars: BarColumns,
  requests: readonly IndicatorRequest[],
  backend: AnyBatchBackend,
): Promise<OutputSeries[]> {
  const series: OutputSeries[] = [];
  for (const { key, spec } of requests) {
    let arrays: Float64Array[];
    try {
      arrays = await run(bars, spec, backend);
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      throw new IndicatorComputeError(key, `${error.message}; backend ${backend.name}`, { cause: error });
    }
    const keys = outputKeys(spec);
    // Past the warm-up every output is finite for finite bars, unless the arithmetic overflowed (bars near the
    // double range give Infinity, or NaN from Infinity - Infinity). Say so rather than print it as warm-up.
    // (With no bars nothing is checked, and a period up to MAX_PERIOD is never instantiated for nothing.)
    const first = bars.close.length === 0 ? 0 : instantiate(spec).warmupPeriod - 1;
    arrays.forEach((values, index) => {
      for (let row = first; row < values.length; row++) {
        const v = values[row];
        if (v - v === 0) continue;
        const output = keys[index] === key ? '' : `${keys[index].slice(key.length + 1)} `;
        throw new IndicatorComputeError(key, `${output}is ${v} at data row ${row + 1}, past its warm-up (values too large for double arithmetic)`);
      }
      series.push({ key: keys[index], indicator: key, values });
    });
  }
  return series;
}

/** One backend call; returns the output arrays in outputNames order. */
async function run(bars: BarColumns, spec: ValidIndicatorSpec, backend: AnyBatchBackend): Promise<Float64Array[]> {
  const p = spec.params;
  const { high, low, close, volume } = bars;
  switch (spec.type) {
    case 'sma':
      return [await backend.sma(close, p.period)];
    case 'ema':
      return [await backend.ema(close, p.period)];
    case 'rsi':
      return [await backend.rsi(close, p.period)];
    case 'macd': {
      const out = await backend.macd(close, p.fastPeriod, p.slowPeriod, p.signalPeriod);
      return [out.macd, out.signal, out.histogram];
    }
    case 'bbands': {
      const out = await backend.bbands(close, p.period, p.stdDev);
      return [out.upper, out.middle, out.lower];
    }
    case 'atr':
      return [await backend.atr(high, low, close, p.period)];
    case 'vwap':
      return [await backend.vwap(high, low, close, volume, p.period)];
    case 'stoch': {
      const out = await backend.stoch(high, low, close, p.fastKPeriod, p.slowKPeriod, p.slowDPeriod);
      return [out.slowK, out.slowD];
    }
  }
}
