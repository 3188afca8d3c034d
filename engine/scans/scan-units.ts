import type { ColumnExport, ScanExports } from './scan-exports.ts';
import type { ColumnPlan, CrossSectionPlan } from './scan-helper-protocol.ts';

/**
 * What one unit of a scan job does (scan-claims.ts), written once for every thread that may claim it: the scan
 * thread (wasm-scan-kernels.ts) and its helpers (scan-helper.worker.ts). Each runs it on its own instance of
 * scan.wasm over the same memory.
 */

/** A column kernel and the plan it is called with. */
export interface ColumnCall {
  readonly plan: ColumnPlan;
  readonly call: ColumnExport;
}

/**
 * Unit `unit` of a COLUMNS job: every column fed the row (the addresses of close, high, low, volume) on the symbols
 * [cuts[unit], cuts[unit + 1]); the last cut is the symbol count.
 */
export function runColumnChunk(columns: readonly ColumnCall[], cuts: readonly number[], unit: number, row: ArrayLike<number>): void {
  const n = cuts[cuts.length - 1];
  const from = cuts[unit];
  const to = cuts[unit + 1];
  for (const { plan, call } of columns) call(n, from, to, row[0], row[1], row[2], row[3], plan.value, ...plan.state);
}

/**
 * A CROSS_SECTIONS unit: the plan's rank and z-score, with `rankWork` a rank workspace of this thread's for up to
 * `capacity` values, then its copies out of the memory.
 */
export function runCrossSection(kernels: ScanExports, plan: CrossSectionPlan, rankWork: number, capacity: number): void {
  kernels.rank(plan.input, plan.n, plan.rank, rankWork, capacity, -1);
  kernels.zscore(plan.input, plan.n, plan.z);
  for (const { from, to } of plan.copies) to.set(from);
}
