import type { Order } from './order.ts';

/**
 * Where the tick processor hands what it produced. Inline, this is the OutputEncoder, which writes straight into
 * the outbound frame writers; in the workers layout it is the worker's RingOutputSink, which writes into the
 * worker's output ring. Implementations copy what they need: the order slot goes back to its pool as soon as
 * `order()` returns.
 */
export interface OutputSink {
  signal(
    symbolIndex: number,
    strategyIndex: number,
    side: number,
    price: number,
    strength: number,
    tickPublishMonoNs: number,
    signalMonoNs: number,
  ): void;
  order(order: Order): void;
}
