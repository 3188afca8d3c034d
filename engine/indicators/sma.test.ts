import { describe, expect, it } from 'vitest';
import { randomWalkBars } from '../batch/series.ts';
import { Sma, smaBatch } from './sma.ts';

const f64 = (...values: number[]): Float64Array => Float64Array.from(values);

describe('Sma', () => {
  it('averages the last period closes, first output at index period - 1', () => {
    // SMA(3) of 1..5: (1+2+3)/3 = 2, (2+3+4)/3 = 3, (3+4+5)/3 = 4.
    expect(Array.from(smaBatch(f64(1, 2, 3, 4, 5), 3))).toEqual([NaN, NaN, 2, 3, 4]);
    const sma = new Sma(3);
    const seen: (number | null)[] = [];
    for (const x of [1, 2, 3, 4, 5]) {
      sma.update(x);
      seen.push(sma.result);
    }
    expect(seen).toEqual([null, null, 2, 3, 4]);
  });

  it('reports warm-up through isStable, result and output', () => {
    const sma = new Sma(2);
    expect(sma.warmupPeriod).toBe(2);
    sma.update(10);
    expect(sma.isStable).toBe(false);
    expect(sma.result).toBeNull();
    expect(sma.output(0)).toBeNaN();
    sma.update(20);
    expect(sma.isStable).toBe(true);
    expect(sma.output(0)).toBe(15);
    expect(() => sma.output(1)).toThrow(RangeError);
  });

  it('with period 1 returns each close', () => {
    expect(Array.from(smaBatch(f64(3, 1, 4), 1))).toEqual([3, 1, 4]);
  });

  it('stays within 1e-12 of a fresh window mean over 3 million updates with price spikes', () => {
    const period = 50;
    const n = 3_000_000;
    const { close } = randomWalkBars(n, 7, 1000);
    // Spikes of 1e6 leave large rounding residue in a plain running sum when they drop out of the window.
    for (let i = 1000; i < n; i += 9973) close[i] = 1e6;
    const sma = new Sma(period);
    for (let i = 0; i < n; i++) {
      sma.update(close[i]);
      if (i % 499_979 === 0 && i >= period) {
        let s = 0;
        for (let j = i - period + 1; j <= i; j++) s += close[j];
        expect(Math.abs(sma.result! - s / period)).toBeLessThanOrEqual(1e-12 * (s / period));
      }
    }
    let s = 0;
    for (let j = n - period; j < n; j++) s += close[j];
    expect(Math.abs(sma.result! - s / period)).toBeLessThanOrEqual(1e-12 * (s / period));
  });

  it('keeps a period larger than the re-summation interval exact', () => {
    const { close } = randomWalkBars(6000, 3);
    const period = 2000;
    const out = smaBatch(close, period);
    const sma = new Sma(period);
    for (let i = 0; i < close.length; i++) sma.update(close[i]);
    let s = 0;
    for (let j = close.length - period; j < close.length; j++) s += close[j];
    expect(sma.result).toBeCloseTo(s / period, 10);
    expect(out[close.length - 1]).toBe(sma.result);
  });

  it('rejects bad periods at construction', () => {
    expect(() => new Sma(0)).toThrow('period must be an integer >= 1, got 0');
    expect(() => new Sma(2.5)).toThrow(RangeError);
    expect(() => new Sma(Number.NaN)).toThrow(RangeError);
  });

  it('resets to the fresh state', () => {
    const sma = new Sma(2);
    sma.update(1);
    sma.update(3);
    sma.reset();
    expect(sma.isStable).toBe(false);
    expect(sma.output(0)).toBeNaN();
    sma.update(5);
    sma.update(7);
    expect(sma.result).toBe(6);
  });
});
