import { describe, expect, it } from 'vitest';
import { BollingerBands, bbandsBatch } from './bbands.ts';
import { randomWalkBars } from '../batch/series.ts';
import { smaBatch } from './sma.ts';

const f64 = (...values: number[]): Float64Array => Float64Array.from(values);

describe('BollingerBands', () => {
  it('uses the population standard deviation around the SMA', () => {
    // Window 2, 4, 4, 4, 5, 5, 7, 9: mean 5, squared deviations 9+1+1+1+0+0+4+16 = 32, /8 = 4, sd 2.
    // k 2: 5 +- 4; k 2.5: 5 +- 5.
    const data = f64(2, 4, 4, 4, 5, 5, 7, 9);
    const out = bbandsBatch(data, 8, 2);
    expect(out.upper[6]).toBeNaN();
    expect([out.upper[7], out.middle[7], out.lower[7]]).toEqual([9, 5, 1]);
    const wide = bbandsBatch(data, 8, 2.5);
    expect([wide.upper[7], wide.middle[7], wide.lower[7]]).toEqual([10, 5, 0]);
  });

  it('defaults to k = 2 and aligns the first output at index period - 1', () => {
    // Window 1, 2, 3: mean 2, variance (1+0+1)/3 = 2/3.
    const bands = new BollingerBands(3);
    expect(bands.stdDev).toBe(2);
    expect(bands.warmupPeriod).toBe(3);
    bands.update(1);
    bands.update(2);
    expect(bands.result).toBeNull();
    expect(bands.output(0)).toBeNaN();
    bands.update(3);
    expect(bands.isStable).toBe(true);
    expect(bands.result?.middle).toBe(2);
    expect(bands.result?.upper).toBeCloseTo(2 + 2 * Math.sqrt(2 / 3), 14);
    expect(bands.result?.lower).toBeCloseTo(2 - 2 * Math.sqrt(2 / 3), 14);
  });

  it('gives exactly zero width on a long constant series after a volatile stretch', () => {
    const { close: volatile } = randomWalkBars(5000, 11, 1234.56);
    const n = volatile.length + 20_000;
    const close = new Float64Array(n);
    close.set(volatile);
    close.fill(101.37, volatile.length);
    const period = 20;
    const out = bbandsBatch(close, period, 2.5);
    const bands = new BollingerBands(period, 2.5);
    for (let i = 0; i < n; i++) {
      bands.update(close[i]);
      if (i >= volatile.length + period - 1) {
        expect(out.upper[i] - out.lower[i]).toBe(0);
        expect(out.middle[i]).toBe(101.37);
        expect(bands.result).toEqual({ upper: 101.37, middle: 101.37, lower: 101.37 });
      }
    }
    // One bar into the constant stretch the window still holds volatile values: the width is not zero.
    expect(out.upper[volatile.length] - out.lower[volatile.length]).toBeGreaterThan(0);
  });

  it('gives exactly zero width on a constant series from the start and with period 1', () => {
    const out = bbandsBatch(new Float64Array(50).fill(0.1), 7, 2);
    for (let i = 6; i < 50; i++) expect([out.upper[i], out.middle[i], out.lower[i]]).toEqual([0.1, 0.1, 0.1]);
    const one = bbandsBatch(f64(1, 5, 2), 1, 2);
    expect(Array.from(one.upper)).toEqual([1, 5, 2]);
    expect(Array.from(one.lower)).toEqual([1, 5, 2]);
  });

  it('keeps the middle band bit-identical to the SMA on non-constant windows', () => {
    const { close } = randomWalkBars(5000, 12);
    const out = bbandsBatch(close, 20, 2);
    const sma = smaBatch(close, 20);
    for (let i = 19; i < close.length; i++) {
      const constant = close.subarray(i - 19, i + 1).every((x) => x === close[i]);
      if (!constant) expect(out.middle[i]).toBe(sma[i]);
    }
  });

  it('tracks the two-pass deviation over 2 million updates', () => {
    const period = 30;
    const n = 2_000_000;
    const { close } = randomWalkBars(n, 21, 5000);
    const bands = new BollingerBands(period, 2);
    for (let i = 0; i < n; i++) bands.update(close[i]);
    let sum = 0;
    for (let j = n - period; j < n; j++) sum += close[j];
    const mean = sum / period;
    let m2 = 0;
    for (let j = n - period; j < n; j++) m2 += (close[j] - mean) ** 2;
    const sd = Math.sqrt(m2 / period);
    const r = bands.result!;
    expect(Math.abs(r.middle - mean)).toBeLessThanOrEqual(1e-12 * mean);
    expect(Math.abs((r.upper - r.middle) / 2 - sd)).toBeLessThanOrEqual(1e-9 * sd);
  });

  it('rejects a stdDev that is not a positive finite number', () => {
    expect(() => new BollingerBands(20, 0)).toThrow('stdDev must be a finite number > 0, got 0');
    expect(() => bbandsBatch(f64(1, 2), 2, Number.NaN)).toThrow(RangeError);
  });

  it('resets to the fresh state', () => {
    const bands = new BollingerBands(2);
    for (const x of [1, 1, 1]) bands.update(x);
    bands.reset();
    expect(bands.isStable).toBe(false);
    expect(bands.output(1)).toBeNaN();
    bands.update(1);
    bands.update(3);
    expect(bands.result).toEqual({ upper: 4, middle: 2, lower: 0 });
  });
});
