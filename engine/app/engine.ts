import { hostname } from 'node:os';
import { endpointFor, type EngineConfig, type ScansConfig } from '../config/engine-config.ts';
import { MarketDataSubscriber } from '../feed/market-data-subscriber.ts';
import { createEngineMetrics, INDICATOR_BACKENDS, SCAN_KERNELS, WARM_START_BACKENDS, WARM_START_STATES, type EngineMetrics } from '../metrics/engine-metrics.ts';
import { HistoryError, loadHistory, type LoadedHistory } from '../history/history-file.ts';
import type { HistoryTrades } from '../history/trade-history.ts';
import type { WarmStartReport } from '../pipeline/warm-start.ts';
import { unusedBackend, type BackendReport } from '../scans/backend-report.ts';
import { scanSettingsOf } from '../scans/scan-settings.ts';
import { BarScans } from '../scans/scan-thread.ts';
import { startMetricsServer, type MetricsServer } from '../metrics/http-server.ts';
import type { WindowSnapshot } from '../metrics/sliding-window.ts';
import { ControlCounters } from '../control/control-counters.ts';
import type { ControlServerKeys } from '../control/control-keys.ts';
import { ControlServer, type ControlReply } from '../control/control-server.ts';
import { OrdersLatch } from '../control/orders-latch.ts';
import { OrderPublisher } from '../orders/order-publisher.ts';
import { createPipeline, ringNamesFor } from '../pipeline/create-pipeline.ts';
import { faultInjectionWarning } from '../pipeline/fault-injection.ts';
import { createIntakeCounters } from '../pipeline/frame-intake.ts';
import type { Pipeline } from '../pipeline/pipeline.ts';
import { createProcessorCounters } from '../pipeline/tick-processor.ts';
import { DENY_REASON_SLOTS, RiskEngine, denyReasonNames } from '../risk/risk-engine.ts';
import { ControlStatus, RejectReason, rejectReasonNames } from '../wire/layout.ts';
import { SymbolTable, symbolId } from '../wire/symbol-id.ts';
import { parseOwnershipRequest } from '../ownership/ownership-request.ts';
import { SymbolOwnership, UNOWNED, type OwnedShard } from '../ownership/symbol-ownership.ts';
import { anyBarHandlers, checkBarHandlers } from '../strategy/factory.ts';
import type { BarScan } from '../strategy/sdk.ts';
import { strategyOrigin } from '../strategy/strategy.ts';
import { withTimeout } from '../clock/with-timeout.ts';

export interface EngineOptions {
  readonly config: EngineConfig;
  readonly clockNs: () => number;
  readonly log: (line: string) => void;
  /** CURVE keys of the control socket; undefined leaves it unauthenticated (a local engine only). */
  readonly controlKeys?: ControlServerKeys;
  /** Where state that outlives the process (the latched cut) is kept: the pod's emptyDir. Undefined: in memory. */
  readonly stateDir?: string;
}

export interface DrainReport {
  /** Orders risk accepted since start (every one of them should be published). */
  readonly ordersAccepted: number;
  readonly ordersPublished: number;
  readonly ordersUndelivered: number;
  readonly drained: boolean;
}

/** The warm start as the engine reports it (status, metrics). */
type EngineWarmStart = {
  readonly state: (typeof WARM_START_STATES)[number];
  readonly shortSymbols: number;
  /** Bars the scans' warm start built from the history (with scans configured). */
  readonly bars?: number;
} & Partial<WarmStartReport>;

/**
 * One engine process: market data in over ZeroMQ SUB, the pipeline, orders out over PUSH and signals over PUB,
 * metrics and health over HTTP, and a control socket. The pipeline layout (`inline` or `workers`, see
 * engine/pipeline/pipeline.ts) is picked once from `config.pipeline.layout`. Lifecycle:
 *
 *   start(): open sockets -> pipeline start, which is its JIT warm-up (scratch pipeline here; workers warm
 *            themselves) -> ready -> intake runs
 *   drain(): stop intake -> drain the pipeline (workers finish their rings) -> flush -> wait until every
 *            accepted order is handed to libzmq
 *   stop():  drain, then close every socket (lingering so libzmq transmits) and the HTTP server
 *
 * Readiness (`/readyz`) is true only after warm-up and before a drain: readiness does not wait for market data,
 * so an engine started while the market is closed still becomes Ready. A pipeline worker that fails makes the
 * engine unhealthy (`/healthz` 503) and not ready for good: the pod is restarted rather than trade on a shard short.
 */
