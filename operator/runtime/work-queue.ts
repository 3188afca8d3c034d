// The controller's keyed work queue (client-go workqueue semantics).
import { controllerRateLimiter, type RateLimiter, type RateLimitOptions } from './rate-limiter.ts';
import { systemTimerClock, type TimerClock, type TimerHandle } from './timer-clock.ts';

export interface WorkQueueObserver {
  /** Keys waiting for a worker, counting a dirty key held back behind its own in-flight run; after each change. */
  depth(n: number): void;
  /** A key was accepted (an add of a key already waiting, or after shutdown, is not counted). */
  added(): void;
  /** `addRateLimited` was called: a failed key was scheduled for a retry. */
  retried(): void;
  /** How long a key waited, from the add that queued it to the `get` that handed it out. */
  latencyMs(ms: number): void;
  /** How long a worker held a key, from `get` to `done`. */
  workMs(ms: number): void;
}

const noObserver: WorkQueueObserver = {
  depth: () => undefined,
  added: () => undefined,
  retried: () => undefined,
  latencyMs: () => undefined,
  workMs: () => undefined,
};

export interface WorkQueueOptions {
  /** Default `systemTimerClock`. */
  readonly clock?: TimerClock;
  /** Tunes the default limiter (`controllerRateLimiter`); ignored when `rateLimiter` is given. */
  readonly rateLimit?: Partial<RateLimitOptions>;
  readonly rateLimiter?: RateLimiter;
  readonly observer?: WorkQueueObserver;
}

interface Delayed {
  readonly key: string;
  readonly readyMs: number;
  readonly seq: number;
}

/** A binary min-heap of delayed keys by (readyMs, seq). */
class DelayHeap {
  private readonly items: Delayed[] = [];

  peek(): Delayed | undefined {
    return this.items[0];
  }

  push(item: Delayed): void {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(items[i], items[parent])) break;
      [items[i], items[parent]] = [items[parent], items[i]];
      i = parent;
    }
  }

  pop(): Delayed | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let least = i;
        if (left < items.length && before(items[left], items[least])) least = left;
        if (right < items.length && before(items[right], items[least])) least = right;
        if (least === i) break;
        [items[i], items[least]] = [items[least], items[i]];
        i = least;
      }
    }
    return top;
  }

  clear(): void {
    this.items.length = 0;
  }
}

function before(a: Delayed, b: Delayed): boolean {
  return a.readyMs < b.readyMs || (a.readyMs === b.readyMs && a.seq < b.seq);
}

/**
 * The controller's keyed work queue, with the semantics of client-go's workqueue (k8s.io/client-go/util/workqueue:
 * queue.go, delaying_queue.go, rate_limiting_queue.go, default_rate_limiters.go). It carries `namespace/name`
 * keys, never object snapshots (level-based, as controller-runtime queues them): a reconcile re-reads the latest object.
 *
 * ```
 *   add ─────────────────────────┐
 *   addAfter ──> delay heap ──> (due) ──> dirty? ──no──> processing? ──no──> FIFO ──> get() ──> processing
 *   addRateLimited ──> limiter ──┘          │yes             │yes                                 │
 *                                         (drop)      held back until done() ───────────────────────┘
 * ```
 *
 * Guarantees:
 * - A key waiting for a worker is queued once, however often it is added (dedupe).
 * - A key is held by at most one worker: a key added while a worker holds it is marked dirty and re-queued only
 *   when that worker calls `done(key)`, so no two reconciles of one object ever overlap.
 * - `get()` hands keys out in FIFO order to waiting callers in the order they called.
 * - `addAfter`: the earliest deadline for a key wins; a later one never postpones it. One timer is armed, for the
 *   earliest deadline of all keys (a binary heap), not one per key.
 * - `addRateLimited`: the delay is the max of a per-key exponential backoff and an overall token bucket, like
 *   client-go's DefaultControllerRateLimiter; `forget(key)` resets the key's backoff.
 * - Time comes only from the injected `TimerClock` (time is a dependency), so tests drive it by hand.
 *
 * Shutdown (chosen to match client-go): after `shutDown()` every add is ignored and delayed keys are dropped;
 * `get()` still hands out the keys already queued (and dirty keys re-queued by `done`) and resolves `undefined`
 * once none is left, so callers parked in `get()` are released at once. `shutDownWithDrain()` does the same and
 * resolves when no key is queued or held by a worker: it needs the workers to keep calling `get()` and `done()`.
 * Dropping queued keys would be harmless too (reconciliation is level-based and a new leader lists everything),
 * but handing them out keeps the client-go contract the controller loop is written against.
 */
export class WorkQueue {
  private readonly clock: TimerClock;
  private readonly limiter: RateLimiter;
  private readonly observer: WorkQueueObserver;

  /** FIFO of keys ready for a worker, consumed from `head`. */
  private fifo: string[] = [];
  private head = 0;
  /** Keys that need processing: queued ones plus ones re-added while a worker holds them. */
  private readonly dirty = new Set<string>();
  /** Keys held by a worker -> when `get` handed them out. */
  private readonly processing = new Map<string, number>();
  /** Dirty keys -> when the add that made them dirty happened. */
  private readonly addedAt = new Map<string, number>();
  private readonly getters: Array<(key: string | undefined) => void> = [];

  /** Delayed keys: the heap may hold superseded entries; `readyAt` has each key's live deadline. */
  private readonly delayed = new DelayHeap();
  private readonly readyAt = new Map<string, number>();
  private delayedSeq = 0;
  private timer: TimerHandle | undefined;
  private timerMs = Infinity;

  private stopping = false;
  private drained: Array<() => void> = [];

