// The TimerClock: the one time dependency of the work queue, its rate limiters and the leader elector.

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
