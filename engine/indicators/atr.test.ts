import { describe, expect, it } from 'vitest';
import { Atr, atrBatch, trueRange } from './atr.ts';

const f64 = (...values: number[]): Float64Array => Float64Array.from(values);

// Bars (high, low, close) and their true ranges against the previous close:
// 0: (10, 8, 9)         no previous close
// 1: (11, 9, 10.5)      max(2, |11-9|, |9-9|)            = 2
// 2: (12, 10, 11)       max(2, |12-10.5|, |10-10.5|)     = 2
// 3: (11.5, 10.5, 11)   max(1, 0.5, 0.5)                 = 1   -> ATR(3) = (2+2+1)/3 = 5/3
// 4: (14, 12, 13)       max(2, |14-11|, |12-11|)         = 3   -> (5/3*2 + 3)/3 = 19/9
// 5: (13, 9, 10)        max(4, 0, |9-13|)                = 4   -> (19/9*2 + 4)/3 = 74/27
// 6: (8, 7, 7.5)        gap down: max(1, |8-10|, |7-10|) = 3   -> (74/27*2 + 3)/3 = 229/81
const high = f64(10, 11, 12, 11.5, 14, 13, 8);
const low = f64(8, 9, 10, 10.5, 12, 9, 7);
const close = f64(9, 10.5, 11, 11, 13, 10, 7.5);

describe('Atr', () => {
  it('computes true range including gaps', () => {
    expect(trueRange(11, 9, 9)).toBe(2);
    expect(trueRange(14, 12, 11)).toBe(3);
    expect(trueRange(8, 7, 10)).toBe(3);
  });

  it('seeds with the mean of the first period true ranges at index period, then smooths (Wilder)', () => {
    const out = atrBatch(high, low, close, 3);
    expect(Array.from(out.subarray(0, 3))).toEqual([NaN, NaN, NaN]);
    expect(out[3]).toBeCloseTo(5 / 3, 14);
    expect(out[4]).toBeCloseTo(19 / 9, 14);
    expect(out[5]).toBeCloseTo(74 / 27, 14);
    expect(out[6]).toBeCloseTo(229 / 81, 14);
  });

  it('streams the same values with warm-up of period + 1', () => {
    const atr = new Atr(3);
    expect(atr.warmupPeriod).toBe(4);
    const seen: (number | null)[] = [];
    for (let i = 0; i < close.length; i++) {
      atr.update(close[i], high[i], low[i]);
      seen.push(atr.result);
    }
    expect(seen.slice(0, 3)).toEqual([null, null, null]);
    expect(seen.slice(3)).toEqual(Array.from(atrBatch(high, low, close, 3).subarray(3)));
    atr.reset();
    expect(atr.isStable).toBe(false);
    expect(atr.output(0)).toBeNaN();
  });

  it('with period 1 returns the true range from bar 1', () => {
    expect(Array.from(atrBatch(high, low, close, 1))).toEqual([NaN, 2, 2, 1, 3, 4, 3]);
  });

  it('rejects mismatched lengths and high below low, naming the index', () => {
    expect(() => atrBatch(f64(1, 2), f64(1), f64(1, 2), 1)).toThrow('low has 1 values, expected 2');
    expect(() => atrBatch(f64(2, 2, 2), f64(1, 3, 1), f64(1.5, 2, 1.5), 1)).toThrow('high[1] (2) is below low[1] (3)');
    expect(() => atrBatch(f64(2, Infinity), f64(1, 1), f64(1, 1), 1)).toThrow('high[1] is not finite');
  });
});
