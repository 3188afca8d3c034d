import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareCloseBatch } from '../batch-checks.ts';
import { prepareBbandsBatch, type BollingerBatchOutput } from '../bbands.ts';
import { prepareMacdBatch, type MacdBatchOutput } from '../macd.ts';
import { prepareStochBatch, type StochBatchOutput } from '../stoch.ts';
import { prepareAtrBatch } from '../atr.ts';
import { prepareVwapBatch } from '../vwap.ts';
import type { BatchBackend } from './batch-backend.ts';
import { checkAtrPanel, checkClosePanel, checkMacdPanel, type PanelBatch } from './panel.ts';

/**
 * The WebAssembly batch backend: the indicator kernels of assembly/kernels/, compiled by `npm run build:wasm`
 * into build/wasm/ (build outputs, not in git), behind the BatchBackend contract.
 *
 *     caller's Float64Arrays --validate (batch-checks.ts, same checks and messages as JS)
 *        --copy in--> [ module memory: inputs | outputs | scratch ] --kernel--> --copy out--> caller's `out`
 *
 * - indicators.wasm: one kernel per batch function, a line-by-line port of the JS one, so results are bit for
 *   bit the JS reference's (WebAssembly f64 is IEEE 754 like JS, sqrt and division included; nothing is fused).
 * - indicators-simd.wasm (`--enable simd`): the PanelBatch functions (smaMany, emaMany, rsiMany, atrMany,
 *   macdMany) over bar-major panels (panel.ts), two symbols per f64x2 vector; each column equals the
 *   single-series result bit for bit.
 *
 * Loading: plain `WebAssembly.instantiate`, no @assemblyscript/loader. The loader exists to marshal managed
 * AssemblyScript objects (strings, arrays, class instances) through the runtime's __new/__pin; these kernels take
 * only numbers and byte addresses into memory that this file lays out itself, and with `--runtime stub` and
 * `--use abort=` the modules import nothing, so the loader would add a dependency and do nothing. Each module
 * exports its own memory (no shared imported memory: the two modules never exchange arrays).
 *
 * Copies: a JS-owned Float64Array lives in its own ArrayBuffer, and WebAssembly code can only address its
 * module's linear memory, so every call copies its inputs in and its outputs out: one memcpy per array, about
 * 0.4 ns per value on the 2-core machine, next to the ~1 ns per input value of the finite checks that JS pays too.
 * That is small beside RSI, Bollinger, VWAP or Stochastic, and as much as the kernel itself for SMA or a SIMD
 * EMA. Zero copy would need the caller to allocate its series inside the module's memory, and `memory.grow`
 * detaches every view into it (each such Float64Array turns to length 0), so wasm-resident arrays would need
 * handles re-viewed after every call that may grow; not offered yet. The workspace is reused between calls:
 * memory grows to the largest call seen (16-byte-aligned inputs, outputs and scratch from the module's heap
 * base) and never shrinks; `close()` lets it go.
 *
 * Every call is synchronous, so one workspace per module is never used by two calls at once. A backend is one
 * pair of instances in this thread; a worker thread creates its own.
 */
export interface WasmBackend extends BatchBackend, PanelBatch {
  readonly name: 'wasm';
}

export interface WasmBackendOptions {
  /** Directory holding indicators.wasm and indicators-simd.wasm; default build/wasm/ at the package root. */
  readonly dir?: string;
}

/** The kernels of indicators.wasm (assembly/kernels/indicators.ts); pointers are byte addresses. */
interface ScalarKernels {
  readonly memory: WasmMemory;
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

/** The kernels of indicators-simd.wasm (assembly/kernels/indicators-simd.ts). */
interface PanelKernels {
  readonly memory: WasmMemory;
  heapBase(): number;
  padded(symbols: number): number;
  smaMany(close: number, symbols: number, bars: number, period: number, out: number, state: number): void;
  emaMany(close: number, symbols: number, bars: number, period: number, out: number, state: number): void;
  rsiMany(close: number, symbols: number, bars: number, period: number, out: number, state: number): void;
  atrMany(
    high: number, low: number, close: number, symbols: number, bars: number, period: number, out: number, state: number,
  ): void;
  macdMany(
    close: number, symbols: number, bars: number, fast: number, slow: number, signal: number,
    macd: number, sig: number, hist: number, state: number,
  ): void;
}

// The WebAssembly JS API as far as this file uses it: @types/node 20 and lib ES2023 do not declare it (it comes
// with lib "dom"), and pulling DOM types into the whole project for it is not worth it.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: { exports: unknown } }>;
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const PAGE_BYTES = 65536;
/** wasm32 addresses 2^32 bytes (65536 pages). */
const MAX_BYTES = 65536 * PAGE_BYTES;

/**
 * One module's linear memory as a per-call bump layout from its heap base: `begin()`, `alloc()` each array,
 * `commit()` (grows the memory when needed), then `put`/`get` to copy. Nothing is freed; the next call lays out
 * from the base again.
 */
class Workspace {
  private heap: Float64Array;
  private top = 0;

