/**
 * The one contract every streaming indicator implements.
 *
 * An indicator consumes one bar per `update` call and keeps O(period) preallocated state. `update` is O(1)
 * (amortised O(1) where a periodic exact re-summation or a monotonic deque is involved) and allocates nothing,
 * so it can sit on the tick path. Outputs are read by position (`output(i)`, for generic code that walks
 * `outputNames`) or through each class's typed `result` getter (for code that knows the concrete class).
 *
 * Input contract: callers pass finite numbers (the engine validates ticks before they reach an indicator), with
 * `low <= high` and `volume >= 0` for the indicators that read them. The streaming path does not re-check, so a
 * NaN or an Infinity poisons the state until `reset()`. The batch functions check their inputs and throw instead.
 *
 * Alignment: the first defined output comes from update number `warmupPeriod` (index `warmupPeriod - 1` in a
 * series). Before that every output is NaN, `result` is null and `isStable` is false; afterwards `isStable`
 * stays true until `reset()`.
 */
export type IndicatorType = 'sma' | 'ema' | 'rsi' | 'macd' | 'bbands' | 'atr' | 'vwap' | 'stoch';

export interface StreamingIndicator {
  readonly type: IndicatorType;
  /** Output names in `output(index)` order, e.g. `['value']` or `['macd', 'signal', 'histogram']`. */
  readonly outputNames: readonly string[];
  /** Updates needed before the first output; the first output index is `warmupPeriod - 1`. */
  readonly warmupPeriod: number;
  /** True once outputs are defined; stays true until `reset()`. */
  readonly isStable: boolean;
  /** Feeds one bar. Price-only indicators read `close` and ignore the rest. */
  update(close: number, high: number, low: number, volume: number): void;
  /** Output number `index` (see `outputNames`); NaN while warming up. Throws RangeError on a bad index. */
  output(index: number): number;
  /** Returns to the freshly constructed state, keeping the preallocated buffers. */
  reset(): void;
}

/** Largest period a streaming indicator accepts: its ring buffers are preallocated at construction. */
export const MAX_PERIOD = 1 << 24;

/** Shared `outputNames` for single-output indicators. */
export const VALUE_OUTPUT: readonly string[] = Object.freeze(['value']);

/** Throws RangeError unless `period` is an integer in [1, MAX_PERIOD]; for the streaming constructors. */
export function checkStreamingPeriod(name: string, period: number): void {
  if (!Number.isInteger(period) || period < 1) {
    throw new RangeError(`${name} must be an integer >= 1, got ${period}`);
  }
  if (period > MAX_PERIOD) throw new RangeError(`${name} must be at most ${MAX_PERIOD}, got ${period}`);
}

/** Throws the error every `output(index)` raises for an index outside `outputNames`. */
export function badOutputIndex(type: IndicatorType, index: number, count: number): never {
  throw new RangeError(`${type} has ${count} output(s), got output index ${index}`);
}
