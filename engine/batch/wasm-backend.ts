import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareCloseBatch } from '../indicators/batch-checks.ts';
import { prepareBbandsBatch, type BollingerBatchOutput } from '../indicators/bbands.ts';
import { prepareMacdBatch, type MacdBatchOutput } from '../indicators/macd.ts';
import { prepareStochBatch, type StochBatchOutput } from '../indicators/stoch.ts';
import { prepareAtrBatch } from '../indicators/atr.ts';
import { prepareVwapBatch } from '../indicators/vwap.ts';
import type { BatchBackend } from './batch-backend.ts';
import { foldedRows, prepareGram } from './gram.ts';
import { checkAtrPanel, checkClosePanel, checkMacdPanel, type AsyncPanelBatch, type PanelBatch } from './panel.ts';
import {
  invokeGram, invokePanel, panelStateLength, type GramInvocation, type PanelInvocation, type PanelKernelName,
  type PanelKernels,
} from './panel-invocation.ts';
import { WasmCall, type CheckKernels, type ValueScan } from './wasm-call.ts';
import { instantiateKernels, SharedWasmMemory, wasmApi, type WasmMemory } from './wasm-memory.ts';

/**
 * The WebAssembly batch backend: the indicator kernels of assembly/kernels/, compiled by `npm run build:wasm`
 * into build/wasm/ (build outputs, not in git), behind the BatchBackend contract.
 *
 *     caller's Float64Arrays --structural checks (batch-checks.ts, panel.ts: same checks, same messages as JS)
 *        --in place if resident, else copy in--> [ one shared wasm memory ] --SIMD value checks--> --kernel-->
 *        --in place if resident, else copy out--> caller's `out`
 *
 * - indicators.wasm: one kernel per batch function, a line-by-line port of the JS one, so results are bit for
 *   bit the JS reference's (WebAssembly f64 is IEEE 754 like JS, sqrt and division included; nothing is fused).
 * - indicators-simd.wasm: the PanelBatch functions (smaMany, emaMany, rsiMany, atrMany, macdMany) over
 *   bar-major panels (panel.ts), two symbols per f64x2 vector; each column equals the single-series result bit
 *   for bit. Kernels take a row stride apart from the symbol count, so a worker can run a range of columns.
 * - Both modules export `firstNonFinite` and `firstHighBelowLow`: the O(n) value checks as SIMD scans (0.2-0.5 ns
 *   per value on 1M values, then the memory's speed, against ~1 ns for the JS loop); on a hit the JS check runs to
 *   name the index (wasm-call.ts).
 *
 * Loading: plain `WebAssembly.Instance`, no @assemblyscript/loader. The loader exists to marshal managed
 * AssemblyScript objects (strings, arrays, class instances) through the runtime's __new/__pin; these kernels take
 * only numbers and byte addresses into memory that this side lays out, and with `--runtime stub` and `--use
 * abort=` they import nothing but their memory, so the loader would add a dependency and do nothing.
 *
 * Memory (wasm-memory.ts): both modules import one SHARED memory. Growing it never detaches a view, so:
 * - `allocate(length)` returns a Float64Array that lives in the memory: passed as any input or `out`, it is used
 *   in place, no copy (copies cost about 0.4 ns per value per array, as much as a SIMD EMA). It stays valid until
 *   `release(array)` or `close()`. Fill it (a feed handler, a loader) and run scans on it again and again.
 * - any other Float64Array is copied into per-call scratch and results copied out; scratch is freed after the
 *   call, so the memory grows to the largest call seen and is reused.
 * A call that is refused (RangeError) writes nothing the caller can see. Every call is synchronous; a backend
 * belongs to the thread that created it (worker threads may run its SIMD kernels on its memory: `threadShare`).
 */
