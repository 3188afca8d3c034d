import { createScanPool, shardBounds, type ScanPool, type ScanPoolOptions } from './scan-pool.ts';
import { SHARD_ALIGN, type ScanTask } from './scan-tasks.ts';
import type { BatchBackend } from './batch-backend.ts';
import { createJsBackend } from './js-backend.ts';
import type { AsyncPanelBatch } from './panel.ts';
import { panelStateLength } from './panel-invocation.ts';
import { foldedRows } from './gram.ts';
import type { ValueScan } from './wasm-call.ts';
import { createWasmBackend, type GramExecutor, type PanelExecutor, type WasmBackendOptions } from './wasm-backend.ts';

/**
 * The `workers` backend: the wasm backend's SIMD panel kernels (smaMany, emaMany, rsiMany, atrMany, macdMany) run
 * across a pool of worker threads (engine/batch/scan-pool.ts) that all instantiate indicators-simd.wasm on the
 * backend's ONE shared WebAssembly memory. Results are the wasm backend's, so every column equals the JS batch
 * function bit for bit; the functions return Promises (AsyncPanelBatch).
 *
 *     caller's thread: structural checks, staging (none for resident arrays), then
 *     workers:         value scans, each worker a contiguous 1/N of every input     (parallel)
 *     caller's thread: a hit -> the reference RangeError, nothing written
 *     workers:         the kernel, each worker a contiguous range of symbols         (parallel, in place)
 *                        symbols 0 .. 999        symbols 1000 .. 1999
 *             bar 0   [ worker 0 .......... | worker 1 ............ ]   rows `symbols` values apart; a worker
 *             bar 1   [ worker 0 .......... | worker 1 ............ ]   passes its first column's address and
 *                                                                        the panel's stride to the kernel
 *     caller's thread: staged outputs copied back.
 *
 * No panel is copied between threads, and no transposes: the workers address the same memory. Shard boundaries
 * fall on multiples of 8 symbols (a cache line of a row), each shard has its own state scratch.
 *
 * Memory: `allocate(length)` gives arrays in the shared memory (used in place, as in the wasm backend); any other
 * array is copied in and out on the caller's thread (about 0.4-1 ns per value per array): keep big panels
 * resident. The single-series BatchBackend methods are the JS functions on the caller's thread: one series is one
 * recursion, which cannot be split across threads, and a round trip would only add latency.
 *
 * Pool guarantees (bounded queue, a crashed worker replaced and its task failed with a clear error, clean
 * `close()`) are scan-pool.ts's. A call settles only when all its tasks have, so no worker still writes to a
 * call's outputs after it rejects.
 */
export interface WorkersBackend extends Omit<BatchBackend, 'gram'>, AsyncPanelBatch {
  readonly name: 'workers';
  /** The Gram matrix (gram.ts), its folded rows split evenly across the workers: the wasm kernel's results. */
  gram(z: Float64Array, rows: number, length: number, out?: Float64Array): Promise<Float64Array>;
  readonly pool: ScanPool;
  /** A zero-filled Float64Array in the workers' shared memory, used in place by the panel functions. */
  allocate(length: number): Float64Array;
  /** Gives back an array from `allocate()`. */
  release(array: Float64Array): void;
  /** Whether `array` lies in the shared memory. */
  isResident(array: Float64Array): boolean;
}

export type WorkersBackendOptions = Omit<ScanPoolOptions, 'wasm'> & WasmBackendOptions;

/** Loads the wasm modules, starts the pool (resolves when every worker has loaded); `close()` shuts both down. */
export async function createWorkersBackend(options: WorkersBackendOptions = {}): Promise<WorkersBackend> {
  const wasm = await createWasmBackend({ dir: options.dir });
  let pool: ScanPool;
  try {
    pool = await createScanPool({ ...options, wasm: wasm.threadShare() });
  } catch (error) {
    await wasm.close();
    throw error;
  }

  // A call's inputs all hold the same number of values: one split of that range serves every scan.
  const check = async (job: { readonly scans: readonly ValueScan[]; fail(k: number): never }): Promise<void> => {
    if (job.scans.length === 0) return;
    const ranges = shardBounds(job.scans[0].n, pool.size, SHARD_ALIGN);
    const checks = ranges.slice(0, -1).map((from, k): ScanTask => ({ kind: 'wasm-check', scans: job.scans, from, to: ranges[k + 1] }));
    const hits = (await pool.run(checks)) as number[];
    const first = Math.min(...hits.map((hit) => (hit < 0 ? Infinity : hit)));
    if (first !== Infinity) job.fail(first);
  };

  const execute: PanelExecutor = async (job) => {
    await check(job);
    const { invocation } = job;
    const bounds = shardBounds(invocation.symbols, pool.size, SHARD_ALIGN);
    const shards = bounds.slice(0, -1).map((first, k): ScanTask => {
      const count = bounds[k + 1] - first;
      return { kind: 'wasm-compute', invocation, first, count, state: job.scratch(panelStateLength(invocation.kernel, count)) };
    });
    await pool.run(shards);
  };

  // The Gram matrix: equal ranges of folded rows are equal work (gram.ts), one per worker.
  const executeGram: GramExecutor = async (job) => {
    await check(job);
    const bounds = shardBounds(foldedRows(job.invocation.rows), pool.size, 1);
    await pool.run(bounds.slice(0, -1).map((first, k): ScanTask => ({ kind: 'wasm-gram', invocation: job.invocation, first, count: bounds[k + 1] - first })));
  };

  return {
    ...createJsBackend(),
    ...wasm.panelsWith(execute),
    gram: wasm.gramWith(executeGram),
    name: 'workers',
    pool,
    allocate: wasm.allocate,
    release: wasm.release,
    isResident: wasm.isResident,
    async close() {
      await pool.close();
      await wasm.close();
    },
  };
}
