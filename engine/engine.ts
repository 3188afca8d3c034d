import { hostname } from 'node:os';
import { endpointFor, type EngineConfig } from './config/engine-config.ts';
import { MarketDataSubscriber } from './feed/market-data-subscriber.ts';
import { createEngineMetrics, type EngineMetrics } from './metrics/engine-metrics.ts';
import { startMetricsServer, type MetricsServer } from './metrics/http-server.ts';
import type { WindowSnapshot } from './metrics/sliding-window.ts';
import { ControlServer, type ControlReply } from './orders/control-server.ts';
import { OrderPublisher } from './orders/order-publisher.ts';
import { createIntakeCounters } from './pipeline/frame-intake.ts';
import { InlinePipeline, type FramePublisher } from './pipeline/inline-pipeline.ts';
import { OrderIdSource } from './pipeline/order.ts';
import { createProcessorCounters } from './pipeline/tick-processor.ts';
import { runWarmup } from './pipeline/warmup.ts';
import { RiskEngine, denyReasonNames } from './risk/risk-engine.ts';
import { ControlStatus, RejectReason, rejectReasonNames } from './wire/layout.ts';
import { SymbolTable, symbolId } from './wire/symbol-id.ts';

export interface EngineOptions {
  readonly config: EngineConfig;
  readonly clockNs: () => number;
  readonly log: (line: string) => void;
}

export interface DrainReport {
  readonly ordersPublished: number;
  readonly ordersUndelivered: number;
  readonly drained: boolean;
}

/**
 * One engine process: market data in over ZeroMQ SUB, the pipeline, orders out over PUSH and signals over PUB,
 * metrics and health over HTTP, and a control socket. Lifecycle:
 *
 *   start(): open sockets -> JIT warm-up on a scratch pipeline -> ready -> intake runs
 *   drain(): stop intake -> flush the pipeline -> wait until every accepted order is handed to libzmq
 *   stop():  drain, then close every socket (lingering so libzmq transmits) and the HTTP server
 *
 * Readiness (`/readyz`) is true only after warm-up and before a drain: readiness does not wait for market data,
 * so an engine started while the market is closed still becomes Ready.
 */
export class Engine {
  readonly metrics: EngineMetrics;
  readonly risk: RiskEngine;
  private readonly pipeline: InlinePipeline;
  private readonly subscriber: MarketDataSubscriber;
  private readonly publisher: OrderPublisher;
  private readonly control: ControlServer | undefined;
  private readonly intakeCounters = createIntakeCounters();
  private readonly processorCounters;
  private httpServer: MetricsServer | undefined;
  private intakeLoop: Promise<void> | undefined;
  private controlLoop: Promise<void> | undefined;
  private ready = false;
  private draining: Promise<DrainReport> | undefined;
  readonly endpoints: { marketData?: string; orders?: string; signals?: string; control?: string; metrics?: string } = {};

  constructor(private readonly options: EngineOptions) {
    const { config, clockNs } = options;
    const symbols = new SymbolTable(config.symbols);
    this.risk = new RiskEngine(config.risk, config.symbols.length);
    this.processorCounters = createProcessorCounters(config.strategies.length);
    const ordersEndpoint = endpointFor(config, 'orders');
    const signalsEndpoint = endpointFor(config, 'signals');
    if (ordersEndpoint === undefined) throw new Error('config has no orders endpoint');
    this.publisher = new OrderPublisher(ordersEndpoint, signalsEndpoint);
    const intake = this.intakeCounters;
    const processor = this.processorCounters;
    this.metrics = createEngineMetrics({
      frameRejectReasons: rejectReasonNames,
      tickRejectReasons: rejectReasonNames,
      strategies: config.strategies.map((strategy) => strategy.name),
      windowSeconds: config.metrics.windowSeconds,
      windowIntervals: config.metrics.windowIntervals,
      clock: { nowNs: clockNs },
      // The pipeline's own counter arrays are the metrics' storage: nothing is copied per tick.
      shared: {
        framesRejected: intake.framesRejected,
        ticksRejected: intake.ticksRejected,
        signals: processor.signals,
        ordersDenied: this.risk.denials,
      },
      refresh: (counters) => {
        counters.framesReceived = intake.framesReceived;
        counters.ticksReceived = intake.ticksReceived;
        counters.ticksLost = intake.ticksLost;
        counters.ordersAccepted = processor.ordersAccepted;
        counters.ordersPublished = this.publisher.orders.stats.sentRecords;
        counters.poolExhausted[0] = processor.orderPoolExhausted;
        counters.ordersEnabled = this.risk.ordersEnabled ? 1 : 0;
        counters.ready = this.ready ? 1 : 0;
      },
    });
    const instanceId = (symbolId(`${hostname()}/${process.pid}/${Date.now()}`) & 0xfffff) >>> 0;
    const publisher: FramePublisher = this.publisher;
    this.pipeline = new InlinePipeline({
      config,
      symbols,
      risk: this.risk,
      orderIds: new OrderIdSource(instanceId),
      clockNs,
      intakeCounters: this.intakeCounters,
      processorCounters: this.processorCounters,
      publisher,
      recordLatency: this.metrics.recordTickToOrder,
      ordersStreamId: instanceId,
      signalsStreamId: (instanceId ^ 0x5a5a5) >>> 0,
    });
    const marketData = endpointFor(config, 'marketData');
    if (marketData === undefined) throw new Error('config has no marketData endpoint');
    this.subscriber = new MarketDataSubscriber(
      { ...marketData, topics: marketData.topics ?? config.symbols },
      { clockNs, yieldEveryNs: config.pipeline.yieldEveryMicros * 1000 },
    );
    const controlEndpoint = endpointFor(config, 'control');
    if (controlEndpoint?.bind !== undefined) {
      this.control = new ControlServer(controlEndpoint.bind, {
        ordersOn: () => this.setOrdersEnabled(true),
        ordersOff: () => this.setOrdersEnabled(false),
        drain: async () => ({ status: ControlStatus.Ok, body: await this.drain() }),
        status: () => ({ status: ControlStatus.Ok, body: this.status() }),
      });
    }
  }

