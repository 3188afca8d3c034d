import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { spawnWorker } from '../threads/spawn-worker.ts';
import type { TaskMessage, WorkerReply } from './scan-worker.ts';
import {
  kernelArity, SHARD_ALIGN, viewOf, type CheckResult, type ScanKernel, type ScanTask, type WasmShare,
} from './scan-tasks.ts';

/**
 * A pool of worker threads for multi-symbol batch scans over bar-major panels (engine/batch/panel.ts:
 * element (bar t, symbol s) at t * symbols + s). Two kinds of work (scan-tasks.ts):
 *
 * - wasm tasks (`run()`), what the `workers` indicator backend uses: started with `wasm` (a wasm backend's shared
 *   memory and SIMD module), each worker instantiates the panel kernels on that memory and runs value scans or a
 *   range of columns of a kernel call given as addresses; nothing is copied or transposed.
 * - JS scans (`scan()`), for SharedArrayBuffer panels without wasm: one shard per worker, a contiguous range of
 *   symbols (columns), each running the single-series JS batch functions on its columns, so results equal the
 *   JS reference bit for bit. The rest of this comment is about them.
 *
 *                  symbols 0 .. 999    symbols 1000 .. 1999
 *     bar 0     [ worker 0 ........ | worker 1 ........... ]
 *     bar 1     [ worker 0 ........ | worker 1 ........... ]     one SharedArrayBuffer per panel;
 *     ...                                                        messages carry offsets and counts only
 *
 * Why bar-major and not symbol-major: it is the layout of PanelBatch (the wasm SIMD backend and the reference),
 * so no transpose is paid on the caller's thread; a shard is a block of whole rows of its symbols, each row
 * 8 * (symbols in the shard) contiguous bytes, and shard boundaries fall on multiples of 8 symbols (a cache line)
 * so two workers share at most one cache line per row. The workers transpose their own columns in tiles
 * (scan-tasks.ts).
 *
 * Memory: inputs and outputs are read and written in place when they are backed by a SharedArrayBuffer. Any
 * other Float64Array is copied once into a pool-owned SharedArrayBuffer (inputs before the scan, outputs back
 * after it succeeds): about 0.4 ns per value per array on the caller's thread, plus fresh pages the first time
 * (staging buffers are reused). Pass SAB-backed arrays for big scans.
 *
 * Queue: a scan's shards go to idle workers at once and the rest wait in a FIFO of at most `maxQueuedTasks`;
 * a scan that does not fit is refused whole (`scan queue full (N tasks)`), before anything runs.
 *
 * Failures: an error thrown in a worker rejects the scan with the same class (RangeError, TypeError, else Error)
 * and message. A worker that dies while running a task (process.exit, an uncaught exception) fails that task
 * with an error naming the worker, and is replaced by a fresh one that serves the following tasks. A scan
 * settles only when all its shards have settled, so a rejected scan never has a worker still writing to its
 * outputs; after a rejection its outputs hold unspecified values (staged outputs are left untouched).
 *
 * `close()` rejects queued tasks, waits for the running ones, then terminates the workers. Call it when done: the
 * workers keep the process alive.
 */
export interface ScanPoolOptions {
  /** Worker threads; default os.availableParallelism(), at least 1. */
  readonly workers?: number;
  /** Tasks that may wait for a worker (a scan is one task per worker it uses); default 64. */
  readonly maxQueuedTasks?: number;
  /** The worker's entry module; default ./scan-worker.ts (.js in a build). Tests inject fixtures. */
  readonly workerUrl?: URL;
  /** A wasm backend's shared memory and panel module: each worker instantiates the kernels for the wasm tasks. */
  readonly wasm?: WasmShare;
}

/** One scan over panels of `symbols` x `bars` values: the batch function `kernel` with `params` per symbol. */
export interface PanelScan {
  readonly kernel: ScanKernel;
  readonly params: readonly number[];
  readonly symbols: number;
  readonly bars: number;
  /** Bar-major, symbols * bars values each, in the kernel's order (atr: high, low, close). */
  readonly inputs: readonly Float64Array[];
  /** Bar-major, symbols * bars values each (macd: macd, signal, histogram); every value is written. */
  readonly outputs: readonly Float64Array[];
  /**
   * Checks the inputs in parallel first (non-finite values; high < low when `highLow`, inputs[0] and [1]) and
   * hands the result to `verdict`, which throws to refuse the scan before any output is written.
   */
  readonly check?: { readonly highLow: boolean; verdict(result: CheckResult): void };
}

