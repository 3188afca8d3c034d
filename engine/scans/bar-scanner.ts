import { rowOffset, type BarPanel } from '../bars/bar-panel.ts';
import { createIndicator } from '../indicators/registry.ts';
import { correlationMatrix, correlationMatrixOn, CorrelationWorkspace, jsGram, type GramBackend } from './correlation.ts';
import { jsScanKernels, type ColumnSet, type ScanKernels } from './scan-kernels.ts';

/**
 * The scan at a bar close over the whole universe (docs/scans.md):
 *
 *   1. the configured per-bar indicators of every symbol take in the new bar, incrementally: each close updates
 *      each symbol once (a column kernel per indicator, column-kernels.ts: every symbol's state in typed arrays,
 *      its values bit for bit its class's, fed the bar's close, high, low, volume);
 *   2. cross-sections across the symbols: the bar's return and each indicator's first output, ranked and z-scored;
 *   3. optionally, the rolling correlation matrix of returns of the first `correlation.symbols` symbols over the
 *      last `correlation.window` bars (correlation.ts), its N-squared part on the engine's batch backend (`gram`).
 *
 * Steps 1 and 2 run on the scanner's ScanKernels (scan-kernels.ts): the JS kernels or the same kernels compiled to
 * WebAssembly, whose values are the same bit for bit.
 *
 * Scans may be skipped (one overran its bar interval): the next scan first feeds the indicators every bar they
 * missed, from the panel, so per-bar indicator values never depend on which scans ran; a symbol is fed only bars
 * it has (a never-traded symbol's NaN rows are left out). Bars that already left the panel cannot be fed
 * (`barsMissed` counts them). Results live in preallocated arrays, overwritten by the next scan.
 */
export interface ScanSettings {
  /** The per-bar indicators, as the engine config names them. */
  readonly indicators: ReadonlyArray<{ readonly name: string; readonly type: string; readonly params: Readonly<Record<string, unknown>> }>;
  readonly correlation?: { readonly symbols: number; readonly window: number };
}

/**
 * Where a scan writes its results: per symbol, the return, its rank and z-score; per indicator (settings order) its
 * first output, rank and z-score; the correlation matrix (symbols x symbols, row-major; with `correlation` only).
 * On shared memory (`createScanArrays(..., true)`) another thread reads them: the engine hands one set to the
 * strategies' onBar while the scan thread writes the next bar into another (scan-thread.ts).
 */
export interface ScanArrays {
  readonly returns: Float64Array;
  readonly returnRank: Float64Array;
  readonly returnZ: Float64Array;
  readonly values: readonly Float64Array[];
  readonly ranks: readonly Float64Array[];
  readonly zscores: readonly Float64Array[];
  readonly correlation: Float64Array | undefined;
}

/** A scan's arrays for `symbols` symbols, `indicators` scanned indicators and an optional correlation. */
export function createScanArrays(symbols: number, indicators: number, correlationSymbols: number | undefined, shared = false): ScanArrays {
  const array = (length: number): Float64Array => (shared ? new Float64Array(new SharedArrayBuffer(length * 8)) : new Float64Array(length));
  const perIndicator = (): Float64Array[] => Array.from({ length: indicators }, () => array(symbols));
  return {
    returns: array(symbols),
    returnRank: array(symbols),
    returnZ: array(symbols),
    values: perIndicator(),
    ranks: perIndicator(),
    zscores: perIndicator(),
    correlation: correlationSymbols === undefined ? undefined : array(correlationSymbols * correlationSymbols),
  };
}

export interface ScanResult extends ScanArrays {
  /** The bar number scanned (0 = the first bar closed). */
  bar: number;
  /** Bars the indicators took in for this scan: 1, or more after skipped scans. */
  barsFed: number;
  indicatorsMs: number;
  crossSectionMs: number;
  correlationMs: number;
}

