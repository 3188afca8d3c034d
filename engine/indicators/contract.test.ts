import { describe, expect, it } from 'vitest';
import { atrBatch } from './atr.ts';
import { bbandsBatch } from './bbands.ts';
import { emaBatch } from './ema.ts';
import { BAR_CLOSE, BAR_HIGH, BAR_LOW, BAR_SLOTS, BAR_VOLUME, type IndicatorType, type StreamingIndicator } from './indicator.ts';
import { macdBatch } from './macd.ts';
import { createIndicator, indicatorTypes } from './registry.ts';
import { rsiBatch } from './rsi.ts';
import { randomWalkBars, streamOutputs, type Bars } from '../batch/series.ts';
import { smaBatch } from './sma.ts';
import { stochBatch } from './stoch.ts';
import { vwapBatch } from './vwap.ts';

/** The batch twin of each streaming type, returning arrays in `outputNames` order. */
const batchOf: Record<IndicatorType, (bars: Bars, p: Record<string, number>) => Float64Array[]> = {
  sma: (b, p) => [smaBatch(b.close, p.period)],
  ema: (b, p) => [emaBatch(b.close, p.period)],
  rsi: (b, p) => [rsiBatch(b.close, p.period)],
  macd: (b, p) => {
    const o = macdBatch(b.close, p.fastPeriod, p.slowPeriod, p.signalPeriod);
    return [o.macd, o.signal, o.histogram];
  },
  bbands: (b, p) => {
    const o = bbandsBatch(b.close, p.period, p.stdDev);
    return [o.upper, o.middle, o.lower];
  },
  atr: (b, p) => [atrBatch(b.high, b.low, b.close, p.period)],
  vwap: (b, p) => [vwapBatch(b.high, b.low, b.close, b.volume, p.period)],
  stoch: (b, p) => {
    const o = stochBatch(b.high, b.low, b.close, p.fastKPeriod, p.slowKPeriod, p.slowDPeriod);
    return [o.slowK, o.slowD];
  },
};

/** Typical, minimal and larger-than-the-re-summation-interval (1024) parameters for every type. */
const cases: { type: IndicatorType; params: Record<string, number>; firstIndex: number }[] = [
  { type: 'sma', params: { period: 20 }, firstIndex: 19 },
  { type: 'sma', params: { period: 1 }, firstIndex: 0 },
  { type: 'sma', params: { period: 1500 }, firstIndex: 1499 },
  { type: 'ema', params: { period: 20 }, firstIndex: 19 },
  { type: 'ema', params: { period: 1 }, firstIndex: 0 },
  { type: 'rsi', params: { period: 14 }, firstIndex: 14 },
  { type: 'rsi', params: { period: 1 }, firstIndex: 1 },
  { type: 'macd', params: { fastPeriod: 12, slowPeriod: 26, signalPeriod: 9 }, firstIndex: 33 },
  { type: 'macd', params: { fastPeriod: 1, slowPeriod: 2, signalPeriod: 1 }, firstIndex: 1 },
  { type: 'bbands', params: { period: 20, stdDev: 2.5 }, firstIndex: 19 },
  { type: 'bbands', params: { period: 1, stdDev: 2 }, firstIndex: 0 },
  { type: 'bbands', params: { period: 1500, stdDev: 2 }, firstIndex: 1499 },
  { type: 'atr', params: { period: 14 }, firstIndex: 14 },
  { type: 'atr', params: { period: 1 }, firstIndex: 1 },
  { type: 'vwap', params: { period: 20 }, firstIndex: 19 },
  { type: 'vwap', params: { period: 1 }, firstIndex: 0 },
  { type: 'vwap', params: { period: 1500 }, firstIndex: 1499 },
  { type: 'stoch', params: { fastKPeriod: 14, slowKPeriod: 3, slowDPeriod: 3 }, firstIndex: 17 },
  { type: 'stoch', params: { fastKPeriod: 1, slowKPeriod: 1, slowDPeriod: 1 }, firstIndex: 0 },
  { type: 'stoch', params: { fastKPeriod: 5, slowKPeriod: 1100, slowDPeriod: 1030 }, firstIndex: 2132 },
];

/** 10k random-walk bars with a 300-bar halt (flat prices, zero volume) to reach every flat-market branch. */
function parityBars(): Bars {
  const bars = randomWalkBars(10_000, 42);
  const price = bars.close[2999];
  for (let i = 3000; i < 3300; i++) {
    bars.high[i] = price;
    bars.low[i] = price;
    bars.close[i] = price;
    bars.volume[i] = 0;
  }
  return bars;
}