export const DEFAULT_MAX_QUEUED_TASKS = 64;

interface Job {
  readonly task: ScanTask;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

interface Slot {
  readonly index: number;
  readonly threadId: number;
  readonly worker: Worker;
  job: Job | null;
  ready: boolean;
  /** Settles when the worker says it is ready (rejects when it dies first). */
  readonly started: Promise<void>;
  /** The worker's uncaught error, if any, reported before its exit. */
  error: Error | undefined;
}

export async function createScanPool(options: ScanPoolOptions = {}): Promise<ScanPool> {
  const pool = new ScanPool(options);
  try {
    await pool.started();
  } catch (error) {
    await pool.close();
    throw error;
  }
  return pool;
}

export class ScanPool {
  readonly size: number;
  readonly maxQueuedTasks: number;
  private readonly workerUrl: URL;
  private readonly wasm: WasmShare | undefined;
  private readonly slots: Slot[] = [];
  private queue: Job[] = [];
  private nextId = 0;
  private closing: Promise<void> | null = null;
  private readonly staging: SharedStaging = new SharedStaging();
  private readonly jobsDone = new Set<() => void>();

  /** Starts the workers; prefer `createScanPool`, which resolves once all of them have loaded. */
  constructor(options: ScanPoolOptions = {}) {
    this.size = options.workers ?? Math.max(1, availableParallelism());
    this.maxQueuedTasks = options.maxQueuedTasks ?? DEFAULT_MAX_QUEUED_TASKS;
    if (!Number.isInteger(this.size) || this.size < 1) throw new RangeError(`workers must be an integer >= 1, got ${this.size}`);
    if (!Number.isInteger(this.maxQueuedTasks) || this.maxQueuedTasks < 0) {
      throw new RangeError(`maxQueuedTasks must be an integer >= 0, got ${this.maxQueuedTasks}`);
    }
    this.workerUrl = options.workerUrl ?? defaultWorkerUrl();
    this.wasm = options.wasm;
    for (let i = 0; i < this.size; i++) this.slots.push(this.spawn(i));
  }

  /** Resolves when every current worker has loaded its module; rejects if one died first. */
  started(): Promise<void> {
    return Promise.all(this.slots.map((slot) => slot.started)).then(() => undefined);
  }

  /** Thread ids of the live workers, by slot (a replaced worker gets a new id). */
  get threadIds(): number[] {
    return this.slots.map((slot) => slot.threadId);
  }

  /** Tasks waiting for a worker. */
  get queued(): number {
    return this.queue.length;
  }

  /**
   * Runs one scan across the workers; resolves when every output is written. Rejects (never throws) for a bad
   * request, a full queue, a closed pool, an error in a worker or a worker that died.
   */
  async scan(request: PanelScan): Promise<void> {
    const { symbols, bars, kernel } = request;
    checkRequest(request);
    if (symbols * bars === 0) return;
    const bounds = shardBounds(symbols, this.size, SHARD_ALIGN);
    const shards = bounds.length - 1;
    this.admit(shards); // refuse at once, before staging anything
    const staged: Float64Array[] = [];
    try {
      const inputs = request.inputs.map((input) => this.stageInput(input, staged));
      const outputs = request.outputs.map((output) => (isShared(output) ? output : this.stage(output.length, staged)));
      const ranges = Array.from({ length: shards }, (_, k) => ({
        symbols, bars, first: bounds[k], count: bounds[k + 1] - bounds[k], inputs: inputs.map(viewOf),
      }));
      if (request.check) {
        const { highLow, verdict } = request.check;
        const results = (await this.submit(ranges.map((r): ScanTask => ({ ...r, kind: 'check', highLow })))) as CheckResult[];
        verdict({
          nonFinite: inputs.map((_, k) => results.some((r) => r.nonFinite[k])),
          highBelowLow: results.some((r) => r.highBelowLow),
        });
      }
      const outViews = outputs.map(viewOf);
      await this.submit(ranges.map((r): ScanTask => ({ ...r, kind: 'compute', kernel, params: [...request.params], outputs: outViews })));
      request.outputs.forEach((output, k) => {
        if (output !== outputs[k]) output.set(outputs[k]);
      });
    } finally {
      for (const array of staged) this.staging.give(array);
    }
  }