/** How long start-up waits for the scan thread to open its batch backend (it gives up itself after 90 s). */
const SCAN_BACKEND_WAIT_MS = 120_000;

export class Engine {
  readonly metrics: EngineMetrics;
  readonly risk: RiskEngine;
  readonly ownership: SymbolOwnership;
  private readonly symbolIndex: ReadonlyMap<string, number>;
  /** Shards released whose fence or flush has not been confirmed yet; confirmed (and acknowledged) with the next request. */
  private unconfirmedReleases: readonly OwnedShard[] = [];
  private readonly pipeline: Pipeline;
  /** Bars and universe scans, when configured (engine/scans/): its thread starts with the engine object. */
  private readonly scans: BarScans | undefined;
  private readonly subscriber: MarketDataSubscriber;
  private readonly publisher: OrderPublisher;
  private readonly control: ControlServer | undefined;
  private readonly controlCounters = new ControlCounters();
  private readonly latch: OrdersLatch;
  private readonly intakeCounters = createIntakeCounters();
  private readonly processorCounters;
  /** Why each disabled strategy was disabled, by strategy index (reported by the pipeline, inline or from a worker). */
  private readonly strategyFaultReasons = new Map<number, string>();
  private httpServer: MetricsServer | undefined;
  private intakeLoop: Promise<void> | undefined;
  private controlLoop: Promise<void> | undefined;
  private ready = false;
  /** How this engine started: no history, warm from it (with the report), or cold after a problem with it. */
  private warmStart: EngineWarmStart = { state: 'none', shortSymbols: 0 };
  /** The batch backend the scans' correlation runs on, and why (none without a correlation scan). */
  private indicatorBackend: BackendReport;
  /** The last failure of the batch backend in a scan (logged when it first happens and when it changes). */
  private lastBackendError = '';
  /** Why the engine is unhealthy; undefined while healthy. */
  private failure: string | undefined;
  private draining: Promise<DrainReport> | undefined;
  readonly endpoints: { marketData?: string; orders?: string; signals?: string; control?: string; metrics?: string } = {};

