import { defineStrategy } from 'nexus-trading/strategy';

/**
 * Pairs trading on the log-price spread of two symbols (a leg and a hedge, e.g. two share classes or an ETF and its
 * largest holding), with state across symbols:
 *
 *   spread = ln(price(leg)) - beta * ln(price(hedge)),  z = (spread - mean) / stddev over an exponential window
 *
 * When z rises above `entryZ` it sells the spread (sell the leg, buy the hedge); below -entryZ it buys it; when |z|
 * falls back under `exitZ` it closes both legs. Both legs go out on the same tick, each through risk. Every other
 * configured symbol is ignored. The bollinger bands of the leg (role `bands`) gate entries: no entry while the
 * leg trades outside its bands, where a spread widening is more often a move than noise.
 *
 * Shared memory: [0] mean, [1] variance, [2] samples seen, [3] the spread's side held (+1 long, -1 short, 0 flat).
 */
export default defineStrategy({
  description: 'Pairs trading on a z-scored log-price spread of two symbols',
  params: {
    leg: { type: 'integer', min: 0, default: 0, description: 'Symbol index of the leg' },
    hedge: { type: 'integer', min: 0, default: 1, description: 'Symbol index of the hedge' },
    beta: { type: 'number', min: 0, default: 1, description: 'Hedge ratio' },
    halfLife: { type: 'integer', min: 2, max: 100000, default: 200, description: 'Half life of the mean and variance, in spread samples' },
    warmup: { type: 'integer', min: 2, default: 200, description: 'Spread samples before the first entry' },
    entryZ: { type: 'number', min: 0, default: 2, description: 'Enter beyond this z-score' },
    exitZ: { type: 'number', min: 0, default: 0.5, description: 'Exit within this z-score' },
  },
  indicators: { bands: 'bbands' },
  shared: 4,
  check: (params) => {
    if (params.leg === params.hedge) return { param: 'hedge', message: `must differ from leg (${params.leg})` };
    if (params.exitZ >= params.entryZ) return { param: 'exitZ', message: `must be below entryZ (${params.entryZ}), got ${params.exitZ}` };
    return undefined;
  },
  setup(ctx) {
    const { leg, hedge } = ctx.params;
    if (leg >= ctx.symbols.length || hedge >= ctx.symbols.length) {
      throw new Error(`leg ${leg} and hedge ${hedge} must be symbol indices below ${ctx.symbols.length}`);
    }
  },
  onTrade(ctx) {
    const { leg, hedge, beta, halfLife, warmup, entryZ, exitZ } = ctx.params;
    if (ctx.symbol !== leg && ctx.symbol !== hedge) return;
    const legPrice = ctx.lastPriceOf(leg);
    const hedgePrice = ctx.lastPriceOf(hedge);
    if (legPrice === 0 || hedgePrice === 0) return; // both legs need a first trade
    const spread = Math.log(legPrice) - beta * Math.log(hedgePrice);
    const memory = ctx.shared;
    const alpha = 1 - Math.pow(0.5, 1 / halfLife);
    const seen = memory[2];
    const mean = seen === 0 ? spread : memory[0];
    const deviation = spread - mean;
    memory[0] = mean + alpha * deviation;
    memory[1] = (1 - alpha) * (memory[1] + alpha * deviation * deviation);
    memory[2] = seen + 1;
    if (seen < warmup || memory[1] <= 0) return;
    const z = (spread - memory[0]) / Math.sqrt(memory[1]);
    const held = memory[3];
    if (held !== 0 && Math.abs(z) < exitZ) {
      // Close both legs: sell what was bought, buy what was sold.
      if (held > 0) { ctx.sell(undefined, leg); ctx.buy(undefined, hedge); }
      else { ctx.buy(undefined, leg); ctx.sell(undefined, hedge); }
      memory[3] = 0;
      return;
    }
    if (held !== 0) return;
    const bands = ctx.indicatorsOf(leg).bands;
    if (bands.isStable && (legPrice > bands.values[0] || legPrice < bands.values[2])) return;
    if (z > entryZ) {
      ctx.sell(undefined, leg);
      ctx.buy(undefined, hedge);
      memory[3] = -1;
    } else if (z < -entryZ) {
      ctx.buy(undefined, leg);
      ctx.sell(undefined, hedge);
      memory[3] = 1;
    }
  },
});
