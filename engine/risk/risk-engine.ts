import { ConfigError } from '../config-error.ts';

/**
 * Pre-trade risk checks: the only route from a strategy's signal to an order. Pure, no I/O.
 *
 * `check()` returns `ACCEPTED` (0) or a `DenyReason` code. Checks run in this order, first failure wins:
 *
 *   1. kill_switch          the kill switch is latched (before everything: an emergency stop must not be
 *                           masked by any other state, and it stays until `resetKillSwitch()`)
 *   2. orders_disabled      orders are switched off (control socket orders-off, canary abort)
 *   3. invalid_side         side is not +1 or -1
 *   4. invalid_quantity     quantity is NaN, infinite or <= 0
 *   5. max_order_qty        quantity > maxOrderQty
 *   6. no_reference_price   no trade seen yet for the symbol (or the symbol index is out of range)
 *   7. price_band           |price - last trade| > last trade * priceBandBps / 10_000 (NaN/Inf prices land here)
 *   8. max_notional         price * quantity > maxNotional
 *   9. max_position         |position + side * quantity| > maxPosition (the position AFTER the order)
 *
 * Cheap stateless checks come first, the reference price before the checks that use it, and the position check
 * last because acceptance is the one step that changes state.
 *
 * Position model: the position of a symbol is the signed sum of every ACCEPTED order's quantity, i.e. every
 * accepted order is counted as filled. The engine gets no execution reports yet, so this is the worst-case
 * exposure including open orders; it never under-states exposure.
 *
 * Guarantees: `check()` and `onTrade()` are O(1) and allocation-free; every decision is counted: accepted orders
 * in `acceptedCount`, denials in `denials[code]` (slot 0 stays 0).
 */
export const ACCEPTED = 0;

export const DenyReason = {
  KillSwitch: 1,
  OrdersDisabled: 2,
  InvalidSide: 3,
  InvalidQuantity: 4,
  MaxOrderQty: 5,
  NoReferencePrice: 6,
  PriceBand: 7,
  MaxNotional: 8,
  MaxPosition: 9,
} as const;

export type DenyReasonCode = (typeof DenyReason)[keyof typeof DenyReason];
export type RiskResult = typeof ACCEPTED | DenyReasonCode;

/** Metric labels indexed by result code; index 0 is `accepted` (not a deny reason). Append-only. */
export const denyReasonNames: readonly string[] = Object.freeze([
  'accepted',
  'kill_switch',
  'orders_disabled',
  'invalid_side',
  'invalid_quantity',
  'max_order_qty',
  'no_reference_price',
  'price_band',
  'max_notional',
  'max_position',
]);

/** Length of an array indexed by deny-reason code (slot 0, accepted, unused). */
export const DENY_REASON_SLOTS = denyReasonNames.length;

export interface RiskLimits {
  /** Largest quantity of one order. */
  readonly maxOrderQty: number;
  /** Largest absolute position per symbol, after the order. */
  readonly maxPosition: number;
  /** Largest price * quantity of one order. */
  readonly maxNotional: number;
  /** A limit price must lie within ± this many basis points of the symbol's last trade price (0..9999). */
  readonly priceBandBps: number;
  /** Whether orders are enabled at start. */
  readonly ordersEnabled: boolean;
}

export const defaultRiskLimits: RiskLimits = Object.freeze({
  maxOrderQty: 100,
  maxPosition: 1_000,
  maxNotional: 1_000_000,
  priceBandBps: 500,
  ordersEnabled: true,
});

/**
 * Whether `price` lies within ± `bandBps` basis points of `reference`; false for NaN/Inf prices.
 * Examples: (100, 101, 100) -> true (1 %); (100, 101.01, 100) -> false; (100, 99, 100) -> true.
 */
export function withinPriceBand(reference: number, price: number, bandBps: number): boolean {
  return Math.abs(price - reference) * 10_000 <= reference * bandBps;
}

/** `check`'s and `onTrade`'s price, handed to the register forms. */
const CHECK_SCRATCH = new Float64Array(1);

export class RiskEngine {
  readonly symbolCount: number;
  /** Denials by DenyReason code; slot 0 stays 0. May be storage shared with the metrics block. */
  readonly denials: Float64Array;
  private readonly positionBySymbol: Float64Array;
  private readonly lastTradePrice: Float64Array;
  private readonly maxOrderQty: number;
  private readonly maxPosition: number;
  private readonly maxNotional: number;
  private readonly priceBandBps: number;
  private enabled: boolean;
  private killSwitch = false;
  private killReason: string | null = null;
  private accepted = 0;