  constructor(private readonly options: EngineOptions) {
    const { config, clockNs } = options;
    const symbols = new SymbolTable(config.symbols);
    this.risk = new RiskEngine(config.risk, config.symbols.length);
    this.ownership = new SymbolOwnership(config.ownership.mode, config.symbols.length);
    this.symbolIndex = new Map(config.symbols.map((symbol, i) => [symbol, i]));
    this.latch = new OrdersLatch(options.stateDir);
    // A container restarted after the operator's cut comes back cut, before any market data is read.
    if (this.latch.isLatched) this.risk.setOrdersEnabled(false);
    this.processorCounters = createProcessorCounters(config.strategies.length);
    // Inline, the engine's risk engine checks every order and counts its own denials; workers' totals are summed.
    const denials = config.pipeline.layout === 'inline' ? this.risk.denials : new Float64Array(DENY_REASON_SLOTS);
    const ordersEndpoint = endpointFor(config, 'orders');
    const signalsEndpoint = endpointFor(config, 'signals');
    if (ordersEndpoint === undefined) throw new Error('config has no orders endpoint');
    this.publisher = new OrderPublisher(ordersEndpoint, signalsEndpoint);
    // Strategies with onBar need scans: refused here, before any thread starts.
    checkBarHandlers(config);
    this.scans = config.scans === undefined ? undefined : this.startScans(config.scans);
    this.indicatorBackend = config.scans?.correlation === undefined
      ? unusedBackend(config.backend)
      : { requested: config.backend, backend: 'none', reason: 'opening' };
    const intake = this.intakeCounters;
    const processor = this.processorCounters;
    this.metrics = createEngineMetrics({
      frameRejectReasons: rejectReasonNames,
      tickRejectReasons: rejectReasonNames,
      strategies: config.strategies.map((strategy) => strategy.name),
      rings: ringNamesFor(config.pipeline),
      windowSeconds: config.metrics.windowSeconds,
      windowIntervals: config.metrics.windowIntervals,
      faultInjectionExtraLatencyMicros: config.faultInjection?.extraLatencyMicros ?? 0,
      control: this.controlCounters,
      ordersLatched: () => this.latch.isLatched,
      clock: { nowNs: clockNs },
      // The pipeline's own counter arrays are the metrics' storage: nothing is copied per tick.
      shared: {
        framesRejected: intake.framesRejected,
        ticksRejected: intake.ticksRejected,
        signals: processor.signals,
        strategyFaults: processor.strategyFaults,
        ordersDenied: denials,
      },
      collect: () => this.pipeline.collectDecisions(),
      refresh: (counters) => {
        this.pipeline.refreshCounters();
        this.pipeline.readRings(counters.ringOccupancy, counters.ringDropped);
        counters.framesReceived = intake.framesReceived;
        counters.ticksReceived = intake.ticksReceived;
        counters.ticksLost = intake.ticksLost;
        counters.ordersAccepted = processor.ordersAccepted;
        counters.ordersPublished = this.publisher.orders.stats.sentRecords;
        counters.ordersQueued = this.publisher.orders.pendingRecords;
        counters.ordersUndelivered = this.publisher.orders.stats.droppedRecords;
        counters.poolExhausted[0] = processor.orderPoolExhausted;
        counters.ordersEnabled = this.risk.ordersEnabled ? 1 : 0;
        counters.ready = this.ready ? 1 : 0;
        counters.unownedDecisions = processor.unownedDecisions;
        counters.otherShardDecisions = processor.otherShardDecisions;
        counters.ownedSymbols = this.ownership.ownedSymbolCount();
        counters.warmStartState = WARM_START_STATES.indexOf(this.warmStart.state);
        counters.warmStartBackend = WARM_START_BACKENDS.indexOf(this.warmStart.backend ?? 'none');
        counters.warmStartSeconds = (this.warmStart.durationMs ?? 0) / 1000;
        counters.warmStartSeededTrades = this.warmStart.seededTrades ?? 0;
        counters.warmStartReplayedTicks = this.warmStart.replayedTicks ?? 0;
        counters.warmStartShortSymbols = this.warmStart.shortSymbols;
        counters.warmStartBars = this.warmStart.bars ?? 0;
        counters.indicatorBackend = INDICATOR_BACKENDS.indexOf(this.indicatorBackend.backend);
        counters.scanKernels = SCAN_KERNELS.indexOf(this.indicatorBackend.scanKernels ?? 'none');
        if (this.scans !== undefined) {
          const scans = this.scans.counters;
          counters.barsClosed = scans.barsClosed;
          counters.scans[0] = scans.completed;
          counters.scans[1] = scans.skipped;
          counters.scans[2] = scans.torn;
          counters.scans[3] = scans.failed;
          counters.backendFallbacks = scans.backendFallbacks;
          counters.scanSeconds[0] = scans.indicatorsSeconds;
          counters.scanSeconds[1] = scans.crossSectionSeconds;
          counters.scanSeconds[2] = scans.correlationSeconds;
          counters.barAnomalies[0] = this.scans.lateTrades;
          counters.barAnomalies[1] = this.scans.futureTrades;
          counters.barAnomalies[2] = this.scans.gapBarsSkipped;
          counters.barAnomalies[3] = scans.barsMissed;
        }
      },
    });
    const instanceId = (symbolId(`${hostname()}/${process.pid}/${Date.now()}`) & 0xfffff) >>> 0;
    this.pipeline = createPipeline({
      config,
      symbols,
      risk: this.risk,
      ownership: this.ownership.cells,
      instanceId,
      clockNs,
      intakeCounters: this.intakeCounters,
      processorCounters: this.processorCounters,
      denials,
      publisher: this.publisher,
      recordLatency: this.metrics.recordTickToOrder,
      decisions: { record: this.metrics.decisionRecorder, targets: this.metrics.decisionTargets },
      ordersStreamId: instanceId,
      signalsStreamId: (instanceId ^ 0x5a5a5) >>> 0,
      log: options.log,
      onStrategyFault: (strategy, reason) => this.onStrategyFault(strategy, reason),
      onWorkerFailure: (worker, error) => this.onPipelineFailure(worker, error),
      ...(this.scans === undefined ? {} : { trades: this.scans }),
      ...(this.scans === undefined || !anyBarHandlers(config) ? {} : { barScans: this.scans.results }),
    });
    const marketData = endpointFor(config, 'marketData');
    if (marketData === undefined) throw new Error('config has no marketData endpoint');
    this.subscriber = new MarketDataSubscriber(
      { ...marketData, topics: marketData.topics ?? config.symbols },
      {
        clockNs,
        yieldEveryNs: config.pipeline.yieldEveryMicros * 1000,
        onReconnect: (address) => options.log(`Market data feed disconnected; connected again address=${address}`),
      },
    );
    const controlEndpoint = endpointFor(config, 'control');
    if (controlEndpoint?.bind !== undefined) {
      this.control = new ControlServer({
        bindAddress: controlEndpoint.bind,
        keys: options.controlKeys,
        counters: this.controlCounters,
        log: options.log,
        handler: {
          ordersOn: () => this.setOrdersEnabled(true),
          ordersOff: () => this.setOrdersEnabled(false),
          cut: () => this.cut(),
          unlatch: () => this.unlatch(),
          drain: async () => ({ status: ControlStatus.Ok, body: await this.drain() }),
          status: () => ({ status: ControlStatus.Ok, body: this.status() }),
          setOwnership: (body) => this.setOwnership(body),
        },
      });
    }
  }

