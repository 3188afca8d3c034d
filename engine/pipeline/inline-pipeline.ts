import type { EngineConfig } from '../config/engine-config.ts';
import type { RiskEngine } from '../risk/risk-engine.ts';
import { TickKind } from '../wire/layout.ts';
import { OrderFrameWriter } from '../wire/order-codec.ts';
import { SignalFrameWriter } from '../wire/signal-codec.ts';
import type { SymbolTable } from '../wire/symbol-id.ts';
import type { TickSlot } from '../wire/tick-codec.ts';
import { FrameIntake, type IntakeCounters, type TickHandler } from './frame-intake.ts';
import type { Order, OrderIdSource } from './order.ts';
import type { OutputSink } from './output-sink.ts';
import { TickProcessor, type ProcessorCounters } from './tick-processor.ts';

/** Receives finished outbound frames; the engine's ZeroMQ edge implements it. */
export interface FramePublisher {
  publishOrders(frame: Buffer, count: number): void;
  publishSignals(frame: Buffer, count: number): void;
}

/** Called once per published order with its tick-to-order latency (publisher stamp -> hand-off to the socket). */
export type LatencyRecorder = (latencyNs: number) => void;

export interface InlinePipelineOptions {
  readonly config: EngineConfig;
  readonly symbols: SymbolTable;
  readonly risk: RiskEngine;
  readonly orderIds: OrderIdSource;
  readonly clockNs: () => number;
  readonly intakeCounters: IntakeCounters;
  readonly processorCounters: ProcessorCounters;
  readonly publisher: FramePublisher;
  readonly recordLatency: LatencyRecorder;
  readonly ordersStreamId: number;
  readonly signalsStreamId: number;
  /** Records per outbound frame (<= MAX_RECORDS_PER_FRAME). */
  readonly maxRecordsPerFrame?: number;
}

/**
 * The `inline` layout: intake, indicators, strategies, risk and encoding all on the thread that receives the
 * market-data frame.
 *
 *   frame --> FrameIntake --> TickProcessor --> risk --> OrderFrameWriter / SignalFrameWriter --> publisher
 *
 * Outbound batching is bounded by the input: everything a market-data frame produced is flushed when that frame
 * is done (`processFrame` ends with a flush), so no record waits for later input. A writer that fills up mid-frame
 * is flushed at once. Tick-to-order latency is taken at hand-off to the publisher, per order.
 */
export class InlinePipeline implements TickHandler, OutputSink {
  readonly intake: FrameIntake;
  readonly processor: TickProcessor;
  private readonly orders: OrderFrameWriter;
  private readonly signals: SignalFrameWriter;
  private readonly orderTickNs: Float64Array;
  private orderSequence = 0;
  private signalSequence = 0;

  constructor(private readonly options: InlinePipelineOptions) {
    const capacity = options.maxRecordsPerFrame ?? 1024;
    this.orders = new OrderFrameWriter(capacity);
    this.signals = new SignalFrameWriter(capacity);
    this.orderTickNs = new Float64Array(capacity);
    this.intake = new FrameIntake(options.symbols, this, options.intakeCounters);
    this.processor = new TickProcessor({
      config: options.config,
      symbolIds: options.symbols.ids,
      risk: options.risk,
      sink: this,
      orderIds: options.orderIds,
      clockNs: options.clockNs,
      counters: options.processorCounters,
    });
    this.orders.begin(options.ordersStreamId, 0);
    this.signals.begin(options.signalsStreamId, 0);
  }

  /** Processes one market-data frame and publishes everything it produced. */
  processFrame(frame: Uint8Array): void {
    this.intake.accept(frame);
    this.flush();
  }

  onTick(symbolIndex: number, tick: TickSlot): void {
    if (tick.kind === TickKind.Trade) {
      this.processor.onTrade(symbolIndex, tick.price, tick.size, tick.publishMonoNs);
    } else {
      this.processor.onQuote(symbolIndex, tick.kind === TickKind.Bid, tick.price);
    }
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
    const writer = this.signals;
    writer.append(this.options.symbols.ids[symbolIndex], strategyIndex, side, price, strength, tickPublishMonoNs, signalMonoNs);
    if (writer.isFull) this.flushSignals();
  }

  order(order: Order): void {
    const writer = this.orders;
    this.orderTickNs[writer.count] = order.tickPublishMonoNs;
    writer.append(
      order.orderId,
      order.symbolId,
      order.strategyIndex,
      order.side > 0 ? 1 : 2,
      1,
      order.price,
      order.quantity,
      order.tickPublishMonoNs,
      order.createdMonoNs,
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
    for (let i = 0; i < count; i++) this.options.recordLatency(now - this.orderTickNs[i]);
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
