import { describe, expect, it } from 'vitest';
import {
  ExponentialBackoffRateLimiter,
  ManualTimerClock,
  TokenBucketRateLimiter,
  WorkQueue,
  controllerRateLimiter,
  exponentialBackoffMs,
  reserveToken,
  type TokenBucketState,
  type WorkQueueObserver,
} from './work-queue.ts';

/** A queue on a manual clock whose token bucket never limits, so only the per-key backoff shows. */
function queue(clock = new ManualTimerClock()): { q: WorkQueue; clock: ManualTimerClock } {
  return { q: new WorkQueue({ clock, rateLimit: { burst: 1_000_000 } }), clock };
}

/** Tracks a promise so a test can see whether it has settled, after letting promise callbacks run. */
function track<T>(promise: Promise<T>): { settled: boolean; value: T | undefined } {
  const state: { settled: boolean; value: T | undefined } = { settled: false, value: undefined };
  void promise.then((value) => {
    state.settled = true;
    state.value = value;
  });
  return state;
}

/** Takes every ready key, marking each done at once. */
async function takeAll(q: WorkQueue): Promise<string[]> {
  const keys: string[] = [];
  while (q.length > 0) {
    const key = await q.get();
    if (key === undefined) break;
    keys.push(key);
    q.done(key);
  }
  return keys;
}

describe('exponentialBackoffMs', () => {
  it.each([
    [0, 50, 300_000, 50],
    [1, 50, 300_000, 100],
    [2, 50, 300_000, 200],
    [3, 50, 300_000, 400],
    [12, 50, 300_000, 204_800],
    [13, 50, 300_000, 300_000],
    [2000, 50, 300_000, 300_000],
    [0, 5, 1_000_000, 5],
    [10, 5, 1_000_000, 5120],
  ])('after %i failures with base %i ms and cap %i ms waits %i ms', (failures, baseMs, maxMs, expected) => {
    expect(exponentialBackoffMs(failures, baseMs, maxMs)).toBe(expected);
  });
});

describe('reserveToken', () => {
  const full: TokenBucketState = { tokens: 100, atMs: 0 };

  it.each([
    ['a full bucket', full, 0, 0, 99],
    ['the last token of the burst', { tokens: 1, atMs: 0 }, 0, 0, 0],
    ['one token past the burst', { tokens: 0, atMs: 0 }, 0, 100, -1],
    ['two tokens past the burst', { tokens: -1, atMs: 0 }, 0, 200, -2],
    ['a bucket refilled for 1 s after going 2 below zero', { tokens: -2, atMs: 0 }, 1000, 0, 7],
    ['a bucket refilled for 50 ms at 0 tokens', { tokens: 0, atMs: 0 }, 50, 50, -0.5],
    ['a bucket refilled far past its burst', { tokens: 3, atMs: 0 }, 3_600_000, 0, 99],
  ])('at qps 10 and burst 100, %s', (_name, bucket, nowMs, delayMs, tokensAfter) => {
    const reserved = reserveToken(bucket, nowMs, 10, 100);
    expect(reserved.delayMs).toBe(delayMs);
    expect(reserved.bucket).toEqual({ tokens: tokensAfter, atMs: nowMs });
  });

  it('waits 100 ms more per call once the burst is spent, as the worked example says', () => {
    let bucket = full;
    const delays: number[] = [];
    for (let call = 1; call <= 102; call++) {
      const reserved = reserveToken(bucket, 0, 10, 100);
      bucket = reserved.bucket;
      delays.push(reserved.delayMs);
    }
    expect(delays.slice(0, 100).every((delay) => delay === 0)).toBe(true);
    expect(delays.slice(100)).toEqual([100, 200]);
  });

  it('never limits at an infinite rate', () => {
    expect(reserveToken({ tokens: -5, atMs: 0 }, 0, Infinity, 1).delayMs).toBe(0);
  });
});

