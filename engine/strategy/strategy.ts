/**
 * The strategy contract: pure signal generation over streaming indicator outputs.
 *
 *   indicators (per symbol) --read--> Strategy.evaluate --side--> risk.check --> order
 *
 * A strategy object is shared by every symbol; per-symbol memory lives in a caller-owned Float64Array slice of
 * `stateSize` slots, so one strategy instance serves any number of symbols and `evaluate` allocates nothing.
 */

/** What strategies read from an indicator; every streaming indicator implements it. */
export interface IndicatorReader {
  /** True once outputs are defined (after warm-up). */
  readonly isStable: boolean;
  /**
   * Output number `index`: macd [macd, signal, histogram], bbands [upper, middle, lower], rsi/sma/ema [value].
   * NaN while warming up.
   */
  output(index: number): number;
}

export const strategyTypes = ['macdCross', 'rsiReversion', 'bollingerBreakout', 'probe'] as const;
export type StrategyType = (typeof strategyTypes)[number];

export interface Strategy {
  /** The configured strategy name (metric label `strategy`). */
  readonly name: string;
  readonly type: StrategyType;
  /** Per-symbol state slots this strategy uses (0 for stateless strategies). */
  readonly stateSize: number;
  /** Quantity of each order this strategy's signals become. */
  readonly orderQuantity: number;
  /**
   * +1 buy, -1 sell, 0 nothing. Pure: depends only on its arguments; `state` is this strategy's per-symbol
   * memory (e.g. previous MACD histogram), owned by the caller, mutated in place. `state` starts zero-filled and
   * every strategy treats all-zero state as "nothing seen yet". `position` is the symbol's worst-case position
   * from risk (every accepted order counted as filled). Allocation-free.
   */
  evaluate(
    indicators: readonly IndicatorReader[],
    price: number,
    position: number,
    state: Float64Array,
    stateOffset: number,
  ): number;
}
