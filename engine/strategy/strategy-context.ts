import type {
  BarContext, BarScan, IndicatorReader, IndicatorRoles, ParamSchema, ParamValues, RoleReaders, StrategyContext,
} from './sdk.ts';

/**
 * Where a context's orders and signals go: the tick processor, which takes them through ownership and risk. The decision's numbers come in `decision` (DECISION_PRICE, DECISION_TIME_NS,
 * DECISION_STRENGTH), not as arguments: no double crosses the call (engine/indicators/indicator.ts).
 */
export interface StrategyActions {
  /** An order of `quantity` at the decision's price (the symbol's last trade), stamped with its time. */
  order(symbol: number, strategy: number, side: number, quantity: number, decision: Float64Array): void;
  /** A signal with the decision's price, strength and time. */
  signal(symbol: number, strategy: number, side: number, decision: Float64Array): void;
}

/** Slots of a decision register (StrategyActions). */
export const DECISION_PRICE = 0;
export const DECISION_TIME_NS = 1;
export const DECISION_STRENGTH = 2;
export const DECISION_SLOTS = 3;

/** The most orders one handler call may send: a runaway loop is a fault of the strategy, not a flood of orders. */
export const MAX_ORDERS_PER_CALL = 16;

/** The most orders one onBar call may send, in all: room for a rebalance across the universe (twice the symbols). */
export function maxOrdersPerBar(symbols: number): number {
  return Math.max(MAX_ORDERS_PER_CALL, 2 * symbols);
}
const MAX_ORDER_QUANTITY = 1_000_000_000;

/** A fault of a strategy's own making (a bad order size, too many orders): the strategy is disabled. */
export class StrategyFault extends Error {
  override name = 'StrategyFault';
}

/** What the context reads from the engine, by symbol index; the arrays are the engine's own, read live. */
export interface MarketView {
  readonly positions: Float64Array;
  readonly lastPrices: Float64Array;
  readonly bids: Float64Array;
  readonly asks: Float64Array;
  /** 1 where this context's strategy decides for the symbol in onBar (BarContext.handles). */
  readonly handled: Uint8Array;
}

/**
 * The scan a context holds before its first bar (no handler ever sees it). barStartNs is a double from the start,
 * as in every scan view (engine/scans/bar-scan-view.ts says why).
 */
const NO_SCAN: BarScan = Object.freeze({
  bar: -1, barStartNs: Number.NaN, returns: new Float64Array(0), returnRank: new Float64Array(0), returnZ: new Float64Array(0),
  indicators: Object.freeze({}), correlation: new Float64Array(0), correlationSymbols: 0,
});

/**
 * Slots of a tick register (TickProcessor.tick): the tick path hands a tick on in a Float64Array, so no double
 * crosses a call V8 may not inline (engine/indicators/indicator.ts, SteppedIndicator).
 */
export const TICK_PRICE = 0;
export const TICK_SIZE = 1;
export const TICK_PUBLISH_NS = 2;
export const TICK_SLOTS = 3;

const ENTER_SCRATCH = new Float64Array(TICK_SLOTS);

/** `symbol` while a context serves onBar: no symbol of its own, so orders and signals must name one. */
const BAR_SYMBOL = -1;

/**
 * The one context object of one strategy instance (the SDK's StrategyContext, and its BarContext for onBar). The
 * tick processor `enter`s it per call (a handful of field writes) and the handler reads its fields; every
 * per-symbol view (indicators by role, state) is built once at construction, so a call allocates nothing.
 */
export class EngineStrategyContext implements StrategyContext, BarContext {
  symbol = 0;
  symbolName = '';
  // Doubles start as NaN (see TickSlot, engine/wire/tick-codec.ts: a field that starts as a small integer and later
  // holds doubles can become Tagged, and then every store allocates). Entered before any handler reads them.
  price = NaN;
  size = NaN;
  timeNs = NaN;
  position = NaN;
  indicators: RoleReaders<IndicatorRoles>;
  state: Float64Array;
  readonly shared: Float64Array;
  /** The bar being handled (onBar). */
  scan: BarScan = NO_SCAN;
  /** Orders sent in the current call, and how many it may send. */
  ordersThisCall = 0;
  private orderLimit = MAX_ORDERS_PER_CALL;
  /** The numbers of the order or signal being handed to `actions`. */
  private readonly decision = new Float64Array(DECISION_SLOTS);

  constructor(
    private readonly index: number,
    readonly params: ParamValues<ParamSchema>,
    readonly symbols: readonly string[],
    private readonly roleReaders: readonly RoleReaders<IndicatorRoles>[],
    private readonly states: readonly Float64Array[],
    shared: Float64Array,
    private readonly market: MarketView,
    private readonly actions: StrategyActions,
  ) {
    this.indicators = roleReaders[0] ?? {};
    this.state = states[0] ?? new Float64Array(0);
    this.shared = shared;
  }

