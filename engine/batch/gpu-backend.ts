import { prepareAtrBatch } from '../indicators/atr.ts';
import { prepareCloseBatch } from '../indicators/batch-checks.ts';
import { prepareBbandsBatch, type BollingerBatchOutput } from '../indicators/bbands.ts';
import { prepareMacdBatch, type MacdBatchOutput } from '../indicators/macd.ts';
import { prepareStochBatch, type StochBatchOutput } from '../indicators/stoch.ts';
import { prepareVwapBatch } from '../indicators/vwap.ts';
import type { AsyncBatchBackend } from './batch-backend.ts';
import { checkAtrPanel, checkClosePanel, checkMacdPanel, type AsyncPanelBatch } from './panel.ts';
import { acquireAdapter, type GpuAdapterReport } from './gpu-adapter.ts';
import { FOLD_WIDTH, gramKernelSource, horizon, kernelSource, type KernelLayout, type KernelName } from './gpu-kernels.ts';
import { prepareGram } from './gram.ts';

/**
 * The `gpu` backend: every batch indicator (single series) and the multi-symbol panel scans (smaMany, emaMany,
 * rsiMany, atrMany, macdMany) as gpu.js kernels in `webgpu` mode (kernels.ts), on the adapter adapter.ts finds:
 * a real GPU through Dawn's Vulkan backend, or Mesa's llvmpipe through OpenGL ES where there is none (CI).
 *
 * Contract: that of the JS batch functions and panel.ts (same arguments, same checks in the same order with the
 * same RangeErrors, as rejections, before any output is written; aligned outputs, NaN warm-up at the same
 * indices), except that values are computed in f32: within GPU_TOLERANCE of the JS reference, not bit-identical.
 *
 * Data path per call: inputs are converted to f32 (symbols gathered into chunks that fit the device's storage
 * buffer limit), uploaded, computed, read back and widened into the f64 outputs. Multi-stage indicators (MACD's
 * signal over its line, Stochastic's slowK and slowD) keep their intermediates on the GPU (gpu.js pipeline
 * buffers): one upload, one readback per output. Calls are serialized on the device.
 */
export interface GpuBackend extends AsyncBatchBackend, AsyncPanelBatch {
  readonly name: 'gpu';
  /** Which adapter ran the kernels: vendor, device, software or hardware, driver libraries loaded. */
  readonly adapter: GpuAdapterReport;
}

/**
 * How far a GPU result may be from the JS reference (f64), per output kind, for inputs that are ordinary prices
 * (magnitudes 1e-2..1e6, moves of a few percent per bar): `price` outputs within `relative` x the largest input
 * magnitude in the series, `oscillator` outputs (RSI, Stochastic, 0..100) within `absolute`. Inputs are rounded
 * to f32 on upload (relative error 6e-8), which is the floor. See kernels.ts for why the math stays stable.
 */
export const GPU_TOLERANCE = Object.freeze({ relative: 2e-6, absolute: 1e-2 });

/** Minimal typings of the gpu.js surface used here (gpu.js ships typings for its synchronous API only). */
interface GpuJsKernel {
  (...args: unknown[]): Promise<unknown>;
  setOutput(output: number[]): GpuJsKernel;
  setPipeline(flag: boolean): GpuJsKernel;
  setDynamicOutput(flag: boolean): GpuJsKernel;
  setDynamicArguments(flag: boolean): GpuJsKernel;
  setLoopMaxIterations(max: number): GpuJsKernel;
  destroy(): unknown;
}
interface GpuJsInstance {
  createKernel(source: string): GpuJsKernel;
  destroy(): Promise<void> | void;
}
interface GpuJsModule {
  GPU: new (settings: { mode: 'webgpu' }) => GpuJsInstance;
  Input: new (value: Float32Array, size: number[]) => object;
}
/** A gpu.js pipeline result: an output buffer kept on the GPU. */
interface ResidentResult {
  toArray(): Promise<unknown>;
  delete(): void;
}

/** A run of symbols computed by one dispatch per kernel; `folded` when it is one symbol (see kernels.ts). */
interface Chunk {
  readonly from: number;
  readonly to: number;
  readonly layout: KernelLayout;
}