  async start(): Promise<void> {
    const { config, log } = this.options;
    const faultWarning = faultInjectionWarning(config);
    if (faultWarning !== undefined) log(faultWarning);
    if (this.control !== undefined && !this.control.authenticated) {
      log('Control socket is not authenticated (no control keys): anyone who reaches it can switch orders; run it only on a local machine');
    }
    if (this.latch.isLatched) log('Engine orders are cut (latched by the operator before this process started): orders-on is refused until unlatch');
    const sockets = await this.publisher.open();
    this.endpoints.orders = sockets.orders;
    this.endpoints.signals = sockets.signals;
    this.endpoints.control = await this.control?.open();
    this.httpServer = await startMetricsServer({
      port: config.metrics.port,
      host: config.metrics.host,
      registry: this.metrics.registry,
      isReady: () => this.ready,
      gateWindow: (query) => this.metrics.gateWindow(query),
      isHealthy: () => this.failure === undefined,
      readinessDetail: () =>
        this.ready ? 'ready' : (this.failure ?? (this.draining !== undefined ? 'draining' : 'warming up')),
    });
    this.endpoints.metrics = `http://${config.metrics.host}:${this.httpServer.port}`;
    this.controlLoop = this.control?.run().catch((error: unknown) => log(`Control socket failed error="${String(error)}"`));

    // Starting the layout is its warm-up (workers warm up on their own threads while this thread warms its half),
    // then the warm start from history, when there is one: the engine is not ready before both are done.
    const loaded = await this.loadHistory();
    const warm = await this.pipeline.start(loaded?.history);
    log(`Engine warmed up ticks=${warm.ticks} orders=${warm.orders} durationMs=${warm.durationMs.toFixed(1)}`);
    if (warm.warmStart !== undefined) {
      const report = warm.warmStart;
      this.warmStart = { ...this.warmStart, ...report };
      log(
        `Engine warm-started from history path=${config.history?.path ?? ''} symbols=${report.symbols} seededTrades=${report.seededTrades} ` +
          `replayedTicks=${report.replayedTicks} durationMs=${report.durationMs.toFixed(1)} backend=${report.backend} ` +
          `reason="${report.backendReason}"`,
      );
    }
    if (this.scans !== undefined && loaded?.trades !== undefined) await this.warmBars(this.scans, loaded.trades);

    await this.openScanBackend();

    this.endpoints.marketData = await this.subscriber.open();
    this.metrics.start();
    this.ready = this.failure === undefined && this.draining === undefined;
    this.intakeLoop = this.subscriber.run(
      (frame, topicId) => this.pipeline.processFrame(frame, topicId),
      () => this.intakeCounters.framesRejected[RejectReason.BadTopic]++,
    );
    this.intakeLoop.catch((error: unknown) => log(`Market data intake failed error="${String(error)}"`));
    log(
      `Engine started layout=${config.pipeline.layout} symbols=${config.symbols.length} indicators=${config.indicators.length} ` +
        `strategies=${config.strategies.length} marketData=${this.endpoints.marketData ?? ''} orders=${this.endpoints.orders ?? ''} ` +
        `signals=${this.endpoints.signals ?? 'off'} control=${this.endpoints.control ?? 'off'} metrics=${this.endpoints.metrics}`,
    );
  }