export interface WasmBackend extends BatchBackend, PanelBatch {
  readonly name: 'wasm';
  /**
   * A zero-filled Float64Array of `length` values living in the backend's memory (64-byte aligned): inputs and
   * outputs passed this way are read and written in place. Valid until `release()` or `close()`.
   */
  allocate(length: number): Float64Array;
  /** Gives back an array from `allocate()` (RangeError for any other array, or twice). */
  release(array: Float64Array): void;
  /** Whether the kernels use `array` in place (it lies in this backend's memory). */
  isResident(array: Float64Array): boolean;
  /** What a worker thread needs to run the panel kernels on this memory (see engine/batch/scan-pool.ts). */
  threadShare(): WasmThreadShare;
  /**
   * The panel functions with their value scans and kernel handed to `executor` (the workers backend runs them
   * across threads): the same structural checks, staging, copies and results as the synchronous ones.
   */
  panelsWith(executor: PanelExecutor): AsyncPanelBatch;
  /** `gram` with its value scans and kernel handed to `executor` (the workers backend splits it across threads). */
  gramWith(executor: GramExecutor): (z: Float64Array, rows: number, length: number, out?: Float64Array) => Promise<Float64Array>;
}

/** What `gram` hands its executor once its arguments passed the structural checks and were staged. */
export interface GramJob {
  readonly invocation: GramInvocation;
  /** The value checks (z finite), to run before the kernel. */
  readonly scans: readonly ValueScan[];
  /** Throws the reference RangeError of scan `k`. */
  fail(k: number): never;
}

/** Runs a GramJob: every scan, then (if none hit) every folded row of the invocation. */
export type GramExecutor = (job: GramJob) => Promise<void>;

/** What a panel function hands its executor once its arguments passed the structural checks and were staged. */
export interface PanelJob {
  readonly invocation: PanelInvocation;
  /** The value checks, in order; run them all before the kernel. */
  readonly scans: readonly ValueScan[];
  /** Throws the reference RangeError of scan `k` (call it for the first scan that hit). */
  fail(k: number): never;
  /** Scratch of `length` f64 in the shared memory (e.g. each shard's state), freed when the call ends. */
  scratch(length: number): number;
}

/** Runs a PanelJob: every scan, then (if none hit) the invocation over all its symbols. */
export type PanelExecutor = (job: PanelJob) => Promise<void>;

interface PanelPlan<T> {
  readonly result: T;
  /** The caller's input arrays (for the resident-aliasing check). */
  readonly inputs: readonly Float64Array[];
  /** null for an empty panel: nothing to run. */
  readonly invocation: PanelInvocation | null;
}

/** The shared memory and the compiled SIMD module, both of which a worker_threads postMessage shares, not copies. */
export interface WasmThreadShare {
  readonly memory: WasmMemory;
  readonly panelModule: object;
}

export interface WasmBackendOptions {
  /** Directory holding indicators.wasm and indicators-simd.wasm; default build/wasm/ at the package root. */
  readonly dir?: string;
}

/** The kernels of indicators.wasm (assembly/kernels/indicators.ts); pointers are byte addresses. */
interface ScalarKernels extends CheckKernels {
  heapBase(): number;
  sma(close: number, n: number, period: number, out: number): void;
  ema(close: number, n: number, period: number, out: number): void;
  rsi(close: number, n: number, period: number, out: number): void;
  macd(close: number, n: number, fast: number, slow: number, signal: number, macd: number, sig: number, hist: number): void;
  bbands(close: number, n: number, period: number, stdDev: number, upper: number, middle: number, lower: number): void;
  atr(high: number, low: number, close: number, n: number, period: number, out: number): void;
  vwap(high: number, low: number, close: number, volume: number, n: number, period: number, out: number): void;
  stochScratchBytes(fastK: number, slowK: number): number;
  stoch(
    high: number, low: number, close: number, n: number, fastK: number, slowK: number, slowD: number,
    slowKOut: number, slowDOut: number, scratch: number,
  ): void;
}

/** The package root: the nearest ancestor directory of this file holding a package.json. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  return dir;
}

/** Where the modules are by default: build/wasm/ at the package root. */
export function defaultWasmDir(): string {
  return join(packageRoot(), 'build', 'wasm');
}

