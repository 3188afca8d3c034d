import { columnKernelFor } from '../indicators/column-kernels.ts';
import type { StreamingIndicator } from '../indicators/indicator.ts';
import { crossSectionRank, crossSectionZScore, RankWorkspace } from './cross-section.ts';

/**
 * What runs a scan's per-bar part (bar-scanner.ts): the column kernels of the scanned indicators and the
 * cross-sections. Two sets, the same values bit for bit (column-kernels.test.ts, cross-section.test.ts,
 * bar-scanner.test.ts): `js` (column-kernels.ts, cross-section.ts) and `wasm` (wasm-scan-kernels.ts, the same code
 * compiled from AssemblyScript, its arrays in its own memory, optionally split over helper threads). A set serves
 * one scanner, on one thread.
 */
export interface ScanKernels {
  readonly name: 'js' | 'wasm';
  /** Threads the per-bar part runs on (the scanner's own and its helpers). */
  readonly threads: number;
  /** A new array of `length` zeros that this set's kernels read in place: feed the kernels from these, not copies. */
  array(length: number): Float64Array;
  /** The column kernels of `prototypes`' classes and parameters over every symbol, fed together (the work split over the set's threads). */
  columns(prototypes: readonly StreamingIndicator[]): ColumnSet;
  /** `values`' rank across the symbols into `rank`, its z-score into `z` (crossSectionRank, crossSectionZScore). */
  crossSection(values: Float64Array, rank: Float64Array, z: Float64Array): void;
  /**
   * A fixed list of cross-sections, registered once; the function returned runs all of them (split over the
   * set's threads). The arrays must stay the same; their contents are read at each run.
   */
  crossSections(jobs: readonly CrossSectionJob[]): () => void;
  /** Stops the set's helper threads, if it has any. */
  close(): void;
}

/** Column kernels fed together: `values[k]` is the k-th kernel's `value`. */
export interface ColumnSet {
  readonly values: readonly Float64Array[];
  update(close: Float64Array, high: Float64Array, low: Float64Array, volume: Float64Array): void;
}

export interface CrossSectionJob {
  readonly values: Float64Array;
  readonly rank: Float64Array;
  readonly z: Float64Array;
  /**
   * Where the values are copied to, if anywhere (a result set's own copy), of the values' length: by the thread that
   * runs the cross-section when it is on shared memory, else by the scan thread once every one is done.
   */
  readonly valuesCopy?: Float64Array;
}

/**
 * Refuses a cross-section list a set of `symbols` symbols cannot run as given: more values than symbols, or an
 * output or values copy of another length than its values (a kernel writes one of each per value).
 */
export function checkCrossSectionJobs(jobs: readonly CrossSectionJob[], symbols: number): void {
  for (const [i, job] of jobs.entries()) {
    const n = job.values.length;
    if (n > symbols) throw new RangeError(`cross-section ${i}: ${n} values exceed the scan kernels' ${symbols} symbols`);
    if (job.rank.length !== n || job.z.length !== n) {
      throw new RangeError(`cross-section ${i}: ${n} values need rank and z arrays of ${n}, got ${job.rank.length} and ${job.z.length}`);
    }
    if (job.valuesCopy !== undefined && job.valuesCopy.length !== n) {
      throw new RangeError(`cross-section ${i}: ${n} values need a values copy of ${n}, got ${job.valuesCopy.length}`);
    }
  }
}

/** The JavaScript set, for `symbols` symbols. */
export function jsScanKernels(symbols: number): ScanKernels {
  const work = new RankWorkspace(symbols);
  const crossSection = (values: Float64Array, rank: Float64Array, z: Float64Array): void => {
    crossSectionRank(values, rank, work);
    crossSectionZScore(values, z);
  };
  return {
    name: 'js',
    threads: 1,
    array: (length) => new Float64Array(length),
    columns(prototypes) {
      const kernels = prototypes.map((prototype) => columnKernelFor(prototype, symbols));
      return {
        values: kernels.map((kernel) => kernel.value),
        update(close, high, low, volume) {
          for (const kernel of kernels) kernel.update(close, high, low, volume);
        },
      };
    },
    crossSection,
    crossSections: (jobs) => {
      checkCrossSectionJobs(jobs, symbols);
      return () => {
        for (const job of jobs) {
          crossSection(job.values, job.rank, job.z);
          job.valuesCopy?.set(job.values);
        }
      };
    },
    close: () => undefined,
  };
}
