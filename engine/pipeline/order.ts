/**
 * A hot-path order: a mutable slot taken from a preallocated ObjectPool, filled by the tick processor, checked by
 * risk, encoded into the outbound order frame and returned to the pool. Never allocated per tick.
 */
export class Order {
  orderId = 0;
  symbolIndex = 0;
  symbolId = 0;
  strategyIndex = 0;
  /** +1 buy, -1 sell. */
  side = 0;
  price = 0;
  quantity = 0;
  tickPublishMonoNs = 0;
  createdMonoNs = 0;
}

/**
 * A hot-path signal: one reused object per producer, filled per signal and handed to the OutputSink, which copies
 * what it needs before returning. Passing one object instead of seven numbers keeps V8 from boxing the doubles
 * when it declines to inline the sink.
 */
export class Signal {
  symbolIndex = 0;
  strategyIndex = 0;
  /** +1 buy, -1 sell. */
  side = 0;
  price = 0;
  strength = 0;
  tickPublishMonoNs = 0;
  signalMonoNs = 0;
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
