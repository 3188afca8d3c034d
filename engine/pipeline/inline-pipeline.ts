import type { EngineConfig } from '../config/engine-config.ts';
import type { ConfiguredStrategy } from '../strategy/strategy.ts';
import { RiskEngine } from '../risk/risk-engine.ts';
import { TickKind } from '../wire/layout.ts';
import { SymbolTable } from '../wire/symbol-id.ts';
import type { TickSlot } from '../wire/tick-codec.ts';
import { withoutFaultInjection } from './fault-injection.ts';
import { FrameIntake, createIntakeCounters, type IntakeCounters, type TickHandler } from './frame-intake.ts';
import { OrderIdSource } from './order.ts';
import { OutputEncoder, type FramePublisher, type LatencyRecorder } from './output-encoder.ts';
import type { BarScan } from '../strategy/sdk.ts';
import type { Pipeline, TradeObserver } from './pipeline.ts';
import { TickProcessor, createProcessorCounters, type ProcessorCounters } from './tick-processor.ts';
import { TICK_PRICE, TICK_PUBLISH_NS, TICK_SIZE } from '../strategy/strategy-context.ts';
import { discardingPublisher, feedSyntheticFrames, type WarmupReport } from './warmup.ts';
import { warmStart } from './warm-start.ts';
import { openWarmStateKernels } from '../batch/warm-state-kernels.ts';
import type { TradeHistory } from '../history/trade-history.ts';
import type { BatchLatencyRecorder } from '../metrics/shared-latency.ts';
import { SymbolOwnership, type OwnershipCells } from '../ownership/symbol-ownership.ts';

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
  /** Which symbols may be traded; default: every symbol, unfenced (ownership mode `all`). */
  readonly ownership?: OwnershipCells;
  /** Decision latency, recorded on this thread per trade (TickProcessor). */
  readonly recordDecision?: BatchLatencyRecorder;
  readonly ordersStreamId: number;
  readonly signalsStreamId: number;
  /** Records per outbound frame (<= MAX_RECORDS_PER_FRAME). */
  readonly maxRecordsPerFrame?: number;
  /** Told once per strategy that faults (TickProcessor); default: a line on stderr. */
  readonly onStrategyFault?: (index: number, strategy: ConfiguredStrategy, reason: string) => void;
  /** Sees every trade before the processor does (bars for the scans). */
  readonly trades?: TradeObserver;
  /** False for a scratch pipeline (JIT warm-up): its processor watches no heap (TickProcessor). Default true. */
  readonly heapGuard?: boolean;
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
 * The risk engine and ownership cells are the engine's own, so switches and ownership apply at once.
 * `start()` is the JIT warm-up (`runInlineWarmup`): there is nothing else to start.
 */
export class InlinePipeline implements TickHandler, Pipeline {
  readonly layout = 'inline';
  readonly intake: FrameIntake;
  readonly processor: TickProcessor;
  readonly processorCounters: ProcessorCounters;
  readonly denials: Float64Array;
  readonly ringNames: readonly string[] = [];
  private readonly encoder: OutputEncoder;
  private readonly config: EngineConfig;
  private readonly clockNs: () => number;
  private readonly trades: TradeObserver | undefined;
  /** While a frame is processed (a backtest's scans deliver bars from inside one). */
  private inFrame = false;

  constructor(options: InlinePipelineOptions) {
    this.config = options.config;
    this.clockNs = options.clockNs;
    this.processorCounters = options.processorCounters;
    this.denials = options.risk.denials;
    this.trades = options.trades;
    this.encoder = new OutputEncoder({
      symbolIds: options.symbols.ids,
      clockNs: options.clockNs,
      publisher: options.publisher,
      recordLatency: options.recordLatency,
      ordersStreamId: options.ordersStreamId,
      signalsStreamId: options.signalsStreamId,
      ...(options.maxRecordsPerFrame === undefined ? {} : { maxRecordsPerFrame: options.maxRecordsPerFrame }),
      book: options.config.ownership.book,
    });
    this.intake = new FrameIntake(options.symbols, this, options.intakeCounters);
    this.processor = new TickProcessor({
      config: options.config,
      risk: options.risk,
      sink: this.encoder,
      orderIds: options.orderIds,
      clockNs: options.clockNs,
      counters: options.processorCounters,
      ownership: options.ownership ?? new SymbolOwnership('all', options.config.symbols.length).cells,
      ...(options.recordDecision === undefined ? {} : { recordDecision: options.recordDecision }),
      ...(options.onStrategyFault === undefined ? {} : { onStrategyFault: options.onStrategyFault }),
      ...(options.heapGuard === undefined ? {} : { heapGuard: options.heapGuard }),
    });
  }