/** Compiles one of the kernel modules at `path`; an Error naming it and `npm run build:wasm` when it is missing. */
export async function compileKernelModule(path: string): Promise<object> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(`${path} is missing: run npm run build:wasm`, { cause: error });
    }
    throw error;
  }
  return new wasmApi.Module(bytes);
}

/**
 * Loads build/wasm/indicators.wasm and indicators-simd.wasm on a new shared memory and returns the backend;
 * rejects with an Error naming the missing file and `npm run build:wasm` when the build has not run.
 */
export async function createWasmBackend(options: WasmBackendOptions = {}): Promise<WasmBackend> {
  const dir = options.dir ?? defaultWasmDir();
  // Both compile at once; a failure is reported in argument order (not whichever read failed first), so a missing
  // build names the same file every time.
  const [scalar, panel] = await Promise.allSettled([compileKernelModule(join(dir, 'indicators.wasm')), compileKernelModule(join(dir, 'indicators-simd.wasm'))]);
  if (scalar.status === 'rejected') throw scalar.reason;
  if (panel.status === 'rejected') throw panel.reason;
  const scalarModule = scalar.value;
  const panelModule = panel.value;
  // The heap starts above both modules' static data; instances on a scratch memory tell where that ends.
  const probe = new SharedWasmMemory(0);
  const base = Math.max(
    instantiateKernels<ScalarKernels>(scalarModule, probe.memory).heapBase(),
    instantiateKernels<PanelKernels>(panelModule, probe.memory).heapBase(),
  );
  const memory = new SharedWasmMemory(base);
  return new WasmBatchBackend(
    memory,
    instantiateKernels<ScalarKernels>(scalarModule, memory.memory),
    instantiateKernels<PanelKernels>(panelModule, memory.memory),
    panelModule,
  );
}

interface Loaded {
  readonly memory: SharedWasmMemory;
  readonly scalar: ScalarKernels;
  readonly panel: PanelKernels;
  readonly panelModule: object;
  readonly residents: Map<Float64Array, number>;
}

class WasmBatchBackend implements WasmBackend {
  readonly name = 'wasm' as const;
  private loaded: Loaded | null;

  constructor(memory: SharedWasmMemory, scalar: ScalarKernels, panel: PanelKernels, panelModule: object) {
    this.loaded = { memory, scalar, panel, panelModule, residents: new Map() };
  }

  private state(): Loaded {
    if (this.loaded === null) throw new Error('the wasm backend is closed');
    return this.loaded;
  }

  /** Runs `body` with a fresh WasmCall: staged outputs are copied back on success, scratch always freed. */
  private call<T>(kernels: CheckKernels, body: (call: WasmCall) => T): T {
    const call = new WasmCall(this.state().memory, kernels);
    try {
      const result = body(call);
      call.finish();
      return result;
    } finally {
      call.dispose();
    }
  }

  allocate = (length: number): Float64Array => {
    const { memory, residents } = this.state();
    if (!Number.isInteger(length) || length < 0) throw new RangeError(`length must be an integer >= 0, got ${length}`);
    const address = memory.allocate(length);
    const array = memory.array(address, length);
    array.fill(0);
    residents.set(array, address);
    return array;
  };

  release = (array: Float64Array): void => {
    const { memory, residents } = this.state();
    const address = residents.get(array);
    if (address === undefined) {
      throw new RangeError('release: not an array from this backend\'s allocate(), or released already');
    }
    residents.delete(array);
    memory.release(address);
  };

  isResident = (array: Float64Array): boolean => this.loaded !== null && this.loaded.memory.holds(array);

  threadShare = (): WasmThreadShare => {
    const { memory, panelModule } = this.state();
    return { memory: memory.memory, panelModule };
  };

  // Arrow properties so that `const { sma } = backend` works like the JS backend's plain functions.

