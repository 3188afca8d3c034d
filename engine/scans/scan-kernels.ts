import { columnKernelFor, type ColumnKernel } from '../indicators/column-kernels.ts';
import type { StreamingIndicator } from '../indicators/indicator.ts';
import { crossSectionRank, crossSectionZScore, RankWorkspace } from './cross-section.ts';

/**
 * What runs a scan's per-bar part (bar-scanner.ts): the column kernels of the scanned indicators and the
 * cross-sections. Two sets, the same values bit for bit (scan-kernels.test.ts): `js` (column-kernels.ts,
 * cross-section.ts) and `wasm` (wasm-scan-kernels.ts, the same code compiled from AssemblyScript, with the arrays
 * in its own memory). A set serves one scanner, on one thread.
 */
export interface ScanKernels {
  readonly name: 'js' | 'wasm';
  /** A new array of `length` zeros that this set's kernels read in place: feed a kernel from these, not copies. */
  array(length: number): Float64Array;
  /** The column kernel of `prototype`'s class and parameters over every symbol. */
  column(prototype: StreamingIndicator): ColumnKernel;
  /** `values`' rank across the symbols into `rank`, its z-score into `z` (crossSectionRank, crossSectionZScore). */
  crossSection(values: Float64Array, rank: Float64Array, z: Float64Array): void;
}

/** The JavaScript set, for `symbols` symbols. */
export function jsScanKernels(symbols: number): ScanKernels {
  const work = new RankWorkspace(symbols);
  return {
    name: 'js',
    array: (length) => new Float64Array(length),
    column: (prototype) => columnKernelFor(prototype, symbols),
    crossSection(values, rank, z) {
      crossSectionRank(values, rank, work);
      crossSectionZScore(values, z);
    },
  };
}
