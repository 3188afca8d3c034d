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
  // barStartNs starts as a double (NaN), never the integer 0: this literal and the context's NO_SCAN share V8's
  // hidden classes, and a field going from integer to double at the first bar deprecated them, which kept V8 from
  // ever optimising the tick path's strategy entry ("Maps became deprecated during optimization", in a loop):
  // measured 103 B/tick of boxed doubles with scans on, 2.4 after (bench/allocation.ts with scans).
  return {
    bar: -1, barStartNs: Number.NaN, returns: arrays.returns, returnRank: arrays.returnRank, returnZ: arrays.returnZ,
    indicators: Object.freeze(indicators), correlation: arrays.correlation ?? new Float64Array(0), correlationSymbols,
  };
}