/** The largest panel layout dimension along bars: 65535 workgroups of 8 rows (gpu.js 2D workgroups are 8 x 8). */
const MAX_PANEL_BARS = 65535 * 8;
/** The folded layout indexes bars in f32, exact below 2^24. */
const MAX_FOLDED_BARS = 2 ** 24;

/**
 * Acquires an adapter (adapter.ts), loads gpu.js, compiles and runs one small kernel so that a broken device fails
 * here, with the reason, rather than on the first real call. Rejects with GpuUnavailableError when no adapter
 * answers, or with the gpu.js error when one answers but cannot run a kernel.
 */
export async function createGpuBackend(env: NodeJS.ProcessEnv = process.env): Promise<GpuBackend> {
  const { report } = await acquireAdapter(env);
  const gpujs = (await import('gpu.js')) as unknown as GpuJsModule;
  const backend = new WebGpuIndicators(gpujs, report);
  try {
    const probe = await backend.sma(new Float64Array([1, 2, 3, 4]), 2);
    if (probe[1] !== 1.5 || probe[3] !== 3.5) throw new Error(`probe kernel computed ${Array.from(probe).join(', ')}, expected NaN, 1.5, 2.5, 3.5`);
  } catch (error) {
    await backend.close();
    throw error;
  }
  return backend;
}

class WebGpuIndicators implements GpuBackend {
  readonly name = 'gpu' as const;
  private readonly gpu: GpuJsInstance;
  private readonly kernels = new Map<string, GpuJsKernel>();
  private readonly staging: Float32Array[] = [];
  /** Calls in flight, one after another: kernels reuse their buffers. */
  private tail: Promise<unknown> = Promise.resolve();
  private readonly maxValuesPerBuffer: number;

  constructor(private readonly gpujs: GpuJsModule, readonly adapter: GpuAdapterReport) {
    this.gpu = new gpujs.GPU({ mode: 'webgpu' });
    this.maxValuesPerBuffer = Math.floor(Math.min(adapter.maxStorageBufferBindingSize, adapter.maxBufferSize) / 4);
  }

  // ---- single series: the checks of the JS function, then the panel path with one symbol -------------------

  async sma(close: Float64Array, period: number, out?: Float64Array): Promise<Float64Array> {
    const result = prepareCloseBatch(close, period, out);
    if (result.length > 0) await this.smaPanel(close, 1, close.length, period, result);
    return result;
  }

  async ema(close: Float64Array, period: number, out?: Float64Array): Promise<Float64Array> {
    const result = prepareCloseBatch(close, period, out);
    if (result.length > 0) await this.emaPanel(close, 1, close.length, period, result);
    return result;
  }

  async rsi(close: Float64Array, period: number, out?: Float64Array): Promise<Float64Array> {
    const result = prepareCloseBatch(close, period, out);
    if (result.length > 0) await this.rsiPanel(close, 1, close.length, period, result);
    return result;
  }

  async macd(close: Float64Array, fastPeriod: number, slowPeriod: number, signalPeriod: number, out?: MacdBatchOutput): Promise<MacdBatchOutput> {
    const result = prepareMacdBatch(close, fastPeriod, slowPeriod, signalPeriod, out);
    if (close.length > 0) await this.macdPanel(close, 1, close.length, fastPeriod, slowPeriod, signalPeriod, result);
    return result;
  }

  async bbands(close: Float64Array, period: number, stdDev = 2, out?: BollingerBatchOutput): Promise<BollingerBatchOutput> {
    const result = prepareBbandsBatch(close, period, stdDev, out);
    const n = close.length;
    if (n === 0) return result;
    await this.exclusive(async () => {
      for (const chunk of this.chunks(1, n)) {
        const base = basePrices(close, 1, chunk);
        const x = this.upload(0, close, 1, n, chunk, base);
        const first = period - 1;
        const middle = await this.read(await this.dispatch('smaOf', chunk, false, [x, period, 0], first, n), chunk);
        const deviation = await this.read(await this.dispatch('bbandsDeviation', chunk, false, [x, period], first, n), chunk);
        for (let t = 0; t < first; t++) {
          result.upper[t] = NaN;
          result.middle[t] = NaN;
          result.lower[t] = NaN;
        }
        for (let t = first; t < n; t++) {
          const mean = base[0] + middle[t - first];
          const band = stdDev * deviation[t - first];
          result.upper[t] = mean + band;
          result.middle[t] = mean;
          result.lower[t] = mean - band;
        }
      }
    });
    return result;
  }

