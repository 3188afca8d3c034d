// Rate limiters of the work queue (client-go workqueue semantics): per-key exponential backoff, an overall token
// bucket, and the max of both.
import type { TimerClock } from './timer-clock.ts';

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
