import { url as inspectorUrl } from 'node:inspector';
import { Worker } from 'node:worker_threads';
import { terminationLogPath } from '../termination-message.ts';

/**
 * The watchdog of sandboxed strategy calls (docs/strategy-sdk.md): a WebAssembly strategy that never returns would
 * hold the tick thread for ever, and with it every other strategy, the control socket and the health endpoints.
 * A budget check after the call cannot see that, so a separate thread watches: before each call the tick thread
 * writes the call's number and strategy into shared memory and marks it running, and clears the mark after (no
 * clock read on the tick thread). The watchdog polls every 50 ms; when it has seen the same call running for
 * `hangMs`, it writes a line naming the strategy and its module to stderr and to the container's
 * termination message file (engine/termination-message.ts: what Kubernetes shows as the termination reason),
 * and kills
 * the process: the pod restarts, and the operator and `kubectl describe` show why. It never fires on a call that
 * returns.
 *
 * One watchdog per thread that runs such strategies (the main thread inline, each worker in the workers layout),
 * started on first use and never keeping the process alive. The line is written with a synchronous write to fd 2:
 * a worker's `process.stderr` goes through the (stuck) main thread.
 */
export const STRATEGY_HANG_MS = 2_000;

const watchdogSource = `
const { workerData, parentPort } = require('node:worker_threads');
const { existsSync, writeFileSync, writeSync } = require('node:fs');
const slots = new Float64Array(workerData.sab);
const labels = new Map();
parentPort.on('message', (message) => labels.set(message.id, message.label));
let seen = -1;
let since = 0;
setInterval(() => {
  const now = performance.now();
  if (slots[2] !== 1 || slots[0] !== seen) {
    seen = slots[2] === 1 ? slots[0] : -1;
    since = now;
    return;
  }
  const ms = now - since;
  if (ms < workerData.hangMs) return;
  const label = labels.get(slots[1]) ?? 'a strategy';
  const line = 'Strategy ' + label + ' has not returned for ' + Math.round(ms) + ' ms (the limit is ' + workerData.hangMs + ' ms): the engine stops so that its pod restarts';
  try { if (existsSync(workerData.terminationLog)) writeFileSync(workerData.terminationLog, line); } catch {}
  try { writeSync(2, new Date().toISOString() + ' ' + line + '\\n'); } catch {}
  process.kill(process.pid, 'SIGKILL');
}, 50);
`;

export class StrategyWatchdog {
  private static current: StrategyWatchdog | undefined;
  /** [0] the number of the last call, [1] its strategy id, [2] 1 while it runs. */
  private readonly slots: Float64Array;
  private readonly worker: Worker;
  private nextId = 1;
  private calls = 0;

  private constructor(hangMs: number) {
    const sab = new SharedArrayBuffer(24);
    this.slots = new Float64Array(sab);
    this.worker = new Worker(watchdogSource, { eval: true, workerData: { sab, hangMs, terminationLog: terminationLogPath() } });
    this.worker.unref();
  }

  /**
   * This thread's watchdog, started on first use; undefined where it must not run: under a debugger (a breakpoint
   * in a handler would look like a hang) or with NEXUS_STRATEGY_WATCHDOG=off (a test runner the user steps through).
   */
  static forThisThread(): StrategyWatchdog | undefined {
    if (inspectorUrl() !== undefined || process.env.NEXUS_STRATEGY_WATCHDOG === 'off') return undefined;
    StrategyWatchdog.current ??= new StrategyWatchdog(STRATEGY_HANG_MS);
    return StrategyWatchdog.current;
  }

  /** A strategy to watch, by the label the watchdog's line names it with; returns its id for `enter`. */
  register(label: string): number {
    const id = this.nextId++;
    this.worker.postMessage({ id, label });
    return id;
  }

  /** A call of strategy `id` starts. */
  enter(id: number): void {
    const slots = this.slots;
    slots[0] = ++this.calls;
    slots[1] = id;
    slots[2] = 1;
  }

  /** The call returned (or threw). */
  leave(): void {
    this.slots[2] = 0;
  }
}
