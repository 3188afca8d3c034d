import type { IndicatorReader, Strategy } from './strategy.ts';

export interface RsiReversionParams {
  /** Buy below this RSI (default 30). */
  readonly oversold: number;
  /** Sell above this RSI (default 70). */
  readonly overbought: number;
}

export const defaultRsiReversionParams: RsiReversionParams = Object.freeze({ oversold: 30, overbought: 70 });

/**
 * RSI mean reversion, one unit of exposure at most in either direction:
 *
 *   position   RSI < oversold       RSI > overbought      otherwise
 *   flat       buy (open long)      sell (open short)     -
 *   long       -  (already long)    sell (close long)     -
 *   short      buy (cover short)    -  (already short)    -
 *
 * i.e. buy when RSI < oversold and position <= 0, sell when RSI > overbought and position >= 0. Because risk
 * counts an accepted order into the position at once, a long at overbought is closed by one sell and, if RSI is
 * still overbought on the next trade, reversed into a short by a second one; it never adds to a position.
 *
 * Examples (30/70): (25, 0) -> +1; (25, 1) -> 0; (25, -1) -> +1; (75, 0) -> -1; (75, -1) -> 0; (50, 0) -> 0;
 * (NaN, 0) -> 0.
 */
export function rsiReversionDirection(rsi: number, position: number, oversold: number, overbought: number): number {
  if (rsi < oversold && position <= 0) return 1;
  if (rsi > overbought && position >= 0) return -1;
  return 0;
}

/** RSI reversion: reads one `rsi` indicator. Stateless (stateSize 0): the decision uses the position. */
export class RsiReversionStrategy implements Strategy {
  readonly type = 'rsiReversion';
  readonly stateSize = 0;
  private readonly oversold: number;
  private readonly overbought: number;

  constructor(
    readonly name: string,
    readonly orderQuantity: number,
    params: RsiReversionParams = defaultRsiReversionParams,
  ) {
    this.oversold = params.oversold;
    this.overbought = params.overbought;
  }

  evaluate(indicators: readonly IndicatorReader[], _price: number, position: number, _state: Float64Array, _stateOffset: number): number {
    const rsi = indicators[0];
    if (!rsi.isStable) return 0;
    return rsiReversionDirection(rsi.output(0), position, this.oversold, this.overbought);
  }
}