describe('rate limiters', () => {
  it('backs a key off 50, 100, 200 ms and so on, capped at 5 minutes', () => {
    const limiter = new ExponentialBackoffRateLimiter(50, 300_000);
    const delays = Array.from({ length: 16 }, () => limiter.whenMs('ns/a'));
    expect(delays).toEqual([50, 100, 200, 400, 800, 1600, 3200, 6400, 12_800, 25_600, 51_200, 102_400, 204_800, 300_000, 300_000, 300_000]);
    expect(limiter.numRequeues('ns/a')).toBe(16);
  });

  it('keeps each key its own backoff and resets a key on forget', () => {
    const limiter = new ExponentialBackoffRateLimiter(50, 300_000);
    limiter.whenMs('ns/a');
    limiter.whenMs('ns/a');
    expect(limiter.whenMs('ns/b')).toBe(50);
    limiter.forget('ns/a');
    expect(limiter.numRequeues('ns/a')).toBe(0);
    expect(limiter.whenMs('ns/a')).toBe(50);
    expect(limiter.numRequeues('ns/b')).toBe(1);
  });

  it('combines backoff and token bucket as the longer of the two delays', () => {
    const clock = new ManualTimerClock();
    const limiter = controllerRateLimiter(clock, { qps: 10, burst: 3 });
    // Three keys fit the burst and get their backoff; the next ones wait for tokens at 10 a second.
    const delays = ['ns/a', 'ns/b', 'ns/c', 'ns/d', 'ns/e', 'ns/f'].map((key) => limiter.whenMs(key));
    expect(delays).toEqual([50, 50, 50, 100, 200, 300]);
    clock.advance(1000);
    // 1 s refilled 10 tokens onto -3: 3 left (the burst), so backoff rules again.
    expect(limiter.whenMs('ns/a')).toBe(100);
  });

  it('lets the token bucket refill at its rate', () => {
    const clock = new ManualTimerClock();
    const bucket = new TokenBucketRateLimiter(clock, 10, 1);
    expect([bucket.whenMs('k'), bucket.whenMs('k')]).toEqual([0, 100]);
    clock.advance(200);
    expect(bucket.whenMs('k')).toBe(0);
    expect(bucket.numRequeues('k')).toBe(0);
  });

  it.each([
    [() => new ExponentialBackoffRateLimiter(0, 100), /0 < baseDelayMs <= maxDelayMs/],
    [() => new ExponentialBackoffRateLimiter(100, 50), /0 < baseDelayMs <= maxDelayMs/],
    [() => new TokenBucketRateLimiter(new ManualTimerClock(), 0, 10), /qps > 0/],
    [() => new TokenBucketRateLimiter(new ManualTimerClock(), 10, 0.5), /whole burst >= 1/],
  ])('rejects a bad configuration with a RangeError (%#)', (make, message) => {
    expect(make).toThrow(RangeError);
    expect(make).toThrow(message);
  });
});

