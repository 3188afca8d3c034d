import type { IndicatorReader, IndicatorRoles, ParamSchema, ParamValues, RoleReaders, StrategyContext } from './sdk.ts';

/**
 * Where a context's orders and signals go: the tick processor, which takes them through ownership and risk. The
 * context hands it plain numbers, so nothing is allocated per order.
 */
export interface StrategyActions {
  order(symbol: number, strategy: number, side: number, lastPrice: number, quantity: number, tickPublishMonoNs: number): void;
  signal(symbol: number, strategy: number, side: number, price: number, strength: number, tickPublishMonoNs: number): void;
}

/** The most orders one handler call may send: a runaway loop is a fault of the strategy, not a flood of orders. */
export const MAX_ORDERS_PER_CALL = 16;
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
}

/**
 * The one context object of one strategy instance (the SDK's StrategyContext). The tick processor `enter`s it per
 * call (a handful of field writes) and the handler reads its fields; every per-symbol view (indicators by role,
 * state) is built once at construction, so a call allocates nothing.
 */
export class EngineStrategyContext implements StrategyContext {
  symbol = 0;
  symbolName = '';
  price = 0;
  size = 0;
  timeNs = 0;
  position = 0;
  indicators: RoleReaders<IndicatorRoles>;
  state: Float64Array;
  readonly shared: Float64Array;
  /** Orders sent in the current call. */
  ordersThisCall = 0;

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

  /** Points the context at one tick of `symbol` before a handler call. */
  enter(symbol: number, price: number, size: number, timeNs: number): void {
    this.symbol = symbol;
    this.symbolName = this.symbols[symbol];
    this.price = price;
    this.size = size;
    this.timeNs = timeNs;
    this.position = this.market.positions[symbol];
    this.indicators = this.roleReaders[symbol];
    this.state = this.states[symbol];
    this.ordersThisCall = 0;
  }

  positionOf(symbol: number): number {
    return this.market.positions[symbol];
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

  signal(side: number, strength = 1): void {
    if (side !== 1 && side !== -1) throw new StrategyFault(`signal side must be 1 or -1, got ${side}`);
    this.actions.signal(this.symbol, this.index, side, this.price, strength, this.timeNs);
  }

  private send(side: number, quantity: number | undefined, symbol: number | undefined): void {
    const size = quantity ?? this.params.orderQuantity;
    const target = symbol ?? this.symbol;
    if (!Number.isInteger(size) || size < 1 || size > MAX_ORDER_QUANTITY) {
      throw new StrategyFault(`order quantity must be an integer between 1 and ${MAX_ORDER_QUANTITY}, got ${size}`);
    }
    if (!Number.isInteger(target) || target < 0 || target >= this.symbols.length) {
      throw new StrategyFault(`order symbol must be a symbol index 0..${this.symbols.length - 1}, got ${target}`);
    }
    if (++this.ordersThisCall > MAX_ORDERS_PER_CALL) throw new StrategyFault(`more than ${MAX_ORDERS_PER_CALL} orders in one call`);
    const price = target === this.symbol ? this.price : this.market.lastPrices[target];
    this.actions.order(target, this.index, side, price, size, this.timeNs);
  }
}

/** A symbol's readers by role, in a plain object built once. */
export function roleReadersOf(roles: readonly string[], readers: readonly IndicatorReader[]): RoleReaders<IndicatorRoles> {
  return Object.freeze(Object.fromEntries(roles.map((role, i) => [role, readers[i]]))) as RoleReaders<IndicatorRoles>;
}