export class BarScanner {
  /** One result per set of arrays the scanner was given; a scan writes the set it is told to. */
  private readonly results: ScanResult[];
  /** The set the last scan wrote. */
  private current = 0;
  /** Bars that left the panel before the indicators could take them in (after long stalls). */
  barsMissed = 0;
  /** Scans whose correlation the backend failed (a lost GPU device, a size past its buffers): computed on js instead. */
  backendFallbacks = 0;
  /** The last such failure's message. */
  lastBackendError = '';
  /** Per scanned indicator, its column kernel over every symbol. */
  private readonly columns: ColumnSet;
  /** Per result set, its cross-sections (the returns', then each indicator's), registered with the kernels once. */
  private readonly crossSectionRuns: Array<() => void>;
  /** The next bar number the indicators have not taken in yet. */
  private nextBar = 0;
  private readonly workspace: CorrelationWorkspace | undefined;
  /** The copy of the row being fed (see feed), where the kernels read it in place. */
  private readonly row: { readonly close: Float64Array; readonly high: Float64Array; readonly low: Float64Array; readonly volume: Float64Array };
  /** The bar's returns, where the kernels read them in place (copied to the result's `returns`). */
  private readonly returns: Float64Array;

  constructor(
    private readonly panel: BarPanel, private readonly settings: ScanSettings, private readonly clockNs: () => number,
    private readonly backend: GramBackend = jsGram,
    slots?: readonly ScanArrays[],
    /** The kernels of steps 1 and 2 (default: JavaScript), for panel.symbols symbols. */
    kernels: ScanKernels = jsScanKernels(panel.symbols),
  ) {
    const n = panel.symbols;
    this.columns = kernels.columns(settings.indicators.map((spec, i) => createIndicator({ type: spec.type, params: { ...spec.params } }, `scans.indicators[${i}]`)));
    const correlation = settings.correlation;
    if (correlation !== undefined) {
      if (correlation.symbols < 1 || correlation.symbols > n) throw new RangeError(`correlation.symbols must be in [1, ${n}], got ${correlation.symbols}`);
      if (correlation.window < 2 || correlation.window > panel.capacity - 1) {
        throw new RangeError(`correlation.window must be in [2, ${panel.capacity - 1}], got ${correlation.window}`);
      }
    }
    const sets = slots ?? [createScanArrays(n, settings.indicators.length, correlation?.symbols)];
    this.results = sets.map((arrays) => ({ ...arrays, bar: -1, barsFed: 0, indicatorsMs: 0, crossSectionMs: 0, correlationMs: 0 }));
    this.row = { close: kernels.array(n), high: kernels.array(n), low: kernels.array(n), volume: kernels.array(n) };
    this.returns = kernels.array(n);
    const values = this.columns.values;
    // Each cross-section also copies its input into the result set, on whichever thread runs it.
    this.crossSectionRuns = this.results.map((result) => kernels.crossSections([
      { values: this.returns, rank: result.returnRank, z: result.returnZ, valuesCopy: result.returns },
      ...values.map((value, k) => ({ values: value, rank: result.ranks[k], z: result.zscores[k], valuesCopy: result.values[k] })),
    ]));
    this.workspace = correlation === undefined
      ? undefined
      : new CorrelationWorkspace(correlation.symbols, correlation.window, backend.allocate?.bind(backend));
  }

  /** The last scan's result. */
  get result(): ScanResult {
    return this.results[this.current];
  }

  /**
   * Scans bar number `bar` (closed: below `panel.closed`) into the arrays of set `slot` (default the only one);
   * bars must come in increasing order, one scan at a time. The correlation runs on the scanner's backend; resolves
   * when it is done (at once for a synchronous backend).
   */
  async scan(bar: number, slot = 0): Promise<ScanResult> {
    const result = this.crossSections(bar, slot);
    const t2 = this.clockNs();
    const work = this.workspace;
    if (work !== undefined && result.correlation !== undefined && bar >= work.window) {
      try {
        await correlationMatrixOn(this.backend, this.panel, bar, work, result.correlation);
      } catch (error) {
        // The backend failed this one: the reference computes it (same values; the gpu's within its tolerance).
        this.backendFallbacks++;
        this.lastBackendError = error instanceof Error ? error.message : String(error);
        correlationMatrix(this.panel, bar, work, result.correlation);
      }
    } else {
      result.correlation?.fill(Number.NaN);
    }
    result.correlationMs = (this.clockNs() - t2) / 1e6;
    return result;
  }