  /**
   * The scan thread and the bars the feed thread builds for it. Each report goes out on the signals socket
   * (topic `scan`, JSON); a failed scan is logged, the next bar is scanned as usual.
   */
  private startScans(settings: ScansConfig): BarScans {
    const { config, log } = this.options;
    return new BarScans({
      symbols: config.symbols,
      barIntervalNs: settings.barIntervalMs * 1_000_000,
      panelBars: settings.panelBars,
      settings: scanSettingsOf(config, settings),
      topSymbols: settings.topSymbols,
      backend: config.backend,
      // Each scan to the strategies' onBar, stamped with the trade that closed the bar; none once a drain has begun
      // (its report is final) or before ready. Inline they run here and now; in the workers layout on every shard,
      // the result set held until all have (the promise).
      ...(anyBarHandlers(config)
        ? { onScan: (scan: BarScan, stamp: number, slot: number): void | Promise<void> => {
          if (this.ready && this.draining === undefined) return this.pipeline.deliverBar(scan, stamp, slot);
          return undefined;
        } }
        : {}),
      onBackendFallback: (message, fallbacks) => {
        if (fallbacks === 1 || message !== this.lastBackendError) log(`Warning: the batch backend failed a scan's correlation (js computed it; ${fallbacks} so far) error="${message}"`);
        this.lastBackendError = message;
      },
      onReport: (json) => this.publisher.publishScan(Buffer.from(json.buffer, json.byteOffset, json.byteLength)),
      onFailure: (bar, message) => log(bar < 0 ? `Scan thread failed error="${message}"` : `Scan of bar ${bar} failed error="${message}"`),
    });
  }

  /**
   * The scans' bars from every trade of the history file (docs/scans.md), their per-bar indicators fed on the scan
   * thread; a failure there is a warning (the scans start from the live bars only, as without a history).
   */
  private async warmBars(scans: BarScans, trades: HistoryTrades): Promise<void> {
    const { log } = this.options;
    const started = performance.now();
    try {
      const { bars } = await scans.warmFrom(trades);
      this.warmStart = { ...this.warmStart, bars };
      log(`Scans warm-started from history bars=${bars} trades=${trades.count} durationMs=${(performance.now() - started).toFixed(1)}`);
    } catch (error) {
      log(`Warning: the scans' bars could not be warm-started from history: ${(error as Error).message}`);
    }
  }

  /**
   * Waits for the scan thread's backend (opening `auto` may measure the calibration first) and says which it is and
   * why; a backend asked for by name that could not start is a warning (the scans run on js). Without a correlation
   * scan, a backend asked for by name does nothing, and the log says so.
   */
  private async openScanBackend(): Promise<void> {
    const { config, log } = this.options;
    const correlation = this.scans !== undefined && config.scans?.correlation !== undefined;
    if (this.scans !== undefined) {
      try {
        // The scan thread gives up on a backend itself (OPEN_TIMEOUT_MS); this bounds a thread stuck in native code.
        this.indicatorBackend = await withTimeout(this.scans.backend, SCAN_BACKEND_WAIT_MS, `it opened no backend within ${SCAN_BACKEND_WAIT_MS} ms`);
      } catch (error) {
        this.indicatorBackend = { requested: config.backend, backend: 'none', reason: `the scan thread failed: ${(error as Error).message}` };
      }
    }
    const { requested, backend, reason, adapter, scanKernels, scanKernelsReason } = this.indicatorBackend;
    if (scanKernels !== undefined) log(`Scan kernels: ${scanKernels} reason="${scanKernelsReason ?? ''}"`);
    // Nothing to say when nothing runs on a backend and nothing in particular was asked for.
    if (!correlation && requested === 'auto') return;
    const unmet = requested !== backend && !(requested === 'auto' && backend !== 'none');
    log(`${unmet ? 'Warning: batch backend ' : 'Batch backend '}requested=${requested} backend=${backend} reason="${reason}"${adapter === undefined ? '' : ` adapter="${adapter}"`}`);
  }

  /**
   * The configured history, read and arranged for the pipeline; undefined without one, or when it is unusable and
   * `history.onError` is coldStart (logged as a warning, `nexus_engine_warm_start{state="cold"}`), whatever the
   * problem. Under onError fail (the default) it stops the start: a HistoryError exits 2 naming the file and row.
   */
  private async loadHistory(): Promise<LoadedHistory | undefined> {
    const { config, log } = this.options;
    const settings = config.history;
    if (settings === undefined) return undefined;
    try {
      const loaded = await loadHistory(settings, config, config.scans !== undefined);
      if (loaded.shortage !== undefined) {
        if (settings.onError === 'fail') throw new HistoryError(settings.path, loaded.shortage);
        log(`Warning: history ${settings.path}: ${loaded.shortage}; they start with the trades there are (history.onError coldStart)`);
      }
      this.warmStart = { state: 'warm', shortSymbols: loaded.history.shortSymbols.length };
      if (loaded.history.ignoredSymbols.length > 0) {
        log(`History ${settings.path} has ${loaded.history.ignoredSymbols.length} symbol(s) this engine does not trade (skipped): ${loaded.history.ignoredSymbols.slice(0, 5).join(', ')}`);
      }
      return loaded;
    } catch (error) {
      if (settings.onError === 'fail') throw error;
      // Under coldStart nothing about the history stops the engine: a bad file, and also one too large to hold.
      const reason = error instanceof HistoryError ? error.message : `history ${settings.path}: ${(error as Error).message}`;
      log(`Warning: ${reason}; starting with cold indicators (history.onError coldStart)`);
      this.warmStart = { state: 'cold', shortSymbols: 0 };
      return undefined;
    }
  }

