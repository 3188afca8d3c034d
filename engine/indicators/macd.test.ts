import { describe, expect, it } from 'vitest';
import { emaBatch } from './ema.ts';
import { Macd, macdBatch } from './macd.ts';
import { randomWalkBars } from '../batch/series.ts';

const f64 = (...values: number[]): Float64Array => Float64Array.from(values);

describe('Macd', () => {
  it('computes MACD(2, 3, 2) by hand with TA-Lib seeding', () => {
    // Closes 1, 2, 4, 7, 11. Slow EMA(3), alpha 1/2, seeded at index 2 with (1+2+4)/3 = 7/3.
    // Fast EMA(2), alpha 2/3, seeded at index 2 too, with the SMA of closes [1, 3): (2+4)/2 = 3.
    // Index 2: macd = 3 - 7/3 = 2/3.
    // Index 3: fast = 3 + 2/3*(7-3) = 17/3, slow = 7/3 + 1/2*(7-7/3) = 14/3, macd = 1;
    //          signal seeded with (2/3 + 1)/2 = 5/6, histogram 1/6. First output: index 3 = 3-1 + 2-1.
    // Index 4: fast = 17/3 + 2/3*(11-17/3) = 83/9, slow = 14/3 + 1/2*(11-14/3) = 47/6, macd = 25/18;
    //          signal = 5/6 + 2/3*(25/18 - 5/6) = 65/54, histogram = 5/27.
    const out = macdBatch(f64(1, 2, 4, 7, 11), 2, 3, 2);
    expect(Array.from(out.macd.subarray(0, 3))).toEqual([NaN, NaN, NaN]);
    expect(Array.from(out.signal.subarray(0, 3))).toEqual([NaN, NaN, NaN]);
    expect(Array.from(out.histogram.subarray(0, 3))).toEqual([NaN, NaN, NaN]);
    expect(out.macd[3]).toBeCloseTo(1, 14);
    expect(out.signal[3]).toBeCloseTo(5 / 6, 14);
    expect(out.histogram[3]).toBeCloseTo(1 / 6, 14);
    expect(out.macd[4]).toBeCloseTo(25 / 18, 14);
    expect(out.signal[4]).toBeCloseTo(65 / 54, 14);
    expect(out.histogram[4]).toBeCloseTo(5 / 27, 14);
  });

  it('starts all three outputs at index 33 for 12/26/9', () => {
    const { close } = randomWalkBars(60, 5);
    const out = macdBatch(close, 12, 26, 9);
    for (const line of [out.macd, out.signal, out.histogram]) {
      expect(line[32]).toBeNaN();
      expect(Number.isFinite(line[33])).toBe(true);
    }
    const macd = new Macd(12, 26, 9);
    expect(macd.warmupPeriod).toBe(34);
    for (let i = 0; i < 33; i++) macd.update(close[i]);
    expect(macd.isStable).toBe(false);
    expect(macd.result).toBeNull();
    macd.update(close[33]);
    expect(macd.isStable).toBe(true);
    expect(macd.result).toEqual({ macd: out.macd[33], signal: out.signal[33], histogram: out.histogram[33] });
  });

  it('equals EMA(fast) - EMA(slow) once the fast seed has decayed', () => {
    // The fast EMA is seeded later than a standalone EMA(fast); the gap shrinks by (1 - 2/13) per bar.
    const { close } = randomWalkBars(600, 9);
    const out = macdBatch(close, 12, 26, 9);
    const fast = emaBatch(close, 12);
    const slow = emaBatch(close, 26);
    expect(out.macd[599]).toBeCloseTo(fast[599] - slow[599], 10);
    expect(out.histogram[599]).toBe(out.macd[599] - out.signal[599]);
  });

  it('mutates one preallocated result object', () => {
    const macd = new Macd(2, 3, 1);
    for (const x of [1, 2, 4]) macd.update(x);
    const first = macd.result;
    macd.update(7);
    expect(macd.result).toBe(first);
    expect(macd.output(0)).toBe(first?.macd);
    expect(macd.output(1)).toBe(first?.signal);
    expect(macd.output(2)).toBe(first?.histogram);
    expect(() => macd.output(3)).toThrow(RangeError);
  });

  it('with signal period 1 has signal equal to macd and zero histogram from index slow - 1', () => {
    const out = macdBatch(f64(1, 2, 4, 7, 11), 2, 3, 1);
    expect(out.macd[1]).toBeNaN();
    expect(out.macd[2]).toBeCloseTo(2 / 3, 14);
    expect(out.signal[2]).toBe(out.macd[2]);
    expect(out.histogram[2]).toBe(0);
  });

  it('rejects fast >= slow', () => {
    expect(() => new Macd(26, 12, 9)).toThrow('fastPeriod (26) must be less than slowPeriod (12)');
    expect(() => macdBatch(f64(1, 2, 3), 2, 2, 1)).toThrow(RangeError);
  });

  it('resets to the fresh state', () => {
    const macd = new Macd(2, 3, 2);
    for (const x of [1, 2, 4, 7]) macd.update(x);
    macd.reset();
    expect(macd.isStable).toBe(false);
    expect(macd.output(0)).toBeNaN();
    for (const x of [1, 2, 4, 7]) macd.update(x);
    expect(macd.result?.macd).toBeCloseTo(1, 14);
  });
});