  /**
   * @param denialCounts optional storage for `denials` (length >= DENY_REASON_SLOTS), e.g. the metrics block's
   *   array, so each denial is counted once and read by the exporter directly.
   * @param positionStorage optional storage for the positions (length symbolCount): the workers layout shares one
   *   array over a SharedArrayBuffer between every worker's risk engine (each writes only its own symbols) and the
   *   engine's, which reads released positions and writes taken-over ones (`setPosition`).
   */
  constructor(limits: RiskLimits, symbolCount: number, denialCounts?: Float64Array, positionStorage?: Float64Array) {
    if (!Number.isInteger(symbolCount) || symbolCount < 1) {
      throw new RangeError(`symbolCount must be an integer >= 1, got ${symbolCount}`);
    }
    if (denialCounts !== undefined && denialCounts.length < DENY_REASON_SLOTS) {
      throw new RangeError(`denialCounts needs ${DENY_REASON_SLOTS} slots, got ${denialCounts.length}`);
    }
    this.symbolCount = symbolCount;
    this.denials = denialCounts ?? new Float64Array(DENY_REASON_SLOTS);
    if (positionStorage !== undefined && positionStorage.length !== symbolCount) {
      throw new RangeError(`positionStorage needs ${symbolCount} slots, got ${positionStorage.length}`);
    }
    // On shared memory by default, so a workers layout's threads can share it (positionStorage).
    this.positionBySymbol = positionStorage ?? new Float64Array(new SharedArrayBuffer(symbolCount * 8));
    this.lastTradePrice = new Float64Array(symbolCount);
    this.maxOrderQty = limits.maxOrderQty;
    this.maxPosition = limits.maxPosition;
    this.maxNotional = limits.maxNotional;
    this.priceBandBps = limits.priceBandBps;
    this.enabled = limits.ordersEnabled;
  }

  /** Records the last trade price of a symbol, the reference for the price band. Ignores non-positive/NaN. */
  onTrade(symbolIndex: number, price: number): void {
    CHECK_SCRATCH[0] = price;
    this.onTradeFrom(symbolIndex, CHECK_SCRATCH, 0);
  }

  /** `onTrade` with the price read from `register[slot]` (the tick path: no double crosses the call). */
  onTradeFrom(symbolIndex: number, register: Float64Array, slot: number): void {
    const price = register[slot];
    if (price > 0 && price < Infinity) this.lastTradePrice[symbolIndex] = price;
  }

  /**
   * Checks one order; on acceptance adds `side * quantity` to the symbol's position.
   * @param side +1 buy, -1 sell
   * @returns ACCEPTED (0) or a DenyReason code (see the class comment for the order of checks)
   */
  check(symbolIndex: number, side: number, quantity: number, price: number): RiskResult {
    CHECK_SCRATCH[0] = price;
    return this.checkAt(symbolIndex, side, quantity, CHECK_SCRATCH, 0);
  }

  /** `check` with the price read from `prices[index]` (the tick path: no double crosses the call). */
  checkAt(symbolIndex: number, side: number, quantity: number, prices: Float64Array, index: number): RiskResult {
    const result = this.decide(symbolIndex, side, quantity, prices, index);
    if (result === ACCEPTED) {
      this.positionBySymbol[symbolIndex] += side * quantity;
      this.accepted++;
    } else {
      this.denials[result]++;
    }
    return result;
  }

  private decide(symbolIndex: number, side: number, quantity: number, prices: Float64Array, index: number): RiskResult {
    const price = prices[index];
    if (this.killSwitch) return DenyReason.KillSwitch;
    if (!this.enabled) return DenyReason.OrdersDisabled;
    if (side !== 1 && side !== -1) return DenyReason.InvalidSide;
    if (!(quantity > 0 && quantity < Infinity)) return DenyReason.InvalidQuantity;
    if (quantity > this.maxOrderQty) return DenyReason.MaxOrderQty;
    const reference = this.lastTradePrice[symbolIndex];
    if (!(reference > 0)) return DenyReason.NoReferencePrice; // also an out-of-range index (undefined)
    if (!withinPriceBand(reference, price, this.priceBandBps)) return DenyReason.PriceBand;
    if (price * quantity > this.maxNotional) return DenyReason.MaxNotional;
    if (Math.abs(this.positionBySymbol[symbolIndex] + side * quantity) > this.maxPosition) return DenyReason.MaxPosition;
    return ACCEPTED;
  }

  /** Switches orders on or off (control socket). Does not clear a latched kill switch. */
  setOrdersEnabled(enabled: boolean): void {
    this.enabled = enabled;
  }

  /** Latches the kill switch: every order is denied (kill_switch) until `resetKillSwitch()`. */
  activateKillSwitch(reason: string): void {
    this.killSwitch = true;
    this.killReason = reason;
  }

