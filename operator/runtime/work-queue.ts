// The controller's keyed work queue (client-go workqueue semantics), its rate limiters, and the TimerClock that the
// queue and the leader elector take as their time dependency.

declare const timerHandleBrand: unique symbol;

/** An armed timer, opaque to its user. */
export interface TimerHandle {
  readonly [timerHandleBrand]: true;
}

/**
 * Monotonic time plus one-shot timers: the one time dependency of the queue and the leader elector.
 * `now()` is monotonic milliseconds from an arbitrary origin (never wall-clock time, which can step).
 */
export interface TimerClock {
  now(): number;
  /** Calls `fn` once, no earlier than `ms` milliseconds from now. */
  setTimer(fn: () => void, ms: number): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

/** The process's monotonic clock (`performance.now()`, CLOCK_MONOTONIC) and Node timers. */
export const systemTimerClock: TimerClock = {
  now: () => performance.now(),
  setTimer: (fn, ms) => setTimeout(fn, Math.max(0, ms)) as unknown as TimerHandle,
  clearTimer: (handle) => clearTimeout(handle as unknown as ReturnType<typeof setTimeout>),
};

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

// ---- Rate limiting ------------------------------------------------------------------------------------------

/**
 * Per-key exponential backoff: `baseMs * 2^failures`, capped at `maxMs` (client-go
 * ItemExponentialFailureRateLimiter.When, where `failures` counts the earlier failures of the key).
 *
 * Worked examples with base 50 ms, cap 300 000 ms (5 min):
 *   failures 0 -> 50, 1 -> 100, 2 -> 200, 3 -> 400, 12 -> 204 800, 13 -> 300 000 (409 600 capped),
 *   2000 -> 300 000 (2^2000 overflows to Infinity, still capped).
 */
export function exponentialBackoffMs(failures: number, baseMs: number, maxMs: number): number {
  const backoff = baseMs * 2 ** failures;
  return backoff > maxMs || !Number.isFinite(backoff) ? maxMs : backoff;
}

/** A token bucket's state: `tokens` may go negative, counting reservations that wait (golang.org/x/time/rate). */
export interface TokenBucketState {
  readonly tokens: number;
  readonly atMs: number;
}

/**
 * Reserves one token at `nowMs` and says how long the reservation waits (client-go BucketRateLimiter, i.e.
 * `rate.Limiter.Reserve().Delay()`): the bucket refills at `qps` tokens a second up to `burst`, every call takes one
 * token, and a call that drives the balance below zero waits until refills cover it. Reservations always succeed,
 * so waits grow linearly once the burst is spent.
 *
 * Worked examples with qps 10, burst 100, a full bucket at t = 0:
 *   calls 1..100 at t = 0 -> 0 ms each; call 101 -> 100 ms; call 102 -> 200 ms;
 *   then at t = 1000 ms the balance is -2 + 10 = 8 tokens: the next 8 calls wait 0 ms, the 9th 100 ms.
 */
export function reserveToken(
  bucket: TokenBucketState,
  nowMs: number,
  qps: number,
  burst: number,
): { readonly bucket: TokenBucketState; readonly delayMs: number } {
  if (qps === Infinity) return { bucket, delayMs: 0 };
  const elapsedMs = Math.max(0, nowMs - bucket.atMs);
  const tokens = Math.min(burst, bucket.tokens + (elapsedMs * qps) / 1000) - 1;
  const delayMs = tokens >= 0 ? 0 : (-tokens * 1000) / qps;
  return { bucket: { tokens, atMs: Math.max(nowMs, bucket.atMs) }, delayMs };
}

/** Decides how long a failed key waits before its retry (client-go TypedRateLimiter). */
export interface RateLimiter {
  /** The delay before the key's next retry; counts this call as one more failure of the key. */
  whenMs(key: string): number;
  /** Clears the key's failures (after a successful reconcile). */
  forget(key: string): void;
  /** How many times the key has failed since it was last forgotten. */
  numRequeues(key: string): number;
}

/** `exponentialBackoffMs` over per-key failure counts. */
export class ExponentialBackoffRateLimiter implements RateLimiter {
  private readonly failures = new Map<string, number>();

