import { describe, expect, it } from 'vitest';
import { horizon, kernelSource } from './gpu-kernels.ts';

describe('horizon', () => {
  it('keeps the first K terms with q^K <= 2^-24, the f32 epsilon', () => {
    for (const period of [2, 9, 14, 20, 26, 200]) {
      for (const q of [1 - 2 / (period + 1), 1 - 1 / period]) {
        const k = horizon(q);
        expect(q ** k).toBeLessThanOrEqual(2 ** -24);
        expect(q ** (k - 1)).toBeGreaterThan(2 ** -24);
      }
    }
    expect(horizon(1 - 2 / 21)).toBe(167); // EMA(20)
    expect(horizon(0)).toBe(1); // EMA(1), RSI(1): the latest value alone
  });

  it('rejects a decay factor outside [0, 1)', () => {
    expect(() => horizon(1)).toThrow(RangeError);
    expect(() => horizon(-0.5)).toThrow('decay factor must be in [0, 1), got -0.5');
  });
});

describe('kernelSource', () => {
  it('reads panels by (bar, symbol) and folded series by row and column, never by a flat f32 index', () => {
    expect(kernelSource('smaOf', 'panel')).toContain('x[t - offset - j][s]');
    const folded = kernelSource('smaOf', 'folded');
    expect(folded).toContain('Math.floor(((t - offset - j) + 0.5) / 1024)');
    expect(folded).toContain('if (t >= n) { return 0; }');
  });
});
