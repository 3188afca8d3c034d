import { describe, expect, it } from 'vitest';
import { TickKind } from '../wire/layout.ts';
import { GeneratedTick } from './random-walk.ts';
import { defaultRegimeWalk, regimeCoefficients, RegimeWalk, type RegimeWalkOptions } from './regime-walk.ts';

function options(overrides: Partial<RegimeWalkOptions> = {}): RegimeWalkOptions {
  return { symbolCount: 8, seed: 7, tradeRatio: 0.8, startPrice: 100, ticksPerSecond: 400, ...defaultRegimeWalk, ...overrides };
}

/** Every tick of `count` from a fresh walk, as [symbol, kind, price, size] rows. */
function ticks(walkOptions: RegimeWalkOptions, count: number): number[][] {
  const walk = new RegimeWalk(walkOptions);
  const tick = new GeneratedTick();
  return Array.from({ length: count }, () => {
    walk.next(tick);
    return [tick.symbolIndex, tick.kind, tick.price, tick.size];
  });
}

describe('regimeCoefficients', () => {
  it.each([
    [3000, 4 / 3000, 1 / 3000],
    [16, 0.25, 0.0625],
    [8, 0.5, 0.125],
    [4, 0.5, 0.125],
    [1, 0.5, 0.125],
  ])('%i trades per regime -> ease %f, pull %f', (regimeTrades, ease, pull) => {
    const coefficients = regimeCoefficients(regimeTrades);
    expect(coefficients.ease).toBeCloseTo(ease, 12);
    expect(coefficients.pull).toBeCloseTo(pull, 12);
  });
});

describe('RegimeWalk', () => {
  it('repeats the same ticks for the same seed and others for another seed', () => {
    const first = ticks(options(), 20_000);
    expect(ticks(options(), 20_000)).toEqual(first);
    expect(ticks(options({ seed: 8 }), 20_000)).not.toEqual(first);
  });

  it('round-robins symbols and emits trades and both quote sides, one basis point either side of the path', () => {
    const walk = new RegimeWalk(options({ symbolCount: 3, tradeRatio: 0.5 }));
    const tick = new GeneratedTick();
    const lastTrade = new Float64Array(3);
    const kinds = new Set<number>();
    for (let i = 0; i < 30_000; i++) {
      walk.next(tick);
      expect(tick.symbolIndex).toBe(i % 3);
      expect(tick.size >= 1 && tick.size <= 500).toBe(true);
      kinds.add(tick.kind);
      if (tick.kind === TickKind.Trade) lastTrade[tick.symbolIndex] = tick.price;
      else if (lastTrade[tick.symbolIndex] > 0) {
        // Quotes read the path without moving it: they sit 1 bp from the symbol's last trade.
        const side = tick.kind === TickKind.Bid ? -1 : 1;
        expect(tick.price / lastTrade[tick.symbolIndex] - 1).toBeCloseTo(side * 1e-4, 12);
      }
    }
    expect([...kinds].sort()).toEqual([TickKind.Trade, TickKind.Bid, TickKind.Ask].sort());
  });

  it('keeps every price positive and within 4 % of its symbol anchor over ten simulated minutes', () => {
    // Levels are clamped to ±3 levelSpread (3 %) and the critically damped pull never overshoots far: the anchor
    // (startPrice x [1, 3)) is the symbol's first price, which starts at rest at the anchor.
    const walk = new RegimeWalk(options({ tradeRatio: 1 }));
    const tick = new GeneratedTick();
    const first = new Float64Array(8);
    const low = new Float64Array(8).fill(Infinity);
    const high = new Float64Array(8);
    for (let i = 0; i < 400 * 600; i++) {
      walk.next(tick);
      const s = tick.symbolIndex;
      if (first[s] === 0) first[s] = tick.price;
      low[s] = Math.min(low[s], tick.price);
      high[s] = Math.max(high[s], tick.price);
    }
    for (let s = 0; s < 8; s++) {
      expect(first[s] >= 100 && first[s] < 300).toBe(true);
      expect(low[s]).toBeGreaterThan(first[s] * Math.exp(-0.04));
      expect(high[s]).toBeLessThan(first[s] * Math.exp(0.04));
      // It does move: each symbol trends through more than a tenth of a percent in ten minutes.
      expect(high[s] / low[s]).toBeGreaterThan(1.001);
    }
  });

  it('refuses options outside their ranges, naming the option', () => {
    expect(() => new RegimeWalk(options({ tradeRatio: 1.5 }))).toThrow('tradeRatio must be in [0, 1]');
    expect(() => new RegimeWalk(options({ ticksPerSecond: 0 }))).toThrow('ticksPerSecond must be > 0, got 0');
    expect(() => new RegimeWalk(options({ regimeSeconds: Number.NaN }))).toThrow('regimeSeconds must be > 0, got NaN');
    expect(() => new RegimeWalk(options({ levelSpread: -0.01 }))).toThrow('levelSpread must be in [0, 0.2], got -0.01');
  });

  it('holds still with no trades: quotes stay at the anchor', () => {
    const prices = ticks(options({ symbolCount: 1, tradeRatio: 0 }), 1_000).map((row) => row[2]);
    const mid = (Math.min(...prices) + Math.max(...prices)) / 2;
    expect(prices.every((price) => Math.abs(price / mid - 1) < 1.0001e-4)).toBe(true);
  });
});
