import { describe, expect, it } from 'vitest';
import { ManualTimerClock } from '../../test/support/manual-timer-clock.ts';
import { WorkQueue, type WorkQueueObserver } from './work-queue.ts';

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
