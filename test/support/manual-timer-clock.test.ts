import { describe, expect, it } from 'vitest';
import { ManualTimerClock } from './manual-timer-clock.ts';

describe('ManualTimerClock', () => {
  it('fires due timers in deadline order, ties in arming order, with now at each deadline', () => {
    const clock = new ManualTimerClock(1000);
    const fired: string[] = [];
    clock.setTimer(() => fired.push(`b@${clock.now()}`), 20);
    clock.setTimer(() => fired.push(`a@${clock.now()}`), 10);
    clock.setTimer(() => fired.push(`c@${clock.now()}`), 20);
    const cleared = clock.setTimer(() => fired.push('never'), 5);
    clock.clearTimer(cleared);
    clock.advance(15);
    expect(fired).toEqual(['a@1010']);
    clock.advance(100);
    expect(fired).toEqual(['a@1010', 'b@1020', 'c@1020']);
    expect(clock.now()).toBe(1115);
  });

  it('cannot go backwards', () => {
    expect(() => new ManualTimerClock().advance(-1)).toThrow(RangeError);
  });
});