const bars = parityBars();

describe('every streaming indicator', () => {
  it('covers every registered type', () => {
    expect(new Set(cases.map((c) => c.type))).toEqual(new Set(indicatorTypes));
  });

  describe.each(cases)('$type $params', ({ type, params, firstIndex }) => {
    const make = (): StreamingIndicator => createIndicator({ type, params }, 'test');

    it('matches its batch function bit for bit on 10k random-walk bars', () => {
      const streamed = streamOutputs(make(), bars);
      const batch = batchOf[type](bars, params);
      expect(streamed.length).toBe(batch.length);
      for (let k = 0; k < batch.length; k++) {
        for (let i = 0; i < bars.close.length; i++) {
          if (!Object.is(streamed[k][i], batch[k][i])) {
            expect.fail(`output ${k} at index ${i}: streamed ${streamed[k][i]}, batch ${batch[k][i]}`);
          }
        }
      }
    });

    it('matches its batch function at lengths around the first re-summation index', () => {
      // Re-summations happen at index period - 1 + max(1024, period) of each rolling window; batch code splits
      // its loops there, so an input ending just before, on or just after that index must agree too.
      const ends = [firstIndex + 1023, firstIndex + 1024, firstIndex + 1025, firstIndex + 1026];
      for (const end of ends) {
        if (end > bars.close.length) continue;
        const slice: Bars = {
          high: bars.high.subarray(0, end),
          low: bars.low.subarray(0, end),
          close: bars.close.subarray(0, end),
          volume: bars.volume.subarray(0, end),
        };
        const streamed = streamOutputs(make(), slice);
        const batch = batchOf[type](slice, params);
        for (let k = 0; k < batch.length; k++) expect(Array.from(batch[k]), `length ${end}`).toEqual(Array.from(streamed[k]));
      }
    });

    it('is NaN, null and unstable until index warmupPeriod - 1, then defined for good', () => {
      const indicator = make();
      expect(indicator.type).toBe(type);
      expect(indicator.warmupPeriod - 1).toBe(firstIndex);
      const outputs = indicator.outputNames.length;
      for (let i = 0; i < firstIndex + 50; i++) {
        indicator.update(bars.close[i], bars.high[i], bars.low[i], bars.volume[i]);
        const stable = i >= firstIndex;
        expect(indicator.isStable).toBe(stable);
        expect((indicator as unknown as { result: unknown }).result === null).toBe(!stable);
        for (let k = 0; k < outputs; k++) expect(Number.isNaN(indicator.output(k))).toBe(!stable);
      }
      expect(() => indicator.output(outputs)).toThrow(RangeError);
      expect(() => indicator.output(-1)).toThrow(RangeError);
    });

    it('reproduces its outputs exactly after reset()', () => {
      const indicator = make();
      const slice: Bars = {
        high: bars.high.subarray(0, 3000),
        low: bars.low.subarray(0, 3000),
        close: bars.close.subarray(0, 3000),
        volume: bars.volume.subarray(0, 3000),
      };
      const first = streamOutputs(indicator, slice);
      indicator.reset();
      expect(indicator.isStable).toBe(false);
      expect(Number.isNaN(indicator.output(0))).toBe(true);
      expect(streamOutputs(indicator, slice)).toEqual(first);
    });

    it('steps from a bar array it can share, writing values in place: the same outputs as update(...)', () => {
      const register = new Float64Array(BAR_SLOTS);
      const stepped = make();
      const sibling = make();
      const values = stepped.values;
      const n = 3000;
      const outputs = stepped.outputNames.map(() => new Float64Array(n));
      for (let i = 0; i < n; i++) {
        register[BAR_CLOSE] = bars.close[i];
        register[BAR_HIGH] = bars.high[i];
        register[BAR_LOW] = bars.low[i];
        register[BAR_VOLUME] = bars.volume[i];
        stepped.step(register);
        sibling.step(register);
        for (let k = 0; k < outputs.length; k++) {
          outputs[k][i] = values[k];
          expect(stepped.output(k)).toBe(values[k]);
        }
      }
      expect(stepped.values).toBe(values); // the same array throughout: readers may keep it
      const updated = streamOutputs(make(), { high: bars.high.subarray(0, n), low: bars.low.subarray(0, n), close: bars.close.subarray(0, n), volume: bars.volume.subarray(0, n) });
      expect(outputs).toEqual(updated);
      expect(sibling.values).toEqual(stepped.values);
    });
  });
});
