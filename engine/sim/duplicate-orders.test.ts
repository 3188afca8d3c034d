import { describe, expect, it } from 'vitest';
import { DuplicateOrders } from './duplicate-orders.ts';

describe('DuplicateOrders', () => {
  it('flags the second answer to the same tick, and only that', () => {
    const orders = new DuplicateOrders();
    expect(orders.repeat(7, 0, 1_000)).toBe(false);
    expect(orders.repeat(7, 1, 1_000)).toBe(false); // another strategy on the same tick
    expect(orders.repeat(8, 0, 1_000)).toBe(false); // another symbol
    expect(orders.repeat(7, 0, 1_001)).toBe(false); // another tick
    expect(orders.repeat(7, 0, 1_000)).toBe(true);
  });

  it('forgets the oldest answers beyond its capacity', () => {
    const orders = new DuplicateOrders(2);
    orders.repeat(1, 0, 1);
    orders.repeat(1, 0, 2);
    orders.repeat(1, 0, 3); // evicts tick 1
    expect(orders.repeat(1, 0, 1)).toBe(false);
    expect(orders.repeat(1, 0, 3)).toBe(true);
  });
});
