import { describe, expect, it } from 'vitest';
import { cancelUnclaimed, claimUnit, claimWord, completeUnits, MAX_UNITS, openClaims } from './scan-claims.ts';
import { SharedSlot } from './scan-helper-protocol.ts';

const controlBlock = (): Int32Array => new Int32Array(new SharedArrayBuffer(16 * 4));

describe('scan claims', () => {
  it('hand out each unit of the current job once, then none', () => {
    const control = controlBlock();
    openClaims(control, 7);
    expect([0, 1, 2, 3].map(() => claimUnit(control, 7, 3))).toEqual([0, 1, 2, -1]);
    completeUnits(control, 3);
    expect(Atomics.load(control, SharedSlot.COMPLETED)).toBe(3);
    // The next job starts from its first unit, none done.
    openClaims(control, 8);
    expect(Atomics.load(control, SharedSlot.COMPLETED)).toBe(0);
    expect(claimUnit(control, 8, 2)).toBe(0);
  });

  it('refuse a thread that claims for a job no longer current (a helper that woke late)', () => {
    const control = controlBlock();
    openClaims(control, 41);
    expect(claimUnit(control, 41, 4)).toBe(0);
    openClaims(control, 42);
    expect(claimUnit(control, 41, 4)).toBe(-1); // unit 0 of job 42 is not job 41's unit 0
    expect(claimUnit(control, 42, 4)).toBe(0);
    // Tags are 21 bits: a job 2^21 later shares the tag, which only a thread stalled for 2,097,152 jobs could see.
    expect(claimWord(42 + (1 << 21), 0)).toBe(claimWord(42, 0));
    expect(claimWord(42 + (1 << 20), 0)).not.toBe(claimWord(42, 0));
    expect(claimWord((1 << 21) - 1, MAX_UNITS)).toBeGreaterThan(0); // the word stays a non-negative int32
  });

  it('give up the units nobody claimed, counting them done, and leave a later job alone', () => {
    const control = controlBlock();
    openClaims(control, 3);
    expect(claimUnit(control, 3, 5)).toBe(0);
    expect(claimUnit(control, 3, 5)).toBe(1);
    cancelUnclaimed(control, 3, 5);
    expect(Atomics.load(control, SharedSlot.COMPLETED)).toBe(3); // units 2, 3 and 4
    expect(claimUnit(control, 3, 5)).toBe(-1);
    cancelUnclaimed(control, 3, 5); // nothing left: nothing counted twice
    expect(Atomics.load(control, SharedSlot.COMPLETED)).toBe(3);
    openClaims(control, 4);
    cancelUnclaimed(control, 3, 5); // a stale job's cancel touches nothing of job 4
    expect(claimUnit(control, 4, 5)).toBe(0);
    expect(Atomics.load(control, SharedSlot.COMPLETED)).toBe(0);
  });
});