  /**
   * `scan` done here and now, the correlation with the reference on this thread whatever the backend (a
   * backtest's scans, which run inside the tick loop: backtest.ts). Same results as `scan` on js, wasm, workers.
   */
  scanNow(bar: number, slot = 0): ScanResult {
    const result = this.crossSections(bar, slot);
    const t2 = this.clockNs();
    const work = this.workspace;
    if (work !== undefined && result.correlation !== undefined && bar >= work.window) correlationMatrix(this.panel, bar, work, result.correlation);
    else result.correlation?.fill(Number.NaN);
    result.correlationMs = (this.clockNs() - t2) / 1e6;
    return result;
  }

  /** Steps 1 and 2 of a scan into set `slot`: the indicators fed through `bar`, then the cross-sections. */
  private crossSections(bar: number, slot: number): ScanResult {
    const panel = this.panel;
    if (!(slot >= 0 && slot < this.results.length)) throw new RangeError(`slot ${slot} is not one of the scanner's ${this.results.length}`);
    const result = this.results[slot];
    const t0 = this.clockNs();
    // 1. Indicators: every bar since the last scan that is still in the panel, oldest first.
    result.barsFed = this.feedThrough(bar);
    const t1 = this.clockNs();
    // 2. Cross-sections.
    const row = rowOffset(panel, bar);
    const previous = bar === 0 ? -1 : rowOffset(panel, bar - 1);
    const returns = this.returns;
    for (let s = 0; s < panel.symbols; s++) {
      returns[s] = previous < 0 ? Number.NaN : panel.close[row + s] / panel.close[previous + s] - 1;
    }
    // The cross-sections copy the returns and the values into the result too.
    this.crossSectionRuns[slot]();
    this.current = slot;
    result.bar = bar;
    result.indicatorsMs = (t1 - t0) / 1e6;
    result.crossSectionMs = (this.clockNs() - t1) / 1e6;
    return result;
  }

  /**
   * Feeds the per-bar indicators every bar not fed yet through `bar` (closed), oldest first, without a scan; returns
   * how many were fed. A scan does this first; a warm start from history does only this, bar after bar, as the
   * history's bars are built (scan-thread.ts). Bars that already left the panel count in `barsMissed`.
   */
  feedThrough(bar: number): number {
    if (bar < this.nextBar) throw new RangeError(`bar ${bar} was scanned already (next is ${this.nextBar})`);
    const oldest = Math.max(this.nextBar, bar - this.panel.capacity + 1);
    this.barsMissed += oldest - this.nextBar;
    let fed = 0;
    for (let b = oldest; b <= bar; b++) if (this.feed(b)) fed++;
    this.nextBar = bar + 1;
    return fed;
  }

  /**
   * Bar `bar` into every symbol's indicators (a symbol without a close yet is left out), from a copy of its row
   * taken before the tick thread could overwrite it: it writes bar w into this row's slot once w = bar + capacity,
   * which it starts only after `closed` reached that. A row overwritten before the copy was checked is not fed
   * (counted in barsMissed) rather than fed torn.
   */
  private feed(bar: number): boolean {
    const panel = this.panel;
    const row = rowOffset(panel, bar);
    const n = panel.symbols;
    const { close, high, low, volume } = this.row;
    close.set(panel.close.subarray(row, row + n));
    high.set(panel.high.subarray(row, row + n));
    low.set(panel.low.subarray(row, row + n));
    volume.set(panel.volume.subarray(row, row + n));
    if (Atomics.load(panel.closed, 0) >= bar + panel.capacity) {
      this.barsMissed++;
      return false;
    }
    this.columns.update(close, high, low, volume);
    return true;
  }
}