  async atr(high: Float64Array, low: Float64Array, close: Float64Array, period: number, out?: Float64Array): Promise<Float64Array> {
    const result = prepareAtrBatch(high, low, close, period, out);
    if (result.length > 0) await this.atrPanel(high, low, close, 1, close.length, period, result);
    return result;
  }

  async vwap(high: Float64Array, low: Float64Array, close: Float64Array, volume: Float64Array, period: number, out?: Float64Array): Promise<Float64Array> {
    const result = prepareVwapBatch(high, low, close, volume, period, out);
    const n = close.length;
    if (n === 0) return result;
    await this.exclusive(async () => {
      for (const chunk of this.chunks(1, n)) {
        const base = basePrices(close, 1, chunk);
        const args = [high, low, close, volume].map((input, slot) => this.upload(slot, input, 1, n, chunk, slot < 3 ? base : undefined));
        const values = await this.read(await this.dispatch('vwap', chunk, false, [...args, period], period - 1, n), chunk);
        scatter(values, result, 1, n, chunk, period - 1, base);
      }
    });
    return result;
  }

  async stoch(
    high: Float64Array, low: Float64Array, close: Float64Array, fastKPeriod = 14, slowKPeriod = 3, slowDPeriod = 3,
    out?: StochBatchOutput,
  ): Promise<StochBatchOutput> {
    const result = prepareStochBatch(high, low, close, fastKPeriod, slowKPeriod, slowDPeriod, out);
    const n = close.length;
    if (n === 0) return result;
    const fastKFirst = fastKPeriod - 1;
    const slowKFirst = fastKFirst + slowKPeriod - 1;
    const first = slowKFirst + slowDPeriod - 1;
    if (first >= n) {
      result.slowK.fill(NaN);
      result.slowD.fill(NaN);
      return result;
    }
    await this.exclusive(async () => {
      for (const chunk of this.chunks(1, n)) {
        const base = basePrices(close, 1, chunk);
        const args = [high, low, close].map((input, slot) => this.upload(slot, input, 1, n, chunk, base));
        const fastK = await this.dispatch('stochFastK', chunk, true, [...args, fastKPeriod], fastKFirst, n);
        const slowK = await this.dispatch('smaOf', chunk, true, [fastK, slowKPeriod, fastKFirst], slowKFirst, n);
        const slowD = await this.dispatch('smaOf', chunk, false, [slowK, slowDPeriod, slowKFirst], first, n);
        // TA-Lib aligns both outputs at slowD's first index: slowK before it was only slowD's history.
        scatter(await this.read(slowK, chunk, first - slowKFirst), result.slowK, 1, n, chunk, first);
        scatter(await this.read(slowD, chunk), result.slowD, 1, n, chunk, first);
        release(fastK, slowK);
      }
    });
    return result;
  }

  // ---- panels --------------------------------------------------------------------------------------------

  async smaMany(close: Float64Array, symbols: number, bars: number, period: number, out?: Float64Array): Promise<Float64Array> {
    const result = checkClosePanel(close, symbols, bars, period, out);
    if (result.length > 0) await this.smaPanel(close, symbols, bars, period, result);
    return result;
  }

  async emaMany(close: Float64Array, symbols: number, bars: number, period: number, out?: Float64Array): Promise<Float64Array> {
    const result = checkClosePanel(close, symbols, bars, period, out);
    if (result.length > 0) await this.emaPanel(close, symbols, bars, period, result);
    return result;
  }

  async rsiMany(close: Float64Array, symbols: number, bars: number, period: number, out?: Float64Array): Promise<Float64Array> {
    const result = checkClosePanel(close, symbols, bars, period, out);
    if (result.length > 0) await this.rsiPanel(close, symbols, bars, period, result);
    return result;
  }

  async atrMany(
    high: Float64Array, low: Float64Array, close: Float64Array, symbols: number, bars: number, period: number,
    out?: Float64Array,
  ): Promise<Float64Array> {
    const result = checkAtrPanel(high, low, close, symbols, bars, period, out);
    if (result.length > 0) await this.atrPanel(high, low, close, symbols, bars, period, result);
    return result;
  }

