import { join } from 'node:path';
import { compileKernelModule, defaultWasmDir } from '../batch/wasm-backend.ts';
import { instantiateKernels, SharedWasmMemory } from '../batch/wasm-memory.ts';
import { Atr } from '../indicators/atr.ts';
import { BollingerBands } from '../indicators/bbands.ts';
import { Ema } from '../indicators/ema.ts';
import type { StreamingIndicator } from '../indicators/indicator.ts';
import { Macd } from '../indicators/macd.ts';
import { nextPow2 } from '../indicators/rolling-sum.ts';
import { Rsi } from '../indicators/rsi.ts';
import { Sma } from '../indicators/sma.ts';
import { Stochastic } from '../indicators/stoch.ts';
import { Vwap } from '../indicators/vwap.ts';
import { checkCrossSectionJobs, type ColumnSet, type CrossSectionJob, type ScanKernels } from './scan-kernels.ts';
import type { ColumnExport, ScanExports, ScanModule } from './scan-exports.ts';
import { CHUNKS_PER_THREAD, symbolCuts } from './scan-split.ts';
import { MAX_UNITS } from './scan-claims.ts';
import { ScanHelpers } from './scan-helpers.ts';
import { runColumnChunk, runCrossSection } from './scan-units.ts';
import { HelperJob, type ColumnPlan } from './scan-helper-protocol.ts';

/**
 * The WebAssembly scan kernels (ScanKernels `wasm`) for `symbols` symbols: every state array, the row a kernel
 * reads and the cross-sections' workspace live in the module's own memory (a shared WebAssembly.Memory, so views
 * on it never detach as it grows). A kernel is fed in place from arrays made by `array`; an array from elsewhere
 * is copied in first (the same values, one copy more). Values are the JS kernels' bit for bit.
 *
 * With helpers (scan-helpers.ts: the `workers` backend), `columns` and `crossSections` share their work out in
 * units that this thread and the helpers claim one at a time: chunks of the symbols (CHUNKS_PER_THREAD a thread,
 * scan-split.ts) for the columns, single cross-sections, all on the same memory at the same time. A symbol's
 * column state is only ever touched by one thread in a job, whichever it is, so the values are the same as on one.
 */
export class WasmScanKernels implements ScanKernels {
  readonly name = 'wasm' as const;
  /** Where an input from outside the memory is copied for a call (close, high, low, volume; and cross-section input). */
  private readonly staging: Float64Array[];
  private readonly rankOut: Float64Array;
  private readonly zOut: Float64Array;
  private readonly rankWork: number;
  /** Ids of the cross-section lists registered with the helpers. */
  private lists = 0;

  constructor(
    private readonly kernels: ScanModule, private readonly memory: SharedWasmMemory, readonly symbols: number,
    private readonly helpers?: ScanHelpers,
  ) {
    this.staging = Array.from({ length: 5 }, () => this.array(symbols));
    this.rankOut = this.array(symbols);
    this.zOut = this.array(symbols);
    this.rankWork = memory.allocate(rankWorkspaceDoubles(kernels, symbols));
  }

  get threads(): number {
    return 1 + (this.helpers?.count ?? 0);
  }

  array(length: number): Float64Array {
    return this.f64(length, 0);
  }

  columns(prototypes: readonly StreamingIndicator[]): ColumnSet {
    const planned = prototypes.map((prototype) => this.plan(prototype));
    const calls = planned.map(({ plan }) => ({ plan, call: this.kernels[plan.fn] as ColumnExport }));
    const n = this.symbols;
    const helpers = this.helpers;
    const units = this.threads * CHUNKS_PER_THREAD;
    const cuts = symbolCuts(n, units);
    // Without helpers, one chunk of every symbol.
    const everySymbol = [0, n];
    for (const { plan } of planned) {
      helpers?.register(Array.from({ length: helpers.count }, () => ({ type: 'column', cuts, column: plan })));
    }
    return {
      values: planned.map(({ value }) => value),
      update: (close, high, low, volume) => {
        const row = this.rowAddresses(close, high, low, volume);
        if (helpers === undefined) {
          runColumnChunk(calls, everySymbol, 0, row);
          return;
        }
        helpers.start(HelperJob.COLUMNS, 0, units, row);
        claimWhileHelpersRun(helpers, (unit) => runColumnChunk(calls, cuts, unit, row));
      },
    };
  }

  crossSection(values: Float64Array, rank: Float64Array, z: Float64Array): void {
    const input = this.addressOf(values, this.staging[4]);
    this.rankAt(input, values.length, rank, -1);
    const zTo = this.memory.holds(z) ? z : this.zOut;
    this.kernels.zscore(input, values.length, zTo.byteOffset);
    if (zTo !== z) z.set(zTo.subarray(0, values.length));
  }

