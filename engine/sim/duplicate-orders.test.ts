import { describe, expect, it } from 'vitest';
import { DuplicateOrders } from './duplicate-orders.ts';

describe('DuplicateOrders', () => {
  it('flags the second answer to the same tick, and only that', () => {
    const orders = new DuplicateOrders();
    expect(orders.repeat(0, 7, 0, 1_000)).toBe(false);
    expect(orders.repeat(0, 7, 1, 1_000)).toBe(false); // another strategy on the same tick
    expect(orders.repeat(0, 8, 0, 1_000)).toBe(false); // another symbol
    expect(orders.repeat(0, 7, 0, 1_001)).toBe(false); // another tick
    expect(orders.repeat(0, 7, 0, 1_000)).toBe(true);
    expect(orders.repeat(1, 7, 0, 1_000)).toBe(false); // another book (another TradingEngine) on the same tick
  });

  it('forgets the oldest answers beyond its capacity', () => {
    const orders = new DuplicateOrders(2);
    orders.repeat(0, 1, 0, 1);
    orders.repeat(0, 1, 0, 2);
    orders.repeat(0, 1, 0, 3); // evicts tick 1
    expect(orders.repeat(0, 1, 0, 1)).toBe(false);
    expect(orders.repeat(0, 1, 0, 3)).toBe(true);
  });
});
