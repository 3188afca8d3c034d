import { defineStrategy } from 'nexus-trading/strategy';

/**
 * The demo's user strategy, version 1: RSI mean reversion with a band, at most one lot either way. Buys when the
 * RSI is below `low` and the symbol is not long, sells when it is above `high` and the symbol is not short.
 */
export default defineStrategy({
  description: 'RSI band reversion (demo, v1)',
  params: {
    low: { type: 'number', min: 0, max: 100, default: 30 },
    high: { type: 'number', min: 0, max: 100, default: 70 },
  },
  indicators: { rsi: 'rsi' },
  check: (params) => (params.low < params.high ? undefined : { param: 'low', message: `must be below high (${params.high})` }),
  onTrade(ctx) {
    const rsi = ctx.indicators.rsi;
    if (!rsi.isStable) return;
    const value = rsi.values[0];
    if (value < ctx.params.low && ctx.position <= 0) ctx.buy();
    else if (value > ctx.params.high && ctx.position >= 0) ctx.sell();
  },
});
