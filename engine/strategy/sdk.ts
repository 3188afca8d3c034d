/**
 * The strategy SDK (`nexus-trading/strategy`; docs/strategy-sdk.md): how users write their own trading logic.
 *
 * A strategy is a plain object made with `defineStrategy`: the parameters it takes (validated by the engine with
 * field paths, as the built-in strategies' are), the indicators it reads (by role, each of a type), how many
 * numbers of memory it keeps per symbol and across symbols, and its handlers. Handlers act only through the
 * context they are given: the tick, the symbol's indicators, position and memory, and `buy`, `sell` and `signal`.
 * The context gives no wall clock, no randomness and no I/O, so a run over the same ticks makes the same
 * decisions live and in `nexus backtest`.
 *
 *     export default defineStrategy({
 *       params: { threshold: { type: 'number', min: 0, default: 0 } },
 *       indicators: { fast: 'ema', slow: 'ema' },
 *       state: 1,
 *       onTrade(ctx) {
 *         const { fast, slow } = ctx.indicators;
 *         if (!slow.isStable) return;
 *         const spread = fast.values[0] - slow.values[0];
 *         const previous = ctx.state[0];
 *         ctx.state[0] = spread;
 *         if (previous <= ctx.params.threshold && spread > ctx.params.threshold && ctx.position <= 0) ctx.buy();
 *       },
 *     });
 *
 * Strategies that trade on bars across the universe (cross-sectional momentum, pairs picked by correlation) add
 * `onBar(ctx)`: at every bar close, the scan's returns, indicator values, their ranks and z-scores across the
 * symbols, and the correlation matrix (`ctx.scan`), with orders that name their symbol.
 *
 * Hot path rules, which the engine keeps for its own strategies too: a handler runs on every trade of every
 * symbol, on the tick thread, so it should allocate nothing (no arrays, closures or strings per call) and keep its
 * memory in `state` and `shared`, which the engine preallocates (zero-filled: all zeros means "nothing seen yet").
 */

/** The indicator types a strategy can read (docs/engine-config.md lists their parameters and outputs). */
export type IndicatorType = 'sma' | 'ema' | 'rsi' | 'macd' | 'bbands' | 'atr' | 'vwap' | 'stoch';

/** What a strategy reads from an indicator; every streaming indicator implements it. */
export interface IndicatorReader {
  /** True once outputs are defined (after warm-up). */
  readonly isStable: boolean;
  /**
   * The outputs, written in place by every update: macd [macd, signal, histogram], bbands [upper, middle, lower],
   * stoch [k, d], the others [value]. NaN while warming up. Read `values[i]` on the hot path: it is a load, where
   * a call returning a number can cost an allocation per call, depending on what V8 inlines. Read only: every
   * strategy reading the indicator shares the array (a write there is wrong for all of them until the next update,
   * which overwrites it; the indicator's own state is kept elsewhere).
   */
  readonly values: Float64Array;
  /** `values[index]`, checked: throws a RangeError for an index the indicator does not have. */
  output(index: number): number;
}

/** One declared parameter. Numbers may be bounded; a parameter without a default must be given in the config. */
export type ParamSpec =
  | { readonly type: 'number' | 'integer'; readonly default?: number; readonly min?: number; readonly max?: number; readonly description?: string }
  | { readonly type: 'boolean'; readonly default?: boolean; readonly description?: string };

export type ParamSchema = Readonly<Record<string, ParamSpec>>;

/** The validated values of a schema, plus `orderQuantity` (every strategy has it: the default size of an order). */
export type ParamValues<P extends ParamSchema> = { readonly [K in keyof P]: P[K] extends { readonly type: 'boolean' } ? boolean : number } & {
  readonly orderQuantity: number;
};

/** Roles a strategy reads indicators under, each of a type: `{ fast: 'ema', slow: 'ema' }`. */
export type IndicatorRoles = Readonly<Record<string, IndicatorType>>;