  resetKillSwitch(): void {
    this.killSwitch = false;
    this.killReason = null;
  }

  /** True when an order could pass the switches: orders enabled and no kill switch. */
  get ordersEnabled(): boolean {
    return this.enabled && !this.killSwitch;
  }

  get killSwitchActive(): boolean {
    return this.killSwitch;
  }

  /** Why the kill switch was activated; null while it is not latched. */
  get killSwitchReason(): string | null {
    return this.killReason;
  }

  /** The worst-case position of one symbol (every accepted order counted as filled). Hot-path read. */
  position(symbolIndex: number): number {
    return this.positionBySymbol[symbolIndex];
  }

  /**
   * The live per-symbol positions, indexed by symbol. For hot-path readers (the tick processor reads one element per
   * trade instead of calling `position()`, whose double return V8 boxes when the call is not inlined). Read only:
   * every change must go through `check`.
   */
  get positionView(): Float64Array {
    return this.positionBySymbol;
  }

  /**
   * Takes over a symbol's position from its previous owner (ownership hand-over), only while no order of the symbol
   * can be checked here (the engine does not own it). Throws RangeError for an index out of range or a
   * non-finite position.
   */
  setPosition(symbolIndex: number, position: number): void {
    if (!Number.isInteger(symbolIndex) || symbolIndex < 0 || symbolIndex >= this.symbolCount) {
      throw new RangeError(`symbol index ${symbolIndex} is out of range 0..${this.symbolCount - 1}`);
    }
    if (!Number.isFinite(position)) throw new RangeError(`position must be finite, got ${position}`);
    this.positionBySymbol[symbolIndex] = position;
  }

  /** A copy of every symbol's position, for status and tests. */
  positions(): Float64Array {
    return this.positionBySymbol.slice();
  }

  /** Last trade price of a symbol; 0 before the first trade. */
  lastPrice(symbolIndex: number): number {
    return this.lastTradePrice[symbolIndex];
  }

  /** Denials for one reason since construction. */
  denialCount(reason: DenyReasonCode): number {
    return this.denials[reason];
  }

  /** Orders accepted since construction. */
  get acceptedCount(): number {
    return this.accepted;
  }

  /** Orders denied since construction, all reasons. */
  get deniedCount(): number {
    let total = 0;
    for (let code = 1; code < DENY_REASON_SLOTS; code++) total += this.denials[code];
    return total;
  }
}

const limitKeys = ['maxOrderQty', 'maxPosition', 'maxNotional', 'priceBandBps', 'ordersEnabled'] as const;

/**
 * Validates raw risk limits (the `risk` block of the engine config), filling defaults (`defaultRiskLimits`) for
 * absent fields. Throws ConfigError naming the field, e.g. `risk.maxOrderQty: must be an integer between 1 and
 * 1000000000, got 0`. Unknown fields are rejected, so a typo never silently falls back to a default.
 */
export function validateRiskLimits(raw: unknown, path = 'risk'): RiskLimits {
  if (raw === undefined || raw === null) return defaultRiskLimits;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(path, `must be an object, got ${describe(raw)}`);
  }
  const object = raw as Readonly<Record<string, unknown>>;
  for (const key of Object.keys(object)) {
    if (!(limitKeys as readonly string[]).includes(key)) {
      throw new ConfigError(`${path}.${key}`, `unknown field (known: ${limitKeys.join(', ')})`);
    }
  }
  const ordersEnabled = object.ordersEnabled ?? defaultRiskLimits.ordersEnabled;
  if (typeof ordersEnabled !== 'boolean') {
    throw new ConfigError(`${path}.ordersEnabled`, `must be true or false, got ${describe(ordersEnabled)}`);
  }
  return {
    maxOrderQty: readInteger(object, 'maxOrderQty', path, 1, 1_000_000_000),
    maxPosition: readInteger(object, 'maxPosition', path, 1, 1_000_000_000_000),
    maxNotional: readPositive(object, 'maxNotional', path),
    priceBandBps: readInteger(object, 'priceBandBps', path, 0, 9_999),
    ordersEnabled,
  };
}

function readInteger(object: Readonly<Record<string, unknown>>, key: keyof RiskLimits, path: string, min: number, max: number): number {
  const value = object[key] ?? defaultRiskLimits[key];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${path}.${key}`, `must be an integer between ${min} and ${max}, got ${describe(value)}`);
  }
  return value;
}

function readPositive(object: Readonly<Record<string, unknown>>, key: keyof RiskLimits, path: string): number {
  const value = object[key] ?? defaultRiskLimits[key];
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
    throw new ConfigError(`${path}.${key}`, `must be a positive finite number, got ${describe(value)}`);
  }
  return value;
}

function describe(value: unknown): string {
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
