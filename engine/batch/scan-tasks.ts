import { atrBatch } from '../indicators/atr.ts';
import { emaBatch } from '../indicators/ema.ts';
import { macdBatch } from '../indicators/macd.ts';
import { rsiBatch } from '../indicators/rsi.ts';
import { smaBatch } from '../indicators/sma.ts';
import { invokeGram, invokePanel, type GramInvocation, type PanelInvocation, type PanelKernels } from './panel-invocation.ts';
import { runValueScan, type ValueScan } from './wasm-call.ts';
import { instantiateKernels, type WasmMemory } from './wasm-memory.ts';

/**
 * What a scan worker does with one task: a symbol range [first, first + count) of bar-major panels (element
 * (bar t, symbol s) at t * symbols + s, as in engine/batch/panel.ts) that live in SharedArrayBuffers.
 * Tasks carry only buffer handles, offsets, counts and parameters: a SharedArrayBuffer in a postMessage is a
 * shared handle, never a copy, so a worker reads the caller's inputs and writes the caller's outputs in place.
 *
 * A compute task runs the single-series JS batch functions themselves on each symbol of its range, so every
 * symbol's column equals `emaBatch(column)` (and so on) bit for bit by construction. A bar-major column is
 * strided (8 * symbols bytes between bars), so symbols go through in tiles of TILE: a cache-blocked transpose
 * copies the tile into TILE contiguous scratch columns, the batch function runs on each column, and the results
 * go back the same way. The copies are paid in the workers, in parallel.
 *
 * A check task scans its range for non-finite values per input and, optionally, high < low; the caller turns a
 * positive answer into the reference RangeError (which names the first bad index) before any compute task runs.
 */

export type ScanKernel = 'sma' | 'ema' | 'rsi' | 'atr' | 'macd';

/** Inputs and outputs of each kernel, in order (atr: high, low, close; macd: macd, signal, histogram). */
export const kernelArity: Readonly<Record<ScanKernel, { readonly inputs: number; readonly outputs: number }>> = Object.freeze({
  sma: { inputs: 1, outputs: 1 },
  ema: { inputs: 1, outputs: 1 },
  rsi: { inputs: 1, outputs: 1 },
  atr: { inputs: 3, outputs: 1 },
  macd: { inputs: 1, outputs: 3 },
});

/** A Float64Array view over a SharedArrayBuffer, as a message can carry it. */
export interface SharedView {
  readonly buffer: SharedArrayBuffer;
  readonly byteOffset: number;
  readonly length: number;
}

interface RangeTask {
  readonly symbols: number;
  readonly bars: number;
  readonly first: number;
  readonly count: number;
  readonly inputs: readonly SharedView[];
}

export interface ComputeTask extends RangeTask {
  readonly kind: 'compute';
  readonly kernel: ScanKernel;
  /** The batch function's periods, in its argument order. */
  readonly params: readonly number[];
  readonly outputs: readonly SharedView[];
}

export interface CheckTask extends RangeTask {
  readonly kind: 'check';
  /** Also look for high < low (inputs[0] is high, inputs[1] low). */
  readonly highLow: boolean;
}

/**
 * Elements [from, to) of each of a panel call's value scans (wasm backend, shared memory; a panel's inputs all
 * hold symbols * bars values). Answers the index of the first scan with a hit in that range, or -1.
 */
export interface WasmCheckTask {
  readonly kind: 'wasm-check';
  readonly scans: readonly ValueScan[];
  readonly from: number;
  readonly to: number;
}

/** Columns [first, first + count) of a panel kernel call in the shared memory, with this shard's own state. */
export interface WasmComputeTask {
  readonly kind: 'wasm-compute';
  readonly invocation: PanelInvocation;
  readonly first: number;
  readonly count: number;
  readonly state: number;
}

/** Folded rows [first, first + count) of a Gram matrix call in the shared memory (gram.ts: foldedRows). */
export interface WasmGramTask {
  readonly kind: 'wasm-gram';
  readonly invocation: GramInvocation;
  readonly first: number;
  readonly count: number;
}

