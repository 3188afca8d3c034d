import { describe, expect, it } from 'vitest';
import { FLAT_RSI, Rsi, rsiBatch, rsiFromAverages } from './rsi.ts';

const f64 = (...values: number[]): Float64Array => Float64Array.from(values);

// The 14-period RSI example series popularised by StockCharts ("RSI" ChartSchool article).
const textbook = f64(
  44.34, 44.09, 44.15, 43.61, 44.33, 44.83, 45.1, 45.42, 45.84, 46.08, 45.89, 46.03, 45.61, 46.28, 46.28, 46.0,
  46.03, 46.41, 46.22, 45.64,
);

describe('Rsi', () => {
  it('computes Wilder RSI by hand on a short series, first output at index period', () => {
    // Changes: +1, +1, -1, +1, +1. RSI(3) at index 3: avg gain 2/3, avg loss 1/3 -> 100 * (2/3) = 66.67.
    // Index 4 (+1): gain (2/3*2 + 1)/3 = 7/9, loss (1/3*2)/3 = 2/9 -> 77.78.
    // Index 5 (+1): gain (7/9*2 + 1)/3 = 23/27, loss (2/9*2)/3 = 4/27 -> 85.19.
    const out = rsiBatch(f64(1, 2, 3, 2, 3, 4), 3);
    expect(Array.from(out.subarray(0, 3))).toEqual([NaN, NaN, NaN]);
    expect(out[3]).toBeCloseTo(200 / 3, 12);
    expect(out[4]).toBeCloseTo(700 / 9, 12);
    expect(out[5]).toBeCloseTo(2300 / 27, 12);
  });

  it('matches the textbook series', () => {
    // First 14 changes: gains 0.06+0.72+0.50+0.27+0.32+0.42+0.24+0.14+0.67 = 3.34,
    // losses 0.25+0.54+0.19+0.42 = 1.40 -> RSI 100 * 3.34 / 4.74 = 70.4641 (TA-Lib prints 70.46).
    // Next change -0.28: gain 3.34/14*13/14, loss (1.40/14*13 + 0.28)/14 -> 100 * 43.42 / (43.42 + 18.2 + 3.92).
    const out = rsiBatch(textbook, 14);
    expect(out[13]).toBeNaN();
    expect(out[14]).toBeCloseTo((100 * 3.34) / 4.74, 9);
    expect(out[15]).toBeCloseTo((100 * 43.42) / (43.42 + 18.2 + 3.92), 9);
  });

  it('returns 50 on a flat start (0/0), 100 on only gains and 0 on only losses', () => {
    expect(FLAT_RSI).toBe(50);
    expect(Array.from(rsiBatch(f64(5, 5, 5, 5, 5), 3))).toEqual([NaN, NaN, NaN, 50, 50]);
    expect(rsiBatch(f64(1, 2, 3, 4), 3)[3]).toBe(100);
    expect(rsiBatch(f64(4, 3, 2, 1), 3)[3]).toBe(0);
    const rsi = new Rsi(2);
    for (const x of [7, 7, 7]) rsi.update(x);
    expect(rsi.result).toBe(50);
    expect(rsiFromAverages(0, 0)).toBe(50);
  });

  it('keeps its last value through a flat stretch after movement', () => {
    // Both averages decay by (p-1)/p per flat bar, so their ratio, and the RSI, hold.
    const out = rsiBatch(f64(1, 2, 3, 2, 2, 2, 2), 3);
    expect(out[4]).toBeCloseTo(out[3], 12);
    expect(out[6]).toBeCloseTo(out[3], 12);
  });

  it('reports warm-up of period + 1 updates and resets', () => {
    const rsi = new Rsi(3);
    expect(rsi.warmupPeriod).toBe(4);
    for (const x of [1, 2, 3]) rsi.update(x);
    expect(rsi.isStable).toBe(false);
    expect(rsi.output(0)).toBeNaN();
    rsi.update(2);
    expect(rsi.isStable).toBe(true);
    expect(rsi.result).toBeCloseTo(200 / 3, 12);
    rsi.reset();
    expect(rsi.isStable).toBe(false);
    for (const x of [1, 2, 3, 2]) rsi.update(x);
    expect(rsi.result).toBeCloseTo(200 / 3, 12);
  });

  it('returns all NaN when the input holds exactly period values', () => {
    expect(Array.from(rsiBatch(f64(1, 2, 3), 3))).toEqual([NaN, NaN, NaN]);
  });
});
