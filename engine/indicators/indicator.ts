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
  /**
   * Feeds the bar held in `bar`: [close, high, low, volume] (BAR_CLOSE...; at least BAR_SLOTS long). The tick
   * path's call: no double crosses it, and an IndicatorBank hands all of a symbol's indicators the same array.
   */
  step(bar: Float64Array): void;
  /** Feeds one bar: writes it into a bar of its own, then `step`. Price-only indicators read `close` only. */
  update(close: number, high?: number, low?: number, volume?: number): void;
  /** Outputs in `outputNames` order, written in place by every update; NaN while warming up. */
  readonly values: Float64Array;
  /** Output number `index` (see `outputNames`), from `values`. Throws RangeError on a bad index. */
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

/** Slots of the bar an indicator steps on (`step(bar)`). */
export const BAR_CLOSE = 0;
export const BAR_HIGH = 1;
export const BAR_LOW = 2;
export const BAR_VOLUME = 3;
export const BAR_SLOTS = 4;

/**
 * What every streaming indicator class shares: `update` over `step`, and the outputs it writes.
 *
 * Why registers: V8 boxes a double into a fresh 16-byte HeapNumber whenever it is passed to, or returned from, a
 * call it does not inline, and which calls it inlines on a long tick path (intake, processor, eight indicators,
 * strategies) changes with its cumulative inlining budget. So on the tick path no double crosses a call: the
 * trade reaches the indicators in a Float64Array (`step(bar)`; one array for a whole bank, so V8 checks it once for
 * all of them), each indicator's helpers take their operands from arrays (RollingSum.pushFrom), and strategies read
 * `values`. `update(...)` remains for everything else (tests, tools).
 */
export abstract class SteppedIndicator {
  abstract readonly type: IndicatorType;
  readonly values: Float64Array;
  /** `update`'s bar. */
  private readonly ownBar = new Float64Array(BAR_SLOTS);

  constructor(outputCount: number) {
    this.values = new Float64Array(outputCount).fill(NaN);
  }

  abstract step(bar: Float64Array): void;

  update(close: number, high: number = close, low: number = close, volume: number = 0): void {
    const bar = this.ownBar;
    bar[BAR_CLOSE] = close;
    bar[BAR_HIGH] = high;
    bar[BAR_LOW] = low;
    bar[BAR_VOLUME] = volume;
    this.step(bar);
  }

  output(index: number): number {
    const values = this.values;
    // The bad index throws as a statement: a call's result among the returns would make every return a tagged
    // value, boxed into a HeapNumber per call (measured 16 B per tick through a strategy's output(0)).
    if (!(index >= 0 && index < values.length && index === (index | 0))) badOutputIndex(this.type, index, values.length);
    return values[index];
  }
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