  async macdMany(
    close: Float64Array, symbols: number, bars: number, fastPeriod: number, slowPeriod: number, signalPeriod: number,
    out?: MacdBatchOutput,
  ): Promise<MacdBatchOutput> {
    const result = checkMacdPanel(close, symbols, bars, fastPeriod, slowPeriod, signalPeriod, out);
    if (result.macd.length > 0) await this.macdPanel(close, symbols, bars, fastPeriod, slowPeriod, signalPeriod, result);
    return result;
  }

  async close(): Promise<void> {
    await this.tail.catch(() => undefined);
    for (const kernel of this.kernels.values()) kernel.destroy();
    this.kernels.clear();
    this.staging.length = 0;
    await this.gpu.destroy();
  }

  // ---- the computations, on checked arguments ------------------------------------------------------------

  private smaPanel(close: Float64Array, symbols: number, bars: number, period: number, result: Float64Array): Promise<void> {
    return this.oneKernel('smaOf', [close], symbols, bars, [period, 0], period - 1, result, true);
  }

  private emaPanel(close: Float64Array, symbols: number, bars: number, period: number, result: Float64Array): Promise<void> {
    const alpha = 2 / (period + 1);
    return this.oneKernel('emaOf', [close], symbols, bars, [period, alpha, horizon(1 - alpha), period - 1, 0], period - 1, result, true);
  }

  private rsiPanel(close: Float64Array, symbols: number, bars: number, period: number, result: Float64Array): Promise<void> {
    return this.oneKernel('rsi', [close], symbols, bars, [period, horizon(1 - 1 / period)], period, result, false);
  }

  private atrPanel(
    high: Float64Array, low: Float64Array, close: Float64Array, symbols: number, bars: number, period: number, result: Float64Array,
  ): Promise<void> {
    return this.oneKernel('atr', [high, low, close], symbols, bars, [period, horizon(1 - 1 / period)], period, result, false);
  }

  private async macdPanel(
    close: Float64Array, symbols: number, bars: number, fastPeriod: number, slowPeriod: number, signalPeriod: number,
    result: MacdBatchOutput,
  ): Promise<void> {
    const lineFirst = slowPeriod - 1;
    const first = slowPeriod + signalPeriod - 2;
    if (first >= bars) {
      result.macd.fill(NaN);
      result.signal.fill(NaN);
      result.histogram.fill(NaN);
      return;
    }
    const fastAlpha = 2 / (fastPeriod + 1);
    const slowAlpha = 2 / (slowPeriod + 1);
    const signalAlpha = 2 / (signalPeriod + 1);
    await this.exclusive(async () => {
      for (const chunk of this.chunks(symbols, bars)) {
        const x = this.upload(0, close, symbols, bars, chunk, basePrices(close, symbols, chunk));
        const line = await this.dispatch('macdLine', chunk, true, [
          x, fastPeriod, slowPeriod, fastAlpha, slowAlpha, horizon(1 - fastAlpha), horizon(1 - slowAlpha),
        ], lineFirst, bars);
        const signal = await this.dispatch('emaOf', chunk, false, [
          line, signalPeriod, signalAlpha, horizon(1 - signalAlpha), first, lineFirst,
        ], first, bars);
        scatter(await this.read(line, chunk, first - lineFirst), result.macd, symbols, bars, chunk, first);
        scatter(await this.read(signal, chunk), result.signal, symbols, bars, chunk, first);
        release(line);
      }
    });
    const { macd, signal, histogram } = result;
    for (let i = 0; i < histogram.length; i++) histogram[i] = macd[i] - signal[i];
  }

  /**
   * One kernel over price `inputs` (bar-major panels, the last one the close), its one output scattered into
   * `result`; `level` when that output is a price (the base price is added back), not a difference or an oscillator.
   */
  private oneKernel(
    name: KernelName, inputs: readonly Float64Array[], symbols: number, bars: number, params: readonly number[],
    first: number, result: Float64Array, level: boolean,
  ): Promise<void> {
    if (first >= bars) {
      result.fill(NaN);
      return Promise.resolve();
    }
    return this.exclusive(async () => {
      for (const chunk of this.chunks(symbols, bars)) {
        const base = basePrices(inputs[inputs.length - 1], symbols, chunk);
        const args = inputs.map((input, slot) => this.upload(slot, input, symbols, bars, chunk, base));
        const values = await this.read(await this.dispatch(name, chunk, false, [...args, ...params], first, bars), chunk);
        scatter(values, result, symbols, bars, chunk, first, level ? base : undefined);
      }
    });
  }

