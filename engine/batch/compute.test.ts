import { describe, expect, it } from 'vitest';
import { ConfigError } from '../config-error.ts';
import { atrBatch } from '../indicators/atr.ts';
import { createJsBackend } from './js-backend.ts';
import { bbandsBatch } from '../indicators/bbands.ts';
import {
  IndicatorComputeError,
  computeIndicators,
  indicatorKey,
  outputKeys,
  parseIndicatorList,
} from './compute.ts';
import { emaBatch } from '../indicators/ema.ts';
import { macdBatch } from '../indicators/macd.ts';
import { parseIndicatorShorthand } from '../indicators/registry.ts';
import { rsiBatch } from '../indicators/rsi.ts';
import { randomWalkBars } from './series.ts';
import { smaBatch } from '../indicators/sma.ts';
import { stochBatch } from '../indicators/stoch.ts';
import { vwapBatch } from '../indicators/vwap.ts';

const backend = createJsBackend();
const bars = randomWalkBars(200, 7);
const all = 'sma:20,ema:20,rsi:14,macd:12:26:9,bbands:20:2,atr:14,vwap:20,stoch:14:3:3';

describe('indicatorKey', () => {
  it.each([
    ['sma:20', 'sma:20'],
    [' sma : 020 ', 'sma:20'],
    ['ema:1e1', 'ema:10'],
    ['bbands:20', 'bbands:20:2'],
    ['bbands:20:2.50', 'bbands:20:2.5'],
    ['stoch', 'stoch:14:3:3'],
    ['stoch:5', 'stoch:5:3:3'],
    ['macd:12:26:9', 'macd:12:26:9'],
  ])('writes %j as %j, which parses back to the same spec', (text, key) => {
    const spec = parseIndicatorShorthand(text);
    expect(indicatorKey(spec)).toBe(key);
    expect(parseIndicatorShorthand(key)).toEqual(spec);
  });

  it('names each output of a multi-output indicator after the key', () => {
    expect(outputKeys(parseIndicatorShorthand('macd:12:26:9'))).toEqual(['macd:12:26:9.macd', 'macd:12:26:9.signal', 'macd:12:26:9.histogram']);
    expect(outputKeys(parseIndicatorShorthand('bbands:20'))).toEqual(['bbands:20:2.upper', 'bbands:20:2.middle', 'bbands:20:2.lower']);
    expect(outputKeys(parseIndicatorShorthand('stoch'))).toEqual(['stoch:14:3:3.slowK', 'stoch:14:3:3.slowD']);
    expect(outputKeys(parseIndicatorShorthand('vwap:20'))).toEqual(['vwap:20']);
  });
});

describe('parseIndicatorList', () => {
  it('keeps the order of the list', () => {
    expect(parseIndicatorList('rsi:14, sma:5,bbands:10').map((r) => r.key)).toEqual(['rsi:14', 'sma:5', 'bbands:10:2']);
  });

  it.each([
    ['', 'indicators: is empty (expected e.g. sma:20,macd:12:26:9)'],
    ['sma:20,', 'indicators: entry 2 is empty'],
    ['sma:20,smaa:5', 'indicators: "smaa:5": unknown indicator type "smaa"'],
    ['macd:26:12:9', 'indicators: "macd:26:12:9": fastPeriod must be less than slowPeriod (12), got 26'],
    ['sma:x', 'indicators: "sma:x": period must be a number, got "x"'],
    ['sma:20,sma:020', 'indicators: "sma:020" repeats "sma:20" (both are sma:20)'],
    ['bbands:20,bbands:20:2', 'indicators: "bbands:20:2" repeats "bbands:20" (both are bbands:20:2)'],
  ])('rejects %j naming the shorthand', (text, message) => {
    expect(() => parseIndicatorList(text)).toThrow(ConfigError);
    expect(() => parseIndicatorList(text)).toThrow(message);
  });
});

