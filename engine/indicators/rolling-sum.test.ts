import { describe, expect, it } from 'vitest';
import { nextPow2, RESYNC_MIN, resyncInterval, RollingSum } from './rolling-sum.ts';
import { seededRandom } from '../batch/series.ts';

describe('RollingSum', () => {
  it('sums the last period values, including when period equals the ring capacity', () => {
    // Period 4 fills a capacity-4 ring exactly, so the leaving and arriving values share a slot.
    const sum = new RollingSum(4);
    const seen: number[] = [];
    for (const x of [1, 2, 3, 4, 5, 6, 7]) {
      sum.push(x);
      seen.push(sum.sum);
    }
    expect(seen).toEqual([1, 3, 6, 10, 14, 18, 22]);
    expect(sum.full).toBe(true);
  });

  it('does not drift over 4 million updates, even after the price level drops a million-fold', () => {
    // A plain running sum keeps the rounding residue of every update it has seen: the residue built up at
    // price ~1e6 stays after prices fall to ~1, where it is large relative to the sum. The periodic exact
    // re-summation discards it.
    const period = 64;
    const n = 4_000_000;
    const random = seededRandom(5);
    const window = new Float64Array(period);
    const sum = new RollingSum(period);
    let plain = 0;
    let plainWorst = 0;
    let worst = 0;
    for (let i = 0; i < n; i++) {
      const x = (i < n / 2 ? 1e6 : 1) * (1 + random() * 0.01);
      const old = window[i % period];
      window[i % period] = x;
      sum.push(x);
      plain += x - old;
      if (i % 100_003 === 0 || i === n - 1) {
        let exact = 0;
        for (let k = 0; k < period; k++) exact += window[k];
        worst = Math.max(worst, Math.abs(sum.sum - exact) / exact);
        plainWorst = Math.max(plainWorst, Math.abs(plain - exact) / exact);
      }
    }
    expect(worst).toBeLessThan(1e-13);
    expect(plainWorst).toBeGreaterThan(1e-11);
  });

  it('re-sums every max(1024, period) updates', () => {
    expect(RESYNC_MIN).toBe(1024);
    expect(resyncInterval(14)).toBe(1024);
    expect(resyncInterval(5000)).toBe(5000);
    expect([1, 2, 3, 5, 1024, 1025].map(nextPow2)).toEqual([1, 2, 4, 8, 1024, 2048]);
  });

  it('resets to empty', () => {
    const sum = new RollingSum(2);
    sum.push(5);
    sum.push(6);
    sum.reset();
    expect([sum.sum, sum.count, sum.full]).toEqual([0, 0, false]);
    sum.push(1);
    sum.push(2);
    sum.push(3);
    expect(sum.sum).toBe(5);
  });
});
