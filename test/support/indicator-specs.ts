import type { Bars } from '../../engine/batch/series.ts';
import type { StreamingIndicator } from '../../engine/indicators/indicator.ts';
import { instantiate, validateIndicatorSpec } from '../../engine/indicators/registry.ts';

/** An indicator as the config names it, for the exactness suites. */
export interface IndicatorSpecUnderTest {
  readonly type: string;
  readonly params: Record<string, number>;
}

/**
 * Every indicator class, with periods past the re-summation interval (1,024) for the windowed ones and a
 * stochastic whose two SMAs re-sum on different intervals: the cases the warm-state kernels (JS and wasm) are held
 * to, bit for bit.
 */
export const warmStateSpecs: readonly IndicatorSpecUnderTest[] = [
  { type: 'sma', params: { period: 20 } },
  { type: 'sma', params: { period: 1500 } },
  { type: 'ema', params: { period: 12 } },
  { type: 'rsi', params: { period: 14 } },
  { type: 'macd', params: { fastPeriod: 12, slowPeriod: 26, signalPeriod: 9 } },
  { type: 'bbands', params: { period: 20, stdDev: 2 } },
  { type: 'bbands', params: { period: 1100, stdDev: 2.5 } },
  { type: 'atr', params: { period: 14 } },
  { type: 'vwap', params: { period: 20 } },
  { type: 'stoch', params: { fastKPeriod: 14, slowKPeriod: 3, slowDPeriod: 3 } },
  { type: 'stoch', params: { fastKPeriod: 5, slowKPeriod: 1030, slowDPeriod: 3 } },
];

/** A configured instance of `spec`. */
export function buildIndicator(spec: IndicatorSpecUnderTest): StreamingIndicator {
  return instantiate(validateIndicatorSpec(spec, 'spec'));
}

/**
 * Writes into `bars` one enormous print at bar `from - 10`, then a flat stretch over bars [from, to) at the close
 * before it, traded 1e-3 for its first ten bars and not at all after: the indicators' exact-zero branches, and
 * VWAP's re-summation when rounding leaves its volume sum at or below 0 while a bar in the window still traded.
 */
export function addFlatStretch(bars: Bars, from: number, to: number): void {
  bars.volume[from - 10] = 1e17;
  const flat = bars.close[from - 1];
  for (let i = from; i < to; i++) {
    bars.close[i] = flat;
    bars.high[i] = flat;
    bars.low[i] = flat;
    bars.volume[i] = i < from + 10 ? 1e-3 : 0;
  }
}

/** Whether two arrays hold the same doubles bit for bit (NaN equal to NaN, -0 not to +0); undefined never matches. */
export function sameBits(a: Float64Array | undefined, b: Float64Array | undefined): boolean {
  return a !== undefined && b !== undefined && a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
}
