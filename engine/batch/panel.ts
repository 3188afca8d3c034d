import { checkFitsInput, checkPeriod, jsValueChecks, outputArray, type ValueChecks } from '../indicators/batch-checks.ts';

export { checkFinitePanel, checkHighLowPanel } from '../indicators/batch-checks.ts';
import { checkMacdPeriods, type MacdBatchOutput } from '../indicators/macd.ts';
import type { BatchBackend } from './batch-backend.ts';

/**
 * Many symbols at once: indicators over a PANEL, `symbols` series of `bars` values each stored bar-major (one
 * row per bar, every symbol's value at that bar side by side), for batch scans over a universe:
 *
 *     element (bar t, symbol s) at index t * symbols + s
 *
 *              s=0  s=1  s=2
 *     t=0    [ a0 ][ b0 ][ c0 ]      a = symbol 0's series, b = symbol 1's, ...
 *     t=1    [ a1 ][ b1 ][ c1 ]
 *     t=2    [ a2 ][ b2 ][ c2 ]
 *
 * Bar-major puts the values that independent recursions need at the same step next to each other, so a SIMD
 * backend loads two symbols' closes with one vector load (wasm f64x2) and streams through memory in order.
 * Outputs have the same layout and length. Each symbol's column equals the single-series batch function on that
 * column, bit for bit (warm-up, TA-Lib conventions and all); `panelFromBatch` is that definition, the reference.
 *
 * Checks, all before any output is written (RangeError): periods as the batch functions check them, `symbols` and
 * `bars` integers >= 0, every input holding symbols * bars values, `out` of that length and not sharing memory
 * with an input, then (unless the panel is empty) periods that fit in `bars`, finite values, high >= low,
 * naming the flat index with its symbol and bar. An empty panel (0 symbols or 0 bars) gives empty outputs.
 */
export interface PanelBatch {
  smaMany(close: Float64Array, symbols: number, bars: number, period: number, out?: Float64Array): Float64Array;
  emaMany(close: Float64Array, symbols: number, bars: number, period: number, out?: Float64Array): Float64Array;
  rsiMany(close: Float64Array, symbols: number, bars: number, period: number, out?: Float64Array): Float64Array;
  atrMany(
    high: Float64Array, low: Float64Array, close: Float64Array, symbols: number, bars: number, period: number,
    out?: Float64Array,
  ): Float64Array;
  macdMany(
    close: Float64Array, symbols: number, bars: number, fastPeriod: number, slowPeriod: number, signalPeriod: number,
    out?: MacdBatchOutput,
  ): MacdBatchOutput;
}

/**
 * PanelBatch for backends that compute off the caller's thread (workers): the same functions, arguments, checks
 * and results, delivered as Promises; a check that PanelBatch throws becomes a rejection with the same error.
 */
export type AsyncPanelBatch = {
  [K in keyof PanelBatch]: (...args: Parameters<PanelBatch[K]>) => Promise<ReturnType<PanelBatch[K]>>;
};

/** Packs equal-length series into one bar-major panel (`out` reused when given). */
export function toBarMajor(series: readonly Float64Array[], out?: Float64Array): Float64Array {
  const symbols = series.length;
  const bars = symbols === 0 ? 0 : series[0].length;
  for (let s = 0; s < symbols; s++) {
    if (series[s].length !== bars) throw new RangeError(`series[${s}] has ${series[s].length} values, expected ${bars}`);
  }
  const panel = outputArray('out', out, symbols * bars, series);
  for (let s = 0; s < symbols; s++) {
    const values = series[s];
    for (let t = 0; t < bars; t++) panel[t * symbols + s] = values[t];
  }
  return panel;
}

/** Symbol `s`'s series out of a bar-major panel (`out` reused when given). */
export function symbolColumn(panel: Float64Array, symbols: number, s: number, out?: Float64Array): Float64Array {
  checkNonNegativeInteger('symbols', symbols);
  if (!Number.isInteger(s) || s < 0 || s >= symbols) throw new RangeError(`symbol must be an integer in [0, ${symbols}), got ${s}`);
  if (panel.length % symbols !== 0) throw new RangeError(`panel has ${panel.length} values, not a multiple of ${symbols} symbols`);
  const bars = panel.length / symbols;
  const column = outputArray('out', out, bars, [panel]);
  for (let t = 0; t < bars; t++) column[t] = panel[t * symbols + s];
  return column;
}

function checkNonNegativeInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`${name} must be an integer >= 0, got ${value}`);
}

/**
 * Checks `symbols` and `bars` (integers >= 0) and that every named input holds symbols * bars values; returns
 * that length.
 */
export function checkPanelShape(symbols: number, bars: number, named: Readonly<Record<string, Float64Array>>): number {
  checkNonNegativeInteger('symbols', symbols);
  checkNonNegativeInteger('bars', bars);
  const length = symbols * bars;
  for (const name of Object.keys(named)) {
    if (named[name].length !== length) {
      throw new RangeError(`${name} has ${named[name].length} values, expected symbols * bars = ${symbols} * ${bars} = ${length}`);
    }
  }
  return length;
}

