import type { BollingerBatchOutput } from '../indicators/bbands.ts';
import type { MacdBatchOutput } from '../indicators/macd.ts';
import type { StochBatchOutput } from '../indicators/stoch.ts';

/**
 * One interface for every batch indicator backend (js reference, wasm, gpu, workers). Every method has exactly
 * the contract of the JS batch function of the same name (engine/indicators/README.md): aligned outputs, NaN
 * during warm-up, TA-Lib conventions, RangeError for bad input before any output is written, optional
 * preallocated `out` arrays reused. The contract suite (backends/contract.test.ts) runs every backend against it.
 * Backends that need start-up work (compiling WebAssembly, acquiring a GPU adapter, spawning workers) are created
 * by an async factory and are ready when it resolves; `close()` releases what they hold.
 */
export type BackendName = 'js' | 'wasm' | 'gpu' | 'workers';

export interface BatchBackend {
  readonly name: BackendName;
  sma(close: Float64Array, period: number, out?: Float64Array): Float64Array;
  ema(close: Float64Array, period: number, out?: Float64Array): Float64Array;
  rsi(close: Float64Array, period: number, out?: Float64Array): Float64Array;
  macd(close: Float64Array, fastPeriod: number, slowPeriod: number, signalPeriod: number, out?: MacdBatchOutput): MacdBatchOutput;
  bbands(close: Float64Array, period: number, stdDev?: number, out?: BollingerBatchOutput): BollingerBatchOutput;
  atr(high: Float64Array, low: Float64Array, close: Float64Array, period: number, out?: Float64Array): Float64Array;
  vwap(high: Float64Array, low: Float64Array, close: Float64Array, volume: Float64Array, period: number, out?: Float64Array): Float64Array;
  stoch(
    high: Float64Array, low: Float64Array, close: Float64Array,
    fastKPeriod?: number, slowKPeriod?: number, slowDPeriod?: number, out?: StochBatchOutput,
  ): StochBatchOutput;
  /** The Gram matrix of row-major rows (gram.ts), the core of the scans' correlation matrix. */
  gram(z: Float64Array, rows: number, length: number, out?: Float64Array): Float64Array;
  close(): Promise<void>;
}

/** The indicator functions of a backend, without its name and close(). */
export type BatchFunctions = Omit<BatchBackend, 'name' | 'close'>;

/**
 * A backend whose results arrive later (the GPU: every WebGPU readback is asynchronous): the BatchBackend
 * functions with the same arguments, checks and output contract, delivered as Promises; a check that the
 * synchronous function throws is a rejection with the same RangeError.
 */
export type AsyncBatchFunctions = {
  [K in keyof BatchFunctions]: (...args: Parameters<BatchFunctions[K]>) => Promise<ReturnType<BatchFunctions[K]>>;
};

export interface AsyncBatchBackend extends AsyncBatchFunctions {
  readonly name: BackendName;
  close(): Promise<void>;
}

/**
 * Any backend: each function synchronous or not (the workers backend runs single series synchronously and its
 * Gram matrix across threads); callers `await` each result, which costs nothing for the synchronous ones.
 */
export type AnyBatchBackend = {
  readonly name: BackendName;
  close(): Promise<void>;
} & { [K in keyof BatchFunctions]: BatchFunctions[K] | AsyncBatchFunctions[K] };