  constructor(
    private readonly baseMs: number,
    private readonly maxMs: number,
  ) {
    if (!(baseMs > 0) || !(maxMs >= baseMs)) {
      throw new RangeError(`Backoff needs 0 < baseDelayMs <= maxDelayMs, got baseDelayMs ${baseMs} and maxDelayMs ${maxMs}`);
    }
  }

  whenMs(key: string): number {
    const failures = this.failures.get(key) ?? 0;
    this.failures.set(key, failures + 1);
    return exponentialBackoffMs(failures, this.baseMs, this.maxMs);
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }
}

/** One token bucket shared by all keys: an overall retry rate limit. Keeps no per-key state. */
export class TokenBucketRateLimiter implements RateLimiter {
  private bucket: TokenBucketState;

  constructor(
    private readonly clock: TimerClock,
    private readonly qps: number,
    private readonly burst: number,
  ) {
    if (!(qps > 0) || !Number.isInteger(burst) || burst < 1) {
      throw new RangeError(`Token bucket needs qps > 0 and a whole burst >= 1, got qps ${qps} and burst ${burst}`);
    }
    this.bucket = { tokens: burst, atMs: clock.now() };
  }

  whenMs(_key: string): number {
    const reserved = reserveToken(this.bucket, this.clock.now(), this.qps, this.burst);
    this.bucket = reserved.bucket;
    return reserved.delayMs;
  }

  forget(_key: string): void {}

  numRequeues(_key: string): number {
    return 0;
  }
}

/** The longest delay of several limiters; every limiter sees every call (client-go MaxOfRateLimiter). */
export class MaxOfRateLimiter implements RateLimiter {
  private readonly limiters: readonly RateLimiter[];

  constructor(...limiters: RateLimiter[]) {
    this.limiters = limiters;
  }

  whenMs(key: string): number {
    let delay = 0;
    for (const limiter of this.limiters) delay = Math.max(delay, limiter.whenMs(key));
    return delay;
  }

  forget(key: string): void {
    for (const limiter of this.limiters) limiter.forget(key);
  }

  numRequeues(key: string): number {
    let requeues = 0;
    for (const limiter of this.limiters) requeues = Math.max(requeues, limiter.numRequeues(key));
    return requeues;
  }
}

export interface RateLimitOptions {
  /** First retry delay of a key; default 50 ms. */
  readonly baseDelayMs: number;
  /** Cap of the per-key backoff; default 300 000 ms (5 min). */
  readonly maxDelayMs: number;
  /** Overall retry rate; default 10 a second. */
  readonly qps: number;
  /** Retries allowed at once before `qps` applies; default 100. */
  readonly burst: number;
}

export const defaultRateLimitOptions: RateLimitOptions = { baseDelayMs: 50, maxDelayMs: 300_000, qps: 10, burst: 100 };

/** Per-key exponential backoff combined (max) with an overall token bucket, as client-go's controllers use. */
export function controllerRateLimiter(clock: TimerClock, options: Partial<RateLimitOptions> = {}): RateLimiter {
  const o = { ...defaultRateLimitOptions, ...options };
  return new MaxOfRateLimiter(
    new ExponentialBackoffRateLimiter(o.baseDelayMs, o.maxDelayMs),
    new TokenBucketRateLimiter(clock, o.qps, o.burst),
  );
}

// ---- The queue ---------------------------------------------------------------------------------------------

/** Hooks for the operator's queue metrics (Prometheus lives in the caller; this module imports none). */
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
 * keys, never object snapshots (STYLE rule 1): a reconcile re-reads the latest object.
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
 * - Time comes only from the injected `TimerClock` (STYLE rule 8), so tests drive it by hand.
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