/** A symbol's indicators by role. */
export type RoleReaders<R extends IndicatorRoles> = { readonly [K in keyof R]: IndicatorReader };

/**
 * What a handler sees and can do. One context object serves every call of a strategy (its fields change per
 * call), so a handler must not keep it or its arrays beyond the call; nothing here allocates.
 */
export interface StrategyContext<P extends ParamSchema = ParamSchema, R extends IndicatorRoles = IndicatorRoles> {
  /** The symbol of this tick: its index in the engine's `symbols` (and its name). */
  readonly symbol: number;
  readonly symbolName: string;
  /** The trade's price and size (for onQuote: the quote's price, size 0). */
  readonly price: number;
  readonly size: number;
  /** The tick's publish time in nanoseconds: the only clock a handler has (the CSV's time in a backtest). */
  readonly timeNs: number;
  /** This symbol's position: every accepted order counted as filled (the risk engine's worst case). */
  readonly position: number;
  /** This symbol's indicators by role. */
  readonly indicators: RoleReaders<R>;
  /** This symbol's memory: `state` numbers, zero-filled at start, kept across ticks. */
  readonly state: Float64Array;
  /** Memory shared by every symbol: `shared` numbers, zero-filled at start. */
  readonly shared: Float64Array;
  readonly params: ParamValues<P>;
  /** Every symbol's name, by index. */
  readonly symbols: readonly string[];
  /** Another symbol's position, last trade price (0 before its first trade), best bid and ask (0: none yet). */
  positionOf(symbol: number): number;
  lastPriceOf(symbol: number): number;
  bidOf(symbol: number): number;
  askOf(symbol: number): number;
  /** Another symbol's indicators and memory (a pairs or cross-sectional strategy). */
  indicatorsOf(symbol: number): RoleReaders<R>;
  stateOf(symbol: number): Float64Array;
  /**
   * Orders through risk: buy or sell `quantity` (default params.orderQuantity, an integer >= 1) of this symbol, or
   * of `symbol`. Each emits a signal and, if risk accepts, an order at the far side of the book (or the last price).
   * At most 16 orders per call; more is a fault of the strategy.
   */
  buy(quantity?: number, symbol?: number): void;
  sell(quantity?: number, symbol?: number): void;
  /** A signal without an order (+1 / -1, with a strength), on the signals socket; of `symbol` (default: this one). */
  signal(side: number, strength?: number, symbol?: number): void;
}

/** One scanned indicator across the symbols at a bar close: each symbol's first output, its rank and z-score. */
export interface ScannedIndicator {
  readonly values: Float64Array;
  readonly ranks: Float64Array;
  readonly zscores: Float64Array;
}

/**
 * A bar close's universe scan (docs/scans.md), as `onBar` sees it. Every array is indexed by symbol index and holds
 * NaN for a symbol without a value (never traded, or an indicator not yet stable); ranks are in [0, 1] (0 the
 * lowest), z-scores against the cross-section's mean and population deviation. Read it during the call only: the
 * engine reuses the arrays for a later bar.
 */
export interface BarScan {
  /** The bar's number (0: the first bar the engine closed, warm-started bars included). */
  readonly bar: number;
  /** When the bar began, in exchange time (ns; a double, so exact to 256 ns at today's epoch). */
  readonly barStartNs: number;
  /** Each symbol's return over the bar (close / previous close - 1), its rank and z-score. */
  readonly returns: Float64Array;
  readonly returnRank: Float64Array;
  readonly returnZ: Float64Array;
  /** The scan's per-bar indicators (`scans.indicators`), by their configured names. */
  readonly indicators: Readonly<Record<string, ScannedIndicator>>;
  /**
   * Pearson correlation of returns over `scans.correlation.window` bars among the first `correlationSymbols`
   * symbols, row-major (entry i * correlationSymbols + j); empty without a correlation, all NaN before the window
   * has filled.
   */
  readonly correlation: Float64Array;
  readonly correlationSymbols: number;
}

