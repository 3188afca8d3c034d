import type { IndicatorReader, Strategy } from './strategy.ts';

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
 * MACD crossover: reads one `macd` indicator and signals when its histogram changes sign.
 * No signal until the indicator is stable and a previous stable histogram has been seen for the symbol.
 *
 * State (2 slots): [0] 1 once a histogram has been seen, [1] the previous histogram.
 */
export class MacdCrossStrategy implements Strategy {
  readonly type = 'macdCross';
  readonly stateSize = 2;

  constructor(
    readonly name: string,
    readonly orderQuantity: number,
  ) {}

  evaluate(indicators: readonly IndicatorReader[], _price: number, _position: number, state: Float64Array, stateOffset: number): number {
    const macd = indicators[0];
    if (!macd.isStable) return 0;
    const histogram = macd.output(MACD_HISTOGRAM_OUTPUT);
    if (histogram !== histogram) return 0; // NaN: keep the previous value
    const seen = state[stateOffset];
    const previous = state[stateOffset + 1];
    state[stateOffset] = 1;
    state[stateOffset + 1] = histogram;
    return seen === 0 ? 0 : macdCrossDirection(previous, histogram);
  }
}