describe('computeIndicators', () => {
  it('returns every output in request order, keyed by the canonical shorthand', async () => {
    const series = await computeIndicators(bars, parseIndicatorList(all), backend);
    expect(series.map((s) => s.key)).toEqual([
      'sma:20',
      'ema:20',
      'rsi:14',
      'macd:12:26:9.macd',
      'macd:12:26:9.signal',
      'macd:12:26:9.histogram',
      'bbands:20:2.upper',
      'bbands:20:2.middle',
      'bbands:20:2.lower',
      'atr:14',
      'vwap:20',
      'stoch:14:3:3.slowK',
      'stoch:14:3:3.slowD',
    ]);
    expect(series.map((s) => s.indicator)).toEqual([
      'sma:20', 'ema:20', 'rsi:14', 'macd:12:26:9', 'macd:12:26:9', 'macd:12:26:9',
      'bbands:20:2', 'bbands:20:2', 'bbands:20:2', 'atr:14', 'vwap:20', 'stoch:14:3:3', 'stoch:14:3:3',
    ]);
  });

  it('equals the JS batch functions bit for bit, aligned with the bars', async () => {
    const { high, low, close, volume } = bars;
    const macd = macdBatch(close, 12, 26, 9);
    const bb = bbandsBatch(close, 20, 2);
    const stoch = stochBatch(high, low, close, 14, 3, 3);
    const expected = [
      smaBatch(close, 20), emaBatch(close, 20), rsiBatch(close, 14), macd.macd, macd.signal, macd.histogram,
      bb.upper, bb.middle, bb.lower, atrBatch(high, low, close, 14), vwapBatch(high, low, close, volume, 20),
      stoch.slowK, stoch.slowD,
    ];
    const series = await computeIndicators(bars, parseIndicatorList(all), backend);
    expect(series.map((s) => s.values)).toEqual(expected);
    for (const s of series) expect(s.values.length).toBe(200);
  });

  it('leaves NaN before the TA-Lib first output index and numbers from it on', async () => {
    const firstIndex: Record<string, number> = {
      'sma:20': 19, 'ema:20': 19, 'rsi:14': 14, 'macd:12:26:9.histogram': 33, 'bbands:20:2.lower': 19,
      'atr:14': 14, 'vwap:20': 19, 'stoch:14:3:3.slowD': 17,
    };
    const series = await computeIndicators(bars, parseIndicatorList(all), backend);
    for (const [key, first] of Object.entries(firstIndex)) {
      const values = series.find((s) => s.key === key)?.values ?? new Float64Array();
      expect(Number.isNaN(values[first - 1]), key).toBe(true);
      expect(Number.isFinite(values[first]), key).toBe(true);
    }
  });

  it('turns a period longer than the input into an error naming the indicator', async () => {
    const short = randomWalkBars(10, 3);
    const run = (): Promise<unknown> => computeIndicators(short, parseIndicatorList('sma:5,macd:12:26:9'), backend);
    await expect(run()).rejects.toThrow(IndicatorComputeError);
    await expect(run()).rejects.toThrow('macd:12:26:9: slowPeriod (26) is larger than the input length (10); backend js');
  });

  it('gives empty outputs for no bars', async () => {
    const empty = { high: new Float64Array(), low: new Float64Array(), close: new Float64Array(), volume: new Float64Array() };
    const series = await computeIndicators(empty, parseIndicatorList('sma:20,macd:12:26:9'), backend);
    expect(series.map((s) => s.values.length)).toEqual([0, 0, 0, 0]);
  });

  it('rejects a non-finite output past the warm-up (overflow), naming the indicator, the output and the row', async () => {
    const close = Float64Array.from([1e308, 1e308, 1e308]);
    const huge = { high: close, low: close, close, volume: new Float64Array(3) };
    await expect(computeIndicators(huge, parseIndicatorList('sma:2'), backend)).rejects.toThrow(IndicatorComputeError);
    await expect(computeIndicators(huge, parseIndicatorList('sma:2'), backend)).rejects.toThrow(
      'sma:2: is Infinity at data row 2, past its warm-up (values too large for double arithmetic)',
    );
    const swing = Float64Array.from([1e200, 2e200, 1e200]);
    const wide = { high: swing, low: swing, close: swing, volume: new Float64Array(3) };
    await expect(computeIndicators(wide, parseIndicatorList('bbands:2'), backend)).rejects.toThrow('bbands:2:2: upper is Infinity at data row 2');
    const spike = Float64Array.from([1e308, -1e308, 1e308, 5]);
    const bad = { high: spike, low: spike, close: spike, volume: new Float64Array(4) };
    await expect(computeIndicators(bad, parseIndicatorList('rsi:2'), backend)).rejects.toThrow('rsi:2: is NaN at data row 3');
  });
});
