/**
 * The peer libraries bench/indicators.ts races, each loaded at run time with a dynamic import inside try/catch,
 * so a missing package (a native binding that did not build, an install without devDependencies) is reported as
 * `unavailable: <reason>` and never stops the run. Each peer is used through its own public API as its README
 * shows it; the minimal structural types below are all this file relies on.
 *
 * Every case is its own function literal, so V8 keeps separate type feedback per library and per indicator and
 * no case pays for another's megamorphic call sites. Batch cases take the library's natural input (number[],
 * converted once outside the clock) and return the library's raw result; `outputs` turns that into arrays in
 * our output order for the agreement check: [value], MACD [macd, signal, histogram], BBANDS [upper, middle,
 * lower], STOCH [slowK, slowD]; a library without one of them leaves it undefined. Libraries with only streaming
 * classes (trading-signals, @debut/indicators) run as an update loop writing into preallocated arrays.
 */
import type { Bars } from '../engine/batch/series.ts';

export type IndicatorId = 'sma' | 'ema' | 'rsi' | 'macd' | 'bbands' | 'atr' | 'vwap' | 'stoch';
export const indicatorIds: readonly IndicatorId[] = ['sma', 'ema', 'rsi', 'macd', 'bbands', 'atr', 'vwap', 'stoch'];
/** The six indicators of the streaming race (VWAP and STOCH streaming are not compared). */
export type StreamingId = Exclude<IndicatorId, 'vwap' | 'stoch'>;
export const streamingIds: readonly StreamingId[] = ['sma', 'ema', 'rsi', 'macd', 'bbands', 'atr'];
export const indicatorLabels: Record<IndicatorId, string> = {
  sma: 'SMA20', ema: 'EMA20', rsi: 'RSI14', macd: 'MACD 12/26/9', bbands: 'BBANDS 20/2', atr: 'ATR14', vwap: 'VWAP20',
  stoch: 'STOCH 14/3/3',
};

/** The same bars as Float64Arrays (ours) and as number[] (what the peers take). */
export interface PeerInput {
  readonly bars: Bars;
  readonly close: number[];
  readonly high: number[];
  readonly low: number[];
  readonly volume: number[];
  readonly length: number;
}

export function peerInput(bars: Bars): PeerInput {
  return {
    bars, close: Array.from(bars.close), high: Array.from(bars.high), low: Array.from(bars.low),
    volume: Array.from(bars.volume), length: bars.close.length,
  };
}

type Series = ArrayLike<number | undefined>;
export interface BatchCase {
  /** What differs from our definition, when something is known to (shown under the tables). */
  readonly note?: string;
  run(input: PeerInput): unknown;
  outputs(raw: unknown): (Series | undefined)[];
}

/** One streaming class fed `bars`; returns a checksum of the last output. */
export type StreamingCase = (bars: Bars) => number;

export interface Peer {
  readonly name: string;
  readonly native: boolean;
  /** 'batch' (array in, arrays out) or 'update loop' (streaming classes only). */
  readonly api: string;
  readonly batch: Partial<Record<IndicatorId, BatchCase>>;
  readonly streaming: Partial<Record<StreamingId, StreamingCase>>;
}

export type PeerLoad = { readonly name: string; readonly native: boolean; readonly version?: string } & (
  | { readonly available: true; readonly peer: Peer }
  | { readonly available: false; readonly reason: string }
);

/** Reuses output arrays between calls of one case, as our backends reuse `out` (a fresh 8 MB array faults). */
function outputs(count: number): (n: number) => Float64Array[] {
  let arrays: Float64Array[] = [];
  return (n) => {
    if (arrays.length !== count || arrays[0].length !== n) arrays = Array.from({ length: count }, () => new Float64Array(n));
    return arrays;
  };
}