export type ScanTask = ComputeTask | CheckTask | WasmCheckTask | WasmComputeTask | WasmGramTask;

/** What a worker gets to run the wasm tasks: the shared memory and the compiled indicators-simd.wasm. */
export interface WasmShare {
  readonly memory: WasmMemory;
  readonly panelModule: object;
}

/** This thread's instance of the panel kernels on the shared memory (set once by `attachWasm`). */
let panelKernels: PanelKernels | null = null;

/** Instantiates the panel kernels on the shared memory, for the wasm tasks. */
export function attachWasm(share: WasmShare): void {
  panelKernels = instantiateKernels<PanelKernels>(share.panelModule, share.memory);
}

function kernels(): PanelKernels {
  if (panelKernels === null) throw new Error('this scan worker has no wasm kernels (the pool was started without them)');
  return panelKernels;
}

function runWasmCheck(task: WasmCheckTask): number {
  const k = kernels();
  for (let i = 0; i < task.scans.length; i++) {
    const scan = task.scans[i];
    const to = Math.min(task.to, scan.n);
    if (task.from < to && runValueScan(k, scan, task.from, to)) return i;
  }
  return -1;
}

/** A check task's answer for its range: which inputs hold a non-finite value, and whether high < low anywhere. */
export interface CheckResult {
  readonly nonFinite: boolean[];
  readonly highBelowLow: boolean;
}

/** Shard boundaries fall on multiples of this many symbols: 8 doubles are one 64-byte cache line of a bar row. */
export const SHARD_ALIGN = 8;

/**
 * Symbols per tile, and bars per block of the tiled transposes. A bar row of a big panel is a page or more away
 * from the next (2,000 symbols: 16 KB), so a strided walk costs a cache and TLB miss per row: a tile of 64 symbols
 * (512 contiguous bytes per row) and blocks of 64 rows (32 KB, cache-resident while each of its 64 columns is
 * copied) pay that miss once per 64 values instead of once per value.
 */
const TILE = 64;
const BLOCK = 64;

export function viewOf(array: Float64Array): SharedView {
  if (!(array.buffer instanceof SharedArrayBuffer)) throw new TypeError('array is not backed by a SharedArrayBuffer');
  return { buffer: array.buffer, byteOffset: array.byteOffset, length: array.length };
}

function arrayOf(view: SharedView): Float64Array {
  return new Float64Array(view.buffer, view.byteOffset, view.length);
}

/** Scratch columns, kept between tasks (one worker runs one task at a time). */
let scratchIn: Float64Array = new Float64Array(0);
let scratchOut: Float64Array = new Float64Array(0);

function scratch(current: Float64Array, length: number): Float64Array {
  return current.length >= length ? current : new Float64Array(length);
}

/** Runs one task; throws what the batch functions throw (RangeError for bad parameters). */
export function runScanTask(task: ScanTask): CheckResult | number | null {
  if (task.kind === 'wasm-check') return runWasmCheck(task);
  if (task.kind === 'wasm-compute') {
    invokePanel(kernels(), task.invocation, task.first, task.count, task.state);
    return null;
  }
  if (task.kind === 'wasm-gram') {
    invokeGram(kernels(), task.invocation, task.first, task.count);
    return null;
  }
  const { symbols, bars, first, count } = task;
  if (!(first >= 0 && count >= 0 && first + count <= symbols)) {
    throw new RangeError(`symbol range [${first}, ${first + count}) is outside [0, ${symbols})`);
  }
  for (const view of task.inputs) {
    if (view.length !== symbols * bars) throw new RangeError(`input has ${view.length} values, expected ${symbols * bars}`);
  }
  return task.kind === 'check' ? runCheck(task) : (runCompute(task), null);
}

