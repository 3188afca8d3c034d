import { rowOffset, type BarPanel } from '../bars/bar-panel.ts';
import { IndicatorColumn } from '../indicators/indicator-column.ts';
import { createIndicator } from '../indicators/registry.ts';
import { correlationMatrixOn, CorrelationWorkspace, jsGram, type GramBackend } from './correlation.ts';
import { crossSectionRank, crossSectionZScore, RankWorkspace } from './cross-section.ts';

/**
 * The scan at a bar close over the whole universe (docs/scans.md):
 *
 *   1. the configured per-bar indicators of every symbol take in the new bar, incrementally: each close updates
 *      each symbol once (its own streaming instances, an IndicatorColumn per indicator, fed the bar's close,
 *      high, low, volume);
 *   2. cross-sections across the symbols: the bar's return and each indicator's first output, ranked and z-scored;
 *   3. optionally, the rolling correlation matrix of returns of the first `correlation.symbols` symbols over the
 *      last `correlation.window` bars (correlation.ts), its N-squared part on the engine's batch backend (`gram`).
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

export interface ScanResult {
  /** The bar number scanned (0 = the first bar closed). */
  bar: number;
  /** Bars the indicators took in for this scan: 1, or more after skipped scans. */
  barsFed: number;
  readonly returns: Float64Array;
  readonly returnRank: Float64Array;
  readonly returnZ: Float64Array;
  /** Per indicator (settings order): its first output per symbol, its rank and z-score across symbols. */
  readonly values: readonly Float64Array[];
  readonly ranks: readonly Float64Array[];
  readonly zscores: readonly Float64Array[];
  /** symbols x symbols, row-major; only with `correlation` settings. */
  readonly correlation: Float64Array | undefined;
  indicatorsMs: number;
  crossSectionMs: number;
  correlationMs: number;
}

export class BarScanner {
  readonly result: ScanResult;
  /** Bars that left the panel before the indicators could take them in (after long stalls). */
  barsMissed = 0;
  /** Per scanned indicator, every symbol's instance (IndicatorColumn: one receiver class per loop). */
  private readonly columns: IndicatorColumn[];
  /** The next bar number the indicators have not taken in yet. */
  private nextBar = 0;
  private readonly rankWork: RankWorkspace;
  private readonly workspace: CorrelationWorkspace | undefined;
  /** The copy of the row being fed (see feed). */
  private readonly row: { readonly close: Float64Array; readonly high: Float64Array; readonly low: Float64Array; readonly volume: Float64Array };

  constructor(
    private readonly panel: BarPanel, private readonly settings: ScanSettings, private readonly clockNs: () => number,
    private readonly backend: GramBackend = jsGram,
  ) {
    const n = panel.symbols;
    this.columns = settings.indicators.map((spec, i) => new IndicatorColumn(
      Array.from({ length: n }, () => createIndicator({ type: spec.type, params: { ...spec.params } }, `scans.indicators[${i}]`)),
    ));
    const perIndicator = (): Float64Array[] => settings.indicators.map(() => new Float64Array(n));
    const correlation = settings.correlation;
    if (correlation !== undefined) {
      if (correlation.symbols < 1 || correlation.symbols > n) throw new RangeError(`correlation.symbols must be in [1, ${n}], got ${correlation.symbols}`);
      if (correlation.window < 2 || correlation.window > panel.capacity - 1) {
        throw new RangeError(`correlation.window must be in [2, ${panel.capacity - 1}], got ${correlation.window}`);
      }
    }
    this.result = {
      bar: -1,
      barsFed: 0,
      returns: new Float64Array(n),
      returnRank: new Float64Array(n),
      returnZ: new Float64Array(n),
      values: perIndicator(),
      ranks: perIndicator(),
      zscores: perIndicator(),
      correlation: correlation === undefined ? undefined : new Float64Array(correlation.symbols * correlation.symbols),
      indicatorsMs: 0,
      crossSectionMs: 0,
      correlationMs: 0,
    };
    this.rankWork = new RankWorkspace(n);
    this.row = { close: new Float64Array(n), high: new Float64Array(n), low: new Float64Array(n), volume: new Float64Array(n) };
    this.workspace = correlation === undefined
      ? undefined
      : new CorrelationWorkspace(correlation.symbols, correlation.window, backend.allocate?.bind(backend));
  }

  /**
   * Scans bar number `bar` (closed: below `panel.closed`); bars must come in increasing order, one scan at a time.
   * Resolves when the backend's part is done (at once for a synchronous backend).
   */
  async scan(bar: number): Promise<ScanResult> {
    const panel = this.panel;
    const result = this.result;
    const t0 = this.clockNs();
    // 1. Indicators: every bar since the last scan that is still in the panel, oldest first.
    result.barsFed = this.feedThrough(bar);
    const t1 = this.clockNs();
    // 2. Cross-sections.
    const row = rowOffset(panel, bar);
    const previous = bar === 0 ? -1 : rowOffset(panel, bar - 1);
    for (let s = 0; s < panel.symbols; s++) {
      result.returns[s] = previous < 0 ? Number.NaN : panel.close[row + s] / panel.close[previous + s] - 1;
    }
    crossSectionRank(result.returns, result.returnRank, this.rankWork);
    crossSectionZScore(result.returns, result.returnZ);
    for (let k = 0; k < this.columns.length; k++) {
      const values = result.values[k];
      this.columns[k].read(0, values);
      crossSectionRank(values, result.ranks[k], this.rankWork);
      crossSectionZScore(values, result.zscores[k]);
    }
    const t2 = this.clockNs();
    // 3. Correlation, once the window is full.
    const work = this.workspace;
    if (work !== undefined && result.correlation !== undefined) {
      if (bar >= work.window) await correlationMatrixOn(this.backend, panel, bar, work, result.correlation);
      else result.correlation.fill(Number.NaN);
    }
    const t3 = this.clockNs();
    result.bar = bar;
    result.indicatorsMs = (t1 - t0) / 1e6;
    result.crossSectionMs = (t2 - t1) / 1e6;
    result.correlationMs = (t3 - t2) / 1e6;
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
    for (const column of this.columns) column.update(close, high, low, volume);
    return true;
  }
}