  /** Points the context at one tick of `symbol` before a handler call (tests; the tick path uses `enterTick`). */
  enter(symbol: number, price: number, size: number, timeNs: number): void {
    const tick = ENTER_SCRATCH;
    tick[TICK_PRICE] = price;
    tick[TICK_SIZE] = size;
    tick[TICK_PUBLISH_NS] = timeNs;
    this.enterTick(symbol, tick);
  }

  /** Points the context at the tick in `tick` (TICK_PRICE...) of `symbol` before a handler call. */
  enterTick(symbol: number, tick: Float64Array): void {
    this.symbol = symbol;
    this.symbolName = this.symbols[symbol];
    this.price = tick[TICK_PRICE];
    this.size = tick[TICK_SIZE];
    this.timeNs = tick[TICK_PUBLISH_NS];
    this.position = this.market.positions[symbol];
    this.indicators = this.roleReaders[symbol];
    this.state = this.states[symbol];
    this.scan = NO_SCAN; // a tick's handler does not see a bar's arrays, which the scan thread may be rewriting
    this.ordersThisCall = 0;
    this.orderLimit = MAX_ORDERS_PER_CALL;
  }

  /** Points the context at a bar close's scan before an onBar call: no symbol, price or position of its own. */
  enterBar(scan: BarScan, timeNs: number): void {
    this.symbol = BAR_SYMBOL;
    this.symbolName = '';
    this.price = 0;
    this.size = 0;
    this.timeNs = timeNs;
    this.position = 0;
    this.scan = scan;
    this.ordersThisCall = 0;
    this.orderLimit = maxOrdersPerBar(this.symbols.length);
  }

  positionOf(symbol: number): number {
    return this.market.positions[symbol];
  }

  handles(symbol: number): boolean {
    return this.market.handled[symbol] === 1;
  }

  lastPriceOf(symbol: number): number {
    return this.market.lastPrices[symbol];
  }

  bidOf(symbol: number): number {
    return this.market.bids[symbol];
  }

  askOf(symbol: number): number {
    return this.market.asks[symbol];
  }

  indicatorsOf(symbol: number): RoleReaders<IndicatorRoles> {
    return this.roleReaders[symbol];
  }

  stateOf(symbol: number): Float64Array {
    return this.states[symbol];
  }

  buy(quantity?: number, symbol?: number): void {
    this.send(1, quantity, symbol);
  }

  sell(quantity?: number, symbol?: number): void {
    this.send(-1, quantity, symbol);
  }

  signal(side: number, strength = 1, symbol?: number): void {
    if (side !== 1 && side !== -1) throw new StrategyFault(`signal side must be 1 or -1, got ${side}`);
    const target = this.target(symbol, 'signal');
    const decision = this.decision;
    decision[DECISION_PRICE] = target === this.symbol ? this.price : this.market.lastPrices[target];
    decision[DECISION_TIME_NS] = this.timeNs;
    decision[DECISION_STRENGTH] = strength;
    this.actions.signal(target, this.index, side, decision);
  }

  /** The symbol an order or signal is for: the one given, else this call's (an onBar call has none). */
  private target(symbol: number | undefined, what: string): number {
    const target = symbol ?? this.symbol;
    if (target === BAR_SYMBOL) throw new StrategyFault(`an onBar ${what} must name its symbol`);
    if (!Number.isInteger(target) || target < 0 || target >= this.symbols.length) {
      throw new StrategyFault(`${what} symbol must be a symbol index 0..${this.symbols.length - 1}, got ${target}`);
    }
    return target;
  }

  private send(side: number, quantity: number | undefined, symbol: number | undefined): void {
    const size = quantity ?? this.params.orderQuantity;
    if (!Number.isInteger(size) || size < 1 || size > MAX_ORDER_QUANTITY) {
      throw new StrategyFault(`order quantity must be an integer between 1 and ${MAX_ORDER_QUANTITY}, got ${size}`);
    }
    const target = this.target(symbol, 'order');
    if (++this.ordersThisCall > this.orderLimit) throw new StrategyFault(`more than ${this.orderLimit} orders in one call`);
    const decision = this.decision;
    decision[DECISION_PRICE] = target === this.symbol ? this.price : this.market.lastPrices[target];
    decision[DECISION_TIME_NS] = this.timeNs;
    this.actions.order(target, this.index, side, size, decision);
  }
}

/** A symbol's readers by role, in a plain object built once. */
export function roleReadersOf(roles: readonly string[], readers: readonly IndicatorReader[]): RoleReaders<IndicatorRoles> {
  return Object.freeze(Object.fromEntries(roles.map((role, i) => [role, readers[i]]))) as RoleReaders<IndicatorRoles>;
}
