import { setImmediate as yieldToEventLoop } from 'node:timers/promises';

export interface PacerOptions {
  /** Ticks per second to hold. */
  readonly ratePerSecond: number;
  /** Stop after this long; 0 = until `shouldStop()`. */
  readonly durationMs: number;
  /** How long to sleep between wakes. The kernel's timer slack (~50 µs) adds to it. */
  readonly wakeMicros: number;
  readonly clockNs: () => number;
  /** Called with how many ticks became due since the last wake. */
  readonly emitDue: (count: number, nowNs: number) => void;
  /** Called after every wake (e.g. to send frames whose time bound expired). */
  readonly afterWake: (nowNs: number) => void;
  readonly shouldStop: () => boolean;
}

export interface PacerResult {
  readonly emitted: number;
  readonly elapsedNs: number;
  readonly wakes: number;
}

/**
 * Holds a tick rate without spinning a core: each wake emits the ticks that became due since the previous one
 * (so the long-run rate is exact and a late wake catches up), then sleeps `wakeMicros` in `Atomics.wait`, which
 * gives the core back to the engine and the sink. On 2 cores a feed that busy-spins takes a whole core and
 * inflates everyone's tail latency (measured on the 2-core dev host, libzmq at 50k ticks/s: p99 ~4 ms with a
 * spinning feed, ~0.4 ms with a sleeping one). Every millisecond it yields one event-loop turn so socket
 * completions, timers and signals are served.
 */
export async function runPaced(options: PacerOptions): Promise<PacerResult> {
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  const { clockNs, ratePerSecond } = options;
  const durationNs = options.durationMs * 1e6;
  const sleepMs = options.wakeMicros / 1000;
  const start = clockNs();
  let emitted = 0;
  let wakes = 0;
  let lastYield = start;
  for (;;) {
    const now = clockNs();
    const elapsed = now - start;
    if (options.shouldStop() || (durationNs > 0 && elapsed >= durationNs)) break;
    const due = Math.floor((elapsed * ratePerSecond) / 1e9) - emitted;
    if (due > 0) {
      options.emitDue(due, now);
      emitted += due;
    }
    options.afterWake(now);
    wakes++;
    if (now - lastYield >= 1e6) {
      await yieldToEventLoop();
      lastYield = clockNs();
    } else {
      await Promise.resolve(); // lets completed sends settle (microtasks) before we block
    }
    Atomics.wait(sleeper, 0, 0, sleepMs);
  }
  return { emitted, elapsedNs: clockNs() - start, wakes };
}
