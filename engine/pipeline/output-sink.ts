import type { Order } from './order.ts';

/**
 * Where the tick processor hands what it produced. Inline, this writes straight into the outbound frame
 * writers; in the workers layout it writes into the worker's result ring. Implementations copy what they need:
 * the order slot goes back to its pool as soon as `order()` returns.
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