type Module = Record<string, unknown>;
/** A named export of an ES module or of a CommonJS one loaded through import() (then also under `default`). */
function exported<T>(module: Module, name: string): T {
  const value = module[name] ?? (module.default as Module | undefined)?.[name];
  if (value === undefined) throw new Error(`export ${name} not found`);
  return value as T;
}

type Ctor<T> = new (...args: never[]) => T;
const pluck = <T, K extends keyof T>(rows: readonly T[], key: K): (T[K] | undefined)[] => rows.map((row) => row[key]);

// ---------------------------------------------------------------------------------------------------------------
// technicalindicators: static `calculate(input)` per indicator, arrays of results without the warm-up.
interface TiStatic<I, R> {
  calculate(input: I): R[];
}
function technicalIndicators(m: Module): Peer {
  const SMA = exported<TiStatic<{ period: number; values: number[] }, number>>(m, 'SMA');
  const EMA = exported<TiStatic<{ period: number; values: number[] }, number>>(m, 'EMA');
  const RSI = exported<TiStatic<{ period: number; values: number[] }, number>>(m, 'RSI');
  const MACD = exported<TiStatic<object, { MACD?: number; signal?: number; histogram?: number }>>(m, 'MACD');
  const BB = exported<TiStatic<object, { upper: number; middle: number; lower: number }>>(m, 'BollingerBands');
  const ATR = exported<TiStatic<object, number>>(m, 'ATR');
  const VWAP = exported<TiStatic<object, number>>(m, 'VWAP');
  const STOCH = exported<TiStatic<object, { k: number; d?: number }>>(m, 'Stochastic');
  const single = (raw: unknown): Series[] => [raw as number[]];
  return {
    name: 'technicalindicators', native: false, api: 'batch',
    batch: {
      sma: { run: (x) => SMA.calculate({ period: 20, values: x.close }), outputs: single },
      ema: { run: (x) => EMA.calculate({ period: 20, values: x.close }), outputs: single },
      rsi: { run: (x) => RSI.calculate({ period: 14, values: x.close }), outputs: single, note: 'rounds RSI to 2 decimals' },
      macd: {
        run: (x) => MACD.calculate({ values: x.close, fastPeriod: 12, slowPeriod: 26, signalPeriod: 9, SimpleMAOscillator: false, SimpleMASignal: false }),
        outputs: (raw) => {
          const rows = raw as { MACD?: number; signal?: number; histogram?: number }[];
          return [pluck(rows, 'MACD'), pluck(rows, 'signal'), pluck(rows, 'histogram')];
        },
      },
      bbands: {
        run: (x) => BB.calculate({ period: 20, stdDev: 2, values: x.close }),
        outputs: (raw) => {
          const rows = raw as { upper: number; middle: number; lower: number }[];
          return [pluck(rows, 'upper'), pluck(rows, 'middle'), pluck(rows, 'lower')];
        },
      },
      atr: { run: (x) => ATR.calculate({ high: x.high, low: x.low, close: x.close, period: 14 }), outputs: single },
      vwap: {
        run: (x) => VWAP.calculate({ high: x.high, low: x.low, close: x.close, volume: x.volume }), outputs: single,
        note: 'VWAP is cumulative from bar 0, not a 20-bar window',
      },
      stoch: {
        run: (x) => STOCH.calculate({ high: x.high, low: x.low, close: x.close, period: 14, signalPeriod: 3 }),
        outputs: (raw) => {
          const rows = raw as { k: number; d?: number }[];
          return [pluck(rows, 'k'), pluck(rows, 'd')];
        },
        note: 'STOCH is the fast %K (no slowing) and its 3-bar %D',
      },
    },
    streaming: {},
  };
}

