import { describe, expect, it } from 'vitest';
import { Ema, emaBatch } from './ema.ts';

const f64 = (...values: number[]): Float64Array => Float64Array.from(values);

describe('Ema', () => {
  it('is seeded with the SMA of the first period closes (TA-Lib), then smooths with alpha 2/(p+1)', () => {
    // EMA(3), alpha = 0.5. Seed at index 2: (2+4+6)/3 = 4. Then 4 + 0.5*(8-4) = 6; 6 + 0.5*(12-6) = 9;
    // 9 + 0.5*(8-9) = 8.5.
    expect(Array.from(emaBatch(f64(2, 4, 6, 8, 12, 8), 3))).toEqual([NaN, NaN, 4, 6, 9, 8.5]);
    const ema = new Ema(3);
    const seen: (number | null)[] = [];
    for (const x of [2, 4, 6, 8, 12, 8]) {
      ema.update(x);
      seen.push(ema.result);
    }
    expect(seen).toEqual([null, null, 4, 6, 9, 8.5]);
  });

  it('uses alpha 2/(period+1)', () => {
    // EMA(4), alpha 0.4: seed (1+2+3+4)/4 = 2.5; then 2.5 + 0.4*(10-2.5) = 5.5.
    expect(new Ema(4).alpha).toBe(0.4);
    expect(emaBatch(f64(1, 2, 3, 4, 10), 4)[4]).toBeCloseTo(5.5, 14);
  });

  it('reports warm-up and resets', () => {
    const ema = new Ema(2);
    expect(ema.warmupPeriod).toBe(2);
    ema.update(1);
    expect(ema.isStable).toBe(false);
    expect(ema.output(0)).toBeNaN();
    ema.update(3);
    expect(ema.isStable).toBe(true);
    expect(ema.output(0)).toBe(2);
    ema.reset();
    expect(ema.isStable).toBe(false);
    expect(ema.result).toBeNull();
    ema.update(10);
    ema.update(20);
    expect(ema.result).toBe(15);
  });
});
