import { defineStrategy } from './sdk.ts';

export const BBANDS_UPPER_OUTPUT = 0;
export const BBANDS_LOWER_OUTPUT = 2;

/**
 * Where a price lies against the bands: +1 above upper, -1 below lower, 0 inside (bands inclusive).
 * Examples (upper 110, lower 90): 111 -> +1, 110 -> 0, 100 -> 0, 90 -> 0, 89 -> -1; NaN price -> 0.
 */
export function bandRegime(price: number, upper: number, lower: number): number {
  if (price > upper) return 1;
  if (price < lower) return -1;
  return 0;
}

/**
 * Edge-triggered breakout: signal the new regime when it differs from the previous one and is outside the bands.
 * One signal per breakout; returning inside the bands re-arms it.
 *
 *   previous  regime  signal
 *      0        +1      +1    broke out above
 *     +1        +1       0    still above: already signalled
 *     +1         0       0    back inside: re-armed
 *     +1        -1      -1    straight from above to below
 *      0        -1      -1
 */
export function breakoutSignal(previousRegime: number, regime: number): number {
  return regime !== previousRegime ? regime : 0;
}

/**
 * Bollinger breakout (built in, written on the SDK): reads one `bbands` indicator; buys when the trade price closes
 * above the upper band, sells when it closes below the lower band, once per breakout. The first stable
 * observation of a symbol only records its regime: starting mid-breakout is not a breakout.
 *
 * State (2 per symbol): [0] 1 once a stable observation has been seen, [1] the previous regime (-1, 0, +1).
 */
export const bollingerBreakout = defineStrategy({
  description: 'Buys a close above the upper Bollinger band, sells one below the lower band, once per breakout',
  indicators: { bands: 'bbands' },
  state: 2,
  onTrade(ctx) {
    const bands = ctx.indicators.bands;
    if (!bands.isStable) return;
    const regime = bandRegime(ctx.price, bands.values[BBANDS_UPPER_OUTPUT], bands.values[BBANDS_LOWER_OUTPUT]);
    const state = ctx.state;
    const seen = state[0];
    const previous = state[1];
    state[0] = 1;
    state[1] = regime;
    if (seen === 0) return;
    const side = breakoutSignal(previous, regime);
    if (side > 0) ctx.buy();
    else if (side < 0) ctx.sell();
  },
});
