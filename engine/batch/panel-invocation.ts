import { foldedRows } from './gram.ts';
import type { CheckKernels } from './wasm-call.ts';

/**
 * One call of a panel kernel of indicators-simd.wasm, as numbers only (addresses into the shared memory), so that
 * the thread that checked and staged a panel can hand it, or a column range of it, to another thread
 * (engine/batch/scan-pool.ts) running the same module on the same memory.
 */
export type PanelKernelName = 'smaMany' | 'emaMany' | 'rsiMany' | 'atrMany' | 'macdMany';

/**
 * The kernels of indicators-simd.wasm (assembly/kernels/indicators-simd.ts): `symbols` columns starting at the
 * given addresses, rows `stride` values apart; `state` holds PANEL_STATE_ARRAYS[kernel] * padded(symbols) f64.
 * Every kernel takes (...inputs, symbols, stride, bars, ...params, ...outputs, state).
 */
export interface PanelKernels extends CheckKernels {
  heapBase(): number;
  padded(symbols: number): number;
  smaMany(close: number, symbols: number, stride: number, bars: number, period: number, out: number, state: number): void;
  emaMany(close: number, symbols: number, stride: number, bars: number, period: number, out: number, state: number): void;
  rsiMany(close: number, symbols: number, stride: number, bars: number, period: number, out: number, state: number): void;
  atrMany(
    high: number, low: number, close: number, symbols: number, stride: number, bars: number, period: number,
    out: number, state: number,
  ): void;
  macdMany(
    close: number, symbols: number, stride: number, bars: number, fast: number, slow: number, signal: number,
    macd: number, sig: number, hist: number, state: number,
  ): void;
  /** Folded rows [first, first + count) of a Gram matrix (engine/batch/gram.ts), row-major rows. */
  gramFolded(z: number, rows: number, length: number, out: number, first: number, count: number): void;
}

/** Per-symbol state arrays of each panel kernel. */
export const PANEL_STATE_ARRAYS: Readonly<Record<PanelKernelName, number>> = Object.freeze({
  smaMany: 1, emaMany: 1, rsiMany: 2, atrMany: 1, macdMany: 3,
});

export interface PanelInvocation {
  readonly kernel: PanelKernelName;
  /** The whole panel's symbols (the row stride) and bars. */
  readonly symbols: number;
  readonly bars: number;
  /** Addresses of the input panels (atr: high, low, close) and output panels (macd: macd, signal, histogram). */
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  /** The periods, in the batch function's order. */
  readonly params: readonly number[];
}

/** f64 the state of `count` symbols of `kernel` needs (padded to whole vectors, as the kernels read it). */
export function panelStateLength(kernel: PanelKernelName, count: number): number {
  return PANEL_STATE_ARRAYS[kernel] * (count + (count & 1));
}

/**
 * Runs columns [first, first + count) of `invocation` with `state` (panelStateLength(kernel, count) f64 that no
 * other thread uses). Distinct column ranges write disjoint values, so threads may run them at once.
 */
export function invokePanel(
  kernels: PanelKernels, invocation: PanelInvocation, first: number, count: number, state: number,
): void {
  const { kernel, symbols, bars, params } = invocation;
  if (!(Number.isInteger(first) && Number.isInteger(count) && first >= 0 && count >= 0 && first + count <= symbols)) {
    throw new RangeError(`symbol range [${first}, ${first + count}) is outside [0, ${symbols})`);
  }
  if (count === 0) return;
  const offset = first * 8;
  const run = kernels[kernel] as (...args: number[]) => void;
  run(
    ...invocation.inputs.map((address) => address + offset), count, symbols, bars, ...params,
    ...invocation.outputs.map((address) => address + offset), state,
  );
}

/** One call of the Gram kernel, as addresses in the shared memory (engine/batch/gram.ts). */
export interface GramInvocation {
  readonly z: number;
  readonly rows: number;
  readonly length: number;
  readonly out: number;
}

/**
 * Runs folded rows [first, first + count) of `invocation` (gram.ts: foldedRows). Distinct ranges write disjoint
 * entries, so threads may run them at once.
 */
export function invokeGram(kernels: PanelKernels, invocation: GramInvocation, first: number, count: number): void {
  const folded = foldedRows(invocation.rows);
  if (!(Number.isInteger(first) && Number.isInteger(count) && first >= 0 && count >= 0 && first + count <= folded)) {
    throw new RangeError(`folded row range [${first}, ${first + count}) is outside [0, ${folded})`);
  }
  if (count > 0) kernels.gramFolded(invocation.z, invocation.rows, invocation.length, invocation.out, first, count);
}
