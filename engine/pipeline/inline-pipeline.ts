import type { EngineConfig } from '../config/engine-config.ts';
import type { RiskEngine } from '../risk/risk-engine.ts';
import { TickKind } from '../wire/layout.ts';
import type { SymbolTable } from '../wire/symbol-id.ts';
import type { TickSlot } from '../wire/tick-codec.ts';
import { FrameIntake, type IntakeCounters, type TickHandler } from './frame-intake.ts';
import type { OrderIdSource } from './order.ts';
import { OutputEncoder, type FramePublisher, type LatencyRecorder } from './output-encoder.ts';
import type { Pipeline } from './pipeline.ts';
import { TickProcessor, type ProcessorCounters } from './tick-processor.ts';

export type { FramePublisher, LatencyRecorder } from './output-encoder.ts';

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
 *   frame --> FrameIntake --> TickProcessor --> risk --> OutputEncoder (order/signal frames) --> publisher
 *
 * Outbound batching is bounded by the input: everything a market-data frame produced is flushed when that frame
 * is done (`processFrame` ends with a flush), so no record waits for later input. A writer that fills up mid-frame
 * is flushed at once. Tick-to-order latency is taken at hand-off to the publisher, per order (OutputEncoder).
 * The risk engine is the engine's own, so risk switches apply at once and `syncRiskSwitches` has nothing to do.
 */
export class InlinePipeline implements TickHandler, Pipeline {
  readonly layout = 'inline';
  readonly intake: FrameIntake;
  readonly processor: TickProcessor;
  readonly processorCounters: ProcessorCounters;
  readonly denials: Float64Array;
  readonly ringNames: readonly string[] = [];
  private readonly encoder: OutputEncoder;
  private readonly clockNs: () => number;

  constructor(options: InlinePipelineOptions) {
    this.clockNs = options.clockNs;
    this.processorCounters = options.processorCounters;
    this.denials = options.risk.denials;
    this.encoder = new OutputEncoder({
      symbolIds: options.symbols.ids,
      clockNs: options.clockNs,
      publisher: options.publisher,
      recordLatency: options.recordLatency,
      ordersStreamId: options.ordersStreamId,
      signalsStreamId: options.signalsStreamId,
      ...(options.maxRecordsPerFrame === undefined ? {} : { maxRecordsPerFrame: options.maxRecordsPerFrame }),
    });
    this.intake = new FrameIntake(options.symbols, this, options.intakeCounters);
    this.processor = new TickProcessor({
      config: options.config,
      symbolIds: options.symbols.ids,
      risk: options.risk,
      sink: this.encoder,
      orderIds: options.orderIds,
      clockNs: options.clockNs,
      counters: options.processorCounters,
    });
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  /** Processes one market-data frame and publishes everything it produced. */
  processFrame(frame: Uint8Array): void {
    this.processor.beginFrame(this.clockNs());
    this.intake.accept(frame);
    this.encoder.flush();
  }

  onTick(symbolIndex: number, tick: TickSlot): void {
    if (tick.kind === TickKind.Trade) {
      this.processor.onTrade(symbolIndex, tick.price, tick.size, tick.publishMonoNs);
    } else {
      this.processor.onQuote(symbolIndex, tick.kind === TickKind.Bid, tick.price);
    }
  }

  /** Publishes whatever is buffered. */
  flush(): void {
    this.encoder.flush();
  }

  syncRiskSwitches(): void {}

  refreshCounters(): void {}

  readRings(): void {}

  /** Inline work is done when `processFrame` returns: draining is a final flush. */
  drain(): Promise<void> {
    this.encoder.flush();
    return Promise.resolve();
  }
}
