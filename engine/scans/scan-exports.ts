/**
 * The exports of build/wasm/scan.wasm (assembly/kernels/scan.ts) as the JavaScript side calls them; pointers are
 * byte addresses in the module's memory. Types only: the scan thread (wasm-scan-kernels.ts) and its helpers
 * (scan-helper.worker.ts) both import this file.
 */

/**
 * A column kernel's export: every one takes the symbols `n`, the range [from, to) of them to update, the row's
 * addresses (close, high, low, volume: those it does not read are ignored) and its value array's, then its state
 * (ColumnPlan.state, scan-helper-protocol.ts).
 */
export type ColumnExport = (n: number, from: number, to: number, close: number, high: number, low: number, volume: number, value: number, ...state: number[]) => void;

export interface ScanExports {
  heapBase(): number;
  rankWorkspaceBytes(capacity: number): number;
  /** crossSectionRank of values[0, n) into out; `depth` the introsort's quicksort levels (-1: 2 log2 of the bucket). */
  rank(values: number, n: number, out: number, work: number, capacity: number, depth: number): void;
  zscore(values: number, n: number, out: number): void;
}

/** The module's exports, the column kernels by name. */
export type ScanModule = ScanExports & Record<string, unknown>;
