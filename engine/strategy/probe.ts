import type { IndicatorReader, Strategy } from './strategy.ts';

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
 * For benchmarks and latency gates: a signal on EVERY trade, so every tick exercises the full
 * tick-to-order path. Needs no indicators.
 *
 * State (1 slot): [0] the previous side (0 before the first signal).
 */
export class ProbeStrategy implements Strategy {
  readonly type = 'probe';
  readonly stateSize = 1;

  constructor(
    readonly name: string,
    readonly orderQuantity: number,
  ) {}

  evaluate(_indicators: readonly IndicatorReader[], _price: number, position: number, state: Float64Array, stateOffset: number): number {
    const side = probeDirection(position, state[stateOffset]);
    state[stateOffset] = side;
    return side;
  }
}
