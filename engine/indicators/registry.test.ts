import { describe, expect, it } from 'vitest';
import { ConfigError } from '../config-error.ts';
import { BollingerBands } from './bbands.ts';
import { Macd } from './macd.ts';
import { createIndicator, indicatorTypes, longestWarmup, parseIndicatorShorthand, validateIndicatorSpec } from './registry.ts';
import { Stochastic } from './stoch.ts';

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('createIndicator', () => {
  it('builds every type', () => {
    const params: Record<string, Record<string, number>> = {
      sma: { period: 5 },
      ema: { period: 5 },
      rsi: { period: 5 },
      macd: { fastPeriod: 12, slowPeriod: 26, signalPeriod: 9 },
      bbands: { period: 20 },
      atr: { period: 14 },
      vwap: { period: 30 },
      stoch: {},
    };
    for (const type of indicatorTypes) {
      expect(createIndicator({ type, params: params[type] }, 'x').type).toBe(type);
    }
  });

  it('fills the documented defaults', () => {
    const stoch = createIndicator({ type: 'stoch' }, 'x') as Stochastic;
    expect([stoch.fastKPeriod, stoch.slowKPeriod, stoch.slowDPeriod]).toEqual([14, 3, 3]);
    const bands = createIndicator({ type: 'bbands', params: { period: 20 } }, 'x') as BollingerBands;
    expect(bands.stdDev).toBe(2);
    const wide = createIndicator({ type: 'bbands', params: { period: 20, stdDev: 2.5 } }, 'x') as BollingerBands;
    expect(wide.stdDev).toBe(2.5);
    const macd = createIndicator({ type: 'macd', params: { fastPeriod: 5, slowPeriod: 35, signalPeriod: 5 } }, 'x') as Macd;
    expect(macd.warmupPeriod).toBe(39);
  });

  it('names the full field path of an invalid period', () => {
    const error = configError(() => createIndicator({ type: 'sma', params: { period: 0 } }, 'indicators[2]'));
    expect(error.path).toBe('indicators[2].params.period');
    expect(error.message).toBe('indicators[2].params.period: must be an integer >= 1, got 0');
    expect(() => createIndicator({ type: 'ema', params: { period: 2.5 } }, 'i')).toThrow(
      'i.params.period: must be an integer >= 1, got 2.5',
    );
    expect(() => createIndicator({ type: 'ema', params: { period: '14' } }, 'i')).toThrow(
      'i.params.period: must be an integer >= 1, got "14"',
    );
    expect(() => createIndicator({ type: 'rsi', params: { period: 2 ** 30 } }, 'i')).toThrow(
      'i.params.period: must be at most 16777216',
    );
  });

  it('rejects unknown types, unknown params and missing params', () => {
    expect(() => createIndicator({ type: 'wma', params: { period: 3 } }, 'i')).toThrow(
      'i.type: unknown indicator type "wma" (known: sma, ema, rsi, macd, bbands, atr, vwap, stoch), got "wma"',
    );
    expect(() => createIndicator({ type: 'sma', params: { period: 3, lenght: 4 } }, 'i')).toThrow(
      'i.params.lenght: unknown parameter for sma (known: period)',
    );
    expect(() => createIndicator({ type: 'sma' }, 'i')).toThrow('i.params.period: is required for sma (an integer >= 1)');
    expect(() => createIndicator({ type: 'macd', params: { fastPeriod: 12, slowPeriod: 26 } }, 'i')).toThrow(
      'i.params.signalPeriod: is required for macd',
    );
  });

  it('rejects a MACD whose fast period is not below its slow period', () => {
    expect(() => createIndicator({ type: 'macd', params: { fastPeriod: 26, slowPeriod: 12, signalPeriod: 9 } }, 'i')).toThrow(
      'i.params.fastPeriod: must be less than slowPeriod (12), got 26',
    );
  });

  it('rejects a non-positive or non-finite stdDev', () => {
    for (const bad of [0, -2, Infinity, '2']) {
      expect(() => createIndicator({ type: 'bbands', params: { period: 20, stdDev: bad } }, 'i')).toThrow(
        /^i\.params\.stdDev: must be a finite number > 0, got/,
      );
    }
  });

  it('rejects malformed specs from untyped configuration', () => {
    expect(() => validateIndicatorSpec(null, 'i')).toThrow(/^i: must be an object with a "type"/);
    expect(() => validateIndicatorSpec({ params: {} }, 'i')).toThrow(/^i\.type: must be a string .* got nothing/);
    expect(() => validateIndicatorSpec({ type: 'sma', params: [3] }, 'i')).toThrow('i.params: must be an object, got [3]');
  });
});