  sma = (close: Float64Array, period: number, out?: Float64Array): Float64Array =>
    this.closeKernel(close, period, out, 'sma');

  ema = (close: Float64Array, period: number, out?: Float64Array): Float64Array =>
    this.closeKernel(close, period, out, 'ema');

  rsi = (close: Float64Array, period: number, out?: Float64Array): Float64Array =>
    this.closeKernel(close, period, out, 'rsi');

  /** smaBatch / emaBatch / rsiBatch: identical checks, then one kernel over one input. */
  private closeKernel(close: Float64Array, period: number, out: Float64Array | undefined, kernel: 'sma' | 'ema' | 'rsi'): Float64Array {
    const k = this.state().scalar;
    return this.call(k, (call) => {
      const result = prepareCloseBatch(close, period, out, call.values);
      const n = close.length;
      if (n === 0) return result;
      const c = call.input(close);
      const o = call.output('out', result);
      call.check([close]);
      k[kernel](c, n, period, o);
      return result;
    });
  }

  macd = (close: Float64Array, fastPeriod: number, slowPeriod: number, signalPeriod: number, out?: MacdBatchOutput): MacdBatchOutput => {
    const k = this.state().scalar;
    return this.call(k, (call) => {
      const result = prepareMacdBatch(close, fastPeriod, slowPeriod, signalPeriod, out, call.values);
      const n = close.length;
      if (n === 0) return result;
      const c = call.input(close);
      const m = call.output('out.macd', result.macd);
      const s = call.output('out.signal', result.signal);
      const h = call.output('out.histogram', result.histogram);
      call.check([close]);
      k.macd(c, n, fastPeriod, slowPeriod, signalPeriod, m, s, h);
      return result;
    });
  };

  bbands = (close: Float64Array, period: number, stdDev = 2, out?: BollingerBatchOutput): BollingerBatchOutput => {
    const k = this.state().scalar;
    return this.call(k, (call) => {
      const result = prepareBbandsBatch(close, period, stdDev, out, call.values);
      const n = close.length;
      if (n === 0) return result;
      const c = call.input(close);
      const u = call.output('out.upper', result.upper);
      const m = call.output('out.middle', result.middle);
      const l = call.output('out.lower', result.lower);
      call.check([close]);
      k.bbands(c, n, period, stdDev, u, m, l);
      return result;
    });
  };

  atr = (high: Float64Array, low: Float64Array, close: Float64Array, period: number, out?: Float64Array): Float64Array => {
    const k = this.state().scalar;
    return this.call(k, (call) => {
      const result = prepareAtrBatch(high, low, close, period, out, call.values);
      const n = close.length;
      if (n === 0) return result;
      const h = call.input(high);
      const l = call.input(low);
      const c = call.input(close);
      const o = call.output('out', result);
      call.check([high, low, close]);
      k.atr(h, l, c, n, period, o);
      return result;
    });
  };

  vwap = (
    high: Float64Array, low: Float64Array, close: Float64Array, volume: Float64Array, period: number, out?: Float64Array,
  ): Float64Array => {
    const k = this.state().scalar;
    return this.call(k, (call) => {
      const result = prepareVwapBatch(high, low, close, volume, period, out, call.values);
      const n = close.length;
      if (n === 0) return result;
      const h = call.input(high);
      const l = call.input(low);
      const c = call.input(close);
      const v = call.input(volume);
      const o = call.output('out', result);
      call.check([high, low, close, volume]);
      k.vwap(h, l, c, v, n, period, o);
      return result;
    });
  };