  /**
   * Runs the JIT warm-up on a scratch pipeline (this one's state is untouched), then the warm start from `history`
   * on this pipeline's own processor (every symbol, on the warm-state kernels of the config's `backend`), and
   * resolves with the report.
   */
  async start(history?: TradeHistory): Promise<WarmupReport> {
    const warmup = runInlineWarmup(this.config, this.clockNs);
    if (history === undefined) return warmup;
    const kernels = await openWarmStateKernels(this.config.backend);
    return { ...warmup, warmStart: warmStart(this.processor, history, () => true, this.clockNs, kernels) };
  }

  /** Processes one market-data frame and publishes everything it produced. */
  processFrame(frame: Uint8Array, topicId?: number): void {
    this.inFrame = true;
    try {
      this.processor.beginFrame();
      this.intake.accept(frame, topicId);
      this.encoder.flush();
      this.processor.finishDecisions();
    } finally {
      this.inFrame = false;
    }
  }

  deliverBar(scan: BarScan, timeNs: number): void {
    if (this.inFrame) {
      this.processor.onBar(scan, timeNs); // its orders leave with the frame's
      return;
    }
    this.processor.beginFrame();
    this.processor.onBar(scan, timeNs);
    this.encoder.flush();
  }

  onTick(symbolIndex: number, tick: TickSlot): void {
    // The tick goes to the processor in its register: no double crosses the call (engine/indicators/indicator.ts).
    const register = this.processor.tick;
    register[TICK_PRICE] = tick.price;
    register[TICK_PUBLISH_NS] = tick.publishMonoNs;
    if (tick.kind === TickKind.Trade) {
      this.trades?.onTradeOf(symbolIndex, tick);
      register[TICK_SIZE] = tick.size;
      this.processor.takeTrade(symbolIndex);
    } else {
      register[TICK_SIZE] = 0;
      this.processor.takeQuote(symbolIndex, tick.kind === TickKind.Bid);
    }
  }

  /** Publishes whatever is buffered. */
  flush(): void {
    this.encoder.flush();
  }

  syncRiskSwitches(): void {}

  /** The processor reads the engine's cells on this thread: nothing to pass on. */
  syncOwnership(): void {}

  /** Control requests run between frames, and every frame ends flushed: nothing decided earlier is still here. */
  fenceOwnership(): Promise<boolean> {
    this.encoder.flush();
    return Promise.resolve(true);
  }

  refreshCounters(): void {}

  collectDecisions(): void {}

  readRings(): void {}

  /** Inline work is done when `processFrame` returns: draining is a final flush. */
  drain(): Promise<void> {
    this.encoder.flush();
    return Promise.resolve();
  }
}

/**
 * The inline layout's JIT warm-up: runs `config.warmupTicks` synthetic ticks (warmup.ts) through a scratch
 * InlinePipeline built from the same config (same classes, so V8 optimises the same functions), with its own risk
 * state and a publisher that discards everything. Nothing reaches a socket and the real pipeline's state is
 * untouched; the first real tick then runs optimised code instead of the interpreter. Fault injection is left
 * out: warm-up would only spin.
 */
export function runInlineWarmup(engineConfig: EngineConfig, clockNs: () => number): WarmupReport {
  const started = clockNs();
  const config = withoutFaultInjection(engineConfig);
  const discard = discardingPublisher();
  const pipeline = new InlinePipeline({
    config,
    symbols: new SymbolTable(config.symbols),
    risk: new RiskEngine({ ...config.risk, ordersEnabled: true }, config.symbols.length),
    orderIds: new OrderIdSource(0),
    clockNs,
    intakeCounters: createIntakeCounters(),
    processorCounters: createProcessorCounters(config.strategies.length),
    publisher: discard.publisher,
    recordLatency: () => undefined,
    ordersStreamId: 0,
    signalsStreamId: 1,
    heapGuard: false,
  });
  feedSyntheticFrames(config, clockNs, (frame) => pipeline.processFrame(frame));
  return { ticks: config.warmupTicks, orders: discard.orders(), durationMs: (clockNs() - started) / 1e6 };
}