  /** Stops intake, flushes, and waits until every accepted order is handed to libzmq (bounded by drainTimeoutMs). */
  drain(): Promise<DrainReport> {
    this.draining ??= this.doDrain();
    return this.draining;
  }

  async stop(): Promise<DrainReport> {
    const report = await this.drain();
    await this.scans?.stop();
    this.control?.close();
    await this.controlLoop;
    this.metrics.stop();
    this.publisher.close();
    await this.httpServer?.close();
    return report;
  }

  status(): Record<string, unknown> {
    const intake = this.intakeCounters;
    const processor = this.processorCounters;
    this.pipeline.refreshCounters();
    return {
      ready: this.ready,
      healthy: this.failure === undefined,
      ...(this.failure === undefined ? {} : { failure: this.failure }),
      draining: this.draining !== undefined,
      ordersEnabled: this.risk.ordersEnabled,
      ordersLatched: this.latch.isLatched,
      controlAuthenticated: this.control?.authenticated ?? false,
      killSwitch: this.risk.killSwitchActive,
      layout: this.options.config.pipeline.layout,
      warmStart: this.warmStart,
      indicatorBackend: this.indicatorBackend,
      ticks: { received: intake.ticksReceived, accepted: intake.ticksAccepted, lost: intake.ticksLost },
      framesRejected: countsByName(intake.framesRejected, rejectReasonNames),
      ticksRejected: countsByName(intake.ticksRejected, rejectReasonNames),
      orders: {
        accepted: processor.ordersAccepted,
        denied: processor.ordersDenied,
        deniedByReason: countsByName(this.pipeline.denials, denyReasonNames),
        published: this.publisher.orders.stats.sentRecords,
        queued: this.publisher.orders.pendingRecords,
        undelivered: this.publisher.orders.stats.droppedRecords,
        unownedDecisions: processor.unownedDecisions,
        otherShardDecisions: processor.otherShardDecisions,
      },
      signals: processor.signals.reduce((sum, n) => sum + n, 0),
      strategies: this.options.config.strategies.map((strategy, i) => {
        const reason = this.strategyFaultReasons.get(i);
        return {
          name: strategy.name,
          origin: strategyOrigin(strategy),
          enabled: processor.strategyFaults[i] === 0,
          faults: processor.strategyFaults[i],
          ...(reason === undefined ? {} : { reason }),
        };
      }),
      ownership: this.ownershipView(),
      ...(this.pipeline.ringNames.length === 0 ? {} : { rings: this.ringView() }),
      latency: latencyView(this.metrics.windowSnapshot()),
      decisionLatency: latencyView(this.metrics.decisionWindowSnapshot()),
    };
  }

  /** A strategy the pipeline disabled (inline, or in a worker): logged, and kept for the Status answer. */
  private onStrategyFault(strategy: number, reason: string): void {
    const spec = this.options.config.strategies[strategy];
    this.options.log(`Strategy disabled strategy=${spec?.name ?? strategy} origin="${spec === undefined ? '' : strategyOrigin(spec)}" reason="${reason}"`);
    if (!this.strategyFaultReasons.has(strategy)) this.strategyFaultReasons.set(strategy, reason);
  }

  private ownershipView(): Record<string, unknown> {
    const { symbols } = this.options.config;
    return {
      mode: this.ownership.mode,
      ownedSymbols: this.ownership.ownedSymbolCount(),
      shards: this.ownership.shards.map((shard) => ({ shard: shard.shard, epoch: shard.epoch, symbols: shard.symbols.map((i) => symbols[i]) })),
    };
  }

