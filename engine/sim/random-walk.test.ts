import { describe, expect, it } from 'vitest';
import { TickKind } from '../wire/layout.ts';
import { Mulberry32 } from '../random/mulberry32.ts';
import { GeneratedTick, RandomWalk } from './random-walk.ts';

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

  it('emits only trades when tradeRatio is 1', () => {
    const walk = new RandomWalk({ symbolCount: 2, seed: 1, tradeRatio: 1, volatility: 0.001, startPrice: 50 });
    const tick = new GeneratedTick();
    for (let i = 0; i < 1_000; i++) expect(walk.next(tick).kind).toBe(TickKind.Trade);
  });
});
