import type { SpscRing } from '../ring/spsc-ring.ts';
import type { Order, Signal } from './order.ts';

/**
 * Slot layouts of the workers layout's rings. Both ends read and write fields in place through the ring's
 * `f64`/`i32` views (slot `s` starts at `f64[s * slotF64]` and `i32[s * slotI32]`); nothing is copied into
 * objects and nothing is allocated per record.
 *
 * Input ring (main -> worker): one accepted tick, 32 bytes.
 * ```
 *  f64[base + 0]   price
 *  f64[base + 1]   size
 *  f64[base + 2]   publishMonoNs     the feed's stamp, carried through for tick-to-order latency
 *  i32[2*base + 6] symbolIndex       dense index into config.symbols
 *  i32[2*base + 7] kind              TickKind: 1 Trade, 2 Bid, 3 Ask
 * ```
 * Output ring (worker -> main): one signal or one order, 64 bytes, fields as in Order and Signal (order.ts).
 * ```
 *  i32[2*base + 0] record            OutputRecord.Order | OutputRecord.Signal
 *  i32[2*base + 1] symbolIndex
 *  i32[2*base + 2] strategyId
 *  i32[2*base + 3] side              order: Side (1 Buy, 2 Sell); signal: +1 buy, -1 sell
 *  f64[base + 2]   price             order: limit price; signal: the price the strategy acted on
 *  f64[base + 3]   amount            order: quantity; signal: strength
 *  f64[base + 4]   tickPublishMonoNs
 *  f64[base + 5]   madeMonoNs        order: orderMonoNs; signal: signalMonoNs
 *  f64[base + 6]   orderId           order only (exact integer below 2^53)
 *  i32[2*base + 14] shard            order only
 *  i32[2*base + 15] shardEpoch       order only
 * ```
 * where base = slot * ring.slotF64.
 */
export const TICK_SLOT_BYTES = 32;
export const OUTPUT_SLOT_BYTES = 64;

export const TickField = { Price: 0, Size: 1, PublishMonoNs: 2, SymbolIndexI32: 6, KindI32: 7 } as const;
export const OutputField = {
  RecordI32: 0,
  SymbolIndexI32: 1,
  StrategyIdI32: 2,
  SideI32: 3,
  Price: 2,
  Amount: 3,
  TickPublishMonoNs: 4,
  MadeMonoNs: 5,
  OrderId: 6,
  ShardI32: 14,
  ShardEpochI32: 15,
} as const;

export const OutputRecord = { Order: 1, Signal: 2 } as const;

/**
 * The kind of the one input record that is not a tick: a bar close's scan for the shard's onBar strategies (the
 * workers layout), written with writeTickSlot as (symbolIndex: the scan's result set, price: the bar's start in
 * ns, size: the bar number, publishMonoNs: the stamp of the trade that closed the bar). It travels in the ring,
 * so each shard runs onBar in order with its ticks.
 */
export const BAR_RECORD = 255;

/** Writes one tick into input slot `slot`. */
export function writeTickSlot(
  ring: SpscRing,
  slot: number,
  symbolIndex: number,
  kind: number,
  price: number,
  size: number,
  publishMonoNs: number,
): void {
  const base = slot * ring.slotF64;
  const f64 = ring.f64;
  const i32 = ring.i32;
  f64[base + TickField.Price] = price;
  f64[base + TickField.Size] = size;
  f64[base + TickField.PublishMonoNs] = publishMonoNs;
  i32[2 * base + TickField.SymbolIndexI32] = symbolIndex;
  i32[2 * base + TickField.KindI32] = kind;
}

/** Writes one signal into output slot `slot`. */
export function writeSignalSlot(ring: SpscRing, slot: number, signal: Signal): void {
  const base = slot * ring.slotF64;
  const f64 = ring.f64;
  const i32 = ring.i32;
  i32[2 * base + OutputField.RecordI32] = OutputRecord.Signal;
  i32[2 * base + OutputField.SymbolIndexI32] = signal.symbolIndex;
  i32[2 * base + OutputField.StrategyIdI32] = signal.strategyId;
  i32[2 * base + OutputField.SideI32] = signal.side;
  f64[base + OutputField.Price] = signal.price;
  f64[base + OutputField.Amount] = signal.strength;
  f64[base + OutputField.TickPublishMonoNs] = signal.tickPublishMonoNs;
  f64[base + OutputField.MadeMonoNs] = signal.signalMonoNs;
}

/** Writes one accepted order into output slot `slot`; the Order object can go back to its pool afterwards. */
export function writeOrderSlot(ring: SpscRing, slot: number, order: Order): void {
  const base = slot * ring.slotF64;
  const f64 = ring.f64;
  const i32 = ring.i32;
  i32[2 * base + OutputField.RecordI32] = OutputRecord.Order;
  i32[2 * base + OutputField.SymbolIndexI32] = order.symbolIndex;
  i32[2 * base + OutputField.StrategyIdI32] = order.strategyId;
  i32[2 * base + OutputField.SideI32] = order.side;
  f64[base + OutputField.Price] = order.price;
  f64[base + OutputField.Amount] = order.quantity;
  f64[base + OutputField.TickPublishMonoNs] = order.tickPublishMonoNs;
  f64[base + OutputField.MadeMonoNs] = order.orderMonoNs;
  f64[base + OutputField.OrderId] = order.orderId;
  i32[2 * base + OutputField.ShardI32] = order.shard;
  i32[2 * base + OutputField.ShardEpochI32] = order.shardEpoch;
}
