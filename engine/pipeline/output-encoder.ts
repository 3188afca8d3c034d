import { OrderType } from '../wire/layout.ts';
import { OrderFrameWriter, OrderSlot } from '../wire/order-codec.ts';
import { SignalFrameWriter, SignalSlot } from '../wire/signal-codec.ts';
import type { Order, Signal } from './order.ts';
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
  /** The order flow every order belongs to (`ownership.book`, docs/wire.md); default 0. */
  readonly book?: number;
}

/**
 * The outbound end both pipeline layouts share: encodes orders and signals into OrderFrameWriter /
 * SignalFrameWriter frames, hands finished frames to the publisher and records each order's tick-to-order
 * latency at that hand-off. Inline, the TickProcessor calls it directly (it is an OutputSink); in the workers
 * layout, the main thread calls `order`/`signal` for each record it takes off a worker's output ring.
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
  /**
   * Records are staged in these reused slots and written with `appendSlot`: a writer call with nine number
   * arguments boxes each double whenever V8 declines to inline it (measured: ~60 bytes allocated per tick),
   * while one object argument never allocates.
   */
  private readonly orderSlot = new OrderSlot();
  private readonly signalSlot = new SignalSlot();
  private readonly book: number;

  constructor(private readonly options: OutputEncoderOptions) {
    const capacity = options.maxRecordsPerFrame ?? 1024;
    this.book = options.book ?? 0;
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

  /** Appends one signal; the object may be reused as soon as this returns. */
  signal(signal: Signal): void {
    const writer = this.signals;
    const slot = this.signalSlot;
    slot.symbolId = this.options.symbolIds[signal.symbolIndex];
    slot.strategyId = signal.strategyId;
    slot.side = signal.side;
    slot.price = signal.price;
    slot.strength = signal.strength;
    slot.tickPublishMonoNs = signal.tickPublishMonoNs;
    slot.signalMonoNs = signal.signalMonoNs;
    writer.appendSlot(slot);
    if (writer.isFull) this.flushSignals();
  }

  /** Appends one limit order; the Order may go back to its pool as soon as this returns. */
  order(order: Order): void {
    const writer = this.orders;
    this.orderTickNs[writer.count] = order.tickPublishMonoNs;
    const slot = this.orderSlot;
    slot.orderId = order.orderId;
    slot.symbolId = this.options.symbolIds[order.symbolIndex];
    slot.strategyId = order.strategyId;
    slot.side = order.side;
    slot.orderType = OrderType.Limit;
    slot.price = order.price;
    slot.quantity = order.quantity;
    slot.tickPublishMonoNs = order.tickPublishMonoNs;
    slot.orderMonoNs = order.orderMonoNs;
    slot.shard = order.shard;
    slot.shardEpoch = order.shardEpoch;
    slot.book = this.book;
    writer.appendSlot(slot);
    if (writer.isFull) this.flushOrders();
  }

  /** Publishes whatever is buffered; one clock read stamps both frames (a read costs ~60 ns here). */
  flush(): void {
    if (this.orders.count === 0 && this.signals.count === 0) return;
    const now = this.options.clockNs();
    if (this.orders.count > 0) this.flushOrders(now);
    if (this.signals.count > 0) this.flushSignals(now);
  }

  private flushOrders(now: number = this.options.clockNs()): void {
    const writer = this.orders;
    const count = writer.count;
    const frame = writer.finish(now);
    this.options.publisher.publishOrders(frame, count);
    const record = this.options.recordLatency;
    for (let i = 0; i < count; i++) record(now - this.orderTickNs[i]);
    this.orderSequence += count;
    writer.begin(this.options.ordersStreamId, this.orderSequence);
  }

  private flushSignals(now: number = this.options.clockNs()): void {
    const writer = this.signals;
    const count = writer.count;
    const frame = writer.finish(now);
    this.options.publisher.publishSignals(frame, count);
    this.signalSequence += count;
    writer.begin(this.options.signalsStreamId, this.signalSequence);
  }
}
