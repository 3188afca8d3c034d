import type { BarScanResults } from '../scans/scan-thread.ts';
import type { TradePrint } from '../bars/bar-aggregator.ts';
import type { BarScan } from '../strategy/sdk.ts';
import type { EngineConfig, PipelineLayout } from '../config/engine-config.ts';
import type { RiskEngine } from '../risk/risk-engine.ts';
import type { OwnershipCells } from '../ownership/symbol-ownership.ts';
import type { SymbolTable } from '../wire/symbol-id.ts';
import type { IntakeCounters } from './frame-intake.ts';
import type { FramePublisher, LatencyRecorder } from './output-encoder.ts';
import type { ProcessorCounters } from './tick-processor.ts';
import type { WarmupReport } from './warmup.ts';
import type { TradeHistory } from '../history/trade-history.ts';
import type { BatchLatencyRecorder, BucketCountsTarget } from '../metrics/shared-latency.ts';

/**
 * What the engine needs from a pipeline layout. `InlinePipeline` (everything on the feed thread) and
 * `WorkersPipeline` (symbol shards on worker threads) both implement it, and the engine (engine/app/engine.ts) has
 * `createPipeline` pick one by `config.pipeline.layout`; nothing else in the engine knows which it runs.
 *
 * Life: `start()` once (the layout's JIT warm-up on scratch copies; threads beside the feed thread started and
 * warmed too) -> `processFrame()` per market-data frame -> `drain()` once intake has stopped. Counters are plain
 * numbers the pipeline keeps current after `refreshCounters()`, so metrics scrapes and `status` read them without
 * messages per tick.
 */
export interface Pipeline {
  readonly layout: PipelineLayout;
  /** Totals over every thread of the layout; current after `refreshCounters()`. */
  readonly processorCounters: ProcessorCounters;
  /** Risk denials by DenyReason code over every thread; current after `refreshCounters()`. */
  readonly denials: Float64Array;
  /** Ring names (label `ring`) in the order `readRings` fills; the same list `ringNamesFor(config)` gives. */
  readonly ringNames: readonly string[];

  /**
   * Warms the layout up (JIT, on scratch state: nothing is published and no real state changes) and starts
   * whatever runs beside the feed thread, then, given a `history`, warm-starts every tick processor of the layout
   * from it (warm-start.ts: each thread its own symbols); resolves with the feed thread's warm-up report, with
   * the warm start's totals, once every part of the layout is ready to take ticks.
   */
  start(history?: TradeHistory): Promise<WarmupReport>;
  /**
   * Validates one market-data frame, processes its ticks and publishes what they produced. `topicId` is the symbol
   * id of the message's topic (see FrameIntake.accept); leave it out when the frame came without one.
   */
  processFrame(frame: Uint8Array, topicId?: number): void;
  /**
   * Re-reads the engine's risk switches (orders enabled, kill switch) and applies them to every risk engine of
   * the layout. Every tick handed in after this returns is checked under the new switches.
   */
  syncRiskSwitches(): void;
  /**
   * After the engine granted symbols in its ownership cells (and wrote their taken-over positions): every tick
   * handed in after this returns is decided under the new cells.
   */
  syncOwnership(): void;
  /**
   * After the engine took symbols away in its ownership cells: resolves true once no order decided under the old
   * cells can still come out of the pipeline, every such order already handed to the publisher; false when a
   * worker did not get there within `timeoutMs` (the release cannot be confirmed).
   */
  fenceOwnership(timeoutMs: number): Promise<boolean>;
  /** Copies per-thread counters into `processorCounters` and `denials`. Cheap; call once per scrape. */
  refreshCounters(): void;
  /**
   * Adds the decision latency other threads recorded since the last call into `decisions.targets` (workers layout;
   * inline records directly and has nothing to do). Called before every metrics window rotation.
   */
  collectDecisions(): void;
  /** Fills each ring's occupancy (0..1) and dropped count, indexed like `ringNames`. */
  readRings(occupancy: Float64Array, dropped: Float64Array): void;
  /**
   * A bar close's universe scan (in the scan thread's result set `slot`) for the strategies' onBar handlers, at
   * `timeNs` on their clock. Inline, their orders are published before it returns (or with the frame, when it is
   * called while a frame is processed: a backtest's scans). In the workers layout every shard runs it on its own
   * thread, in order with its ticks, and the promise settles once all have (the result set may then be reused).
   */
  deliverBar(scan: BarScan, timeNs: number, slot: number): void | Promise<void>;
  /**
   * After intake has stopped: processes every tick already accepted, publishes everything produced and stops
   * background threads. Bounded by `timeoutMs`; whatever could not be processed by then is counted as dropped.
   */
  drain(timeoutMs: number): Promise<void>;
}

/**
 * Sees every accepted trade on the feed thread, before it is routed (bars for the scans: engine/scans/). Must not
 * allocate or block: it runs once per trade on the tick path.
 */
export interface TradeObserver {
  /**
   * A trade, its fields read from `trade` (no double crosses the call). `publishMonoNs`: the tick's publish stamp,
   * what a decision made on a bar this trade closes is stamped with.
   */
  onTradeOf(symbolIndex: number, trade: TradePrint): void;
}

/** Everything either layout needs from the engine. */
export interface PipelineDeps {
  readonly config: EngineConfig;
  readonly symbols: SymbolTable;
  /**
   * The engine's risk engine: inline checks orders with it; workers mirror its switches and share its position
   * storage, which must then be on a SharedArrayBuffer.
   */
  readonly risk: RiskEngine;
  /**
   * The engine's ownership cells (SymbolOwnership): which symbols the pipeline may send orders for. Default (tests,
   * benches): every symbol, unfenced.
   */
  readonly ownership?: OwnershipCells;
  /** The engine's 20-bit order-id instance. */
  readonly instanceId: number;
  readonly clockNs: () => number;
  readonly intakeCounters: IntakeCounters;
  readonly processorCounters: ProcessorCounters;
  /** Denial totals: inline must pass `risk.denials`; workers sum into this array. */
  readonly denials: Float64Array;
  readonly publisher: FramePublisher;
  readonly recordLatency: LatencyRecorder;
  /** Decision latency: `record` on the feed thread (inline), `targets` for what workers recorded (collectDecisions). */
  readonly decisions: { readonly record: BatchLatencyRecorder; readonly targets: readonly BucketCountsTarget[] };
  readonly ordersStreamId: number;
  readonly signalsStreamId: number;
  readonly log: (line: string) => void;
  readonly onWorkerFailure: (workerIndex: number, error: Error) => void;
  /**
   * Told when a fault disables a strategy, by index, with the reason (inline once; in the workers layout once per
   * worker); without it, the processor writes the reason to stderr.
   */
  readonly onStrategyFault?: (strategy: number, reason: string) => void;
  /** Bars for the scans, when configured. */
  readonly trades?: TradeObserver;
  /** The scans' result sets, with onBar strategies: the workers layout hands them to its workers (deliverBar). */
  readonly barScans?: BarScanResults;
}