describe('parseIndicatorShorthand', () => {
  it('reads every type in its documented order', () => {
    expect(parseIndicatorShorthand('macd:12:26:9')).toEqual({
      type: 'macd',
      params: { fastPeriod: 12, slowPeriod: 26, signalPeriod: 9 },
    });
    expect(parseIndicatorShorthand('sma:20')).toEqual({ type: 'sma', params: { period: 20 } });
    expect(parseIndicatorShorthand(' ema : 9 ').params).toEqual({ period: 9 });
    expect(parseIndicatorShorthand('rsi:14').params).toEqual({ period: 14 });
    expect(parseIndicatorShorthand('atr:14').params).toEqual({ period: 14 });
    expect(parseIndicatorShorthand('vwap:30').params).toEqual({ period: 30 });
    expect(parseIndicatorShorthand('bbands:20:2.5').params).toEqual({ period: 20, stdDev: 2.5 });
    expect(parseIndicatorShorthand('stoch:5:3:2').params).toEqual({ fastKPeriod: 5, slowKPeriod: 3, slowDPeriod: 2 });
  });

  it('fills defaults for omitted trailing parameters', () => {
    expect(parseIndicatorShorthand('bbands:20').params).toEqual({ period: 20, stdDev: 2 });
    expect(parseIndicatorShorthand('stoch').params).toEqual({ fastKPeriod: 14, slowKPeriod: 3, slowDPeriod: 3 });
    expect(parseIndicatorShorthand('stoch:21').params).toEqual({ fastKPeriod: 21, slowKPeriod: 3, slowDPeriod: 3 });
  });

  it('produces specs that createIndicator accepts', () => {
    const spec = parseIndicatorShorthand('macd:12:26:9');
    expect(createIndicator(spec, 'x').warmupPeriod).toBe(34);
  });

  it('explains what is wrong with the text', () => {
    expect(() => parseIndicatorShorthand('wma:3', 'strategies[0].indicators[1]')).toThrow(
      'strategies[0].indicators[1]: "wma:3": unknown indicator type "wma" (known: sma, ema, rsi, macd, bbands, atr, vwap, stoch)',
    );
    expect(() => parseIndicatorShorthand('macd:12:26')).toThrow(
      'indicator: "macd:12:26": missing signalPeriod (expected macd:fastPeriod:slowPeriod:signalPeriod)',
    );
    expect(() => parseIndicatorShorthand('sma:20:3')).toThrow('"sma:20:3": sma takes at most 1 parameter(s) (sma:period), got 2');
    expect(() => parseIndicatorShorthand('sma:abc')).toThrow('"sma:abc": period must be a number, got "abc"');
    expect(() => parseIndicatorShorthand('sma:')).toThrow('"sma:": period must be a number, got ""');
    expect(() => parseIndicatorShorthand('sma:0')).toThrow('"sma:0": period must be an integer >= 1, got 0');
    expect(() => parseIndicatorShorthand('macd:26:12:9')).toThrow(
      '"macd:26:12:9": fastPeriod must be less than slowPeriod (12), got 26',
    );
    expect(() => parseIndicatorShorthand('bbands:20:-1')).toThrow('"bbands:20:-1": stdDev must be a finite number > 0, got -1');
    expect(configError(() => parseIndicatorShorthand('')).path).toBe('indicator');
  });

  it('says how much history warms a set of indicators: the longest warm-up', () => {
    expect(longestWarmup([{ type: 'sma', params: { period: 3 } }, { type: 'rsi', params: { period: 4 } }])).toBe(5); // RSI(4): its 5th value
    expect(longestWarmup([{ type: 'macd', params: { fastPeriod: 12, slowPeriod: 26, signalPeriod: 9 } }])).toBe(34);
    expect(longestWarmup([])).toBe(0);
  });
});
