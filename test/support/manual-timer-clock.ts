import type { TimerClock, TimerHandle } from '../../operator/runtime/timer-clock.ts';

interface ManualTimer {
  readonly fn: () => void;
  readonly dueMs: number;
  readonly seq: number;
}

/**
 * A hand-driven `TimerClock` for tests: time moves only in `advance`/`advanceAsync`, and due timers fire in
 * deadline order (ties in arming order) with `now()` set to each timer's deadline, so a test sees exactly the
 * instants a real clock would produce, without sleeping.
 */
export class ManualTimerClock implements TimerClock {
  private current: number;
  private seq = 0;
  private readonly timers = new Map<TimerHandle, ManualTimer>();

  constructor(startMs = 0) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimer(fn: () => void, ms: number): TimerHandle {
    const handle = { seq: this.seq } as unknown as TimerHandle;
    this.timers.set(handle, { fn, dueMs: this.current + Math.max(0, ms), seq: this.seq++ });
    return handle;
  }

  clearTimer(handle: TimerHandle): void {
    this.timers.delete(handle);
  }

  /** Timers armed and not yet fired or cleared. */
  get pendingTimers(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way (including ones armed by them). */
  advance(ms: number): void {
    const target = this.target(ms);
    for (let next = this.nextDue(target); next !== undefined; next = this.nextDue(target)) this.fire(next);
    this.current = target;
  }

  /**
   * As `advance`, but lets queued promise callbacks run after each timer (and before the first), so an async chain
   * that a timer starts, such as a store call and what follows it, completes before the next timer fires.
   */
  async advanceAsync(ms: number): Promise<void> {
    const target = this.target(ms);
    await flushPromises();
    for (let next = this.nextDue(target); next !== undefined; next = this.nextDue(target)) {
      this.fire(next);
      await flushPromises();
    }
    this.current = target;
    await flushPromises();
  }

  private target(ms: number): number {
    if (!(ms >= 0) || !Number.isFinite(ms)) throw new RangeError(`ManualTimerClock cannot advance by ${ms} ms`);
    return this.current + ms;
  }

  private nextDue(target: number): [TimerHandle, ManualTimer] | undefined {
    let best: [TimerHandle, ManualTimer] | undefined;
    for (const entry of this.timers) {
      const timer = entry[1];
      if (timer.dueMs > target) continue;
      if (best === undefined || timer.dueMs < best[1].dueMs || (timer.dueMs === best[1].dueMs && timer.seq < best[1].seq)) best = entry;
    }
    return best;
  }

  private fire([handle, timer]: [TimerHandle, ManualTimer]): void {
    this.timers.delete(handle);
    this.current = Math.max(this.current, timer.dueMs);
    timer.fn();
  }
}

/** Resolves after every promise callback queued so far (and any they queue) has run. */
function flushPromises(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