  // ---- the Gram matrix (gram.ts): one dispatch, one thread per entry, f32 --------------------------------

  async gram(z: Float64Array, rows: number, length: number, out?: Float64Array): Promise<Float64Array> {
    const result = prepareGram(z, rows, length, out);
    if (rows === 0) return result;
    const limit = this.maxValuesPerBuffer;
    if (rows * length > limit || rows * rows > limit || rows > MAX_PANEL_BARS) {
      throw new RangeError(`a Gram matrix of ${rows} rows of ${length} values does not fit the device (at most ${limit} values per buffer)`);
    }
    await this.exclusive(async () => {
      const n = rows * length;
      if ((this.staging[0]?.length ?? 0) < n) this.staging[0] = new Float32Array(n);
      const values = this.staging[0].subarray(0, n);
      values.set(z);
      let kernel = this.kernels.get('gram');
      if (!kernel) {
        kernel = this.gpu.createKernel(gramKernelSource).setDynamicOutput(true).setDynamicArguments(true).setLoopMaxIterations(2 ** 30);
        this.kernels.set('gram', kernel);
      }
      kernel.setOutput([rows, rows]);
      const entries = await this.read(await kernel(new this.gpujs.Input(values, [length, rows]), length), { from: 0, to: rows, layout: 'panel' });
      for (let k = 0; k < rows * rows; k++) result[k] = entries[k];
    });
    return result;
  }

  // ---- device plumbing -----------------------------------------------------------------------------------

