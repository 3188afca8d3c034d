import { defineStrategy } from 'nexus-trading/strategy';

/**
 * EMA crossover: buys when the fast EMA crosses above the slow one and sells when it crosses below, holding at
 * most one lot either way. Bind two EMA indicators (e.g. periods 12 and 26) to the roles `fast` and `slow`.
 *
 * Memory per symbol: [0] 1 once a spread has been seen, [1] the previous spread (fast - slow).
 */
export default defineStrategy({
  description: 'EMA(fast)/EMA(slow) crossover, one lot at most',
  params: {
    minSpread: { type: 'number', min: 0, default: 0, description: 'Cross only when |fast - slow| exceeds this (price units)' },
  },
  indicators: { fast: 'ema', slow: 'ema' },
  state: 2,
  onTrade(ctx) {
    const { fast, slow } = ctx.indicators;
    if (!slow.isStable || !fast.isStable) return;
    const spread = fast.values[0] - slow.values[0];
    const state = ctx.state;
    const seen = state[0];
    const previous = state[1];
    state[0] = 1;
    state[1] = spread;
    if (seen === 0) return;
    const band = ctx.params.minSpread;
    if (previous <= band && spread > band && ctx.position <= 0) ctx.buy();
    else if (previous >= -band && spread < -band && ctx.position >= 0) ctx.sell();
  },
});
