import { setTimeout as sleep } from 'node:timers/promises';
import { MessageChannel, receiveMessageOnPort, type MessagePort, type Worker } from 'node:worker_threads';
import type { WasmMemory } from '../batch/wasm-memory.ts';
import { spawnWorker } from '../threads/spawn-worker.ts';
import { cancelUnclaimed, claimUnit, completeUnits, MAX_UNITS, openClaims } from './scan-claims.ts';
import {
  controlSlots, helperBase, HelperJob, HelperSlot, SharedSlot, type HelperMessage, type HelperPlanMessage, type HelperWorkerData,
} from './scan-helper-protocol.ts';

const WORKER_MODULE = new URL(import.meta.url.endsWith('.ts') ? './scan-helper.worker.ts' : './scan-helper.worker.js', import.meta.url);

/** How long a helper may take to start (tsx transpiles a .ts worker's graph: ~0.2 s, more on a loaded machine). */
const START_TIMEOUT_MS = 30_000;
/** How long a job may take before its helper is given up (a job is milliseconds; this is a dead or stuck thread). */
const JOB_TIMEOUT_MS = 5_000;

/**
 * The helper threads of one scan thread (the `workers` backend's scan: scan-kernels-choice.ts): each runs
 * scan.wasm on the scan thread's memory. A job is cut into units that the scan thread and the helpers claim one
 * at a time (scan-claims.ts; wasm-scan-kernels.ts runs the scan thread's). It is handed over in the control block
 * (scan-helper-protocol.ts): an atomic bump and a notify, no message; what a job means (the columns, the
 * cross-section lists) was sent once before, by port. A helper the machine is slow to run takes fewer units, one
 * that has not woken by the time they are gone takes none, and the job waits only for units under way.
 *
 * Blocking on purpose: `finish` waits (Atomics.wait) for the units under way, as the scan thread has nothing else
 * to do meanwhile. A helper that throws, or a job not done within JOB_TIMEOUT_MS (a unit under way on a stuck
 * thread), makes `finish` throw, and every later job too: the state a helper was writing is then unknown, so the
 * scans stop rather than go on with wrong values (the engine counts them as failed and keeps trading).
 */
export class ScanHelpers {
  private readonly control: Int32Array;
  private readonly rows: Uint32Array[];
  /** Plan messages posted to each helper (each registration sends one to every helper). */
  private plans = 0;
  private seq = 0;
  /** The current job's units. */
  private units = 0;
  private broken: string | undefined;

  private constructor(private readonly workers: readonly Worker[], private readonly ports: readonly MessagePort[], control: Int32Array) {
    this.control = control;
    this.rows = workers.map((_, i) => new Uint32Array(control.buffer, (helperBase(i) + HelperSlot.ROW) * 4, 4));
    workers.forEach((worker, i) => worker.on('error', (error: Error) => {
      this.broken ??= `scan helper ${i} died: ${error.message}`;
    }));
  }

  get count(): number {
    return this.workers.length;
  }

  /**
   * Starts `count` helpers on `memory` (scan.wasm's `module`), each with its rank workspace from `rankWork(i)`, for up
   * to `capacity` values; resolves once each has instantiated the module.
   */
  static async open(module: object, memory: WasmMemory, count: number, capacity: number, rankWork: (helper: number) => number): Promise<ScanHelpers> {
    const control = new Int32Array(new SharedArrayBuffer(controlSlots(count) * 4));
    const workers: Worker[] = [];
    const ports: MessagePort[] = [];
    try {
      for (let index = 0; index < count; index++) {
        const channel = new MessageChannel();
        const data: HelperWorkerData = { module, memory, control, index, rankWork: rankWork(index), capacity, port: channel.port2 };
        const worker = spawnWorker(WORKER_MODULE, data, { name: `nexus-scan-helper-${index}`, transferList: [channel.port2] });
        worker.unref();
        workers.push(worker);
        ports.push(channel.port1);
        let failure: Error | undefined;
        worker.once('error', (error: Error) => void (failure = error));
        // The port is never started (no listener): messages are read with receiveMessageOnPort, here and in finish.
        const deadline = performance.now() + START_TIMEOUT_MS;
        while (receiveMessageOnPort(channel.port1) === undefined) {
          if (failure !== undefined) throw new Error(`scan helper ${index} failed to start: ${failure.message}`);
          if (performance.now() > deadline) throw new Error(`scan helper ${index} did not start within ${START_TIMEOUT_MS} ms`);
          await sleep(5);
        }
      }
    } catch (error) {
      for (const worker of workers) void worker.terminate();
      throw error;
    }
    return new ScanHelpers(workers, ports, control);
  }