// ---------------------------------------------------------------------------------------------------------------
// trading-signals: streaming classes, `update(input, replace)` returns the result or null during warm-up.
interface TsIndicator<I, R> {
  update(input: I, replace: boolean): R | null;
}
type Hlc = { high: number; low: number; close: number };
type Hlcv = Hlc & { volume: number };
function tradingSignals(m: Module): Peer {
  const SMA = exported<Ctor<TsIndicator<number, number>>>(m, 'SMA') as new (period: number) => TsIndicator<number, number>;
  const EMA = exported<Ctor<TsIndicator<number, number>>>(m, 'EMA') as new (period: number) => TsIndicator<number, number>;
  const RSI = exported<Ctor<TsIndicator<number, number>>>(m, 'RSI') as new (period: number) => TsIndicator<number, number>;
  type MacdResult = { macd: number; signal: number; histogram: number };
  const MACD = exported<Ctor<TsIndicator<number, MacdResult>>>(m, 'MACD') as new (
    fast: TsIndicator<number, number>, slow: TsIndicator<number, number>, signal: TsIndicator<number, number>,
  ) => TsIndicator<number, MacdResult>;
  type Bands = { upper: number; middle: number; lower: number };
  const BB = exported<Ctor<TsIndicator<number, Bands>>>(m, 'BollingerBands') as new (period: number, k: number) => TsIndicator<number, Bands>;
  const ATR = exported<Ctor<TsIndicator<Hlc, number>>>(m, 'ATR') as new (period: number) => TsIndicator<Hlc, number>;
  const VWAP = exported<Ctor<TsIndicator<Hlcv, number>>>(m, 'VWAP') as new () => TsIndicator<Hlcv, number>;
  type Stoch = { stochK: number; stochD: number };
  const STOCH = exported<Ctor<TsIndicator<Hlc, Stoch>>>(m, 'StochasticOscillator') as new (
    config: { kPeriod: number; kSlowingPeriod: number; dPeriod: number },
  ) => TsIndicator<Hlc, Stoch>;
  const macd = (): TsIndicator<number, MacdResult> => new MACD(new EMA(12), new EMA(26), new EMA(9));
  const arrays = (raw: unknown): Series[] => raw as Float64Array[];
  const one = outputs(1);
  const three = outputs(3);
  const two = outputs(2);
  return {
    name: 'trading-signals', native: false, api: 'update loop',
    batch: {
      sma: {
        run: (x) => {
          const [o] = one(x.length);
          const c = x.close;
          const ind = new SMA(20);
          for (let i = 0; i < c.length; i++) o[i] = ind.update(c[i], false) ?? NaN;
          return [o];
        }, outputs: arrays,
      },
      ema: {
        run: (x) => {
          const [o] = one(x.length);
          const c = x.close;
          const ind = new EMA(20);
          for (let i = 0; i < c.length; i++) o[i] = ind.update(c[i], false) ?? NaN;
          return [o];
        }, outputs: arrays,
      },
      rsi: {
        run: (x) => {
          const [o] = one(x.length);
          const c = x.close;
          const ind = new RSI(14);
          for (let i = 0; i < c.length; i++) o[i] = ind.update(c[i], false) ?? NaN;
          return [o];
        }, outputs: arrays,
      },
      macd: {
        run: (x) => {
          const [a, b, h] = three(x.length);
          const c = x.close;
          const ind = macd();
          for (let i = 0; i < c.length; i++) {
            const r = ind.update(c[i], false);
            a[i] = r === null ? NaN : r.macd;
            b[i] = r === null ? NaN : r.signal;
            h[i] = r === null ? NaN : r.histogram;
          }
          return [a, b, h];
        }, outputs: arrays,
      },
      bbands: {
        run: (x) => {
          const [u, mid, l] = three(x.length);
          const c = x.close;
          const ind = new BB(20, 2);
          for (let i = 0; i < c.length; i++) {
            const r = ind.update(c[i], false);
            u[i] = r === null ? NaN : r.upper;
            mid[i] = r === null ? NaN : r.middle;
            l[i] = r === null ? NaN : r.lower;
          }
          return [u, mid, l];
        }, outputs: arrays,
      },
      atr: {
        run: (x) => {
          const [o] = one(x.length);
          const ind = new ATR(14);
          for (let i = 0; i < x.length; i++) o[i] = ind.update({ high: x.high[i], low: x.low[i], close: x.close[i] }, false) ?? NaN;
          return [o];
        }, outputs: arrays,
      },
      vwap: {
        run: (x) => {
          const [o] = one(x.length);
          const ind = new VWAP();
          for (let i = 0; i < x.length; i++) {
            o[i] = ind.update({ high: x.high[i], low: x.low[i], close: x.close[i], volume: x.volume[i] }, false) ?? NaN;
          }
          return [o];
        }, outputs: arrays, note: 'VWAP is cumulative from bar 0, not a 20-bar window',
      },
      stoch: {
        run: (x) => {
          const [k, d] = two(x.length);
          const ind = new STOCH({ kPeriod: 14, kSlowingPeriod: 3, dPeriod: 3 });
          for (let i = 0; i < x.length; i++) {
            const r = ind.update({ high: x.high[i], low: x.low[i], close: x.close[i] }, false);
            k[i] = r === null ? NaN : r.stochK;
            d[i] = r === null ? NaN : r.stochD;
          }
          return [k, d];
        }, outputs: arrays,
      },
    },
    streaming: {
      sma: (bars) => {
        const c = bars.close;
        const ind = new SMA(20);
        let r: number | null = null;
        for (let i = 0; i < c.length; i++) r = ind.update(c[i], false);
        return r ?? NaN;
      },
      ema: (bars) => {
        const c = bars.close;
        const ind = new EMA(20);
        let r: number | null = null;
        for (let i = 0; i < c.length; i++) r = ind.update(c[i], false);
        return r ?? NaN;
      },
      rsi: (bars) => {
        const c = bars.close;
        const ind = new RSI(14);
        let r: number | null = null;
        for (let i = 0; i < c.length; i++) r = ind.update(c[i], false);
        return r ?? NaN;
      },
      macd: (bars) => {
        const c = bars.close;
        const ind = macd();
        let r: MacdResult | null = null;
        for (let i = 0; i < c.length; i++) r = ind.update(c[i], false);
        return r?.histogram ?? NaN;
      },
      bbands: (bars) => {
        const c = bars.close;
        const ind = new BB(20, 2);
        let r: Bands | null = null;
        for (let i = 0; i < c.length; i++) r = ind.update(c[i], false);
        return r?.upper ?? NaN;
      },
      atr: (bars) => {
        const { close, high, low } = bars;
        const ind = new ATR(14);
        let r: number | null = null;
        for (let i = 0; i < close.length; i++) r = ind.update({ high: high[i], low: low[i], close: close[i] }, false);
        return r ?? NaN;
      },
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// indicatorts: plain functions over number[], outputs as long as the input.
function indicatorts(m: Module): Peer {
  type F1 = (values: number[], config: object) => number[];
  const sma = exported<F1>(m, 'sma');
  const ema = exported<F1>(m, 'ema');
  const rsi = exported<F1>(m, 'rsi');
  const macd = exported<(values: number[], config: object) => { macdLine: number[]; signalLine: number[] }>(m, 'macd');
  const bb = exported<(values: number[], config: object) => { upper: number[]; middle: number[]; lower: number[] }>(m, 'bb');
  const atr = exported<(h: number[], l: number[], c: number[], config: object) => { trLine: number[]; atrLine: number[] }>(m, 'atr');
  const vwap = exported<(c: number[], v: number[], config: object) => number[]>(m, 'vwap');
  const stoch = exported<(h: number[], l: number[], c: number[], config: object) => { k: number[]; d: number[] }>(m, 'stoch');
  const single = (raw: unknown): Series[] => [raw as number[]];
  return {
    name: 'indicatorts', native: false, api: 'batch',
    batch: {
      sma: { run: (x) => sma(x.close, { period: 20 }), outputs: single },
      ema: { run: (x) => ema(x.close, { period: 20 }), outputs: single },
      rsi: { run: (x) => rsi(x.close, { period: 14 }), outputs: single },
      macd: {
        run: (x) => macd(x.close, { fast: 12, slow: 26, signal: 9 }),
        outputs: (raw) => {
          const r = raw as { macdLine: number[]; signalLine: number[] };
          return [r.macdLine, r.signalLine, undefined];
        },
      },
      bbands: {
        run: (x) => bb(x.close, { period: 20 }),
        outputs: (raw) => {
          const r = raw as { upper: number[]; middle: number[]; lower: number[] };
          return [r.upper, r.middle, r.lower];
        },
        note: 'BBANDS has no stdDev option (2 fixed)',
      },
      atr: {
        run: (x) => atr(x.high, x.low, x.close, { period: 14 }),
        outputs: (raw) => [(raw as { atrLine: number[] }).atrLine],
      },
      vwap: { run: (x) => vwap(x.close, x.volume, { period: 20 }), outputs: single, note: 'VWAP weights the close, not (h+l+c)/3' },
      stoch: {
        run: (x) => stoch(x.high, x.low, x.close, { kPeriod: 14, dPeriod: 3 }),
        outputs: (raw) => {
          const r = raw as { k: number[]; d: number[] };
          return [r.k, r.d];
        },
        note: 'STOCH is the fast %K (no slowing)',
      },
    },
    streaming: {},
  };
}

// ---------------------------------------------------------------------------------------------------------------
// @ixjb94/indicators: a TypeScript port of Tulip Indicators; IndicatorsSync returns arrays without the warm-up.
interface Ixjb94 {
  sma(source: number[], period: number): number[];
  ema(source: number[], period: number): number[];
  rsi(source: number[], period: number): number[];
  macd(source: number[], fast: number, slow: number, signal: number): number[][];
  bbands(source: number[], period: number, stdDev: number): number[][];
  atr(high: number[], low: number[], close: number[], period: number): number[];
  vwap(high: number[], low: number[], close: number[], volume: number[], period: number): number[];
  stoch(high: number[], low: number[], close: number[], k: number, kSlow: number, d: number): number[][];
}
function ixjb94(m: Module): Peer {
  const lib = new (exported<new () => Ixjb94>(m, 'IndicatorsSync'))();
  const single = (raw: unknown): Series[] => [raw as number[]];
  return {
    name: '@ixjb94/indicators', native: false, api: 'batch',
    batch: {
      sma: { run: (x) => lib.sma(x.close, 20), outputs: single },
      ema: { run: (x) => lib.ema(x.close, 20), outputs: single },
      rsi: { run: (x) => lib.rsi(x.close, 14), outputs: single },
      macd: {
        run: (x) => lib.macd(x.close, 12, 26, 9), outputs: (raw) => raw as number[][],
        note: 'Tulip MACD hard-codes the 12/26 alphas as 0.15/0.075',
      },
      bbands: {
        run: (x) => lib.bbands(x.close, 20, 2),
        outputs: (raw) => {
          const [lower, middle, upper] = raw as number[][];
          return [upper, middle, lower];
        },
      },
      atr: { run: (x) => lib.atr(x.high, x.low, x.close, 14), outputs: single },
      vwap: { run: (x) => lib.vwap(x.high, x.low, x.close, x.volume, 20), outputs: single },
      stoch: { run: (x) => lib.stoch(x.high, x.low, x.close, 14, 3, 3), outputs: (raw) => raw as number[][] },
    },
    streaming: {},
  };
}

// ---------------------------------------------------------------------------------------------------------------
// @debut/indicators: streaming classes, `nextValue(...)` returns the value (undefined during warm-up).
interface DebutIndicator<R> {
  nextValue(...input: number[]): R | undefined;
}
function debut(m: Module): Peer {
  const SMA = exported<new (period: number) => DebutIndicator<number>>(m, 'SMA');
  const EMA = exported<new (period: number) => DebutIndicator<number>>(m, 'EMA');
  const RSI = exported<new (period: number) => DebutIndicator<number>>(m, 'RSI');
  type MacdResult = { macd: number; signal: number; histogram: number };
  const MACD = exported<new (fast: number, slow: number, signal: number) => DebutIndicator<MacdResult>>(m, 'MACD');
  type Bands = { upper: number; middle: number; lower: number };
  const BB = exported<new (period: number, k: number) => DebutIndicator<Bands>>(m, 'BollingerBands');
  const ATR = exported<new (period: number) => DebutIndicator<number>>(m, 'ATR');
  const STOCH = exported<new (period: number, smaPeriod: number) => DebutIndicator<{ k: number; d: number }>>(m, 'Stochastic');
  const arrays = (raw: unknown): Series[] => raw as Float64Array[];
  const one = outputs(1);
  const three = outputs(3);
  const two = outputs(2);
  return {
    name: '@debut/indicators', native: false, api: 'update loop',
    batch: {
      sma: {
        run: (x) => {
          const [o] = one(x.length);
          const c = x.close;
          const ind = new SMA(20);
          for (let i = 0; i < c.length; i++) o[i] = ind.nextValue(c[i]) ?? NaN;
          return [o];
        }, outputs: arrays,
      },
      ema: {
        run: (x) => {
          const [o] = one(x.length);
          const c = x.close;
          const ind = new EMA(20);
          for (let i = 0; i < c.length; i++) o[i] = ind.nextValue(c[i]) ?? NaN;
          return [o];
        }, outputs: arrays,
      },
      rsi: {
        run: (x) => {
          const [o] = one(x.length);
          const c = x.close;
          const ind = new RSI(14);
          for (let i = 0; i < c.length; i++) o[i] = ind.nextValue(c[i]) ?? NaN;
          return [o];
        }, outputs: arrays,
      },
      macd: {
        run: (x) => {
          const [a, b, h] = three(x.length);
          const c = x.close;
          const ind = new MACD(12, 26, 9);
          for (let i = 0; i < c.length; i++) {
            const r = ind.nextValue(c[i]);
            a[i] = r === undefined ? NaN : r.macd;
            b[i] = r === undefined ? NaN : r.signal;
            h[i] = r === undefined ? NaN : r.histogram;
          }
          return [a, b, h];
        }, outputs: arrays,
      },
      bbands: {
        run: (x) => {
          const [u, mid, l] = three(x.length);
          const c = x.close;
          const ind = new BB(20, 2);
          for (let i = 0; i < c.length; i++) {
            const r = ind.nextValue(c[i]);
            u[i] = r === undefined ? NaN : r.upper;
            mid[i] = r === undefined ? NaN : r.middle;
            l[i] = r === undefined ? NaN : r.lower;
          }
          return [u, mid, l];
        }, outputs: arrays,
      },
      atr: {
        run: (x) => {
          const [o] = one(x.length);
          const ind = new ATR(14);
          for (let i = 0; i < x.length; i++) o[i] = ind.nextValue(x.high[i], x.low[i], x.close[i]) ?? NaN;
          return [o];
        }, outputs: arrays,
      },
      stoch: {
        run: (x) => {
          const [k, d] = two(x.length);
          const ind = new STOCH(14, 3);
          for (let i = 0; i < x.length; i++) {
            const r = ind.nextValue(x.high[i], x.low[i], x.close[i]);
            k[i] = r === undefined ? NaN : r.k;
            d[i] = r === undefined ? NaN : r.d;
          }
          return [k, d];
        }, outputs: arrays, note: 'STOCH is the fast %K (no slowing)',
      },
    },
    streaming: {
      sma: (bars) => {
        const c = bars.close;
        const ind = new SMA(20);
        let r: number | undefined;
        for (let i = 0; i < c.length; i++) r = ind.nextValue(c[i]);
        return r ?? NaN;
      },
      ema: (bars) => {
        const c = bars.close;
        const ind = new EMA(20);
        let r: number | undefined;
        for (let i = 0; i < c.length; i++) r = ind.nextValue(c[i]);
        return r ?? NaN;
      },
      rsi: (bars) => {
        const c = bars.close;
        const ind = new RSI(14);
        let r: number | undefined;
        for (let i = 0; i < c.length; i++) r = ind.nextValue(c[i]);
        return r ?? NaN;
      },
      macd: (bars) => {
        const c = bars.close;
        const ind = new MACD(12, 26, 9);
        let r: MacdResult | undefined;
        for (let i = 0; i < c.length; i++) r = ind.nextValue(c[i]);
        return r?.histogram ?? NaN;
      },
      bbands: (bars) => {
        const c = bars.close;
        const ind = new BB(20, 2);
        let r: Bands | undefined;
        for (let i = 0; i < c.length; i++) r = ind.nextValue(c[i]);
        return r?.upper ?? NaN;
      },
      atr: (bars) => {
        const { close, high, low } = bars;
        const ind = new ATR(14);
        let r: number | undefined;
        for (let i = 0; i < close.length; i++) r = ind.nextValue(high[i], low[i], close[i]);
        return r ?? NaN;
      },
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// tulind: the Tulip Indicators C library through a Node addon; `indicator(inputs, options, callback)` calls back
// synchronously with one array per output, without the warm-up.
interface TulipIndicator {
  indicator(inputs: number[][], options: number[], callback: (error: unknown, results: number[][]) => void): void;
}
function tulind(m: Module): Peer {
  const indicators = exported<Record<string, TulipIndicator>>(m, 'indicators');
  const call = (name: string, inputs: number[][], options: number[]): number[][] => {
    let results: number[][] | undefined;
    let failure: unknown;
    indicators[name].indicator(inputs, options, (error, r) => {
      failure = error;
      results = r;
    });
    if (failure !== null && failure !== undefined) throw new Error(`tulind ${name}: ${String(failure)}`);
    if (results === undefined) throw new Error(`tulind ${name} did not call back synchronously`);
    return results;
  };
  const all = (raw: unknown): Series[] => raw as number[][];
  return {
    name: 'tulind', native: true, api: 'batch',
    batch: {
      sma: { run: (x) => call('sma', [x.close], [20]), outputs: all },
      ema: { run: (x) => call('ema', [x.close], [20]), outputs: all },
      rsi: { run: (x) => call('rsi', [x.close], [14]), outputs: all },
      macd: { run: (x) => call('macd', [x.close], [12, 26, 9]), outputs: all, note: 'Tulip MACD hard-codes the 12/26 alphas as 0.15/0.075' },
      bbands: {
        run: (x) => call('bbands', [x.close], [20, 2]),
        outputs: (raw) => {
          const [lower, middle, upper] = raw as number[][];
          return [upper, middle, lower];
        },
      },
      atr: { run: (x) => call('atr', [x.high, x.low, x.close], [14]), outputs: all },
      vwap: { run: (x) => call('vwma', [x.close, x.volume], [20]), outputs: all, note: 'VWAP is Tulip VWMA: weights the close, not (h+l+c)/3' },
      stoch: { run: (x) => call('stoch', [x.high, x.low, x.close], [14, 3, 3]), outputs: all },
    },
    streaming: {},
  };
}

// ---------------------------------------------------------------------------------------------------------------
// talib: the TA-Lib C library through a Node addon; `execute({ name, startIdx, endIdx, ...inputs, ...options })`
// returns { begIndex, nbElement, result: { outName: number[] } }.
interface TalibResult {
  result: Record<string, number[]>;
}
function talib(m: Module): Peer {
  const execute = exported<(request: object) => TalibResult>(m, 'execute');
  const run = (name: string, x: PeerInput, extra: object): TalibResult =>
    execute({ name, startIdx: 0, endIdx: x.length - 1, ...extra });
  const out = (...names: string[]) => (raw: unknown): Series[] => names.map((n) => (raw as TalibResult).result[n]);
  return {
    name: 'talib', native: true, api: 'batch',
    batch: {
      sma: { run: (x) => run('SMA', x, { inReal: x.close, optInTimePeriod: 20 }), outputs: out('outReal') },
      ema: { run: (x) => run('EMA', x, { inReal: x.close, optInTimePeriod: 20 }), outputs: out('outReal') },
      rsi: { run: (x) => run('RSI', x, { inReal: x.close, optInTimePeriod: 14 }), outputs: out('outReal') },
      macd: {
        run: (x) => run('MACD', x, { inReal: x.close, optInFastPeriod: 12, optInSlowPeriod: 26, optInSignalPeriod: 9 }),
        outputs: out('outMACD', 'outMACDSignal', 'outMACDHist'),
      },
      bbands: {
        run: (x) => run('BBANDS', x, { inReal: x.close, optInTimePeriod: 20, optInNbDevUp: 2, optInNbDevDn: 2, optInMAType: 0 }),
        outputs: out('outRealUpperBand', 'outRealMiddleBand', 'outRealLowerBand'),
      },
      atr: { run: (x) => run('ATR', x, { high: x.high, low: x.low, close: x.close, optInTimePeriod: 14 }), outputs: out('outReal') },
      stoch: {
        run: (x) => run('STOCH', x, {
          high: x.high, low: x.low, close: x.close, optInFastK_Period: 14, optInSlowK_Period: 3, optInSlowK_MAType: 0,
          optInSlowD_Period: 3, optInSlowD_MAType: 0,
        }),
        outputs: out('outSlowK', 'outSlowD'),
      },
    },
    streaming: {},
  };
}

const PEERS: readonly { name: string; native: boolean; build: (m: Module) => Peer }[] = [
  { name: 'technicalindicators', native: false, build: technicalIndicators },
  { name: 'trading-signals', native: false, build: tradingSignals },
  { name: 'indicatorts', native: false, build: indicatorts },
  { name: '@ixjb94/indicators', native: false, build: ixjb94 },
  { name: '@debut/indicators', native: false, build: debut },
  { name: 'tulind', native: true, build: tulind },
  { name: 'talib', native: true, build: talib },
];

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0];
}

async function versionOf(name: string): Promise<string | undefined> {
  try {
    const { createRequire } = await import('node:module');
    const require = createRequire(import.meta.url);
    const { readFileSync } = await import('node:fs');
    // Not every package exports ./package.json: find it next to the resolved entry point instead.
    let dir = require.resolve(name);
    const { dirname, join } = await import('node:path');
    for (let i = 0; i < 6; i++) {
      dir = dirname(dir);
      try {
        const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
        if (pkg.name === name) return pkg.version;
      } catch {
        // keep walking up
      }
    }
  } catch {
    // unresolvable: the import below reports why
  }
  return undefined;
}

/** The peers in the order they are raced. */
export const peerNames: readonly string[] = PEERS.map((p) => p.name);

/** Imports one peer; one that cannot be imported or lacks an export it needs comes back unavailable. */
export async function loadPeer(name: string): Promise<PeerLoad> {
  const entry = PEERS.find((p) => p.name === name);
  if (entry === undefined) throw new Error(`unknown peer ${name}`);
  try {
    const specifier: string = name; // a variable: type-checks whether or not the package is installed
    const module = (await import(specifier)) as Module;
    return { name, native: entry.native, version: await versionOf(name), available: true, peer: entry.build(module) };
  } catch (error) {
    return { name, native: entry.native, available: false, reason: firstLine(error) };
  }
}
