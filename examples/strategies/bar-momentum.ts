import { defineStrategy } from 'nexus-trading/strategy';

/**
 * Cross-sectional momentum on bars: at every bar close, the engine's universe scan ranks every symbol's return over
 * the bar and its per-bar RSI (docs/scans.md); this strategy holds the symbols that lead on both and lets go
 * of those that fall back.
 *
 *   enter (buy orderQuantity): the bar's return ranks in the top `topFraction` of the universe, its z-score is at
 *                              least `minZ`, and the scan's `rsi-14` (when scanned) is below `maxRsi` (not stretched)
 *   exit (sell what is held):  the return ranks below the median
 *
 * It trades in onBar only (its onTrade does nothing), so its decisions come once per bar for every symbol at once:
 * a rebalance, each order naming its symbol. Needs `scans` in the engine config (with `rsi-14` among
 * `scans.indicators` for the RSI filter) and the inline layout.
 */
export default defineStrategy({
  description: 'Cross-sectional bar momentum: hold the leaders of each bar\'s return ranking, drop the laggards',
  params: {
    topFraction: { type: 'number', min: 0.001, max: 0.5, default: 0.1, description: 'Enter symbols ranked in this top share' },
    minZ: { type: 'number', default: 1, description: 'and whose return z-score is at least this' },
    maxRsi: { type: 'number', min: 0, max: 100, default: 70, description: 'and whose per-bar RSI is below this' },
  },
  onTrade() {},
  onBar(ctx) {
    const { returnRank, returnZ, indicators } = ctx.scan;
    const rsi = indicators['rsi-14']?.values;
    const { topFraction, minZ, maxRsi } = ctx.params;
    for (let s = 0; s < returnRank.length; s++) {
      const rank = returnRank[s];
      if (rank !== rank) continue; // no return this bar (not traded yet)
      const held = ctx.positionOf(s);
      if (held <= 0 && rank >= 1 - topFraction && returnZ[s] >= minZ && (rsi === undefined || rsi[s] < maxRsi)) ctx.buy(undefined, s);
      else if (held > 0 && rank < 0.5) ctx.sell(held, s);
    }
  },
});
