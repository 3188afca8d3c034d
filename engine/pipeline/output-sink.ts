import type { Order, Signal } from './order.ts';

/**
 * Where the tick processor hands what it produced. Inline, this is the OutputEncoder, which writes straight into
 * the outbound frame writers; in the workers layout it is the worker's RingOutputSink, which writes into the
 * worker's output ring. Implementations copy what they need before returning: the Order goes back to its
 * pool as soon as `order()` returns and the signal object is reused for the next signal.
 */
export interface OutputSink {
  signal(signal: Signal): void;
  order(order: Order): void;
}
