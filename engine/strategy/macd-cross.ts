import { defineStrategy } from './sdk.ts';

/** Output index of the MACD histogram (macd - signal). */
export const MACD_HISTOGRAM_OUTPUT = 2;

/**
 * The signal of one MACD histogram step: +1 when it crosses from <= 0 to > 0 (bullish cross), -1 when it crosses
 * from >= 0 to < 0 (bearish cross), else 0. A histogram that touches exactly 0 re-arms the cross.
 *
 *   previous  current  signal
 *     -0.5      0.2      +1
 *      0        0.1      +1
 *      0.3      0.4       0
 *      0.3     -0.1      -1
 *      0       -0.2      -1
 *     -0.3      0         0
 *      NaN      0.2       0
 */
export function macdCrossDirection(previousHistogram: number, histogram: number): number {
  if (previousHistogram <= 0 && histogram > 0) return 1;
  if (previousHistogram >= 0 && histogram < 0) return -1;
  return 0;
}

/**
 * MACD crossover (built in, written on the SDK): reads one `macd` indicator and orders when its histogram changes
 * sign, buying on a bullish cross and selling on a bearish one. No order until the indicator is stable and a
 * previous stable histogram has been seen for the symbol.
 *
 * State (2 per symbol): [0] 1 once a histogram has been seen, [1] the previous histogram.
 */
export const macdCross = defineStrategy({
  description: 'Buys when the MACD histogram crosses above 0, sells when it crosses below',
  indicators: { macd: 'macd' },
  state: 2,
  onTrade(ctx) {
    const macd = ctx.indicators.macd;
    if (!macd.isStable) return;
    const histogram = macd.values[MACD_HISTOGRAM_OUTPUT];
    if (histogram !== histogram) return; // NaN: keep the previous value
    const state = ctx.state;
    const seen = state[0];
    const previous = state[1];
    state[0] = 1;
    state[1] = histogram;
    if (seen === 0) return;
    const side = macdCrossDirection(previous, histogram);
    if (side > 0) ctx.buy();
    else if (side < 0) ctx.sell();
  },
});