/**
 * What `onBar` sees and can do: the scan, the cross-symbol members of StrategyContext, and orders and signals that
 * name their symbol (a bar belongs to no one symbol). `timeNs` is the publish time of the trade that closed the bar
 * (in a backtest, its CSV time), as onTrade's is its tick's: the orders' tick-to-order latency counts from it, so
 * live it includes the scan.
 */
export interface BarContext<P extends ParamSchema = ParamSchema, R extends IndicatorRoles = IndicatorRoles> extends Pick<
  StrategyContext<P, R>,
  'timeNs' | 'shared' | 'params' | 'symbols' | 'positionOf' | 'lastPriceOf' | 'bidOf' | 'askOf' | 'indicatorsOf' | 'stateOf'
> {
  readonly scan: BarScan;
  /**
   * Whether this instance of the strategy decides for `symbol`. Inline (and in a backtest) one instance decides
   * for every symbol. In the workers layout every shard runs its own instance of the strategy, each seeing the
   * whole scan (ranks across every symbol) but deciding only for its shard's symbols: the per-symbol reads of
   * another shard's symbols (indicatorsOf, stateOf, lastPriceOf, bidOf, askOf) are this instance's, never fed, and
   * its orders and signals for them are not sent (counted in nexus_engine_other_shard_decisions_total). So a
   * cross-sectional strategy picks from the whole scan and acts on what `handles` says is its own.
   */
  handles(symbol: number): boolean;
  /** An order of `quantity` (undefined: params.orderQuantity) of `symbol`, through ownership and risk, at the far side of its book or its last price. */
  buy(quantity: number | undefined, symbol: number): void;
  sell(quantity: number | undefined, symbol: number): void;
  signal(side: number, strength: number | undefined, symbol: number): void;
}

/** What `setup` sees: once, before the first tick, to check params or precompute from the symbol list. */
export interface SetupContext<P extends ParamSchema = ParamSchema> {
  readonly params: ParamValues<P>;
  readonly symbols: readonly string[];
  readonly shared: Float64Array;
}

export interface StrategyDefinition<P extends ParamSchema = ParamSchema, R extends IndicatorRoles = IndicatorRoles> {
  /** One line for people: what the strategy does. */
  readonly description?: string;
  readonly params?: P;
  /** Indicator roles in order: the config's `indicators` list names one configured indicator per role. */
  readonly indicators?: R;
  /** Numbers of memory per symbol (default 0) and shared by all symbols (default 0). */
  readonly state?: number;
  readonly shared?: number;
  /**
   * Checks across parameters (each one alone is checked from `params`): return a problem as `{ param, message }`
   * to refuse the configuration, or undefined.
   */
  check?(params: ParamValues<P>): { readonly param: string; readonly message: string } | undefined;
  setup?(context: SetupContext<P>): void;
  /** Every trade of every symbol, after the symbol's indicators took it. */
  onTrade(context: StrategyContext<P, R>): void;
  /** Every quote (best bid or ask change); indicators do not take quotes. */
  onQuote?(context: StrategyContext<P, R>): void;
  /**
   * Every bar close's universe scan (docs/scans.md): needs `scans` in the engine config. Live it runs once the scan
   * thread has finished the bar, between ticks (on the workers layout, in every shard, in order with its ticks:
   * BarContext.handles); in `nexus backtest`, right after the trade that closed the bar.
   */
  onBar?(context: BarContext<P, R>): void;
}

/** Declares a strategy: returns it unchanged, typed (the engine validates it when it loads). */
export function defineStrategy<const P extends ParamSchema = Record<never, never>, const R extends IndicatorRoles = Record<never, never>>(
  definition: StrategyDefinition<P, R>,
): StrategyDefinition<P, R> {
  return definition;
}