  /**
   * Runs `tasks` (at most one per worker at a time, the rest queued; all admitted or none) and resolves with their
   * answers in order once all have settled; rejects with the first failure in task order.
   */
  run(tasks: readonly ScanTask[]): Promise<unknown[]> {
    return this.submit(tasks);
  }

  /**
   * Rejects queued tasks ("scan pool closed before the task started"), waits for running ones, terminates the
   * workers. Later scans reject with "scan pool is closed". Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    const queued = this.queue;
    this.queue = [];
    for (const job of queued) job.reject(new Error('scan pool closed before the task started'));
    await Promise.all(
      this.slots.filter((slot) => slot.job !== null).map((slot) => new Promise<void>((resolve) => this.whenIdle(slot, resolve))),
    );
    await Promise.all(this.slots.map((slot) => slot.worker.terminate()));
  }

  private whenIdle(slot: Slot, resolve: () => void): void {
    const check = (): void => {
      if (slot.job === null || !this.slots.includes(slot)) {
        this.jobsDone.delete(check);
        resolve();
      }
    };
    this.jobsDone.add(check);
  }

  /** Throws unless `tasks` more tasks can be taken now (the ones idle workers cannot start at once must queue). */
  private admit(tasks: number): void {
    if (this.closing) throw new Error('scan pool is closed');
    const idle = this.slots.filter((slot) => slot.job === null).length;
    if (this.queue.length + Math.max(0, tasks - idle) > this.maxQueuedTasks) {
      throw new Error(`scan queue full (${this.maxQueuedTasks} tasks)`);
    }
  }

  /** Queues all tasks or none; settles when all have settled, rejecting with the first failure in task order. */
  private async submit(tasks: readonly ScanTask[]): Promise<unknown[]> {
    this.admit(tasks.length);
    const promises = tasks.map((task) => new Promise<unknown>((resolve, reject) => this.queue.push({ task, resolve, reject })));
    this.pump();
    const settled = await Promise.allSettled(promises);
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value);
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.job !== null) continue;
      const job = this.queue.shift() as Job;
      slot.job = job;
      slot.worker.postMessage({ id: this.nextId++, task: job.task } satisfies TaskMessage);
    }
  }

  private spawn(index: number): Slot {
    const worker = spawnWorker(this.workerUrl, { index, wasm: this.wasm });
    let markStarted!: () => void;
    let failStart!: (error: Error) => void;
    const started = new Promise<void>((resolve, reject) => {
      markStarted = resolve;
      failStart = reject;
    });
    started.catch(() => undefined); // a replacement's start is awaited by nobody
    const slot: Slot = { index, threadId: worker.threadId, worker, job: null, ready: false, started, error: undefined };
    worker.on('message', (reply: WorkerReply) => {
      if ('ready' in reply) {
        slot.ready = true;
        markStarted();
        return;
      }
      const job = slot.job;
      slot.job = null;
      if (job) {
        if (reply.ok) job.resolve(reply.value);
        else job.reject(errorOf(reply.name, reply.message));
      }
      this.afterJob();
    });
    worker.on('error', (error: unknown) => {
      slot.error ??= error instanceof Error ? error : new Error(String(error));
    });
    worker.once('exit', (code: number) => {
      const reason = slot.error ? `crashed: ${slot.error.message}` : `exited with code ${code}`;
      const name = `scan worker ${slot.index} (thread ${slot.threadId})`;
      failStart(new Error(`${name} ${reason} while starting`));
      const position = this.slots.indexOf(slot);
      if (position < 0) return; // terminated by close()
      const job = slot.job;
      slot.job = null;
      job?.reject(new Error(`${name} ${reason} while running a task; the pool replaced it`));
      if (this.closing) {
        this.slots.splice(position, 1);
      } else if (slot.ready) {
        this.slots[position] = this.spawn(slot.index);
      } else {
        // It never loaded: a replacement would fail the same way.
        this.slots.splice(position, 1);
        if (this.slots.length === 0) {
          const queued = this.queue;
          this.queue = [];
          for (const waiting of queued) waiting.reject(new Error(`scan pool has no workers left: ${name} ${reason}`));
        }
      }
      this.afterJob();
    });
    return slot;
  }

  private afterJob(): void {
    for (const check of [...this.jobsDone]) check();
    if (!this.closing) this.pump();
  }

  private stageInput(input: Float64Array, staged: Float64Array[]): Float64Array {
    if (isShared(input)) return input;
    const copy = this.stage(input.length, staged);
    copy.set(input);
    return copy;
  }

  private stage(length: number, staged: Float64Array[]): Float64Array {
    const array = this.staging.take(length);
    staged.push(array);
    return array;
  }
}