/** The checks of a one-input, one-period panel function (smaMany, emaMany, rsiMany); returns its `out`. */
export function checkClosePanel(
  close: Float64Array, symbols: number, bars: number, period: number, out: Float64Array | undefined,
  values: ValueChecks = jsValueChecks,
): Float64Array {
  checkPeriod('period', period);
  const length = checkPanelShape(symbols, bars, { close });
  const result = outputArray('out', out, length, [close]);
  if (length === 0) return result;
  checkFitsInput('period', period, bars);
  values.finite('close', close, symbols);
  return result;
}

/** The checks of atrMany; returns its `out`. */
export function checkAtrPanel(
  high: Float64Array, low: Float64Array, close: Float64Array, symbols: number, bars: number, period: number,
  out: Float64Array | undefined, values: ValueChecks = jsValueChecks,
): Float64Array {
  checkPeriod('period', period);
  const length = checkPanelShape(symbols, bars, { high, low, close });
  const result = outputArray('out', out, length, [high, low, close]);
  if (length === 0) return result;
  checkFitsInput('period', period, bars);
  values.finite('high', high, symbols);
  values.finite('low', low, symbols);
  values.finite('close', close, symbols);
  values.highLow(high, low, symbols);
  return result;
}

/** The checks of macdMany; returns its outputs. */
export function checkMacdPanel(
  close: Float64Array, symbols: number, bars: number, fastPeriod: number, slowPeriod: number, signalPeriod: number,
  out: MacdBatchOutput | undefined, values: ValueChecks = jsValueChecks,
): MacdBatchOutput {
  checkPeriod('fastPeriod', fastPeriod);
  checkPeriod('slowPeriod', slowPeriod);
  checkPeriod('signalPeriod', signalPeriod);
  checkMacdPeriods(fastPeriod, slowPeriod);
  const length = checkPanelShape(symbols, bars, { close });
  const macd = outputArray('out.macd', out?.macd, length, [close]);
  const signal = outputArray('out.signal', out?.signal, length, [close, macd]);
  const histogram = outputArray('out.histogram', out?.histogram, length, [close, macd, signal]);
  const result = out ?? { macd, signal, histogram };
  if (length === 0) return result;
  checkFitsInput('slowPeriod', slowPeriod, bars);
  checkFitsInput('signalPeriod', signalPeriod, bars);
  values.finite('close', close, symbols);
  return result;
}

/**
 * The reference panel functions: every column through a single-series batch backend (the JS one by default in
 * the tests), copied out of and back into the panel. It defines what a panel kernel must produce; it is not fast
 * (two strided copies per symbol and a column at a time).
 */
export function panelFromBatch(backend: BatchBackend): PanelBatch {
  const each = (
    inputs: readonly Float64Array[], outputs: readonly Float64Array[], symbols: number, bars: number,
    run: (columns: Float64Array[], results: Float64Array[]) => void,
  ): void => {
    if (symbols * bars === 0) return;
    const columns = inputs.map(() => new Float64Array(bars));
    const results = outputs.map(() => new Float64Array(bars));
    for (let s = 0; s < symbols; s++) {
      for (let k = 0; k < inputs.length; k++) symbolColumn(inputs[k], symbols, s, columns[k]);
      run(columns, results);
      for (let k = 0; k < outputs.length; k++) {
        const panel = outputs[k];
        const column = results[k];
        for (let t = 0; t < bars; t++) panel[t * symbols + s] = column[t];
      }
    }
  };
  return {
    smaMany(close, symbols, bars, period, out) {
      const result = checkClosePanel(close, symbols, bars, period, out);
      each([close], [result], symbols, bars, ([c], [o]) => backend.sma(c, period, o));
      return result;
    },
    emaMany(close, symbols, bars, period, out) {
      const result = checkClosePanel(close, symbols, bars, period, out);
      each([close], [result], symbols, bars, ([c], [o]) => backend.ema(c, period, o));
      return result;
    },
    rsiMany(close, symbols, bars, period, out) {
      const result = checkClosePanel(close, symbols, bars, period, out);
      each([close], [result], symbols, bars, ([c], [o]) => backend.rsi(c, period, o));
      return result;
    },
    atrMany(high, low, close, symbols, bars, period, out) {
      const result = checkAtrPanel(high, low, close, symbols, bars, period, out);
      each([high, low, close], [result], symbols, bars, ([h, l, c], [o]) => backend.atr(h, l, c, period, o));
      return result;
    },
    macdMany(close, symbols, bars, fastPeriod, slowPeriod, signalPeriod, out) {
      const result = checkMacdPanel(close, symbols, bars, fastPeriod, slowPeriod, signalPeriod, out);
      each([close], [result.macd, result.signal, result.histogram], symbols, bars, ([c], [macd, signal, histogram]) => {
        backend.macd(c, fastPeriod, slowPeriod, signalPeriod, { macd, signal, histogram });
      });
      return result;
    },
  };
}
