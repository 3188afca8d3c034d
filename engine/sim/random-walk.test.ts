import { describe, expect, it } from 'vitest';
import { TickKind } from '../wire/layout.ts';
import { Mulberry32 } from '../random/mulberry32.ts';
import { GeneratedTick, NormalDeviates, RandomWalk } from './random-walk.ts';

describe('Mulberry32', () => {
  it('repeats the same sequence for the same seed and stays in [0, 1)', () => {
    const a = new Mulberry32(42);
    const b = new Mulberry32(42);
    for (let i = 0; i < 10_000; i++) {
      const x = a.next();
      expect(x).toBe(b.next());
      expect(x >= 0 && x < 1).toBe(true);
    }
  });
});

describe('RandomWalk', () => {
  it('produces positive finite prices, round-robins symbols and is deterministic', () => {
    const options = { symbolCount: 3, seed: 7, tradeRatio: 0.5, volatility: 0.001, startPrice: 100 };
    const walk = new RandomWalk(options);
    const again = new RandomWalk(options);
    const tick = new GeneratedTick();
    const twin = new GeneratedTick();
    const kinds = new Set<number>();
    for (let i = 0; i < 30_000; i++) {
      walk.next(tick);
      again.next(twin);
      expect(tick.symbolIndex).toBe(i % 3);
      expect(Number.isFinite(tick.price) && tick.price > 0).toBe(true);
      expect(tick.size).toBeGreaterThanOrEqual(1);
      expect(tick.price).toBe(twin.price);
      kinds.add(tick.kind);
    }
    expect([...kinds].sort()).toEqual([TickKind.Trade, TickKind.Bid, TickKind.Ask].sort());
  });

  it('emits the ticks it always has for a seed, so the feed default path is unchanged', () => {
    const walk = new RandomWalk({ symbolCount: 3, seed: 7, tradeRatio: 0.5, volatility: 0.001, startPrice: 100 });
    const tick = new GeneratedTick();
    const rows = Array.from({ length: 6 }, () => {
      walk.next(tick);
      return [tick.symbolIndex, tick.kind, tick.price, tick.size];
    });
    expect(rows).toEqual([
      [0, TickKind.Trade, 102.18, 234],
      [1, TickKind.Trade, 112.37, 277],
      [2, TickKind.Trade, 295.36, 383],
      [0, TickKind.Bid, 102.34, 99],
      [1, TickKind.Bid, 112.33, 149],
      [2, TickKind.Ask, 295.66, 124],
    ]);
  });

  it('emits only trades when tradeRatio is 1', () => {
    const walk = new RandomWalk({ symbolCount: 2, seed: 1, tradeRatio: 1, volatility: 0.001, startPrice: 50 });
    const tick = new GeneratedTick();
    for (let i = 0; i < 1_000; i++) expect(walk.next(tick).kind).toBe(TickKind.Trade);
  });
});

describe('NormalDeviates', () => {
  it('draws standard normals, two per pair of uniforms, the same for the same seed', () => {
    const rng = new Mulberry32(3);
    const normal = new NormalDeviates(rng);
    const twin = new NormalDeviates(new Mulberry32(3));
    let sum = 0;
    let squares = 0;
    let mismatches = 0;
    const count = 100_000;
    for (let i = 0; i < count; i++) {
      const x = normal.next();
      if (x !== twin.next()) mismatches++;
      sum += x;
      squares += x * x;
    }
    expect(mismatches).toBe(0);
    expect(Math.abs(sum / count)).toBeLessThan(0.01);
    expect(Math.abs(squares / count - 1)).toBeLessThan(0.02);
    // 100 000 normals took 100 000 uniforms: the next uniform is the 100 001st of the seed.
    const reference = new Mulberry32(3);
    for (let i = 0; i < count; i++) reference.next();
    expect(rng.next()).toBe(reference.next());
  });
});