  crossSections(jobs: readonly CrossSectionJob[]): () => void {
    const helpers = this.helpers;
    checkCrossSectionJobs(jobs, this.symbols);
    // A helper reads its inputs in the memory: a list with an input elsewhere runs on this thread alone.
    // So does a list of more cross-sections than a job may have units.
    if (helpers === undefined || jobs.length === 0 || jobs.length > MAX_UNITS || !jobs.every((job) => this.memory.holds(job.values))) {
      return () => {
        for (const job of jobs) {
          this.crossSection(job.values, job.rank, job.z);
          job.valuesCopy?.set(job.values);
        }
      };
    }
    // Whichever thread runs a cross-section writes into the memory: into the outputs themselves when they are
    // there, else into arrays of the list's own, copied out (with the input's copy, `valuesCopy`) by that same
    // thread when the target is shared memory, or by this one once every cross-section is done when it is not (a
    // helper holding a copy of an unshared array would write into its copy).
    const afterwards: Copy[] = [];
    const plans = jobs.map((job) => {
      const copies: Copy[] = [];
      const copy = (from: number, to: Float64Array): void => {
        (to.buffer instanceof SharedArrayBuffer ? copies : afterwards).push({ from: this.memory.array(from, to.length), to });
      };
      const output = (target: Float64Array): number => {
        if (this.memory.holds(target)) return target.byteOffset;
        const from = this.array(target.length).byteOffset;
        copy(from, target);
        return from;
      };
      const plan = { input: job.values.byteOffset, n: job.values.length, rank: output(job.rank), z: output(job.z), copies };
      if (job.valuesCopy !== undefined) copy(plan.input, job.valuesCopy);
      return plan;
    });
    const id = ++this.lists;
    helpers.register(Array.from({ length: helpers.count }, () => ({ type: 'crossSections', id, jobs: plans })));
    return () => {
      helpers.start(HelperJob.CROSS_SECTIONS, id, plans.length);
      claimWhileHelpersRun(helpers, (unit) => runCrossSection(this.kernels, plans[unit], this.rankWork, this.symbols));
      for (const { from, to } of afterwards) to.set(from);
    };
  }

  /**
   * The rank alone, its introsort given `introsortDepth` quicksort levels before it turns to its heapsort (tests
   * pass 0 to prove the heapsort; -1, what crossSection passes, is 2 log2 of the bucket).
   */
  rank(values: Float64Array, out: Float64Array, introsortDepth: number): void {
    this.rankAt(this.addressOf(values, this.staging[4]), values.length, out, introsortDepth);
  }

  /** Stops the helper threads, if any. */
  close(): void {
    this.helpers?.close();
  }

  private rankAt(input: number, n: number, out: Float64Array, depth: number): void {
    const to = this.memory.holds(out) ? out : this.rankOut;
    this.kernels.rank(input, n, to.byteOffset, this.rankWork, this.symbols, depth);
    if (to !== out) out.set(to.subarray(0, n));
  }

  /** The state arrays of `prototype`'s column kernel, laid out and initialised, and its `value`. */
  private plan(prototype: StreamingIndicator): { plan: ColumnPlan; value: Float64Array } {
    const n = this.symbols;
    const value = this.f64(n, Number.NaN);
    const i32 = (length = n): number => this.i32(length);
    const f64 = (length = n, fill = 0): number => this.f64(length, fill).byteOffset;
    const column = (fn: string, state: number[]): { plan: ColumnPlan; value: Float64Array } => ({ plan: { fn, value: value.byteOffset, state }, value });
    if (prototype instanceof Sma) {
      const ring = rollingColumns(f64, i32, n, prototype.period);
      return column('smaColumn', [ring.count, ring.sum, ring.until, ring.head, ring.ring, ring.mask, prototype.period]);
    }
    if (prototype instanceof Ema) return column('emaColumn', [i32(), f64(), prototype.period]);
    if (prototype instanceof Rsi) return column('rsiColumn', [i32(), f64(), f64(), f64(), prototype.period]);
    if (prototype instanceof Macd) {
      const { fastPeriod, slowPeriod, signalPeriod } = prototype;
      return column('macdColumn', [i32(), f64(), f64(), f64(), f64(), f64(), f64(), fastPeriod, slowPeriod, signalPeriod]);
    }
    if (prototype instanceof BollingerBands) {
      const capacity = nextPow2(prototype.period);
      // count, head, until, run; sum, m2, last (NaN), ring.
      const state = [i32(), i32(), i32(), i32(), f64(), f64(), f64(n, Number.NaN), f64(capacity * n)];
      return column('bbandsColumn', [...state, capacity - 1, prototype.period, prototype.stdDev]);
    }
    if (prototype instanceof Atr) return column('atrColumn', [i32(), f64(), f64(), prototype.period]);
    if (prototype instanceof Vwap) {
      const capacity = nextPow2(prototype.period);
      // count, head, until, traded; sumPv, sumVol, sumTp; the pv, volume and typical-price rings.
      const state = [i32(), i32(), i32(), i32(), f64(), f64(), f64(), f64(capacity * n), f64(capacity * n), f64(capacity * n)];
      return column('vwapColumn', [...state, capacity - 1, prototype.period]);
    }
    if (prototype instanceof Stochastic) {
      const { fastKPeriod, slowKPeriod, slowDPeriod } = prototype;
      const capacity = nextPow2(fastKPeriod + 1);
      // bar, seen, the deques' heads and tails; their bars and values, `capacity` a symbol.
      const deques = [i32(), i32(), i32(), i32(), i32(), i32(), i32(capacity * n), f64(capacity * n), i32(capacity * n), f64(capacity * n)];
      const k = rollingColumns(f64, i32, n, slowKPeriod);
      const d = rollingColumns(f64, i32, n, slowDPeriod);
      return column('stochColumn', [
        ...deques, capacity, fastKPeriod,
        k.count, k.sum, k.until, k.head, k.ring, k.mask, slowKPeriod,
        d.count, d.sum, d.until, d.head, d.ring, d.mask, slowDPeriod,
      ]);
    }
    throw new TypeError(`no column kernel for indicator type ${prototype.type}`);
  }