  stoch = (
    high: Float64Array, low: Float64Array, close: Float64Array,
    fastKPeriod = 14, slowKPeriod = 3, slowDPeriod = 3, out?: StochBatchOutput,
  ): StochBatchOutput => {
    const k = this.state().scalar;
    return this.call(k, (call) => {
      const result = prepareStochBatch(high, low, close, fastKPeriod, slowKPeriod, slowDPeriod, out, call.values);
      const n = close.length;
      if (n === 0) return result;
      const h = call.input(high);
      const l = call.input(low);
      const c = call.input(close);
      const sk = call.output('out.slowK', result.slowK);
      const sd = call.output('out.slowD', result.slowD);
      const scratch = call.scratch(Math.ceil(k.stochScratchBytes(fastKPeriod, slowKPeriod) / 8));
      call.check([high, low, close]);
      k.stoch(h, l, c, n, fastKPeriod, slowKPeriod, slowDPeriod, sk, sd, scratch);
      return result;
    });
  };

  // ---- PanelBatch: bar-major panels through indicators-simd.wasm ----

  smaMany = (close: Float64Array, symbols: number, bars: number, period: number, out?: Float64Array): Float64Array =>
    this.panelSync((call) => closePanelPlan(call, 'smaMany', close, symbols, bars, period, out));

  emaMany = (close: Float64Array, symbols: number, bars: number, period: number, out?: Float64Array): Float64Array =>
    this.panelSync((call) => closePanelPlan(call, 'emaMany', close, symbols, bars, period, out));

  rsiMany = (close: Float64Array, symbols: number, bars: number, period: number, out?: Float64Array): Float64Array =>
    this.panelSync((call) => closePanelPlan(call, 'rsiMany', close, symbols, bars, period, out));

  atrMany = (
    high: Float64Array, low: Float64Array, close: Float64Array, symbols: number, bars: number, period: number,
    out?: Float64Array,
  ): Float64Array => this.panelSync((call) => atrPanelPlan(call, high, low, close, symbols, bars, period, out));

  macdMany = (
    close: Float64Array, symbols: number, bars: number, fastPeriod: number, slowPeriod: number, signalPeriod: number,
    out?: MacdBatchOutput,
  ): MacdBatchOutput =>
    this.panelSync((call) => macdPanelPlan(call, close, symbols, bars, fastPeriod, slowPeriod, signalPeriod, out));

  panelsWith = (executor: PanelExecutor): AsyncPanelBatch => ({
    smaMany: (close, symbols, bars, period, out) =>
      this.panelAsync((call) => closePanelPlan(call, 'smaMany', close, symbols, bars, period, out), executor),
    emaMany: (close, symbols, bars, period, out) =>
      this.panelAsync((call) => closePanelPlan(call, 'emaMany', close, symbols, bars, period, out), executor),
    rsiMany: (close, symbols, bars, period, out) =>
      this.panelAsync((call) => closePanelPlan(call, 'rsiMany', close, symbols, bars, period, out), executor),
    atrMany: (high, low, close, symbols, bars, period, out) =>
      this.panelAsync((call) => atrPanelPlan(call, high, low, close, symbols, bars, period, out), executor),
    macdMany: (close, symbols, bars, fastPeriod, slowPeriod, signalPeriod, out) =>
      this.panelAsync((call) => macdPanelPlan(call, close, symbols, bars, fastPeriod, slowPeriod, signalPeriod, out), executor),
  });

  // ---- The Gram matrix (gram.ts) through indicators-simd.wasm ----

  gram = (z: Float64Array, rows: number, length: number, out?: Float64Array): Float64Array => {
    const kernels = this.state().panel;
    return this.call(kernels, (call) => {
      const { result, invocation } = gramPlan(call, z, rows, length, out);
      if (invocation === null) return result;
      call.check([z]);
      invokeGram(kernels, invocation, 0, foldedRows(rows));
      return result;
    });
  };

  gramWith = (executor: GramExecutor) => async (z: Float64Array, rows: number, length: number, out?: Float64Array): Promise<Float64Array> => {
    const { memory, panel } = this.state();
    const call = new WasmCall(memory, panel);
    try {
      const { result, invocation } = gramPlan(call, z, rows, length, out);
      if (invocation === null) return result;
      const scans = call.scans([z]);
      await executor({ invocation, scans, fail: (k) => call.fail(k) });
      call.finish();
      return result;
    } finally {
      call.dispose();
    }
  };

