import { describe, expect, it } from 'vitest';
import { randomWalkBars } from '../batch/series.ts';
import { fastK, Stochastic, stochBatch } from './stoch.ts';

const f64 = (...values: number[]): Float64Array => Float64Array.from(values);

// Bars (high, low, close); fastK(3) over the last 3 bars' highest high and lowest low:
// 0: (10, 8, 9)
// 1: (11, 9, 10)
// 2: (12, 9, 11)   HH 12, LL 8  -> 100*(11-8)/4  = 75
// 3: (12, 10, 10)  HH 12, LL 9  -> 100*(10-9)/3  = 100/3   slowK(2) = (75 + 100/3)/2   = 325/6
// 4: (13, 11, 13)  HH 13, LL 9  -> 100*(13-9)/4  = 100     slowK = (100/3 + 100)/2     = 200/3
//                                                          slowD(2) = (325/6 + 200/3)/2 = 725/12
// 5: (13, 12, 12)  HH 13, LL 10 -> 100*(12-10)/3 = 200/3   slowK = (100 + 200/3)/2     = 250/3
//                                                          slowD = (200/3 + 250/3)/2    = 75
const high = f64(10, 11, 12, 12, 13, 13);
const low = f64(8, 9, 9, 10, 11, 12);
const close = f64(9, 10, 11, 10, 13, 12);

describe('Stochastic', () => {
  it('computes TA-Lib STOCH 3/2/2 by hand, both outputs from index fastK + slowK + slowD - 3', () => {
    const out = stochBatch(high, low, close, 3, 2, 2);
    expect(Array.from(out.slowK.subarray(0, 4))).toEqual([NaN, NaN, NaN, NaN]);
    expect(Array.from(out.slowD.subarray(0, 4))).toEqual([NaN, NaN, NaN, NaN]);
    expect(out.slowK[4]).toBeCloseTo(200 / 3, 12);
    expect(out.slowD[4]).toBeCloseTo(725 / 12, 12);
    expect(out.slowK[5]).toBeCloseTo(250 / 3, 12);
    expect(out.slowD[5]).toBeCloseTo(75, 12);
  });

  it('streams the same values with a warm-up of 5 updates', () => {
    const stoch = new Stochastic(3, 2, 2);
    expect(stoch.warmupPeriod).toBe(5);
    for (let i = 0; i < 4; i++) stoch.update(close[i], high[i], low[i]);
    expect(stoch.isStable).toBe(false);
    expect(stoch.result).toBeNull();
    expect(stoch.output(0)).toBeNaN();
    stoch.update(close[4], high[4], low[4]);
    const first = stoch.result;
    expect(first?.slowK).toBeCloseTo(200 / 3, 12);
    expect(first?.slowD).toBeCloseTo(725 / 12, 12);
    stoch.update(close[5], high[5], low[5]);
    expect(stoch.result).toBe(first); // one preallocated object
    expect(stoch.output(1)).toBeCloseTo(75, 12);
    expect(() => stoch.output(2)).toThrow(RangeError);
  });

  it('defaults to 14/3/3 with the first output at index 17', () => {
    const bars = randomWalkBars(40, 4);
    const stoch = new Stochastic();
    expect(stoch.warmupPeriod).toBe(18);
    const out = stochBatch(bars.high, bars.low, bars.close);
    expect(out.slowK[16]).toBeNaN();
    expect(out.slowD[16]).toBeNaN();
    expect(Number.isFinite(out.slowK[17])).toBe(true);
    expect(Number.isFinite(out.slowD[17])).toBe(true);
  });

  it('returns 50 for fastK on a flat range', () => {
    expect(fastK(5, 5, 5)).toBe(50);
    const flat = new Float64Array(10).fill(7);
    const out = stochBatch(flat, flat, flat, 3, 2, 2);
    expect(out.slowK[9]).toBe(50);
    expect(out.slowD[9]).toBe(50);
  });

  it('finds the window extremes across int32 bar-number wrap-around and many equal highs', () => {
    // Start the bar counter just below 2^31 so it wraps mid-run, drive the deques through many equal prices
    // (0.01 grid) and evictions, and compare against a naive max/min scan.
    const bars = randomWalkBars(20_000, 8);
    const fk = 9;
    const stoch = new Stochastic(fk, 1, 1);
    (stoch as unknown as { bar: number }).bar = 0x7fffffff - 5000;
    for (let i = 0; i < bars.close.length; i++) {
      stoch.update(bars.close[i], bars.high[i], bars.low[i]);
      if (i >= fk - 1) {
        let hh = -Infinity;
        let ll = Infinity;
        for (let j = i - fk + 1; j <= i; j++) {
          hh = Math.max(hh, bars.high[j]);
          ll = Math.min(ll, bars.low[j]);
        }
        // slowK(1) is fastK through a rolling sum, so equal up to rounding; a wrong extreme is off by far more.
        expect(stoch.result?.slowK).toBeCloseTo(fastK(bars.close[i], hh, ll), 9);
      }
    }
  });

  it('resets to the fresh state', () => {
    const stoch = new Stochastic(3, 2, 2);
    for (let i = 0; i < 6; i++) stoch.update(close[i], high[i], low[i]);
    stoch.reset();
    expect(stoch.isStable).toBe(false);
    expect(stoch.output(0)).toBeNaN();
    for (let i = 0; i < 5; i++) stoch.update(close[i], high[i], low[i]);
    expect(stoch.result?.slowK).toBeCloseTo(200 / 3, 12);
  });
});
