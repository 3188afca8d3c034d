import type { IndicatorReader, Strategy } from './strategy.ts';

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
 * Bollinger breakout: reads one `bbands` indicator; buys when the trade price closes above the upper band,
 * sells when it closes below the lower band, once per breakout. The first stable observation of a symbol only
 * records its regime: starting mid-breakout is not a breakout.
 *
 * State (2 slots): [0] 1 once a stable observation has been seen, [1] the previous regime (-1, 0, +1).
 */
export class BollingerBreakoutStrategy implements Strategy {
  readonly type = 'bollingerBreakout';
  readonly stateSize = 2;

  constructor(
    readonly name: string,
    readonly orderQuantity: number,
  ) {}

  evaluate(indicators: readonly IndicatorReader[], price: number, _position: number, state: Float64Array, stateOffset: number): number {
    const bands = indicators[0];
    if (!bands.isStable) return 0;
    const regime = bandRegime(price, bands.output(BBANDS_UPPER_OUTPUT), bands.output(BBANDS_LOWER_OUTPUT));
    const seen = state[stateOffset];
    const previous = state[stateOffset + 1];
    state[stateOffset] = 1;
    state[stateOffset + 1] = regime;
    return seen === 0 ? 0 : breakoutSignal(previous, regime);
  }
}
