import { defineStrategy } from './sdk.ts';

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

/**
 * RSI reversion (built in, written on the SDK): reads one `rsi` indicator. No memory: the decision uses the
 * position. Params oversold (default 30) and overbought (default 70), each between 0 and 100, oversold below
 * overbought.
 */
export const rsiReversion = defineStrategy({
  description: 'Buys below the oversold RSI level and sells above the overbought one, one lot of exposure at most',
  params: {
    oversold: { type: 'number', min: 0, max: 100, default: 30, description: 'Buy below this RSI' },
    overbought: { type: 'number', min: 0, max: 100, default: 70, description: 'Sell above this RSI' },
  },
  indicators: { rsi: 'rsi' },
  check: (params) => (params.oversold < params.overbought ? undefined : { param: 'oversold', message: `must be below overbought (${params.overbought}), got ${params.oversold}` }),
  onTrade(ctx) {
    const rsi = ctx.indicators.rsi;
    if (!rsi.isStable) return;
    const side = rsiReversionDirection(rsi.values[0], ctx.position, ctx.params.oversold, ctx.params.overbought);
    if (side > 0) ctx.buy();
    else if (side < 0) ctx.sell();
  },
});