  /**
   * The operator's grant (docs/ownership.md): release, fence, flush, acknowledge positions, then acquire. Break
   * before make inside the engine too: a released symbol sends nothing more before the answer (every order decided
   * under the old ownership is handed to libzmq first, bounded by `shutdown.drainTimeoutMs`), and an acquired one
   * trades from the next tick, with the position its previous owner acknowledged. A bad request changes nothing.
   */
  private async setOwnership(body: unknown): Promise<ControlReply> {
    const parsed = parseOwnershipRequest(body, this.symbolIndex);
    if (!parsed.ok) return { status: ControlStatus.Rejected, body: { error: parsed.error } };
    const planned = this.ownership.plan(parsed.request);
    if (!planned.ok) return { status: ControlStatus.Rejected, body: { error: planned.error } };
    const { change } = planned;
    // A draining engine may still give shards up (the operator moves them off a terminating pod), never take one.
    if (this.draining !== undefined && change.acquire.length > 0) return { status: ControlStatus.Rejected, body: { error: 'the engine is draining: it takes no shards' } };
    const { clockNs, config, log } = this.options;
    const started = clockNs();
    const timeoutMs = config.shutdown.drainTimeoutMs;
    let released: Record<string, unknown>[] = [];
    // Releases not yet confirmed (an earlier fence or flush ran out of time) are fenced and flushed again with these:
    // a release is acknowledged, with its positions, only once nothing decided under it can still leave the engine.
    const releasing = [...this.unconfirmedReleases, ...change.release];
    if (releasing.length > 0) {
      // One deadline for the fence and the flush together: the operator waits drainTimeoutMs plus a margin.
      const deadline = performance.now() + timeoutMs;
      this.ownership.markReleased(change);
      this.unconfirmedReleases = releasing;
      const shards = releasing.map((shard) => shard.shard).join(',');
      if (!(await this.pipeline.fenceOwnership(timeoutMs))) {
        log(`Engine ownership release not confirmed shards=${shards} timeoutMs=${timeoutMs}`);
        return { status: ControlStatus.Rejected, body: { error: `release not confirmed: a pipeline worker did not finish its batches within ${timeoutMs} ms; the released symbols send no new orders` } };
      }
      const flushed = await Promise.race([
        this.publisher.orders.settled().then(() => true),
        new Promise<false>((resolve) => setTimeout(resolve, Math.max(0, deadline - performance.now()), false).unref()),
      ]);
      if (!flushed) {
        log(`Engine ownership release not confirmed shards=${shards} timeoutMs=${timeoutMs}`);
        return { status: ControlStatus.Rejected, body: { error: `release not confirmed: orders of the released shards not handed to the socket within ${timeoutMs} ms` } };
      }
      this.unconfirmedReleases = [];
      released = this.releasedView(releasing);
    }
    const releaseMs = (clockNs() - started) / 1e6;
    for (const grant of change.acquire) for (const [symbol, position] of grant.positions) this.risk.setPosition(symbol, position);
    this.ownership.markAcquired(change);
    this.pipeline.syncOwnership();
    log(
      `Engine ownership set shards=${this.ownership.shards.map((s) => `${s.shard}@${s.epoch}`).join(',') || 'none'} ` +
        `released=${releasing.map((s) => `${s.shard}@${s.epoch}`).join(',') || 'none'} releaseMs=${releaseMs.toFixed(2)}`,
    );
    return { status: ControlStatus.Ok, body: { ...this.ownershipView(), released, releaseMs, positions: this.unownedPositions() } };
  }

  /**
   * The position of every symbol this engine does not own, as it last counted it: what it left when it released a
   * symbol. The operator reads it when it finds a shard it believed this engine held already released (an earlier
   * answer lost), so the positions of that release are not lost with the answer.
   */
  private unownedPositions(): Record<string, number> {
    const { symbols } = this.options.config;
    const { epochs } = this.ownership.cells;
    const positions: Record<string, number> = {};
    symbols.forEach((symbol, i) => {
      if (epochs[i] === UNOWNED) positions[symbol] = this.risk.position(i);
    });
    return positions;
  }

  /** Each released shard with the position of each of its symbols, as the engine held them at the fence. */
  private releasedView(releasing: readonly OwnedShard[]): Record<string, unknown>[] {
    const { symbols } = this.options.config;
    return releasing.map((shard) => ({
      shard: shard.shard,
      epoch: shard.epoch,
      positions: Object.fromEntries(shard.symbols.map((i) => [symbols[i], this.risk.position(i)])),
    }));
  }

  private ringView(): Record<string, { occupancy: number; dropped: number }> {
    const names = this.pipeline.ringNames;
    const occupancy = new Float64Array(names.length);
    const dropped = new Float64Array(names.length);
    this.pipeline.readRings(occupancy, dropped);
    const view: Record<string, { occupancy: number; dropped: number }> = {};
    names.forEach((name, i) => (view[name] = { occupancy: occupancy[i], dropped: dropped[i] }));
    return view;
  }

