import { defineStrategy } from 'nexus-trading/strategy';

/**
 * The demo's user strategy, version 2: v1 plus an exit, flattening a position once the RSI is back at the middle
 * of its band, so the strategy holds risk only while the reversion plays out.
 */
export default defineStrategy({
  description: 'RSI band reversion with an exit at the middle (demo, v2)',
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
    const middle = (ctx.params.low + ctx.params.high) / 2;
    if (value < ctx.params.low && ctx.position <= 0) ctx.buy();
    else if (value > ctx.params.high && ctx.position >= 0) ctx.sell();
    else if (ctx.position > 0 && value >= middle) ctx.sell(ctx.position);
    else if (ctx.position < 0 && value <= middle) ctx.buy(-ctx.position);
  },
});