  /** Plan, scans and the kernel over every symbol, here and now. */
  private panelSync<T>(plan: (call: WasmCall) => PanelPlan<T>): T {
    const kernels = this.state().panel;
    return this.call(kernels, (call) => {
      const { result, inputs, invocation } = plan(call);
      if (invocation === null) return result;
      const state = call.scratch(panelStateLength(invocation.kernel, invocation.symbols));
      call.check(inputs);
      invokePanel(kernels, invocation, 0, invocation.symbols, state);
      return result;
    });
  }

  /** Plan here; scans and kernel by `executor`; staged outputs copied back once it resolves. */
  private async panelAsync<T>(plan: (call: WasmCall) => PanelPlan<T>, executor: PanelExecutor): Promise<T> {
    const { memory, panel } = this.state();
    const call = new WasmCall(memory, panel);
    try {
      const { result, inputs, invocation } = plan(call);
      if (invocation === null) return result;
      const scans = call.scans(inputs);
      await executor({ invocation, scans, fail: (k) => call.fail(k), scratch: (length) => call.scratch(length) });
      call.finish();
      return result;
    } finally {
      call.dispose();
    }
  }

  close = async (): Promise<void> => {
    // Dropping the instances and the memory lets them be collected; arrays from allocate() keep their bytes
    // alive as long as they are referenced, but later calls throw.
    this.loaded = null;
  };
}

/** gram's checks (gram.ts) and its arrays' addresses; a null invocation for zero rows (nothing to run). */
function gramPlan(
  call: WasmCall, z: Float64Array, rows: number, length: number, out: Float64Array | undefined,
): { readonly result: Float64Array; readonly invocation: GramInvocation | null } {
  const result = prepareGram(z, rows, length, out, call.values);
  if (rows === 0) return { result, invocation: null };
  return { result, invocation: { z: call.input(z), rows, length, out: call.output('out', result) } };
}

function closePanelPlan(
  call: WasmCall, kernel: PanelKernelName, close: Float64Array, symbols: number, bars: number, period: number,
  out: Float64Array | undefined,
): PanelPlan<Float64Array> {
  const result = checkClosePanel(close, symbols, bars, period, out, call.values);
  if (result.length === 0) return { result, inputs: [], invocation: null };
  const invocation: PanelInvocation = {
    kernel, symbols, bars, params: [period], inputs: [call.input(close)], outputs: [call.output('out', result)],
  };
  return { result, inputs: [close], invocation };
}

function atrPanelPlan(
  call: WasmCall, high: Float64Array, low: Float64Array, close: Float64Array, symbols: number, bars: number,
  period: number, out: Float64Array | undefined,
): PanelPlan<Float64Array> {
  const result = checkAtrPanel(high, low, close, symbols, bars, period, out, call.values);
  if (result.length === 0) return { result, inputs: [], invocation: null };
  const invocation: PanelInvocation = {
    kernel: 'atrMany', symbols, bars, params: [period],
    inputs: [call.input(high), call.input(low), call.input(close)], outputs: [call.output('out', result)],
  };
  return { result, inputs: [high, low, close], invocation };
}

function macdPanelPlan(
  call: WasmCall, close: Float64Array, symbols: number, bars: number, fastPeriod: number, slowPeriod: number,
  signalPeriod: number, out: MacdBatchOutput | undefined,
): PanelPlan<MacdBatchOutput> {
  const result = checkMacdPanel(close, symbols, bars, fastPeriod, slowPeriod, signalPeriod, out, call.values);
  if (result.macd.length === 0) return { result, inputs: [], invocation: null };
  const invocation: PanelInvocation = {
    kernel: 'macdMany', symbols, bars, params: [fastPeriod, slowPeriod, signalPeriod], inputs: [call.input(close)],
    outputs: [
      call.output('out.macd', result.macd), call.output('out.signal', result.signal),
      call.output('out.histogram', result.histogram),
    ],
  };
  return { result, inputs: [close], invocation };
}