  async start(): Promise<void> {
    const { config, log } = this.options;
    const sockets = await this.publisher.open();
    this.endpoints.orders = sockets.orders;
    this.endpoints.signals = sockets.signals;
    this.endpoints.control = await this.control?.open();
    this.httpServer = await startMetricsServer({
      port: config.metrics.port,
      host: config.metrics.host,
      registry: this.metrics.registry,
      isReady: () => this.ready,
      readinessDetail: () => (this.ready ? 'ready' : this.draining !== undefined ? 'draining' : 'warming up'),
    });
    this.endpoints.metrics = `http://${config.metrics.host}:${this.httpServer.port}`;
    this.controlLoop = this.control?.run().catch((error: unknown) => log(`Control socket failed error="${String(error)}"`));

    const warm = runWarmup(config, this.options.clockNs);
    log(`Engine warmed up ticks=${warm.ticks} orders=${warm.orders} durationMs=${warm.durationMs.toFixed(1)}`);

    this.endpoints.marketData = await this.subscriber.open();
    this.metrics.start();
    this.ready = true;
    this.intakeLoop = this.subscriber.run(
      (frame) => this.pipeline.processFrame(frame),
      () => this.intakeCounters.framesRejected[RejectReason.BadTopic]++,
    );
    this.intakeLoop.catch((error: unknown) => log(`Market data intake failed error="${String(error)}"`));
    log(
      `Engine started layout=${config.pipeline.layout} symbols=${config.symbols.length} indicators=${config.indicators.length} ` +
        `strategies=${config.strategies.length} marketData=${this.endpoints.marketData ?? ''} orders=${this.endpoints.orders ?? ''} ` +
        `signals=${this.endpoints.signals ?? 'off'} control=${this.endpoints.control ?? 'off'} metrics=${this.endpoints.metrics}`,
    );
  }

  /** Stops intake, flushes, and waits until every accepted order is handed to libzmq (bounded by drainTimeoutMs). */
  drain(): Promise<DrainReport> {
    this.draining ??= this.doDrain();
    return this.draining;
  }

  async stop(): Promise<DrainReport> {
    const report = await this.drain();
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
    return {
      ready: this.ready,
      draining: this.draining !== undefined,
      ordersEnabled: this.risk.ordersEnabled,
      killSwitch: this.risk.killSwitchActive,
      layout: this.options.config.pipeline.layout,
      ticks: { received: intake.ticksReceived, accepted: intake.ticksAccepted, lost: intake.ticksLost },
      framesRejected: countsByName(intake.framesRejected, rejectReasonNames),
      ticksRejected: countsByName(intake.ticksRejected, rejectReasonNames),
      orders: {
        accepted: processor.ordersAccepted,
        denied: processor.ordersDenied,
        deniedByReason: countsByName(this.risk.denials, denyReasonNames),
        published: this.publisher.orders.stats.sentRecords,
        queued: this.publisher.orders.queuedFrames,
        undelivered: this.publisher.orders.stats.droppedRecords,
      },
      signals: processor.signals.reduce((sum, n) => sum + n, 0),
      latency: latencyView(this.metrics.windowSnapshot()),
    };
  }

  private setOrdersEnabled(enabled: boolean): ControlReply {
    if (enabled && this.risk.killSwitchActive) {
      return { status: ControlStatus.Rejected, body: { error: 'kill switch is latched; orders stay off' } };
    }
    this.risk.setOrdersEnabled(enabled);
    this.options.log(`Engine orders ${enabled ? 'enabled' : 'disabled'} by control socket`);
    return { status: ControlStatus.Ok, body: { ordersEnabled: this.risk.ordersEnabled } };
  }

  private async doDrain(): Promise<DrainReport> {
    const { log, config } = this.options;
    this.ready = false;
    this.subscriber.close();
    await this.intakeLoop?.catch(() => undefined);
    this.pipeline.flush();
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(resolve, config.shutdown.drainTimeoutMs, 'timeout').unref());
    const outcome = await Promise.race([this.publisher.drain().then(() => 'drained' as const), timeout]);
    const stats = this.publisher.orders.stats;
    const undelivered = stats.droppedRecords + (outcome === 'drained' ? 0 : this.publisher.orders.queuedFrames);
    const report = { ordersPublished: stats.sentRecords, ordersUndelivered: undelivered, drained: outcome === 'drained' };
    log(
      `Engine drained ordersPublished=${report.ordersPublished} ordersUndelivered=${report.ordersUndelivered} ` +
        `complete=${report.drained}`,
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