function runCheck(task: CheckTask): CheckResult {
  const { symbols, bars, first, count } = task;
  const inputs = task.inputs.map(arrayOf);
  const end = first + count;
  const nonFinite = inputs.map((values) => {
    // v * 0 is 0 for every finite v and NaN otherwise; a NaN survives the sum (no branch per value).
    let acc = 0;
    for (let t = 0; t < bars; t++) {
      const row = t * symbols;
      for (let i = row + first; i < row + end; i++) acc += values[i] * 0;
    }
    return acc !== 0;
  });
  let highBelowLow = false;
  if (task.highLow) {
    const [high, low] = inputs;
    for (let t = 0; t < bars && !highBelowLow; t++) {
      const row = t * symbols;
      for (let i = row + first; i < row + end; i++) {
        if (high[i] < low[i]) {
          highBelowLow = true;
          break;
        }
      }
    }
  }
  return { nonFinite, highBelowLow };
}

function runCompute(task: ComputeTask): void {
  const { symbols, bars, first, count, kernel, params } = task;
  const arity = kernelArity[kernel];
  if (arity === undefined) throw new RangeError(`unknown scan kernel ${String(kernel)}`);
  if (task.inputs.length !== arity.inputs || task.outputs.length !== arity.outputs) {
    throw new RangeError(`${kernel} takes ${arity.inputs} inputs and ${arity.outputs} outputs`);
  }
  const inputs = task.inputs.map(arrayOf);
  const outputs = task.outputs.map(arrayOf);
  for (const out of outputs) {
    if (out.length !== symbols * bars) throw new RangeError(`output has ${out.length} values, expected ${symbols * bars}`);
  }
  const tile = Math.min(TILE, count);
  scratchIn = scratch(scratchIn, inputs.length * tile * bars);
  scratchOut = scratch(scratchOut, outputs.length * tile * bars);
  const column = (buffer: Float64Array, k: number, j: number): Float64Array =>
    buffer.subarray((k * tile + j) * bars, (k * tile + j + 1) * bars);

  for (let s0 = first; s0 < first + count; s0 += tile) {
    const width = Math.min(tile, first + count - s0);
    for (let k = 0; k < inputs.length; k++) gather(inputs[k], symbols, bars, s0, width, scratchIn, k * tile * bars);
    for (let j = 0; j < width; j++) {
      const ins = inputs.map((_, k) => column(scratchIn, k, j));
      const outs = outputs.map((_, k) => column(scratchOut, k, j));
      runKernel(kernel, params, ins, outs);
    }
    for (let k = 0; k < outputs.length; k++) scatter(scratchOut, k * tile * bars, symbols, bars, s0, width, outputs[k]);
  }
}

/** Copies symbols [s0, s0 + width) of a bar-major panel into `width` contiguous columns of `bars` values at `at`. */
function gather(panel: Float64Array, symbols: number, bars: number, s0: number, width: number, dst: Float64Array, at: number): void {
  for (let t0 = 0; t0 < bars; t0 += BLOCK) {
    const t1 = Math.min(bars, t0 + BLOCK);
    for (let j = 0; j < width; j++) {
      const column = at + j * bars;
      for (let t = t0, i = t0 * symbols + s0 + j; t < t1; t++, i += symbols) dst[column + t] = panel[i];
    }
  }
}

/** The inverse of `gather`. */
function scatter(src: Float64Array, at: number, symbols: number, bars: number, s0: number, width: number, panel: Float64Array): void {
  for (let t0 = 0; t0 < bars; t0 += BLOCK) {
    const t1 = Math.min(bars, t0 + BLOCK);
    for (let j = 0; j < width; j++) {
      const column = at + j * bars;
      for (let t = t0, i = t0 * symbols + s0 + j; t < t1; t++, i += symbols) panel[i] = src[column + t];
    }
  }
}

function runKernel(kernel: ScanKernel, p: readonly number[], ins: Float64Array[], outs: Float64Array[]): void {
  switch (kernel) {
    case 'sma':
      smaBatch(ins[0], p[0], outs[0]);
      return;
    case 'ema':
      emaBatch(ins[0], p[0], outs[0]);
      return;
    case 'rsi':
      rsiBatch(ins[0], p[0], outs[0]);
      return;
    case 'atr':
      atrBatch(ins[0], ins[1], ins[2], p[0], outs[0]);
      return;
    case 'macd':
      macdBatch(ins[0], p[0], p[1], p[2], { macd: outs[0], signal: outs[1], histogram: outs[2] });
      return;
  }
}
