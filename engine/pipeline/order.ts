/**
 * A hot-path order: a mutable slot taken from a preallocated ObjectPool, filled by the tick processor, checked by
 * risk, encoded into the outbound order frame and returned to the pool. Never allocated per tick.
 *
 * Fields are named and encoded as in the wire's order record (OrderSlot, docs/wire.md), except that the symbol
 * is carried as its dense index; the OutputEncoder turns that into the wire symbolId. Pipeline orders are
 * always limit orders.
 */
export class Order {
  // Fields that carry doubles start as NaN (see TickSlot, engine/wire/tick-codec.ts: a field that starts as a small
  // integer and later holds doubles can become Tagged, and then every store allocates).
  orderId = NaN;
  /** Dense index into config.symbols (the wire's symbolId is `SymbolTable.ids[symbolIndex]`). */
  symbolIndex = 0;
  /** Index into config.strategies of the strategy that fired, as on the wire. */
  strategyId = 0;
  /** `Side` (wire/layout.ts): 1 Buy, 2 Sell, as on the wire. */
  side = 0;
  price = NaN;
  quantity = NaN;
  tickPublishMonoNs = NaN;
  /** When the order was made (the start of the frame or batch that made it); the wire's orderMonoNs. */
  orderMonoNs = NaN;
  /** The shard of the order's symbol, as on the wire (0 when unfenced). */
  shard = 0;
  /** That shard's ownership epoch when the order was made; 0 when the engine trades under no ownership. */
  shardEpoch = 0;
}

/**
 * A hot-path signal: one reused object per producer, filled per signal and handed to the OutputSink, which copies
 * what it needs before returning. Passing one object instead of seven numbers keeps V8 from boxing the doubles
 * when it declines to inline the sink. Fields are named and encoded as in the wire's signal record (SignalSlot),
 * except that the symbol is carried as its dense index.
 */
export class Signal {
  /** Dense index into config.symbols. */
  symbolIndex = 0;
  /** Index into config.strategies, as on the wire. */
  strategyId = 0;
  /** +1 buy, -1 sell, as on the wire (a signal's side is signed; an order's is `Side`). */
  side = 0;
  // Doubles start as NaN (see Order).
  price = NaN;
  strength = NaN;
  tickPublishMonoNs = NaN;
  signalMonoNs = NaN;
}

/**
 * Order ids are u64 on the wire and exact JS integers: `instanceId * 2^32 + counter`, with a 20-bit instance id
 * per engine process (so ids stay below 2^53) and a 32-bit counter that wraps after 4.29 billion orders.
 */
export class OrderIdSource {
  private counter = 0;
  private readonly base: number;

  constructor(instanceId: number) {
    if (!Number.isInteger(instanceId) || instanceId < 0 || instanceId >= 2 ** 20) {
      throw new RangeError(`order id instance must be an integer in [0, 2^20), got ${instanceId}`);
    }
    this.base = instanceId * 2 ** 32;
  }

  /** Gives `order` the next id. Hot path: storing into the order avoids returning a boxed double. */
  assignNext(order: Order): void {
    this.counter = (this.counter + 1) >>> 0;
    order.orderId = this.base + this.counter;
  }
}

/** Workers per engine whose order-id spaces `workerOrderInstance` keeps apart (six bits). */
export const MAX_ORDER_ID_WORKERS = 64;

/**
 * The order-id instance for worker `workerIndex` of an engine with instance id `instanceId`: the worker index
 * XORed into the top six of the 20 instance bits. XOR with distinct indices is one-to-one, so the workers of
 * one engine never share an id space, and the result stays below 2^20. Worker 0 keeps the engine's own id.
 *
 * Examples: (0x12345, 0) -> 0x12345; (0x12345, 1) -> 0x16345; (0x12345, 63) -> 0xee345; (0xfffff, 1) -> 0xfbfff.
 */
export function workerOrderInstance(instanceId: number, workerIndex: number): number {
  if (!Number.isInteger(workerIndex) || workerIndex < 0 || workerIndex >= MAX_ORDER_ID_WORKERS) {
    throw new RangeError(`worker index must be an integer in [0, ${MAX_ORDER_ID_WORKERS}), got ${workerIndex}`);
  }
  return (instanceId ^ (workerIndex << 14)) >>> 0;
}
