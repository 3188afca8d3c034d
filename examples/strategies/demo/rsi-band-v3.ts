import { defineStrategy } from 'nexus-trading/strategy';

/** Trades kept per symbol for the median filter. */
const WINDOW = 65_536;
/** Each strategy instance's windows, by symbol (keyed by its shared memory, one per instance). */
const windows = new WeakMap<Float64Array, Array<{ prices: Float64Array; scratch: Float64Array; count: number }>>();

/**
 * The demo's user strategy, version 3: v2 plus a filter that only trades when the price is on the right side of
 * its median over the last 65,536 trades. The accident: the median is recomputed on every trade by copying and
 * sorting the whole window buffer (2 to 8 ms on the demo machine as it fills) instead of being kept incrementally. It
 * decides exactly as intended, and the canary's latency gate catches it before it reaches full weight.
 */
export default defineStrategy({
  description: 'RSI band reversion with a median filter recomputed over its whole window per trade (demo, v3: slow)',
  params: {
    low: { type: 'number', min: 0, max: 100, default: 30 },
    high: { type: 'number', min: 0, max: 100, default: 70 },
  },
  indicators: { rsi: 'rsi' },
  check: (params) => (params.low < params.high ? undefined : { param: 'low', message: `must be below high (${params.high})` }),
  shared: 1,
  onTrade(ctx) {
    let perSymbol = windows.get(ctx.shared);
    if (perSymbol === undefined) {
      perSymbol = ctx.symbols.map(() => ({ prices: new Float64Array(WINDOW), scratch: new Float64Array(WINDOW), count: 0 }));
      windows.set(ctx.shared, perSymbol);
    }
    const window = perSymbol[ctx.symbol];
    window.prices[window.count % WINDOW] = ctx.price;
    window.count++;
    const filled = Math.min(window.count, WINDOW);
    // The accident: the whole buffer copied and sorted per trade (unfilled slots are 0 and sort first).
    window.scratch.set(window.prices);
    window.scratch.sort();
    const median = window.scratch[WINDOW - filled + (filled >> 1)];
    const rsi = ctx.indicators.rsi;
    if (!rsi.isStable) return;
    const value = rsi.values[0];
    const middle = (ctx.params.low + ctx.params.high) / 2;
    if (value < ctx.params.low && ctx.position <= 0 && ctx.price < median) ctx.buy();
    else if (value > ctx.params.high && ctx.position >= 0 && ctx.price > median) ctx.sell();
    else if (ctx.position > 0 && value >= middle) ctx.sell(ctx.position);
    else if (ctx.position < 0 && value <= middle) ctx.buy(-ctx.position);
  },
});