  private exclusive(work: () => Promise<void>): Promise<void> {
    const run = this.tail.then(work, work);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /**
   * Symbol ranges that fit the device: as many symbols per dispatch as the storage buffer limit allows for
   * `bars` values each (every input and output is one buffer); one symbol per dispatch, folded, when a panel is
   * one symbol wide or too long for the panel layout.
   */
  private chunks(symbols: number, bars: number): Chunk[] {
    // Each input is its own binding: the per-binding limit bounds a chunk, whatever the number of inputs.
    if (symbols === 1 || bars > MAX_PANEL_BARS) {
      if (bars > MAX_FOLDED_BARS || bars > this.maxValuesPerBuffer) {
        throw new RangeError(`series of ${bars} bars is too long for the GPU backend (at most ${Math.min(MAX_FOLDED_BARS, this.maxValuesPerBuffer)})`);
      }
      return Array.from({ length: symbols }, (_, s) => ({ from: s, to: s + 1, layout: 'folded' as const }));
    }
    const perChunk = Math.max(2, Math.min(symbols, Math.floor(this.maxValuesPerBuffer / bars), 65535 * 8));
    const result: Chunk[] = [];
    for (let from = 0; from < symbols; from += perChunk) {
      result.push({ from, to: Math.min(symbols, from + perChunk), layout: 'panel' });
    }
    return result;
  }

  /**
   * Symbols [from, to) of a bar-major f64 panel as f32, in the chunk's layout, wrapped as a gpu.js 2D input;
   * minus each symbol's base price when given (the subtraction is in f64, so the f32 values keep the bits that
   * distinguish nearby prices: a 0.001 move at 100 survives, where 100.001 in f32 is off by 4e-6).
   */
  private upload(slot: number, panel: Float64Array, symbols: number, bars: number, chunk: Chunk, base?: Float64Array): object {
    const width = chunk.layout === 'folded' ? FOLD_WIDTH : chunk.to - chunk.from;
    const rows = chunk.layout === 'folded' ? Math.ceil(bars / FOLD_WIDTH) : bars;
    const length = width * rows;
    if ((this.staging[slot]?.length ?? 0) < length) this.staging[slot] = new Float32Array(length);
    const values = this.staging[slot].subarray(0, length);
    if (chunk.layout === 'folded') {
      const s = chunk.from;
      const shift = base ? base[0] : 0;
      for (let t = 0; t < bars; t++) values[t] = panel[t * symbols + s] - shift;
      values.fill(0, bars);
    } else if (base) {
      for (let t = 0, k = 0; t < bars; t++) {
        const row = t * symbols;
        for (let s = chunk.from, b = 0; s < chunk.to; s++, b++) values[k++] = panel[row + s] - base[b];
      }
    } else {
      for (let t = 0, k = 0; t < bars; t++) {
        const row = t * symbols;
        for (let s = chunk.from; s < chunk.to; s++) values[k++] = panel[row + s];
      }
    }
    return new this.gpujs.Input(values, [width, rows]);
  }

  /** Runs kernel `name` for bars [first, bars) of the chunk; a pipeline kernel's result stays on the GPU. */
  private async dispatch(name: KernelName, chunk: Chunk, pipeline: boolean, args: unknown[], first: number, bars: number): Promise<unknown> {
    const kernel = this.kernel(name, chunk.layout, pipeline);
    const count = bars - first;
    kernel.setOutput(chunk.layout === 'folded' ? [FOLD_WIDTH, Math.ceil(count / FOLD_WIDTH)] : [chunk.to - chunk.from, count]);
    return kernel(...args, first, bars);
  }

  private kernel(name: KernelName, layout: KernelLayout, pipeline: boolean): GpuJsKernel {
    const key = `${name}:${layout}:${pipeline}`;
    let kernel = this.kernels.get(key);
    if (!kernel) {
      kernel = this.gpu.createKernel(kernelSource(name, layout))
        .setDynamicOutput(true)
        .setDynamicArguments(true)
        // gpu.js caps every loop at this count (default 1000); the kernels' loops are bounded by their periods.
        .setLoopMaxIterations(2 ** 30)
        .setPipeline(pipeline);
      this.kernels.set(key, kernel);
    }
    return kernel;
  }

  /**
   * A kernel result as one flat f32 array (a 2D result arrives as row views of one buffer; a pipeline result is
   * read back first), without its first `skipBars` bars.
   */
  private async read(result: unknown, chunk: Chunk, skipBars = 0): Promise<Float32Array> {
    const values = isResident(result) ? await result.toArray() : result;
    const rows = values as Float32Array[];
    if (rows.length === 0) return new Float32Array(0);
    const head = rows[0];
    const flat = new Float32Array(head.buffer, head.byteOffset, (head.buffer.byteLength - head.byteOffset) / 4);
    return flat.subarray(skipBars * (chunk.layout === 'folded' ? 1 : chunk.to - chunk.from));
  }
}

/** Each chunk symbol's first close: the price its inputs are uploaded relative to. */
function basePrices(close: Float64Array, symbols: number, chunk: Chunk): Float64Array {
  const base = new Float64Array(chunk.to - chunk.from);
  for (let s = chunk.from; s < chunk.to; s++) base[s - chunk.from] = close[s];
  return base;
}

/**
 * Writes a chunk's values (bar-major over its symbols, from bar `first`) into the f64 panel `out`, plus each
 * symbol's base price when given, NaN before `first`. In the folded layout the chunk is one symbol and
 * `values[t - first]` is its bar t.
 */
function scatter(
  values: Float32Array, out: Float64Array, symbols: number, bars: number, chunk: Chunk, first: number, base?: Float64Array,
): void {
  const warm = Math.min(first, bars);
  for (let t = 0; t < warm; t++) {
    const row = t * symbols;
    for (let s = chunk.from; s < chunk.to; s++) out[row + s] = NaN;
  }
  for (let t = first, k = 0; t < bars; t++) {
    const row = t * symbols;
    if (base) {
      for (let s = chunk.from, b = 0; s < chunk.to; s++, b++) out[row + s] = base[b] + values[k++];
    } else {
      for (let s = chunk.from; s < chunk.to; s++) out[row + s] = values[k++];
    }
  }
}

function isResident(result: unknown): result is ResidentResult {
  return typeof (result as { toArray?: unknown } | null)?.toArray === 'function' && typeof (result as { delete?: unknown }).delete === 'function';
}

function release(...results: unknown[]): void {
  for (const result of results) if (isResident(result)) result.delete();
}