  constructor(private readonly memory: WasmMemory, private readonly base: number) {
    this.heap = new Float64Array(memory.buffer);
  }

  begin(): void {
    this.top = this.base;
  }

  /** Reserves `count` f64 (16-byte aligned, so SIMD loads of pairs are aligned); returns the byte address. */
  alloc(count: number): number {
    const at = this.top;
    this.top = at + Math.ceil(count / 2) * 16;
    return at;
  }

  /** Makes the memory hold every array allocated since `begin()`; RangeError when wasm32 cannot address it. */
  commit(): void {
    const needed = this.top;
    if (needed > MAX_BYTES) {
      throw new RangeError(`the inputs, outputs and scratch need ${needed} bytes of wasm memory, more than the 4 GiB wasm32 can address`);
    }
    const have = this.memory.buffer.byteLength;
    if (needed > have) this.memory.grow(Math.ceil((needed - have) / PAGE_BYTES));
    // Growing detaches the previous ArrayBuffer; take a fresh view whenever the buffer changed.
    if (this.heap.buffer !== this.memory.buffer) this.heap = new Float64Array(this.memory.buffer);
  }

  put(at: number, values: Float64Array): void {
    this.heap.set(values, at / 8);
  }

  get(at: number, out: Float64Array): void {
    const from = at / 8;
    out.set(this.heap.subarray(from, from + out.length));
  }
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

async function instantiate<T>(path: string): Promise<T> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(`${path} is missing: run npm run build:wasm`, { cause: error });
    }
    throw error;
  }
  const { instance } = await wasmApi.instantiate(bytes, {});
  return instance.exports as unknown as T;
}

/**
 * Loads build/wasm/indicators.wasm and indicators-simd.wasm and returns the backend; rejects with an Error naming
 * the missing file and `npm run build:wasm` when the build has not run.
 */
export async function createWasmBackend(options: WasmBackendOptions = {}): Promise<WasmBackend> {
  const dir = options.dir ?? join(packageRoot(), 'build', 'wasm');
  const [scalar, panel] = await Promise.all([
    instantiate<ScalarKernels>(join(dir, 'indicators.wasm')),
    instantiate<PanelKernels>(join(dir, 'indicators-simd.wasm')),
  ]);
  return new WasmBatchBackend(scalar, panel);
}

/** An instantiated module with its workspace. */
interface Loaded<K> {
  readonly kernels: K;
  readonly ws: Workspace;
}

function load<K extends { memory: WasmMemory; heapBase(): number }>(kernels: K): Loaded<K> {
  return { kernels, ws: new Workspace(kernels.memory, align16(kernels.heapBase())) };
}

class WasmBatchBackend implements WasmBackend {
  readonly name = 'wasm' as const;
  private scalarModule: Loaded<ScalarKernels> | null;
  private panelModule: Loaded<PanelKernels> | null;

  constructor(scalar: ScalarKernels, panel: PanelKernels) {
    this.scalarModule = load(scalar);
    this.panelModule = load(panel);
  }

  private scalar(): Loaded<ScalarKernels> {
    if (this.scalarModule === null) throw new Error('the wasm backend is closed');
    return this.scalarModule;
  }

  private panel(): Loaded<PanelKernels> {
    if (this.panelModule === null) throw new Error('the wasm backend is closed');
    return this.panelModule;
  }

  // Arrow properties so that `const { sma } = backend` works like the JS backend's plain functions.

  sma = (close: Float64Array, period: number, out?: Float64Array): Float64Array =>
    this.closeKernel(close, period, out, 'sma');