function isShared(array: Float64Array): boolean {
  return array.buffer instanceof SharedArrayBuffer;
}

function checkRequest(request: PanelScan): void {
  const { symbols, bars, kernel } = request;
  const arity = kernelArity[kernel];
  if (arity === undefined) throw new RangeError(`unknown scan kernel ${String(kernel)}`);
  if (!Number.isInteger(symbols) || symbols < 0) throw new RangeError(`symbols must be an integer >= 0, got ${symbols}`);
  if (!Number.isInteger(bars) || bars < 0) throw new RangeError(`bars must be an integer >= 0, got ${bars}`);
  if (request.inputs.length !== arity.inputs || request.outputs.length !== arity.outputs) {
    throw new RangeError(`${kernel} takes ${arity.inputs} inputs and ${arity.outputs} outputs`);
  }
  for (const array of [...request.inputs, ...request.outputs]) {
    if (array.length !== symbols * bars) {
      throw new RangeError(`a panel has ${array.length} values, expected symbols * bars = ${symbols * bars}`);
    }
  }
}

const errorClasses: Readonly<Record<string, new (message: string) => Error>> = { RangeError, TypeError };

function errorOf(name: string, message: string): Error {
  return new (errorClasses[name] ?? Error)(message);
}

function defaultWorkerUrl(): URL {
  const extension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./scan-worker${extension}`, import.meta.url);
}

/**
 * Shard boundaries: `symbols` split into at most `shards` contiguous ranges of near-equal size, inner boundaries
 * on multiples of `align` when every shard can hold at least `align` symbols. Returns the n + 1 boundaries.
 *
 * Examples: (2000, 2, 8) -> [0, 1000, 2000]; (100, 3, 8) -> [0, 32, 64, 100]; (7, 2, 8) -> [0, 4, 7];
 * (1, 4, 8) -> [0, 1]; (0, 2, 8) -> [0].
 */
export function shardBounds(symbols: number, shards: number, align: number): number[] {
  const n = Math.min(shards, symbols);
  if (n === 0) return [0];
  const step = symbols >= align * n ? align : 1;
  const bounds = [0];
  for (let k = 1; k < n; k++) bounds.push(Math.round((k * symbols) / n / step) * step);
  bounds.push(symbols);
  return bounds;
}

/** Reusable SharedArrayBuffers for staged copies: fresh pages cost more than the copy. Keeps at most 8. */
class SharedStaging {
  private free: SharedArrayBuffer[] = [];

  take(length: number): Float64Array {
    const bytes = length * Float64Array.BYTES_PER_ELEMENT;
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      if (this.free[i].byteLength >= bytes && (best < 0 || this.free[i].byteLength < this.free[best].byteLength)) best = i;
    }
    const buffer = best < 0 ? new SharedArrayBuffer(bytes) : this.free.splice(best, 1)[0];
    return new Float64Array(buffer, 0, length);
  }

  give(array: Float64Array): void {
    this.free.push(array.buffer as SharedArrayBuffer);
    if (this.free.length > 8) this.free.sort((a, b) => b.byteLength - a.byteLength).pop();
  }
}
