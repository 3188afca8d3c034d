import { describe, expect, it } from 'vitest';
import { ObjectPool } from './object-pool.ts';

class Slot {
  value = 0;
}

describe('ObjectPool', () => {
  it('preallocates every object at construction', () => {
    let created = 0;
    const pool = new ObjectPool(() => {
      created++;
      return new Slot();
    }, 4);
    expect(created).toBe(4);
    expect(pool.size).toBe(4);
    expect(pool.available).toBe(4);
    expect(pool.inUse).toBe(0);
  });

  it('hands out distinct objects until exhausted, then returns null and counts it', () => {
    const pool = new ObjectPool(() => new Slot(), 3);
    const taken = [pool.acquire(), pool.acquire(), pool.acquire()];
    expect(new Set(taken).size).toBe(3);
    expect(taken.every((slot) => slot instanceof Slot)).toBe(true);
    expect(pool.available).toBe(0);
    expect(pool.acquire()).toBeNull();
    expect(pool.acquire()).toBeNull();
    expect(pool.exhaustedCount).toBe(2);
  });

  it('reuses the most recently released object first', () => {
    const pool = new ObjectPool(() => new Slot(), 3);
    const a = pool.acquire() as Slot;
    const b = pool.acquire() as Slot;
    pool.release(a);
    pool.release(b);
    expect(pool.acquire()).toBe(b);
    expect(pool.acquire()).toBe(a);
    expect(pool.inUse).toBe(2);
  });

  it('creates no new objects across many acquire and release cycles', () => {
    let created = 0;
    const pool = new ObjectPool(() => {
      created++;
      return new Slot();
    }, 2);
    for (let i = 0; i < 10_000; i++) {
      const slot = pool.acquire() as Slot;
      slot.value = i;
      pool.release(slot);
    }
    expect(created).toBe(2);
    expect(pool.available).toBe(2);
    expect(pool.exhaustedCount).toBe(0);
  });

  it('throws when more objects are released than were acquired', () => {
    const pool = new ObjectPool(() => new Slot(), 1);
    expect(() => pool.release(new Slot())).toThrow(RangeError);
  });

  it('rejects a size below one', () => {
    expect(() => new ObjectPool(() => new Slot(), 0)).toThrow(RangeError);
    expect(() => new ObjectPool(() => new Slot(), 2.5)).toThrow(RangeError);
  });
});