describe('WorkQueue', () => {
  it('queues a key once however often it is added', async () => {
    const { q } = queue();
    q.add('ns/a');
    q.add('ns/b');
    q.add('ns/a');
    expect(q.length).toBe(2);
    expect(await takeAll(q)).toEqual(['ns/a', 'ns/b']);
  });

  it('hands keys out first in, first out', async () => {
    const { q } = queue();
    for (const key of ['ns/c', 'ns/a', 'ns/b']) q.add(key);
    expect(await takeAll(q)).toEqual(['ns/c', 'ns/a', 'ns/b']);
  });

  it('serves parked getters in the order they called', async () => {
    const { q, clock } = queue();
    const first = track(q.get());
    const second = track(q.get());
    await clock.advanceAsync(0);
    expect(first.settled || second.settled).toBe(false);
    q.add('ns/x');
    q.add('ns/y');
    await clock.advanceAsync(0);
    expect([first.value, second.value]).toEqual(['ns/x', 'ns/y']);
  });

  it('never hands one key to two workers: a key added while held waits for done', async () => {
    const { q, clock } = queue();
    q.add('ns/a');
    expect(await q.get()).toBe('ns/a');
    q.add('ns/a');
    expect(q.length).toBe(0);
    const second = track(q.get());
    await clock.advanceAsync(0);
    expect(second.settled).toBe(false);
    q.done('ns/a');
    await clock.advanceAsync(0);
    expect(second.value).toBe('ns/a');
  });

  it('re-queues a held key once however often it was added meanwhile, and not at all if it was not', async () => {
    const { q } = queue();
    q.add('ns/a');
    q.add('ns/b');
    await q.get();
    await q.get();
    q.add('ns/a');
    q.add('ns/a');
    q.done('ns/a');
    q.done('ns/b');
    expect(q.length).toBe(1);
    expect(await takeAll(q)).toEqual(['ns/a']);
    q.done('ns/a');
    expect(q.length).toBe(0);
  });

  it('ignores done for a key no worker holds', async () => {
    const { q } = queue();
    q.add('ns/a');
    q.done('ns/a');
    expect(q.length).toBe(1);
    expect(await takeAll(q)).toEqual(['ns/a']);
  });

  it('adds delayed keys in deadline order with one timer armed', async () => {
    const { q, clock } = queue();
    q.addAfter('ns/a', 300);
    q.addAfter('ns/b', 100);
    q.addAfter('ns/c', 200);
    expect(clock.pendingTimers).toBe(1);
    expect(q.delayedLength).toBe(3);
    clock.advance(99);
    expect(q.length).toBe(0);
    clock.advance(1);
    expect(await takeAll(q)).toEqual(['ns/b']);
    clock.advance(200);
    expect(await takeAll(q)).toEqual(['ns/c', 'ns/a']);
    expect(clock.pendingTimers).toBe(0);
    expect(q.delayedLength).toBe(0);
  });

  it('lets an earlier deadline replace a later one for the same key', async () => {
    const { q, clock } = queue();
    q.addAfter('ns/a', 500);
    q.addAfter('ns/a', 100);
    clock.advance(100);
    expect(await takeAll(q)).toEqual(['ns/a']);
    clock.advance(400);
    expect(q.length).toBe(0);
  });

  it('keeps the earlier deadline when a later one is asked for', async () => {
    const { q, clock } = queue();
    q.addAfter('ns/a', 100);
    q.addAfter('ns/a', 500);
    clock.advance(100);
    expect(await takeAll(q)).toEqual(['ns/a']);
    clock.advance(400);
    expect(q.length).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('adds at once for a delay of zero or less', () => {
    const { q, clock } = queue();
    q.addAfter('ns/a', 0);
    q.addAfter('ns/b', -5);
    expect(q.length).toBe(2);
    expect(clock.pendingTimers).toBe(0);
  });

  it('re-arms when a timer fires before its deadline', () => {
    const clock = new ManualTimerClock();
    // A TimerClock whose first timer fires 10 ms early, as a real event loop with a stale loop time can.
    let armed = 0;
    const early = {
      now: () => clock.now(),
      setTimer: (fn: () => void, ms: number) => clock.setTimer(fn, armed++ === 0 ? ms - 10 : ms),
      clearTimer: clock.clearTimer.bind(clock),
    };
    const q = new WorkQueue({ clock: early });
    q.addAfter('ns/a', 100);
    clock.advance(95);
    expect(q.length).toBe(0);
    expect(clock.pendingTimers).toBe(1);
    clock.advance(5);
    expect(q.length).toBe(1);
  });

  it('holds a delayed key that falls due while a worker holds it until done', async () => {
    const { q, clock } = queue();
    q.add('ns/a');
    await q.get();
    q.addAfter('ns/a', 100);
    clock.advance(100);
    expect(q.length).toBe(0);
    q.done('ns/a');
    expect(await takeAll(q)).toEqual(['ns/a']);
  });

  it('retries a failed key after 50, 100, 200 ms and starts over after forget', async () => {
    const { q, clock } = queue();
    const readyAfter: number[] = [];
    for (let failure = 0; failure < 4; failure++) {
      const start = clock.now();
      q.addRateLimited('ns/a');
      while (q.length === 0) clock.advance(1);
      readyAfter.push(clock.now() - start);
      q.done((await q.get()) ?? '');
    }
    expect(readyAfter).toEqual([50, 100, 200, 400]);
    expect(q.numRequeues('ns/a')).toBe(4);
    q.forget('ns/a');
    expect(q.numRequeues('ns/a')).toBe(0);
    q.addRateLimited('ns/a');
    clock.advance(50);
    expect(q.length).toBe(1);
  });

  it('spaces retries of many keys by the token bucket', () => {
    const clock = new ManualTimerClock();
    const q = new WorkQueue({ clock, rateLimit: { qps: 10, burst: 2, baseDelayMs: 1 } });
    for (const key of ['ns/a', 'ns/b', 'ns/c', 'ns/d']) q.addRateLimited(key);
    clock.advance(1);
    expect(q.length).toBe(2);
    clock.advance(99);
    expect(q.length).toBe(3);
    clock.advance(100);
    expect(q.length).toBe(4);
  });

  it('releases parked getters with undefined on shutdown and ignores later adds', async () => {
    const { q, clock } = queue();
    const getters = [track(q.get()), track(q.get())];
    q.addAfter('ns/later', 100);
    q.shutDown();
    await clock.advanceAsync(0);
    expect(getters.map((g) => [g.settled, g.value])).toEqual([[true, undefined], [true, undefined]]);
    q.add('ns/a');
    q.addAfter('ns/b', 0);
    q.addRateLimited('ns/c');
    expect(q.length).toBe(0);
    expect(clock.pendingTimers).toBe(0);
    expect(q.delayedLength).toBe(0);
    expect(await q.get()).toBeUndefined();
  });

  it('still hands out keys queued before shutdown, then undefined', async () => {
    const { q } = queue();
    q.add('ns/a');
    q.add('ns/b');
    q.shutDown();
    expect(q.shuttingDown).toBe(true);
    expect(await q.get()).toBe('ns/a');
    expect(await q.get()).toBe('ns/b');
    expect(await q.get()).toBeUndefined();
  });

  it('drains: resolves once every queued and held key is done', async () => {
    const { q, clock } = queue();
    q.add('ns/a');
    q.add('ns/b');
    await q.get();
    q.add('ns/a');
    const drained = track(q.shutDownWithDrain());
    q.done('ns/a');
    await clock.advanceAsync(0);
    expect(drained.settled).toBe(false);
    expect(await takeAll(q)).toEqual(['ns/b', 'ns/a']);
    await clock.advanceAsync(0);
    expect(drained.settled).toBe(true);
  });

  it('reports depth, adds, retries, wait time and work time to its observer', async () => {
    const clock = new ManualTimerClock();
    const seen = { depth: [] as number[], added: 0, retried: 0, latency: [] as number[], work: [] as number[] };
    const observer: WorkQueueObserver = {
      depth: (n) => seen.depth.push(n),
      added: () => seen.added++,
      retried: () => seen.retried++,
      latencyMs: (ms) => seen.latency.push(ms),
      workMs: (ms) => seen.work.push(ms),
    };
    const q = new WorkQueue({ clock, observer });
    q.add('ns/a');
    q.add('ns/a');
    q.add('ns/b');
    clock.advance(7);
    const key = await q.get();
    clock.advance(3);
    q.add('ns/a'); // held: dirty, counted in depth
    q.done(key ?? '');
    q.addRateLimited('ns/c');
    clock.advance(50);
    expect(seen).toEqual({ depth: [1, 2, 1, 2, 3], added: 4, retried: 1, latency: [7], work: [3] });
  });
});

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
