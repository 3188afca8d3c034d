import { Pull, Subscriber } from 'zeromq';
import { LatencyHistogram } from '../metrics/latency-histogram.ts';
import { FrameHeader, decodeFrameHeader } from '../wire/frame-header.ts';
import { MAX_DATA_MESSAGE_BYTES, MessageType, SIGNAL_BYTES, SIGNAL_TOPIC, Side, TICK_BYTES } from '../wire/layout.ts';
import { OrderSlot, decodeOrder, decodeOrderFrameHeader } from '../wire/order-codec.ts';
import { DuplicateOrders } from './duplicate-orders.ts';
import { ShardFence } from './shard-fence.ts';
import { SignalSlot, decodeSignal } from '../wire/signal-codec.ts';
import { TickSlot, decodeTick } from '../wire/tick-codec.ts';

export interface OrderSinkOptions {
  /** Bind a PULL socket here for orders (engines connect their PUSH to it). */
  readonly ordersBind: string;
  /** Connect a SUB socket here for signals (an engine's signals PUB), if given. */
  readonly signalsConnect?: readonly string[];
  readonly clockNs: () => number;
  /**
   * Benchmarks only: also accept market-data frames on the orders socket, as a pass-through forwarder sends them,
   * measuring each tick's latency exactly as an order's (receive time minus the tick's publisher stamp).
   */
  readonly acceptTickFrames?: boolean;
  /** Count orders that answer a tick already answered (DuplicateOrders): `nexus sink`, the demo and tests. */
  readonly detectDuplicates?: boolean;
}

export interface SinkCounts {
  orders: number;
  orderFrames: number;
  signals: number;
  signalFrames: number;
  /** Frames or records that failed to decode (counted, never thrown). */
  malformed: number;
  /** Records missing from a stream's sequence. */
  lostOrders: number;
  /** Orders refused for a shard epoch older than the newest seen for their shard (docs/wire.md, fencing). */
  staleEpoch: number;
  /** Orders answering a tick another order already answered (only with detectDuplicates; still counted in orders). */
  duplicates: number;
  lostSignals: number;
  buys: number;
  sells: number;
}

/**
 * The receiving end of an engine's output, as an order gateway or a signal consumer would run it: PULL for
 * orders, SUB for signals. It decodes every record and measures tick-to-order and tick-to-signal latency on
 * arrival (receive time minus the tick's publisher stamp, both CLOCK_MONOTONIC on one host), so the figures
 * include every ZeroMQ hop. Used by `nexus sink`, the demo and the engine benchmark.
 */
export class OrderSink {
  private readonly orderSocket: Pull;
  private readonly signalSocket: Subscriber | undefined;
  private closed = false;
  private readonly header = new FrameHeader();
  private readonly order = new OrderSlot();
  private readonly signal = new SignalSlot();
  private readonly tick = new TickSlot();
  private readonly nextSequence = new Map<number, number>();
  readonly orderLatency = new LatencyHistogram();
  readonly signalLatency = new LatencyHistogram();
  readonly counts: SinkCounts = {
    orders: 0, orderFrames: 0, signals: 0, signalFrames: 0, malformed: 0, lostOrders: 0, staleEpoch: 0, duplicates: 0, lostSignals: 0, buys: 0, sells: 0,
  };
  /** The fencing rule every order passes before it is accepted. */
  readonly fence = new ShardFence();
  private readonly duplicates: DuplicateOrders | undefined;
  /** Called for each decoded order (after latency is recorded), e.g. to print it. */
  onOrder: ((order: OrderSlot) => void) | undefined;

  constructor(private readonly options: OrderSinkOptions) {
    this.duplicates = options.detectDuplicates === true ? new DuplicateOrders() : undefined;
    this.orderSocket = new Pull({ receiveHighWaterMark: 1_000_000, linger: 0, maxMessageSize: MAX_DATA_MESSAGE_BYTES });
    if (options.signalsConnect !== undefined && options.signalsConnect.length > 0) {
      this.signalSocket = new Subscriber({ receiveHighWaterMark: 1_000_000, linger: 0, maxMessageSize: MAX_DATA_MESSAGE_BYTES });
    }
  }

