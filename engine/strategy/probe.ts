import { defineStrategy } from './sdk.ts';

/**
 * The probe's side: flatten a position if there is one, else alternate with the previous signal (first: buy).
 *
 *   position  previous side  signal
 *      0           0           +1     first signal
 *      0          +1           -1     flat after a denied buy: alternate
 *      0          -1           +1
 *     +q           *           -1     close the long
 *     -q           *           +1     cover the short
 *
 * Alone on a symbol this keeps the position within ±orderQuantity even when risk denies some orders, and while
 * every order is accepted it alternates buy, sell, buy, ...
 */
export function probeDirection(position: number, previousSide: number): number {
  if (position > 0) return -1;
  if (position < 0) return 1;
  return previousSide > 0 ? -1 : 1;
}

/**
 * For benchmarks and latency gates (built in, written on the SDK): an order on EVERY trade, so every tick
 * exercises the full tick-to-order path. Needs no indicators.
 *
 * State (1 per symbol): [0] the previous side (0 before the first order).
 */
export const probe = defineStrategy({
  description: 'Orders on every trade, alternating sides and staying within one lot of flat',
  state: 1,
  onTrade(ctx) {
    const side = probeDirection(ctx.position, ctx.state[0]);
    ctx.state[0] = side;
    if (side > 0) ctx.buy();
    else ctx.sell();
  },
});
