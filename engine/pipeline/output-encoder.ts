import { OrderType, Side } from '../wire/layout.ts';
import { OrderFrameWriter } from '../wire/order-codec.ts';
import { SignalFrameWriter } from '../wire/signal-codec.ts';
import type { Order } from './order.ts';
import type { OutputSink } from './output-sink.ts';

/** Receives finished outbound frames; the engine's ZeroMQ edge implements it. */
export interface FramePublisher {
  publishOrders(frame: Buffer, count: number): void;
  publishSignals(frame: Buffer, count: number): void;
}

/** Called once per published order with its tick-to-order latency (publisher stamp -> hand-off to the socket). */
export type LatencyRecorder = (latencyNs: number) => void;

export interface OutputEncoderOptions {
  /** Wire symbol id by dense symbol index (`SymbolTable.ids`). */
  readonly symbolIds: readonly number[];
  readonly clockNs: () => number;
  readonly publisher: FramePublisher;
  readonly recordLatency: LatencyRecorder;
  readonly ordersStreamId: number;
  readonly signalsStreamId: number;
  /** Records per outbound frame (<= MAX_RECORDS_PER_FRAME). Default 1024. */
  readonly maxRecordsPerFrame?: number;
}

/**
 * The outbound end both pipeline layouts share: encodes orders and signals into OrderFrameWriter /
 * SignalFrameWriter frames, hands finished frames to the publisher and records each order's tick-to-order
 * latency at that hand-off. Inline, the TickProcessor calls it directly (it is an OutputSink); in the workers
 * layout, the main thread calls `appendOrder`/`appendSignal` for each record it takes off a worker's output ring.
 *
 * Guarantees: one stream per kind with contiguous sequence numbers (`firstSequence` of each frame = records
 * published before it); a writer that fills up is flushed at once, so `append*` never fails; nothing waits for
 * later input: callers `flush()` when their input is done. Allocation: `finish` makes the one Buffer per frame
 * that the socket keeps; appending allocates nothing.
 */
export class OutputEncoder implements OutputSink {
  private readonly orders: OrderFrameWriter;
  private readonly signals: SignalFrameWriter;
  /** tickPublishMonoNs of each order in the open order frame, for latency at hand-off. */
  private readonly orderTickNs: Float64Array;
  private orderSequence = 0;
  private signalSequence = 0;

  constructor(private readonly options: OutputEncoderOptions) {
    const capacity = options.maxRecordsPerFrame ?? 1024;
    this.orders = new OrderFrameWriter(capacity);
    this.signals = new SignalFrameWriter(capacity);
    this.orderTickNs = new Float64Array(capacity);
    this.orders.begin(options.ordersStreamId, 0);
    this.signals.begin(options.signalsStreamId, 0);
  }

  /** Orders buffered in the open frame (not yet handed to the publisher). */
  get pendingOrders(): number {
    return this.orders.count;
  }

  signal(
    symbolIndex: number,
    strategyIndex: number,
    side: number,
    price: number,
    strength: number,
    tickPublishMonoNs: number,
    signalMonoNs: number,
  ): void {
    this.appendSignal(symbolIndex, strategyIndex, side, price, strength, tickPublishMonoNs, signalMonoNs);
  }

  order(order: Order): void {
    this.appendOrder(
      order.orderId,
      order.symbolIndex,
      order.strategyIndex,
      order.side,
      order.price,
      order.quantity,
      order.tickPublishMonoNs,
      order.createdMonoNs,
    );
  }

  /** Appends one signal; `side` is +1 buy, -1 sell. */
  appendSignal(
    symbolIndex: number,
    strategyIndex: number,
    side: number,
    price: number,
    strength: number,
    tickPublishMonoNs: number,
    signalMonoNs: number,
  ): void {
    const writer = this.signals;
    writer.append(this.options.symbolIds[symbolIndex], strategyIndex, side, price, strength, tickPublishMonoNs, signalMonoNs);
    if (writer.isFull) this.flushSignals();
  }

  /** Appends one limit order; `side` is +1 buy, -1 sell (encoded as the wire's Side.Buy / Side.Sell). */
  appendOrder(
    orderId: number,
    symbolIndex: number,
    strategyIndex: number,
    side: number,
    price: number,
    quantity: number,
    tickPublishMonoNs: number,
    createdMonoNs: number,
  ): void {
    const writer = this.orders;
    this.orderTickNs[writer.count] = tickPublishMonoNs;
    writer.append(
      orderId,
      this.options.symbolIds[symbolIndex],
      strategyIndex,
      side > 0 ? Side.Buy : Side.Sell,
      OrderType.Limit,
      price,
      quantity,
      tickPublishMonoNs,
      createdMonoNs,
    );
    if (writer.isFull) this.flushOrders();
  }

  /** Publishes whatever is buffered. */
  flush(): void {
    if (this.orders.count > 0) this.flushOrders();
    if (this.signals.count > 0) this.flushSignals();
  }

  private flushOrders(): void {
    const writer = this.orders;
    const count = writer.count;
    const now = this.options.clockNs();
    const frame = writer.finish(now);
    this.options.publisher.publishOrders(frame, count);
    const record = this.options.recordLatency;
    for (let i = 0; i < count; i++) record(now - this.orderTickNs[i]);
    this.orderSequence += count;
    writer.begin(this.options.ordersStreamId, this.orderSequence);
  }

  private flushSignals(): void {
    const writer = this.signals;
    const count = writer.count;
    const frame = writer.finish(this.options.clockNs());
    this.options.publisher.publishSignals(frame, count);
    this.signalSequence += count;
    writer.begin(this.options.signalsStreamId, this.signalSequence);
  }
}