  async open(): Promise<string | undefined> {
    await this.orderSocket.bind(this.options.ordersBind);
    if (this.signalSocket !== undefined) {
      for (const address of this.options.signalsConnect ?? []) this.signalSocket.connect(address);
      this.signalSocket.subscribe(SIGNAL_TOPIC);
    }
    return this.orderSocket.lastEndpoint ?? undefined;
  }

  /** Receives until close(). */
  async run(): Promise<void> {
    await Promise.all([this.runOrders(), this.runSignals()]);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.orderSocket.close();
    this.signalSocket?.close();
  }

  private async runOrders(): Promise<void> {
    const acceptTicks = this.options.acceptTickFrames === true;
    for (;;) {
      const parts = await this.receive(this.orderSocket);
      if (parts === undefined) return;
      if (parts.length !== 1) this.counts.malformed++;
      else if (acceptTicks && parts[0][1] === MessageType.MarketDataBatch) this.onTickFrame(parts[0]);
      else this.onOrderFrame(parts[0]);
    }
  }

  private onTickFrame(frame: Buffer): void {
    const now = this.options.clockNs();
    const header = this.header;
    if (decodeFrameHeader(frame, MessageType.MarketDataBatch, TICK_BYTES, header) !== 0) {
      this.counts.malformed++;
      return;
    }
    this.counts.orderFrames++;
    this.counts.lostOrders += this.gap(header.streamId, header.firstSequence, header.recordCount);
    for (let i = 0; i < header.recordCount; i++) {
      if (decodeTick(frame, i, header, this.tick) !== 0) {
        this.counts.malformed++;
        continue;
      }
      this.counts.orders++;
      this.orderLatency.record(Math.max(1, now - this.tick.publishMonoNs));
    }
  }

  private async runSignals(): Promise<void> {
    const socket = this.signalSocket;
    if (socket === undefined) return;
    for (;;) {
      const parts = await this.receive(socket);
      if (parts === undefined) return;
      if (parts.length === 2) this.onSignalFrame(parts[1]);
      else this.counts.malformed++;
    }
  }

  private async receive(socket: Pull | Subscriber): Promise<Buffer[] | undefined> {
    try {
      return await socket.receive();
    } catch (error) {
      if (this.closed) return undefined;
      throw error;
    }
  }

  private onOrderFrame(frame: Buffer): void {
    const now = this.options.clockNs();
    const header = this.header;
    if (decodeOrderFrameHeader(frame, header) !== 0) {
      this.counts.malformed++;
      return;
    }
    this.counts.orderFrames++;
    this.counts.lostOrders += this.gap(header.streamId, header.firstSequence, header.recordCount);
    for (let i = 0; i < header.recordCount; i++) {
      if (decodeOrder(frame, i, header, this.order) !== 0) {
        this.counts.malformed++;
        continue;
      }
      if (!this.fence.admit(this.order.book, this.order.shard, this.order.shardEpoch)) {
        this.counts.staleEpoch++;
        continue;
      }
      this.counts.orders++;
      if (this.duplicates?.repeat(this.order.book, this.order.symbolId, this.order.strategyId, this.order.tickPublishMonoNs) === true) this.counts.duplicates++;
      if (this.order.side === Side.Buy) this.counts.buys++;
      else this.counts.sells++;
      this.orderLatency.record(Math.max(1, now - this.order.tickPublishMonoNs));
      this.onOrder?.(this.order);
    }
  }

  private onSignalFrame(frame: Buffer): void {
    const now = this.options.clockNs();
    const header = this.header;
    if (decodeFrameHeader(frame, MessageType.SignalBatch, SIGNAL_BYTES, header) !== 0) {
      this.counts.malformed++;
      return;
    }
    this.counts.signalFrames++;
    this.counts.lostSignals += this.gap(header.streamId, header.firstSequence, header.recordCount);
    for (let i = 0; i < header.recordCount; i++) {
      if (decodeSignal(frame, i, header, this.signal) !== 0) {
        this.counts.malformed++;
        continue;
      }
      this.counts.signals++;
      this.signalLatency.record(Math.max(1, now - this.signal.tickPublishMonoNs));
    }
  }

  /** Records missing between the last frame of a stream and this one (0 for the first frame or a restart). */
  private gap(streamId: number, firstSequence: number, count: number): number {
    const expected = this.nextSequence.get(streamId);
    this.nextSequence.set(streamId, firstSequence + count);
    return expected !== undefined && firstSequence > expected ? firstSequence - expected : 0;
  }
}