  constructor(options: WorkQueueOptions = {}) {
    this.clock = options.clock ?? systemTimerClock;
    this.limiter = options.rateLimiter ?? controllerRateLimiter(this.clock, options.rateLimit);
    this.observer = options.observer ?? noObserver;
  }

  /** Keys ready for a worker now (not counting delayed keys or dirty keys held back behind their own run). */
  get length(): number {
    return this.fifo.length - this.head;
  }

  get shuttingDown(): boolean {
    return this.stopping;
  }

  /** Queues `key` unless it is already waiting; a key held by a worker is re-queued when that worker is done. */
  add(key: string): void {
    if (this.stopping || this.dirty.has(key)) return;
    this.dirty.add(key);
    this.addedAt.set(key, this.clock.now());
    this.observer.added();
    if (!this.processing.has(key)) this.enqueue(key);
    this.observer.depth(this.dirty.size);
  }

  /**
   * The next key, FIFO, waiting while none is ready. The caller holds the key until it calls `done(key)`.
   * `undefined` means the queue is shut down and empty: the worker should exit.
   */
  get(): Promise<string | undefined> {
    if (this.length > 0) return Promise.resolve(this.take());
    if (this.stopping) return Promise.resolve(undefined);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  /** Ends a worker's hold on `key`; if the key was added meanwhile it is queued again now. A no-op for a key not held. */
  done(key: string): void {
    const startedAt = this.processing.get(key);
    if (startedAt === undefined) return;
    this.processing.delete(key);
    this.observer.workMs(this.clock.now() - startedAt);
    if (this.dirty.has(key)) this.enqueue(key);
    this.checkDrained();
  }

  /**
   * Adds `key` once `delayMs` has passed (at once when `delayMs <= 0`). If the key already waits for an earlier
   * deadline, that one stands; an earlier deadline replaces a later one.
   */
  addAfter(key: string, delayMs: number): void {
    if (this.stopping) return;
    if (!(delayMs > 0)) {
      this.add(key);
      return;
    }
    const readyMs = this.clock.now() + delayMs;
    const current = this.readyAt.get(key);
    if (current !== undefined && current <= readyMs) return;
    this.readyAt.set(key, readyMs);
    this.delayed.push({ key, readyMs, seq: this.delayedSeq++ });
    this.arm();
  }

  /** Adds `key` after the rate limiter's delay: call it when a reconcile of `key` failed. */
  addRateLimited(key: string): void {
    if (this.stopping) return;
    this.observer.retried();
    this.addAfter(key, this.limiter.whenMs(key));
  }

  /** Resets `key`'s failures (call it when a reconcile of `key` succeeded or ended for good). */
  forget(key: string): void {
    this.limiter.forget(key);
  }

  numRequeues(key: string): number {
    return this.limiter.numRequeues(key);
  }

  /** Keys waiting for a deadline (`addAfter`, `addRateLimited`) and not yet added. */
  get delayedLength(): number {
    return this.readyAt.size;
  }

  /** Stops accepting keys, drops delayed ones and releases parked `get()` callers (see the class comment). */
  shutDown(): void {
    if (!this.stopping) {
      this.stopping = true;
      this.delayed.clear();
      this.readyAt.clear();
      this.disarm();
      // A parked getter means nothing is queued: each one gets `undefined` and its worker exits.
      for (const resolve of this.getters.splice(0)) resolve(undefined);
    }
    this.checkDrained();
  }

  /** `shutDown()`, then resolves once no key is queued or held by a worker. */
  shutDownWithDrain(): Promise<void> {
    const drained = new Promise<void>((resolve) => this.drained.push(resolve));
    this.shutDown();
    return drained;
  }

  private enqueue(key: string): void {
    this.fifo.push(key);
    const getter = this.getters.shift();
    if (getter !== undefined) getter(this.take());
  }

  private take(): string {
    const key = this.fifo[this.head++];
    if (this.head === this.fifo.length) {
      this.fifo = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.fifo.length) {
      this.fifo = this.fifo.slice(this.head);
      this.head = 0;
    }
    const now = this.clock.now();
    this.dirty.delete(key);
    this.processing.set(key, now);
    this.observer.latencyMs(now - (this.addedAt.get(key) ?? now));
    this.addedAt.delete(key);
    this.observer.depth(this.dirty.size);
    return key;
  }

  private checkDrained(): void {
    if (!this.stopping || this.drained.length === 0 || this.length > 0 || this.processing.size > 0) return;
    for (const resolve of this.drained.splice(0)) resolve();
  }

  /** Adds every key whose deadline has passed, then re-arms for the next (a timer may fire a little early). */
  private fireDue(): void {
    this.timer = undefined;
    this.timerMs = Infinity;
    const now = this.clock.now();
    for (let next = this.delayed.peek(); next !== undefined && next.readyMs <= now; next = this.delayed.peek()) {
      this.delayed.pop();
      if (this.readyAt.get(next.key) !== next.readyMs) continue; // superseded by an earlier deadline
      this.readyAt.delete(next.key);
      this.add(next.key);
    }
    this.arm();
  }

  /** Keeps exactly one timer, armed for the earliest live deadline. */
  private arm(): void {
    let next = this.delayed.peek();
    while (next !== undefined && this.readyAt.get(next.key) !== next.readyMs) {
      this.delayed.pop();
      next = this.delayed.peek();
    }
    if (next === undefined) {
      this.disarm();
      return;
    }
    if (this.timer !== undefined && this.timerMs === next.readyMs) return;
    this.disarm();
    this.timerMs = next.readyMs;
    this.timer = this.clock.setTimer(() => this.fireDue(), next.readyMs - this.clock.now());
  }

  private disarm(): void {
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.timerMs = Infinity;
  }
}