  private onPipelineFailure(worker: number, error: Error): void {
    this.failure ??= `pipeline worker ${worker} failed`;
    this.ready = false;
    this.options.log(`Pipeline worker failed worker=${worker} error="${error.message}" engineHealthy=false`);
  }

  private setOrdersEnabled(enabled: boolean): ControlReply {
    if (enabled && this.risk.killSwitchActive) {
      return { status: ControlStatus.Rejected, body: { error: 'kill switch is latched; orders stay off' } };
    }
    if (enabled && this.latch.isLatched) {
      return { status: ControlStatus.Rejected, body: { error: 'orders are cut by the operator (latched): orders-on is refused until unlatch' } };
    }
    this.risk.setOrdersEnabled(enabled);
    this.pipeline.syncRiskSwitches();
    this.options.log(`Engine orders ${enabled ? 'enabled' : 'disabled'} by control socket`);
    return { status: ControlStatus.Ok, body: { ordersEnabled: this.risk.ordersEnabled } };
  }

  /**
   * The operator's cut of an aborted revision: orders off at once, then latched (durably when a state directory is
   * configured) before the answer, so an Ok means the cut survives a restart of this container. A latch that cannot
   * be written is Rejected with orders already off, and the operator scales the pod down.
   */
  private cut(): ControlReply {
    this.risk.setOrdersEnabled(false);
    this.pipeline.syncRiskSwitches();
    try {
      this.latch.latch('cut by the operator');
    } catch (error) {
      this.options.log(`Engine orders disabled but the cut could not be latched error="${(error as Error).message}"`);
      return { status: ControlStatus.Rejected, body: { error: `orders are off but the cut could not be latched: ${(error as Error).message}` } };
    }
    this.options.log(`Engine orders cut and latched durable=${this.latch.durable}`);
    return { status: ControlStatus.Ok, body: { ordersEnabled: false, ordersLatched: true } };
  }

  /** Lifts the latch only; orders stay as they are (off) until an orders-on. */
  private unlatch(): ControlReply {
    this.latch.unlatch();
    this.options.log('Engine cut unlatched: orders stay off until orders-on');
    return { status: ControlStatus.Ok, body: { ordersEnabled: this.risk.ordersEnabled, ordersLatched: false } };
  }

  private async doDrain(): Promise<DrainReport> {
    const { log, config } = this.options;
    this.ready = false;
    this.subscriber.close();
    await this.intakeLoop?.catch(() => undefined);
    await this.pipeline.drain(config.shutdown.drainTimeoutMs);
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(resolve, config.shutdown.drainTimeoutMs, 'timeout').unref());
    const outcome = await Promise.race([this.publisher.drain().then(() => 'drained' as const), timeout]);
    const stats = this.publisher.orders.stats;
    const undelivered = stats.droppedRecords + (outcome === 'drained' ? 0 : this.publisher.orders.pendingRecords);
    this.pipeline.refreshCounters();
    const report: DrainReport = {
      ordersAccepted: this.processorCounters.ordersAccepted,
      ordersPublished: stats.sentRecords,
      ordersUndelivered: undelivered,
      drained: outcome === 'drained',
    };
    log(
      `Engine drained ordersPublished=${report.ordersPublished} ordersUndelivered=${report.ordersUndelivered} ` +
        `complete=${report.drained} ordersAccepted=${report.ordersAccepted}`,
    );
    return report;
  }
}

/** The sliding-window quantiles in microseconds (null while the window is empty), for the status answer. */
function latencyView(snapshot: WindowSnapshot): Record<string, number | null> {
  const micros = (ns: number): number | null => (Number.isFinite(ns) ? Math.round(ns / 100) / 10 : null);
  return {
    p50Micros: micros(snapshot.p50Ns),
    p90Micros: micros(snapshot.p90Ns),
    p99Micros: micros(snapshot.p99Ns),
    p999Micros: micros(snapshot.p999Ns),
    samples: snapshot.samples,
    windowSeconds: snapshot.windowMs / 1000,
  };
}

function countsByName(counts: ArrayLike<number>, names: readonly string[]): Record<string, number> {
  const result: Record<string, number> = {};
  for (let i = 0; i < counts.length; i++) if (counts[i] > 0) result[names[i] ?? String(i)] = counts[i];
  return result;
}
