import { describe, expect, it } from 'vitest';
import {
  BlockingWaitStrategy,
  BusySpinWaitStrategy,
  createWaitStrategy,
  WAIT_STRATEGY_NAMES,
  YieldingWaitStrategy,
  type WaitPoint,
  type WaitStrategy,
} from './wait-strategy.ts';

/** A WaitPoint whose data shows up on the `readyOnPoll`-th poll, recording the sleeping flag at each poll. */
class ScriptedPoint implements WaitPoint {
  readonly control = new Int32Array(new SharedArrayBuffer(64));
  readonly sleepFlagIndex = 3;
  polls = 0;
  readonly flagAtPoll: number[] = [];
  closed = false;

  constructor(private readonly readyOnPoll: number) {}

  poll(): number {
    this.polls++;
    this.flagAtPoll.push(this.control[this.sleepFlagIndex]);
    return this.polls >= this.readyOnPoll ? 3 : 0;
  }

  isClosed(): boolean {
    return this.closed;
  }
}

const strategies: WaitStrategy[] = [new BusySpinWaitStrategy(), new YieldingWaitStrategy(10, 0.05), new BlockingWaitStrategy()];

describe.each(strategies)('$name wait strategy', (strategy) => {
  it('returns the poll count once data shows up', () => {
    // Ready on the second poll: a blocking wait's re-check, the spinners' second spin.
    const point = new ScriptedPoint(2);
    expect(strategy.waitFor(point, 1_000)).toBe(3);
    expect(point.control[point.sleepFlagIndex]).toBe(0);
  });

  it('returns 0 after the timeout when nothing shows up', () => {
    const started = performance.now();
    expect(strategy.waitFor(new ScriptedPoint(Infinity), 5)).toBe(0);
    expect(performance.now() - started).toBeGreaterThanOrEqual(4.9);
  });

  it('returns the final poll once the ring is closed', () => {
    const point = new ScriptedPoint(Infinity);
    point.closed = true;
    expect(strategy.waitFor(point, Infinity)).toBe(0);
  });

  it('rejects a negative timeout', () => {
    expect(() => strategy.waitFor(new ScriptedPoint(1), -1)).toThrow(RangeError);
  });
});

describe('YieldingWaitStrategy', () => {
  it('naps between polls once it has spun spinTries times, without raising its sleeping flag', () => {
    const point = new ScriptedPoint(15);
    const started = performance.now();
    expect(new YieldingWaitStrategy(10, 0.05).waitFor(point, 1_000)).toBe(3);
    expect(point.polls).toBe(15);
    expect(point.flagAtPoll.every((flag) => flag === 0)).toBe(true);
    expect(performance.now() - started).toBeGreaterThan(0.2);
  });
});

describe('BlockingWaitStrategy', () => {
  it('re-polls with its sleeping flag raised before it sleeps, and lowers the flag on return', () => {
    const point = new ScriptedPoint(2);
    expect(new BlockingWaitStrategy().waitFor(point, 1_000)).toBe(3);
    expect(point.flagAtPoll).toEqual([0, 1]);
    expect(point.control[point.sleepFlagIndex]).toBe(0);
  });
});

describe('createWaitStrategy', () => {
  it.each(WAIT_STRATEGY_NAMES)('builds the %s strategy by name', (name) => {
    expect(createWaitStrategy(name).name).toBe(name);
  });
});
