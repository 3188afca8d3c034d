/**
 * How one side of an SPSC ring waits when it cannot proceed: the consumer for data, the producer (overflow
 * policy 'block') for space. Modelled on LMAX Disruptor's BusySpinWaitStrategy, YieldingWaitStrategy and
 * LiteBlockingWaitStrategy: the strategy is an object picked once per thread, so the hot path never branches
 * on it, and the two sides of one ring may pick differently (a spinning feed thread, a blocking worker).
 *
 * | name  | strategy     | wake-up latency         | CPU while idle     | cost to the other side          |
 * |-------|--------------|-------------------------|--------------------|---------------------------------|
 * | spin  | BusySpin     | ~1 µs (measured p50)    | a whole core       | none                            |
 * | yield | Yielding     | spin, then nap-bounded  | a core while spin- | none                            |
 * |       |              | (default nap 50 µs)     | ning, then ~0      |                                 |
 * | block | Blocking     | ~16 µs (futex wake)     | none               | Atomics.notify only while this  |
 * |       |              |                         |                    | side has flagged that it sleeps |
 *
 * The names are the engine config's (`pipeline.waitStrategy`, docs/engine-config.md); `createWaitStrategy` is
 * the one place a name becomes a strategy object. On the 2-core hosts this engine runs on, spin starves
 * whichever thread shares the core: use it only where a core is reserved.
 *
 * Every strategy returns as soon as `point.poll()` is positive, returns 0 when `timeoutMs` has passed, and
 * returns promptly once the ring is closed (after a final poll, so nothing published before `close()` is lost).
 */
export interface WaitStrategy {
  readonly name: WaitStrategyName;
  /**
   * Waits until `point.poll()` reports at least one slot, the ring is closed, or `timeoutMs` elapses.
   * Returns the last poll: > 0 when this side may proceed, 0 on timeout or when closed with nothing left.
   */
  waitFor(point: WaitPoint, timeoutMs: number): number;
}

/**
 * One side of a ring as its wait strategy sees it. The ring implements one for its consumer (poll = slots
 * ready to read) and one for its producer (poll = slots free to write).
 */
export interface WaitPoint {
  /** Re-reads the other side's sequence (refreshing the cached copy) and returns how many slots this side may take. */
  poll(): number;
  /** True once `close()` was called on the ring, from either thread. */
  isClosed(): boolean;
  /** The ring's shared control block. */
  readonly control: Int32Array;
  /**
   * Index in `control` of this side's sleeping flag. Only BlockingWaitStrategy raises it (1 = parked in
   * `Atomics.wait` on this cell); the other side, after moving its sequence, sees it raised, clears it with a
   * compare-and-swap and notifies this cell. `close()` does the same for both flags.
   */
  readonly sleepFlagIndex: number;
}

/** Every wait strategy name, spelled as the engine config spells them (`pipeline.waitStrategy`). */
export const WAIT_STRATEGY_NAMES = ['spin', 'yield', 'block'] as const;
export type WaitStrategyName = (typeof WAIT_STRATEGY_NAMES)[number];

/** Picks a strategy by name, for settings that cross threads as plain data (workerData, config). */
export function createWaitStrategy(name: WaitStrategyName): WaitStrategy {
  switch (name) {
    case 'spin':
      return new BusySpinWaitStrategy();
    case 'yield':
      return new YieldingWaitStrategy();
    case 'block':
      return new BlockingWaitStrategy();
  }
}

/** Polls in a tight loop; lowest latency, burns the whole core while waiting. The clock is read every 256 polls. */
export class BusySpinWaitStrategy implements WaitStrategy {
  readonly name = 'spin';

  waitFor(point: WaitPoint, timeoutMs: number): number {
    const deadline = deadlineFor(timeoutMs);
    for (let i = 1; ; i++) {
      const ready = point.poll();
      if (ready > 0) return ready;
      if (point.isClosed()) return point.poll();
      if ((i & 255) === 0 && performance.now() >= deadline) return 0;
    }
  }
}

/**
 * Spins `spinTries` polls, then naps `napMs` at a time in `Atomics.wait` on its own (never raised) sleeping
 * flag, which gives the core away without asking the other side to notify. Node has no sched_yield; a short
 * futex timeout is the nearest thing.
 */
export class YieldingWaitStrategy implements WaitStrategy {
  readonly name = 'yield';

  constructor(
    private readonly spinTries = 200,
    private readonly napMs = 0.05,
  ) {}

  waitFor(point: WaitPoint, timeoutMs: number): number {
    const deadline = deadlineFor(timeoutMs);
    for (let i = 1; ; i++) {
      const ready = point.poll();
      if (ready > 0) return ready;
      if (point.isClosed()) return point.poll();
      if (i < this.spinTries) continue;
      const remaining = deadline - performance.now();
      if (remaining <= 0) return 0;
      Atomics.wait(point.control, point.sleepFlagIndex, 0, Math.min(this.napMs, remaining));
    }
  }
}

/**
 * Parks the thread in `Atomics.wait` until the other side moves its sequence (Disruptor's
 * LiteBlockingWaitStrategy): no CPU while idle, and no syscall on the other side while this side is busy,
 * because the other side notifies only when it sees this side's sleeping flag raised.
 *
 * Why no wake-up is lost: this side raises its flag, then re-polls, then waits on the flag cell while it is
 * still 1. The other side stores its sequence, then loads the flag. All are sequentially consistent, so either
 * the re-poll sees the new sequence, or the other side sees the flag, clears it (1 -> 0) and notifies; a notify
 * that comes before the wait makes the wait return at once, as the cell is no longer 1. `close()` stores the
 * closed flag before clearing the sleeping flags, so the same argument covers shutdown. Waiting on the flag
 * cell rather than on the other side's sequence cell is what lets `close()`, which cannot move a sequence,
 * wake a sleeper without a race.
 *
 * `spinTries` polls (default 0) before the first sleep trade a little CPU for latency on bursty traffic.
 */
export class BlockingWaitStrategy implements WaitStrategy {
  readonly name = 'block';

  constructor(private readonly spinTries = 0) {}

  waitFor(point: WaitPoint, timeoutMs: number): number {
    const deadline = deadlineFor(timeoutMs);
    const control = point.control;
    const flag = point.sleepFlagIndex;
    for (let i = 0; ; i++) {
      const ready = point.poll();
      if (ready > 0) return ready;
      if (point.isClosed()) return point.poll();
      if (i < this.spinTries) continue;
      const remaining = deadline - performance.now();
      if (remaining <= 0) return 0;
      Atomics.store(control, flag, 1);
      // Re-check with the flag raised: a sequence stored before the other side could see the flag came with no notify.
      const late = point.poll();
      if (late > 0 || point.isClosed()) {
        Atomics.store(control, flag, 0);
        return late > 0 ? late : point.poll();
      }
      Atomics.wait(control, flag, 1, remaining);
      // Woken (flag already cleared by the waker), timed out or spurious: lower the flag ourselves and re-poll.
      Atomics.store(control, flag, 0);
    }
  }
}

function deadlineFor(timeoutMs: number): number {
  if (!(timeoutMs >= 0)) throw new RangeError(`Wait timeout must be >= 0 ms, got ${timeoutMs}`);
  return timeoutMs === Infinity ? Infinity : performance.now() + timeoutMs;
}