  ema = (close: Float64Array, period: number, out?: Float64Array): Float64Array =>
    this.closeKernel(close, period, out, 'ema');

  rsi = (close: Float64Array, period: number, out?: Float64Array): Float64Array =>
    this.closeKernel(close, period, out, 'rsi');

  /** smaBatch / emaBatch / rsiBatch: identical checks, then one kernel over one input. */
  private closeKernel(close: Float64Array, period: number, out: Float64Array | undefined, kernel: 'sma' | 'ema' | 'rsi'): Float64Array {
    const { kernels: k, ws } = this.scalar();
    const result = prepareCloseBatch(close, period, out);
    const n = close.length;
    if (n === 0) return result;

    ws.begin();
    const c = ws.alloc(n);
    const o = ws.alloc(n);
    ws.commit();
    ws.put(c, close);
    k[kernel](c, n, period, o);
    ws.get(o, result);
    return result;
  }

  macd = (close: Float64Array, fastPeriod: number, slowPeriod: number, signalPeriod: number, out?: MacdBatchOutput): MacdBatchOutput => {
    const { kernels: k, ws } = this.scalar();
    const result = prepareMacdBatch(close, fastPeriod, slowPeriod, signalPeriod, out);
    const { macd: macdOut, signal: signalOut, histogram: histOut } = result;
    const n = close.length;
    if (n === 0) return result;

    ws.begin();
    const c = ws.alloc(n);
    const m = ws.alloc(n);
    const s = ws.alloc(n);
    const h = ws.alloc(n);
    ws.commit();
    ws.put(c, close);
    k.macd(c, n, fastPeriod, slowPeriod, signalPeriod, m, s, h);
    ws.get(m, macdOut);
    ws.get(s, signalOut);
    ws.get(h, histOut);
    return result;
  };

  bbands = (close: Float64Array, period: number, stdDev = 2, out?: BollingerBatchOutput): BollingerBatchOutput => {
    const { kernels: k, ws } = this.scalar();
    const result = prepareBbandsBatch(close, period, stdDev, out);
    const { upper, middle, lower } = result;
    const n = close.length;
    if (n === 0) return result;

    ws.begin();
    const c = ws.alloc(n);
    const u = ws.alloc(n);
    const m = ws.alloc(n);
    const l = ws.alloc(n);
    ws.commit();
    ws.put(c, close);
    k.bbands(c, n, period, stdDev, u, m, l);
    ws.get(u, upper);
    ws.get(m, middle);
    ws.get(l, lower);
    return result;
  };

  atr = (high: Float64Array, low: Float64Array, close: Float64Array, period: number, out?: Float64Array): Float64Array => {
    const { kernels: k, ws } = this.scalar();
    const result = prepareAtrBatch(high, low, close, period, out);
    const n = close.length;
    if (n === 0) return result;

    ws.begin();
    const h = ws.alloc(n);
    const l = ws.alloc(n);
    const c = ws.alloc(n);
    const o = ws.alloc(n);
    ws.commit();
    ws.put(h, high);
    ws.put(l, low);
    ws.put(c, close);
    k.atr(h, l, c, n, period, o);
    ws.get(o, result);
    return result;
  };

  vwap = (
    high: Float64Array, low: Float64Array, close: Float64Array, volume: Float64Array, period: number, out?: Float64Array,
  ): Float64Array => {
    const { kernels: k, ws } = this.scalar();
    const result = prepareVwapBatch(high, low, close, volume, period, out);
    const n = close.length;
    if (n === 0) return result;

    ws.begin();
    const h = ws.alloc(n);
    const l = ws.alloc(n);
    const c = ws.alloc(n);
    const v = ws.alloc(n);
    const o = ws.alloc(n);
    ws.commit();
    ws.put(h, high);
    ws.put(l, low);
    ws.put(c, close);
    ws.put(v, volume);
    k.vwap(h, l, c, v, n, period, o);
    ws.get(o, result);
    return result;
  };

