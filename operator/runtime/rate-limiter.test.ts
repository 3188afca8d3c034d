import { describe, expect, it } from 'vitest';
import { ManualTimerClock } from '../../test/support/manual-timer-clock.ts';
import {
  ExponentialBackoffRateLimiter,
  TokenBucketRateLimiter,
  controllerRateLimiter,
  exponentialBackoffMs,
  reserveToken,
  type TokenBucketState,
} from './rate-limiter.ts';

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
