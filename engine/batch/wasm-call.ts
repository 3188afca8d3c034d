import { jsValueChecks, type ValueChecks } from '../indicators/batch-checks.ts';
import type { SharedWasmMemory } from './wasm-memory.ts';

/** The check kernels both modules export (assembly/kernels/common.ts). */
export interface CheckKernels {
  firstNonFinite(values: number, n: number): number;
  firstHighBelowLow(high: number, low: number, n: number): number;
}

/**
 * A deferred value check as a scan over addresses in the shared memory, which any thread holding the kernels can
 * run, whole or split into element ranges (`runValueScan`).
 */
export type ValueScan =
  | { readonly kind: 'finite'; readonly values: number; readonly n: number }
  | { readonly kind: 'highLow'; readonly high: number; readonly low: number; readonly n: number };

/** Whether elements [from, to) of `scan` hold a hit (a non-finite value, or high < low). */
export function runValueScan(kernels: CheckKernels, scan: ValueScan, from = 0, to = scan.n): boolean {
  const offset = from * 8;
  return scan.kind === 'finite'
    ? kernels.firstNonFinite(scan.values + offset, to - from) >= 0
    : kernels.firstHighBelowLow(scan.high + offset, scan.low + offset, to - from) >= 0;
}

type DeferredCheck =
  | { readonly kind: 'finite'; readonly name: string; readonly values: Float64Array; readonly symbols?: number }
  | { readonly kind: 'highLow'; readonly high: Float64Array; readonly low: Float64Array; readonly symbols?: number }
  | { readonly kind: 'nonNegative'; readonly name: string; readonly values: Float64Array };

/**
 * One call of a wasm batch or panel function: where each array lives in the shared memory, the value checks, and
 * the scratch to give back.
 *
 *  1. `values` goes to the prepare/check function (batch-checks.ts, panel.ts), which runs the structural checks
 *     (periods, lengths, `out`) itself and leaves the O(n) value checks here, in its order.
 *  2. `input()` / `output()` / `scratch()` give each array's address: an array that lives in the memory
 *     (SharedWasmMemory.holds, e.g. from WasmBackend.allocate) is used in place; any other input is copied into
 *     scratch, any other output gets scratch that `finish()` copies back.
 *  3. `check()` runs the deferred checks as SIMD scans in wasm, in order; on a hit it runs the JS check on the
 *     caller's array, which throws the reference RangeError (same first index, same message).
 *  4. the kernel runs; `finish()` copies staged outputs back; `dispose()` (always, in `finally`) frees scratch.
 *
 * So a refused call writes nothing the caller can see: the checks run before the kernel, and for resident
 * outputs nothing has touched them yet.
 */
export class WasmCall {
  private readonly checks: DeferredCheck[] = [];
  private readonly staged = new Map<Float64Array, number>();
  private readonly scratchBlocks: number[] = [];
  private readonly copyBack: Array<{ readonly address: number; readonly out: Float64Array }> = [];
  private readonly residentOutputs: Array<{ readonly name: string; readonly out: Float64Array }> = [];
  /** The checks behind the scans of the last `scans()`, by index. */
  private scanned: DeferredCheck[] = [];
  /** Scans [0, verified) already ran and passed (those before a non-negative check). */
  private verified = 0;

  constructor(private readonly memory: SharedWasmMemory, private readonly kernels: CheckKernels) {}

  /** The ValueChecks to pass to a prepare/check function: records, runs later in `check()`. */
  readonly values: ValueChecks = {
    finite: (name, values, symbols) => void this.checks.push({ kind: 'finite', name, values, symbols }),
    highLow: (high, low, symbols) => void this.checks.push({ kind: 'highLow', high, low, symbols }),
    nonNegative: (name, values) => void this.checks.push({ kind: 'nonNegative', name, values }),
  };

  /** Scratch for `count` f64, freed by `dispose()`. */
  scratch(count: number): number {
    const address = this.memory.allocate(count);
    this.scratchBlocks.push(address);
    return address;
  }

  /** The address of an input: itself when resident, else a copy (made once per array per call). */
  input(values: Float64Array): number {
    if (this.memory.holds(values)) return values.byteOffset;
    const known = this.staged.get(values);
    if (known !== undefined) return known;
    const address = this.scratch(values.length);
    this.memory.put(address, values);
    this.staged.set(values, address);
    return address;
  }

  /**
   * The address the kernel writes `out` to: itself when resident (checked against the resident inputs, since views
   * of one memory taken before and after a growth have different buffers and outputArray cannot see them alias),
   * else scratch copied back by `finish()`.
   */
  output(name: string, out: Float64Array): number {
    if (this.memory.holds(out)) {
      this.residentOutputs.push({ name, out });
      return out.byteOffset;
    }
    const address = this.scratch(out.length);
    this.copyBack.push({ address, out });
    return address;
  }

  /** Runs the deferred value checks here (after every input has its address); throws the reference RangeError. */
  check(inputs: readonly Float64Array[]): void {
    const scans = this.scans(inputs);
    for (let k = this.verified; k < scans.length; k++) if (runValueScan(this.kernels, scans[k])) this.fail(k);
  }

  /**
   * The deferred value checks as scans for any thread to run, in order, after the resident-aliasing check (which
   * runs here). When scan k hits, `fail(k)` throws its reference RangeError. VWAP's non-negative volumes are a JS
   * loop and run here, in their turn, when every scan before them passed, so only the panel functions (which have
   * none) hand their scans to other threads; the first `verified` scans returned have already passed.
   */
  scans(inputs: readonly Float64Array[]): ValueScan[] {
    for (const { name, out } of this.residentOutputs) {
      for (const input of inputs) {
        if (this.memory.holds(input) && overlapsInMemory(out, input)) {
          throw new RangeError(`${name} shares memory with an input array`);
        }
      }
    }
    this.scanned = [];
    this.verified = 0;
    const scans: ValueScan[] = [];
    for (const check of this.checks) {
      if (check.kind === 'finite') {
        scans.push({ kind: 'finite', values: this.input(check.values), n: check.values.length });
      } else if (check.kind === 'highLow') {
        scans.push({ kind: 'highLow', high: this.input(check.high), low: this.input(check.low), n: check.high.length });
      } else {
        // Every scan before it must pass first, so that the first bad input is the one reported.
        for (let k = this.verified; k < scans.length; k++) if (runValueScan(this.kernels, scans[k])) this.fail(k);
        this.verified = scans.length;
        jsValueChecks.nonNegative(check.name, check.values);
        continue;
      }
      this.scanned.push(check);
    }
    return scans;
  }

  /** Throws the reference RangeError of scan `k` (the JS check on the caller's array names the first bad index). */
  fail(k: number): never {
    const check = this.scanned[k];
    if (check.kind === 'finite') jsValueChecks.finite(check.name, check.values, check.symbols);
    else if (check.kind === 'highLow') jsValueChecks.highLow(check.high, check.low, check.symbols);
    // The scan saw a bad value that the JS check no longer finds: the caller changed the input during the call.
    throw new Error('an input changed while it was being checked');
  }

  /** Copies the staged outputs back to the caller's arrays. */
  finish(): void {
    for (const { address, out } of this.copyBack) this.memory.get(address, out);
  }

  dispose(): void {
    for (const address of this.scratchBlocks) this.memory.release(address);
    this.scratchBlocks.length = 0;
  }
}

function overlapsInMemory(a: Float64Array, b: Float64Array): boolean {
  return a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}