  stoch = (
    high: Float64Array, low: Float64Array, close: Float64Array,
    fastKPeriod = 14, slowKPeriod = 3, slowDPeriod = 3, out?: StochBatchOutput,
  ): StochBatchOutput => {
    const { kernels: k, ws } = this.scalar();
    const result = prepareStochBatch(high, low, close, fastKPeriod, slowKPeriod, slowDPeriod, out);
    const { slowK: slowKOut, slowD: slowDOut } = result;
    const n = close.length;
    if (n === 0) return result;

    ws.begin();
    const h = ws.alloc(n);
    const l = ws.alloc(n);
    const c = ws.alloc(n);
    const sk = ws.alloc(n);
    const sd = ws.alloc(n);
    const scratch = ws.alloc(Math.ceil(k.stochScratchBytes(fastKPeriod, slowKPeriod) / 8));
    ws.commit();
    ws.put(h, high);
    ws.put(l, low);
    ws.put(c, close);
    k.stoch(h, l, c, n, fastKPeriod, slowKPeriod, slowDPeriod, sk, sd, scratch);
    ws.get(sk, slowKOut);
    ws.get(sd, slowDOut);
    return result;
  };

  // ---- PanelBatch: bar-major panels through indicators-simd.wasm ----

  smaMany = (close: Float64Array, symbols: number, bars: number, period: number, out?: Float64Array): Float64Array =>
    this.closePanel(close, symbols, bars, period, out, 'smaMany', 1);

  emaMany = (close: Float64Array, symbols: number, bars: number, period: number, out?: Float64Array): Float64Array =>
    this.closePanel(close, symbols, bars, period, out, 'emaMany', 1);

  rsiMany = (close: Float64Array, symbols: number, bars: number, period: number, out?: Float64Array): Float64Array =>
    this.closePanel(close, symbols, bars, period, out, 'rsiMany', 2);

  private closePanel(
    close: Float64Array, symbols: number, bars: number, period: number, out: Float64Array | undefined,
    kernel: 'smaMany' | 'emaMany' | 'rsiMany', stateArrays: number,
  ): Float64Array {
    const { kernels: p, ws } = this.panel();
    const result = checkClosePanel(close, symbols, bars, period, out);
    const n = result.length;
    if (n === 0) return result;
    ws.begin();
    const c = ws.alloc(n);
    const o = ws.alloc(n);
    const state = ws.alloc(stateArrays * p.padded(symbols));
    ws.commit();
    ws.put(c, close);
    p[kernel](c, symbols, bars, period, o, state);
    ws.get(o, result);
    return result;
  }

  atrMany = (
    high: Float64Array, low: Float64Array, close: Float64Array, symbols: number, bars: number, period: number,
    out?: Float64Array,
  ): Float64Array => {
    const { kernels: p, ws } = this.panel();
    const result = checkAtrPanel(high, low, close, symbols, bars, period, out);
    const n = result.length;
    if (n === 0) return result;
    ws.begin();
    const h = ws.alloc(n);
    const l = ws.alloc(n);
    const c = ws.alloc(n);
    const o = ws.alloc(n);
    const state = ws.alloc(p.padded(symbols));
    ws.commit();
    ws.put(h, high);
    ws.put(l, low);
    ws.put(c, close);
    p.atrMany(h, l, c, symbols, bars, period, o, state);
    ws.get(o, result);
    return result;
  };

  macdMany = (
    close: Float64Array, symbols: number, bars: number, fastPeriod: number, slowPeriod: number, signalPeriod: number,
    out?: MacdBatchOutput,
  ): MacdBatchOutput => {
    const { kernels: p, ws } = this.panel();
    const result = checkMacdPanel(close, symbols, bars, fastPeriod, slowPeriod, signalPeriod, out);
    const n = result.macd.length;
    if (n === 0) return result;
    ws.begin();
    const c = ws.alloc(n);
    const m = ws.alloc(n);
    const s = ws.alloc(n);
    const h = ws.alloc(n);
    const state = ws.alloc(3 * p.padded(symbols));
    ws.commit();
    ws.put(c, close);
    p.macdMany(c, symbols, bars, fastPeriod, slowPeriod, signalPeriod, m, s, h, state);
    ws.get(m, result.macd);
    ws.get(s, result.signal);
    ws.get(h, result.histogram);
    return result;
  };

  close = async (): Promise<void> => {
    // Dropping the instances lets their memories be collected; later calls throw.
    this.scalarModule = null;
    this.panelModule = null;
  };
}

function align16(address: number): number {
  return Math.ceil(address / 16) * 16;
}
