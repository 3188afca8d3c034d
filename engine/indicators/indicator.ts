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
  /**
   * How much of a long history this indicator's state depends on, for warm starts (engine/warmstart/): 0 when it
   * depends on every value ever fed (a recursion: EMA, RSI, MACD, ATR); otherwise L > 0, meaning that a fresh
   * instance fed a history from any index that is a multiple of L (and at least `warmupPeriod` values before its
   * end) reaches the same state, bit for bit, as one fed the whole history. For the windowed indicators L is the
   * period of their exact re-summations (rolling-sum.ts): at such an index the long-running instance re-sums its
   * window oldest first, which is exactly the sum a fresh instance builds while filling. See `replayStart`.
   */
  readonly replayAlignment: number;
  /** True once outputs are defined; stays true until `reset()`. */
  readonly isStable: boolean;
  /** Feeds one bar. Price-only indicators read `close` and ignore the rest. */
  update(close: number, high: number, low: number, volume: number): void;
  /** Output number `index` (see `outputNames`); NaN while warming up. Throws RangeError on a bad index. */
  output(index: number): number;
  /** Length of this indicator's state (`saveState`), in doubles; fixed by its parameters. */
  readonly stateSize: number;
  /**
   * Writes the whole state to `out[offset, offset + stateSize)` in the class's documented layout: `loadState` on a
   * fresh instance with the same parameters then continues bit for bit where this one is. The warm-state kernels
   * (warm-state.ts) write the same layout straight from a history, which is how a warm start seeds an engine.
   */
  saveState(out: Float64Array, offset: number): void;
  /**
   * Replaces the whole state with one that `saveState` or a warm-state kernel wrote for these parameters. Throws
   * RangeError (and changes nothing) when its count is not an integer in range: a layout from other parameters.
   */
  loadState(state: Float64Array, offset: number): void;
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

/**
 * The first index of a history of `length` values from which a fresh `indicator` must be fed to end in the state
 * it would have after all of them (see `replayAlignment`): 0 for a recursion or a history shorter than its warm-up;
 * else the last multiple of the alignment that leaves at least `warmupPeriod` values.
 * Example: SMA(20) (alignment 1024) over 2,000 values starts at 1024; EMA(20) at 0.
 */
export function replayStart(indicator: StreamingIndicator, length: number): number {
  return alignedStart(length, indicator.replayAlignment, indicator.warmupPeriod);
}

/** replayStart from the numbers: the last multiple of `alignment` (0: none) leaving `warmupPeriod` of `length`. */
export function alignedStart(length: number, alignment: number, warmupPeriod: number): number {
  if (alignment === 0 || length < warmupPeriod) return 0;
  return Math.floor((length - warmupPeriod) / alignment) * alignment;
}

/** Least common multiple of two positive integers (for composite windows such as the stochastic's two SMAs). */
export function leastCommonMultiple(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y !== 0) [x, y] = [y, x % y];
  return (a / x) * b;
}

/**
 * Reads the count field of a saved state: an integer in [0, max], else a RangeError naming the indicator, so a
 * state written for other parameters is refused before anything is loaded.
 */
export function stateCount(type: IndicatorType, state: Float64Array, offset: number, max: number): number {
  const count = state[offset];
  if (!Number.isInteger(count) || count < 0 || count > max) {
    throw new RangeError(`${type} state at ${offset}: count must be an integer in [0, ${max}], got ${count}`);
  }
  return count;
}
