import { describe, expect, it } from 'vitest';
import { randomWalkBars } from '../batch/series.ts';
import { typicalPrice, Vwap, vwapBatch } from './vwap.ts';

const f64 = (...values: number[]): Float64Array => Float64Array.from(values);

// Bars (high, low, close, volume) -> typical price (h+l+c)/3:
// 0: (12, 9, 9, 100)   tp 10
// 1: (13, 10, 10, 300) tp 11   VWAP(2) = (10*100 + 11*300) / 400 = 10.75
// 2: (15, 12, 12, 0)   tp 13   (11*300 + 13*0) / 300 = 11
// 3: (9, 6, 6, 0)      tp 7    no volume in the window: mean typical price (13 + 7) / 2 = 10
// 4: (12, 9, 9, 50)    tp 10   (7*0 + 10*50) / 50 = 10
const high = f64(12, 13, 15, 9, 12);
const low = f64(9, 10, 12, 6, 9);
const close = f64(9, 10, 12, 6, 9);
const volume = f64(100, 300, 0, 0, 50);

describe('Vwap', () => {
  it('weights the typical price by volume over the last period bars', () => {
    expect(typicalPrice(12, 9, 9)).toBe(10);
    expect(Array.from(vwapBatch(high, low, close, volume, 2))).toEqual([NaN, 10.75, 11, 10, 10]);
  });

  it('streams the same values, first output at index period - 1', () => {
    const vwap = new Vwap(2);
    expect(vwap.warmupPeriod).toBe(2);
    const seen: (number | null)[] = [];
    for (let i = 0; i < close.length; i++) {
      vwap.update(close[i], high[i], low[i], volume[i]);
      seen.push(vwap.result);
    }
    expect(seen).toEqual([null, 10.75, 11, 10, 10]);
    vwap.reset();
    expect(vwap.isStable).toBe(false);
    expect(vwap.output(0)).toBeNaN();
  });

  it('returns the mean typical price while the whole window has zero volume', () => {
    const out = vwapBatch(f64(12, 13, 15), f64(9, 10, 12), f64(9, 10, 12), f64(0, 0, 0), 2);
    expect(Array.from(out)).toEqual([NaN, 10.5, 12]);
  });

  it('recovers exactly after a huge volume bar leaves the window', () => {
    // 1e20 + 1 - 1e20 rounds to 0 in a running sum; the exact non-zero-volume count forces a re-summation.
    const out = vwapBatch(f64(3, 6, 9, 12), f64(3, 6, 9, 12), f64(3, 6, 9, 12), f64(1e20, 1, 1, 0), 2);
    expect(out[2]).toBe(7.5);
    expect(out[3]).toBe(9);
  });

  it('stays within 1e-12 of a fresh window computation over 2 million updates', () => {
    const period = 40;
    const n = 2_000_000;
    const bars = randomWalkBars(n, 31, 250);
    const vwap = new Vwap(period);
    for (let i = 0; i < n; i++) vwap.update(bars.close[i], bars.high[i], bars.low[i], bars.volume[i]);
    let pv = 0;
    let v = 0;
    for (let j = n - period; j < n; j++) {
      const tp = typicalPrice(bars.high[j], bars.low[j], bars.close[j]);
      pv += tp * bars.volume[j];
      v += bars.volume[j];
    }
    expect(Math.abs(vwap.result! - pv / v)).toBeLessThanOrEqual(1e-12 * (pv / v));
  });

  it('rejects negative volume, naming the index', () => {
    expect(() => vwapBatch(high, low, close, f64(1, 1, -1, 1, 1), 2)).toThrow('volume[2] is negative (-1)');
    expect(() => vwapBatch(high, low, close, f64(1), 2)).toThrow('volume has 1 values, expected 5');
  });
});