  private rowAddresses(close: Float64Array, high: Float64Array, low: Float64Array, volume: Float64Array): [number, number, number, number] {
    const staging = this.staging;
    return [this.addressOf(close, staging[0]), this.addressOf(high, staging[1]), this.addressOf(low, staging[2]), this.addressOf(volume, staging[3])];
  }

  /** `values`' address in the memory: its own, or `staging`'s after a copy into it. */
  private addressOf(values: Float64Array, staging: Float64Array): number {
    if (values.length > this.symbols) throw new RangeError(`${values.length} values exceed the scan kernels' ${this.symbols} symbols`);
    if (this.memory.holds(values)) return values.byteOffset;
    staging.set(values);
    return staging.byteOffset;
  }

  /** A new f64 array in the memory, every element `fill` (a block taken again may hold old bytes). */
  private f64(length: number, fill: number): Float64Array {
    const view = this.memory.array(this.memory.allocate(Math.max(1, length)), length);
    view.fill(fill);
    return view;
  }

  /** The address of a new i32 array of zeros in the memory. */
  private i32(length: number): number {
    return this.f64(Math.ceil(length / 2), 0).byteOffset;
  }
}

/**
 * Claims and runs units of the job `helpers.start` began, alongside the helpers, until none is left; then waits for
 * the units under way, even when one of this thread's threw (nothing else may start while they write). A throw
 * gives up the rest of the job and the helpers with it: the state is then half a job, which no later scan may be
 * computed from. This thread's error wins over theirs.
 */
function claimWhileHelpersRun(helpers: ScanHelpers, runUnit: (unit: number) => void): void {
  try {
    for (let unit = helpers.claim(); unit >= 0; unit = helpers.claim()) {
      try {
        runUnit(unit);
      } finally {
        helpers.complete();
      }
    }
  } catch (error) {
    helpers.cancelRest();
    try {
      helpers.finish();
    } catch {
      // The helpers' own failure: they are marked broken either way.
    }
    helpers.giveUp(`the scan thread's share of a job threw (${error instanceof Error ? error.message : String(error)})`);
    throw error;
  }
  helpers.finish();
}

/** A copy out of the memory: `from` a view on it. */
interface Copy {
  readonly from: Float64Array;
  readonly to: Float64Array;
}

/** Doubles of one rank workspace for `symbols` values. */
function rankWorkspaceDoubles(kernels: ScanExports, symbols: number): number {
  return Math.ceil(kernels.rankWorkspaceBytes(symbols) / 8);
}

/** The arrays of a RollingSumColumns (column-kernels.ts) over `n` symbols, for `period`. */
function rollingColumns(
  f64: (length?: number) => number, i32: (length?: number) => number, n: number, period: number,
): { count: number; sum: number; until: number; head: number; ring: number; mask: number } {
  const capacity = nextPow2(period);
  return { count: i32(), sum: f64(), until: i32(), head: i32(), ring: f64(capacity * n), mask: capacity - 1 };
}

/**
 * Loads build/wasm/scan.wasm (or from `dir`) on a memory of its own, for `symbols` symbols, the work split over
 * `threads` threads (this one and threads - 1 helpers); rejects with an Error naming the file and `npm run
 * build:wasm` when the build has not run, or the helper's error when one does not start.
 */
export async function openWasmScanKernels(symbols: number, dir = defaultWasmDir(), threads = 1): Promise<WasmScanKernels> {
  const module = await compileKernelModule(join(dir, 'scan.wasm'));
  // The heap starts above the module's static data; an instance on a scratch memory tells where that ends.
  const base = instantiateKernels<ScanExports>(module, new SharedWasmMemory(0).memory).heapBase();
  const memory = new SharedWasmMemory(base);
  const kernels = instantiateKernels<ScanModule>(module, memory.memory);
  const helpers = threads > 1
    ? await ScanHelpers.open(module, memory.memory, threads - 1, symbols, () => memory.allocate(rankWorkspaceDoubles(kernels, symbols)))
    : undefined;
  return new WasmScanKernels(kernels, memory, symbols, helpers);
}