  /** Sends helper `i` the i-th of `messages` (one per helper); a later job's PLAN makes the helper take it in first. */
  register(messages: readonly HelperPlanMessage[]): void {
    if (messages.length !== this.ports.length) throw new RangeError(`${messages.length} plan messages for ${this.ports.length} helpers`);
    messages.forEach((message, i) => this.ports[i].postMessage(message));
    this.plans++;
  }

  /**
   * Starts a job of `units` units (at most MAX_UNITS) on every helper: COLUMNS with the row's addresses, or
   * CROSS_SECTIONS of list `list`. The scan thread then claims units itself (`claim`, `complete`) and `finish`es.
   */
  start(kind: typeof HelperJob.COLUMNS | typeof HelperJob.CROSS_SECTIONS, list: number, units: number, row?: readonly [number, number, number, number]): void {
    this.throwIfBroken();
    if (!(units >= 1 && units <= MAX_UNITS)) throw new RangeError(`a job has 1 to ${MAX_UNITS} units, got ${units}`);
    const control = this.control;
    this.seq++;
    this.units = units;
    openClaims(control, this.seq);
    for (let i = 0; i < this.workers.length; i++) {
      const base = helperBase(i);
      if (row !== undefined) this.rows[i].set(row);
      Atomics.store(control, base + HelperSlot.KIND, kind);
      Atomics.store(control, base + HelperSlot.ARG, list);
      Atomics.store(control, base + HelperSlot.UNITS, units);
      Atomics.store(control, base + HelperSlot.PLAN, this.plans);
      Atomics.store(control, base + HelperSlot.SEQ, this.seq);
      Atomics.notify(control, base + HelperSlot.SEQ);
    }
  }

  /** The next unit of the current job for the scan thread to run, or -1 when none is left. */
  claim(): number {
    return claimUnit(this.control, this.seq, this.units);
  }

  /** Counts a unit the scan thread claimed as done (or given up: it threw). */
  complete(): void {
    completeUnits(this.control);
  }

  /** Gives up the units nobody has claimed yet (the scan thread's own unit threw: the job is lost anyway). */
  cancelRest(): void {
    cancelUnclaimed(this.control, this.seq, this.units);
  }

  /**
   * Marks the helpers unusable: the scan thread's own unit threw, and the units it gave up left a job half done, so
   * the state is as unknown as after a helper's failure.
   */
  giveUp(reason: string): void {
    this.broken ??= reason;
  }

  /**
   * Waits for every unit of the job `start` began to be done; throws if a helper failed or a unit did not end. A
   * helper stuck past the deadline may still write (its unit's state, a result set) later: no scan after the throw
   * is delivered, so nothing reads what it writes.
   */
  finish(): void {
    const control = this.control;
    const deadline = performance.now() + JOB_TIMEOUT_MS;
    for (;;) {
      const completed = Atomics.load(control, SharedSlot.COMPLETED);
      if (completed > this.units) {
        this.broken ??= `a scan job's units were counted done ${completed} times for ${this.units}`;
        break;
      }
      if (completed === this.units) break;
      const left = deadline - performance.now();
      if (left <= 0) {
        this.broken ??= `a scan job's units were not done within ${JOB_TIMEOUT_MS} ms (${completed} of ${this.units}: a helper is stuck)`;
        break;
      }
      Atomics.wait(control, SharedSlot.COMPLETED, completed, left);
    }
    for (let i = 0; i < this.workers.length && this.broken === undefined; i++) {
      if (Atomics.load(control, helperBase(i) + HelperSlot.FAILED) === 1) {
        const message = (receiveMessageOnPort(this.ports[i])?.message as HelperMessage | undefined);
        this.broken = `scan helper ${i} failed: ${message?.type === 'error' ? message.message : 'no message'}`;
      }
    }
    this.throwIfBroken();
  }

  /** Stops every helper (they exit at their next wake). */
  close(): void {
    for (let i = 0; i < this.workers.length; i++) {
      const base = helperBase(i);
      Atomics.store(this.control, base + HelperSlot.KIND, HelperJob.STOP);
      Atomics.add(this.control, base + HelperSlot.SEQ, 1);
      Atomics.notify(this.control, base + HelperSlot.SEQ);
      this.ports[i].close();
    }
  }

  private throwIfBroken(): void {
    if (this.broken !== undefined) throw new Error(`${this.broken}; the scans stop, as the state it was writing is unknown`);
  }
}
