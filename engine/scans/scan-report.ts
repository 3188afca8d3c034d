import type { ScanResult } from './bar-scanner.ts';

/**
 * What a finished scan hands on (engine/scans/scan-thread.ts posts it to the engine's main thread, which publishes
 * it on the signals socket as the `scan` topic's JSON and reads its figures into metrics; docs/scans.md): the
 * bar, the timings, and the symbols at both ends of the cross-section of bar returns with each one's return,
 * rank and z-score and its per-bar indicators' values and z-scores. Plain data: it crosses threads by
 * structured clone and is JSON as it is.
 */
export interface ScanReport {
  /** The bar number scanned, and when its interval began (exchange time, ns, as a decimal string: beyond 2^53). */
  readonly bar: number;
  readonly barStartNs: string;
  /** Bars the indicators took in: 1, or more when earlier scans were skipped. */
  readonly barsFed: number;
  readonly indicatorsMs: number;
  readonly crossSectionMs: number;
  readonly correlationMs: number;
  /** Symbols with a return at this bar (traded now and at the bar before). */
  readonly ranked: number;
  /** The highest and lowest returns, `topSymbols` each, highest or lowest first. */
  readonly top: readonly ScanEntry[];
  readonly bottom: readonly ScanEntry[];
  /** With correlation: the pair of distinct symbols most and least correlated over the window. */
  readonly correlation?: { readonly symbols: number; readonly window: number; readonly most?: ScanPair; readonly least?: ScanPair };
}

export interface ScanEntry {
  readonly symbol: string;
  readonly return: number;
  readonly returnRank: number;
  readonly returnZ: number;
  /** Per scanned indicator, by name: its first output at this bar and its z-score across symbols. */
  readonly indicators: Readonly<Record<string, { readonly value: number | null; readonly z: number | null }>>;
}

export interface ScanPair {
  readonly a: string;
  readonly b: string;
  readonly correlation: number;
}

/** JSON has no NaN: a missing value is null. */
function finite(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

/**
 * The report of `result` for `symbols` (the engine's, in order), naming `indicatorNames` (the scan settings'
 * order), with `topSymbols` at each end. Pure.
 */
export function scanReport(
  result: ScanResult, symbols: readonly string[], indicatorNames: readonly string[], topSymbols: number, barStartNs: bigint,
  correlation: { readonly symbols: number; readonly window: number } | undefined,
): ScanReport {
  const order: number[] = [];
  for (let s = 0; s < symbols.length; s++) if (Number.isFinite(result.returns[s])) order.push(s);
  order.sort((x, y) => result.returns[y] - result.returns[x] || x - y);
  const entry = (s: number): ScanEntry => ({
    symbol: symbols[s],
    return: result.returns[s],
    returnRank: result.returnRank[s],
    returnZ: result.returnZ[s],
    indicators: Object.fromEntries(indicatorNames.map((name, k) => [name, { value: finite(result.values[k][s]), z: finite(result.zscores[k][s]) }])) as ScanEntry['indicators'],
  });
  const count = Math.min(topSymbols, order.length);
  return {
    bar: result.bar,
    barStartNs: barStartNs.toString(),
    barsFed: result.barsFed,
    indicatorsMs: result.indicatorsMs,
    crossSectionMs: result.crossSectionMs,
    correlationMs: result.correlationMs,
    ranked: order.length,
    top: order.slice(0, count).map(entry),
    bottom: order.slice(order.length - count).reverse().map(entry),
    ...(correlation === undefined || result.correlation === undefined ? {} : { correlation: { ...correlation, ...extremePairs(result.correlation, correlation.symbols, symbols) } }),
  };
}

/** The most and least correlated distinct pairs of an m x m matrix (NaN pairs left out). */
function extremePairs(matrix: Float64Array, m: number, symbols: readonly string[]): { most?: ScanPair; least?: ScanPair } {
  let most: ScanPair | undefined;
  let least: ScanPair | undefined;
  for (let i = 0; i < m; i++) {
    for (let j = i + 1; j < m; j++) {
      const c = matrix[i * m + j];
      if (c !== c) continue;
      if (most === undefined || c > most.correlation) most = { a: symbols[i], b: symbols[j], correlation: c };
      if (least === undefined || c < least.correlation) least = { a: symbols[i], b: symbols[j], correlation: c };
    }
  }
  return { ...(most === undefined ? {} : { most }), ...(least === undefined ? {} : { least }) };
}
