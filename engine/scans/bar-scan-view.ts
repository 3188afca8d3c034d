import type { BarScan, ScannedIndicator } from '../strategy/sdk.ts';
import type { ScanArrays } from './bar-scanner.ts';

/** A BarScan whose bar and start the engine sets before each onBar delivery. */
export type MutableBarScan = { -readonly [K in keyof BarScan]: BarScan[K] };

/**
 * A scan's result set as the strategies' BarScan (strategy SDK): the same arrays, not copies, the indicators by
 * their configured names. Built once per result set; each delivery sets `bar` and `barStartNs`.
 */
export function barScanOf(arrays: ScanArrays, names: readonly string[], correlationSymbols: number): MutableBarScan {
  const indicators: Record<string, ScannedIndicator> = {};
  names.forEach((name, k) => {
    indicators[name] = Object.freeze({ values: arrays.values[k], ranks: arrays.ranks[k], zscores: arrays.zscores[k] });
  });
  return {
    bar: -1, barStartNs: 0, returns: arrays.returns, returnRank: arrays.returnRank, returnZ: arrays.returnZ,
    indicators: Object.freeze(indicators), correlation: arrays.correlation ?? new Float64Array(0), correlationSymbols,
  };
}
