import { collectDefaultMetrics, Counter, Gauge, Registry, type Metric } from 'prom-client';
import { systemClock, type Clock } from '../clock/monotonic.ts';
import { ControlCounters, controlCommandLabels, controlRefusalReasons, controlResultLabels } from '../control/control-counters.ts';
import { denyReasonNames } from '../risk/risk-engine.ts';
import { LatencyHistogram } from './latency-histogram.ts';
import type { BatchLatencyRecorder, BucketCountsTarget } from './shared-latency.ts';
import { gateWindowReport, type GateWindowQuery, type GateWindowReport } from './gate-window.ts';
import { createWindowSnapshot, SlidingWindowQuantiles, windowIntervalMs, type WindowSnapshot } from './sliding-window.ts';

/**
 * The engine's Prometheus metrics, on an EXPLICIT registry (never prom-client's global one).
 *
 *   hot path --increments--> EngineCounters (plain fields, Float64Arrays)      recordTickToOrder(ns)
 *                                   |                                          |            |
 *   scrape --> registry.metrics() --+-- collect() callbacks read the counters  v            v
 *                                   +-- LatencyHistogramMetric  <---- LatencyHistogram  SlidingWindowQuantiles
 *                                   +-- window gauges (p50/p90/p99/p999, samples, seconds) <----'
 *
 * No prom-client call happens per tick: the pipeline bumps plain numbers and prom-client reads them on scrape.
 * Every name starts with `nexus_engine_`; docs/metrics.md lists them. The three
 * `nexus_engine_tick_to_order_latency_window_*` gauges are the operator's latency-gate API: stable names.
 */
export const METRIC_PREFIX = 'nexus_engine_';

/**
 * Upper bounds (µs) of the exported latency histograms (tick-to-order and decision): fine around typical budgets
 * (10 µs steps to 100 µs, 25 µs to 500 µs, 100 µs to 1 ms), then at most 1.34x apart to 100 ms and on to 60 s, the
 * largest threshold the CRD accepts, so Prometheus's histogram_quantile can breach any threshold below 60 s (with
 * the old top bound of 10 ms it answered 10000 for anything slower). Every bound of earlier releases is still one.
 */
export const TICK_TO_ORDER_BUCKETS_MICROS: readonly number[] = Object.freeze([
  10, 20, 30, 40, 50, 60, 70, 80, 90, 100,
  125, 150, 175, 200, 225, 250, 275, 300, 325, 350, 375, 400, 425, 450, 475, 500,
  600, 700, 800, 900, 1000,
  1250, 1500, 1750, 2000, 2500, 3000, 4000, 5000, 6000, 7500, 10000,
  12500, 15000, 20000, 25000, 30000, 40000, 50000, 60000, 75000, 100000,
  200000, 500000, 1000000, 2000000, 5000000, 10000000, 30000000, 60000000,
]);

/** Label values of `nexus_engine_indicator_backend{backend}`, indexed by EngineCounters.indicatorBackend. */
export const INDICATOR_BACKENDS = ['none', 'js', 'wasm', 'workers', 'gpu'] as const;

/** Label values of `nexus_engine_scan_kernels{kernels}`, indexed by EngineCounters.scanKernels. */
export const SCAN_KERNELS = ['none', 'js', 'wasm'] as const;

/** Label values of `nexus_engine_warm_start{state}`, indexed by EngineCounters.warmStartState. */
export const WARM_START_STATES = ['none', 'warm', 'cold'] as const;
/** Label values of `nexus_engine_warm_start_backend{backend}`, indexed by EngineCounters.warmStartBackend. */
export const WARM_START_BACKENDS = ['none', 'js', 'wasm'] as const;

/** Label values of `nexus_engine_scans_total{result}`, indexed like EngineCounters.scans. */
export const SCAN_RESULTS = ['completed', 'skipped', 'torn', 'failed'] as const;
/** Label values of `nexus_engine_bar_anomalies_total{kind}`, indexed like EngineCounters.barAnomalies. */
export const BAR_ANOMALIES = ['late_trade', 'future_trade', 'gap_bar_skipped', 'bar_missed'] as const;
/** Label values of `nexus_engine_scan_last_seconds{part}`, indexed like EngineCounters.scanSeconds. */
export const SCAN_PARTS = ['indicators', 'cross_section', 'correlation'] as const;

/** Quantiles exported by the window gauge, as label values. */
export const WINDOW_QUANTILES = ['0.5', '0.9', '0.99', '0.999'] as const;

/**
 * The hot-path counter block. The pipeline increments fields directly (`counters.ticksReceived += n`,
 * `counters.framesRejected[code]++`); the exporter reads them on scrape. Arrays are indexed by the code or
 * position of the matching label list in `EngineMetricsOptions`; for reason arrays index 0 means "ok" and is
 * not exported.
 */
export class EngineCounters {
  framesReceived = 0;
  ticksReceived = 0;
  /** Ticks missing from a stream's sequence (gaps, e.g. a PUB high-water mark drop). */
  ticksLost = 0;
  /** Orders risk accepted. */
  ordersAccepted = 0;
  /** Orders handed to the order socket. */
  ordersPublished = 0;
  /** Orders accepted and waiting to be handed to the order socket (e.g. while no gateway is connected). */
  ordersQueued = 0;
  /** Orders accepted and never handed to a connected gateway (queue overflow, failed sends, left at close). */
  ordersUndelivered = 0;
  /** 1 while orders are enabled (risk switches on, no kill switch), else 0. */
  ordersEnabled = 0;
  /** 1 while the engine is ready (warmed up, sockets connected), else 0. */
  ready = 0;
  /** Decisions to trade a symbol the engine does not own (ownership.mode assigned): not sent. */
  unownedDecisions = 0;
  /** onBar decisions for a symbol another shard handles (workers layout). */
  otherShardDecisions = 0;
  /** Symbols the engine may send orders for now (every symbol under ownership.mode all). */
  ownedSymbols = 0;
  /** The start's warm start, as an index of WARM_START_STATES: none configured, warm, or cold after a problem. */
  warmStartState = 0;
  /** Where the warm start's indicator states were computed, as an index of WARM_START_BACKENDS (0: no warm start). */
  warmStartBackend = 0;
  /** The batch backend the scans' correlation runs on, as an index of INDICATOR_BACKENDS (0: none). */
  indicatorBackend = 0;
  /** What runs the scans' per-bar part, as an index of SCAN_KERNELS (0: no scans). */
  scanKernels = 0;
  /** Scans whose correlation the batch backend failed (js computed it). */
  backendFallbacks = 0;
  /** The warm start's duration (s), trades seeded into the indicators, ticks replayed, and symbols left short. */
  warmStartSeconds = 0;
  warmStartSeededTrades = 0;
  warmStartReplayedTicks = 0;
  warmStartShortSymbols = 0;
  /** Bars the scans' warm start built from the history (0 without scans or history). */
  warmStartBars = 0;
  /** Bars closed for the scans (docs/scans.md); scans by SCAN_RESULTS; the last scan's parts in seconds by SCAN_PARTS. */
  barsClosed = 0;
  readonly scans = new Float64Array(4);
  readonly scanSeconds = new Float64Array(3);
  /** The bars' anomalies by BAR_ANOMALIES. */
  readonly barAnomalies = new Float64Array(4);
  /** Rejected frames by reject-reason code. */
  readonly framesRejected: Float64Array;
  /** Rejected ticks by reject-reason code. */
  readonly ticksRejected: Float64Array;
  /** Occupancy of each ring at the last refresh, as a fraction 0..1 of its capacity. */
  readonly ringOccupancy: Float64Array;
  /** Items dropped by each ring's overflow policy. */
  readonly ringDropped: Float64Array;
  /** Signals per strategy index. */
  readonly signals: Float64Array;
  /** Handler faults per strategy index (each disables its strategy). */
  readonly strategyFaults: Float64Array;
  /** Orders risk denied, by DenyReason code (slot 0 unused; see risk-engine.ts). */
  readonly ordersDenied: Float64Array;
  /** acquire() calls that found each pool empty. */
  readonly poolExhausted: Float64Array;

  constructor(sizes: EngineCounterSizes, shared: SharedCounterArrays = {}) {
    this.framesRejected = sized(shared.framesRejected, sizes.frameRejectReasons, 'framesRejected');
    this.ticksRejected = sized(shared.ticksRejected, sizes.tickRejectReasons, 'ticksRejected');
    this.ringOccupancy = new Float64Array(sizes.rings);
    this.ringDropped = new Float64Array(sizes.rings);
    this.signals = sized(shared.signals, sizes.strategies, 'signals');
    this.strategyFaults = sized(shared.strategyFaults, sizes.strategies, 'strategyFaults');
    this.ordersDenied = sized(shared.ordersDenied, sizes.denyReasons, 'ordersDenied');
    this.poolExhausted = new Float64Array(sizes.pools);
  }
}

export interface EngineCounterSizes {
  readonly frameRejectReasons: number;
  readonly tickRejectReasons: number;
  readonly rings: number;
  readonly strategies: number;
  readonly denyReasons: number;
  readonly pools: number;
}

/** Arrays a producer already counts into (e.g. `RiskEngine.denials`), used as the counter block's storage. */
export interface SharedCounterArrays {
  readonly framesRejected?: Float64Array;
  readonly ticksRejected?: Float64Array;
  readonly signals?: Float64Array;
  readonly strategyFaults?: Float64Array;
  readonly ordersDenied?: Float64Array;
}

function sized(shared: Float64Array | undefined, length: number, name: string): Float64Array {
  if (shared === undefined) return new Float64Array(length);
  if (shared.length < length) throw new RangeError(`shared ${name} needs ${length} slots, got ${shared.length}`);
  return shared;
}

export interface EngineMetricsOptions {
  /** Frame reject labels indexed by code; index 0 ("ok") is not exported. */
  readonly frameRejectReasons: readonly string[];
  /** Tick reject labels indexed by code; index 0 ("ok") is not exported. */
  readonly tickRejectReasons: readonly string[];
  /** Strategy names indexed by strategy index (label `strategy`). */
  readonly strategies: readonly string[];
  /** Ring names indexed by ring index (label `ring`). Default: none. */
  readonly rings?: readonly string[];
  /** Pool names indexed by pool index (label `pool`). Default: ['order']. */
  readonly pools?: readonly string[];
  /** Deny-reason labels indexed by code; [0] is not exported. Default: the risk engine's `denyReasonNames`. */
  readonly denyReasons?: readonly string[];
  /** Sliding-window length for the gate gauges (default 30 s) and its number of intervals (default 6). */
  readonly windowSeconds?: number;
  readonly windowIntervals?: number;
  /** Wall-clock ms, read once to align the window's intervals to wall-clock multiples (default Date.now). */
  readonly wallClockMs?: () => number;
  /** Time source for window rotation (default: host monotonic clock). */
  readonly clock?: Clock;
  /** Register prom-client's process/heap/GC/event-loop metrics on the same registry (default true). */
  readonly defaultMetrics?: boolean;
  /** Producer arrays to use as counter storage instead of copying. */
  readonly shared?: SharedCounterArrays;
  /** Called once per scrape before any value is read, to copy other counter blocks into `counters`. */
  readonly refresh?: (counters: EngineCounters) => void;
  /** Called before every window rotation: takes in latency recorded on other threads (decisionTargets). */
  readonly collect?: () => void;
  /** The configured `faultInjection.extraLatencyMicros`; 0 (the default) when fault injection is off. */
  readonly faultInjectionExtraLatencyMicros?: number;
  /** The control socket's counts (exported as control_commands_total and control_refusals_total; zero without). */
  readonly control?: ControlCounters;
  /** Whether the operator's cut is latched (orders_latched); false without. */
  readonly ordersLatched?: () => boolean;
}

/** One sample of prom-client's histogram MetricObject (what `Registry.getMetricsAsString` formats). */
interface HistogramSample {
  readonly metricName: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

interface HistogramMetricObject {
  readonly name: string;
  readonly help: string;
  readonly type: 'histogram';
  readonly aggregator: 'sum';
  readonly values: HistogramSample[];
}

/**
 * A Prometheus histogram whose data is our LatencyHistogram (nanoseconds, cumulative since start), exported in
 * seconds with fixed `le` bounds. It is registered on the registry like a prom-client metric: the registry
 * calls `get()` on scrape and formats `<name>_bucket{le}`, `<name>_sum` and `<name>_count`. Bucket counts use
 * `LatencyHistogram.cumulativeCounts`: a sample within 0.78 % below a bound may be counted above it.
 */
export class LatencyHistogramMetric {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly boundsNs: Float64Array;
  private readonly leLabels: readonly Readonly<Record<string, string>>[];
  private readonly cumulative: Float64Array;

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly source: LatencyHistogram,
    boundsMicros: readonly number[],
    private readonly beforeRead: () => void = () => {},
  ) {
    for (let i = 1; i < boundsMicros.length; i++) {
      if (!(boundsMicros[i] > boundsMicros[i - 1])) throw new RangeError('histogram bounds must ascend');
    }
    this.boundsNs = Float64Array.from(boundsMicros, (micros) => micros * 1_000);
    this.leLabels = boundsMicros.map((micros) => Object.freeze({ le: String(micros / 1e6) }));
    this.cumulative = new Float64Array(boundsMicros.length);
  }

  async get(): Promise<HistogramMetricObject> {
    this.beforeRead();
    const histogram = this.source;
    histogram.cumulativeCounts(this.boundsNs, this.cumulative);
    const bucket = `${this.name}_bucket`;
    const values: HistogramSample[] = [];
    for (let i = 0; i < this.leLabels.length; i++) {
      values.push({ metricName: bucket, labels: this.leLabels[i], value: this.cumulative[i] });
    }
    values.push(
      { metricName: bucket, labels: { le: '+Inf' }, value: histogram.count },
      { metricName: `${this.name}_sum`, labels: {}, value: histogram.sum / 1e9 },
      { metricName: `${this.name}_count`, labels: {}, value: histogram.count },
    );
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** `Registry.resetMetrics()` calls this; the source histogram belongs to the engine, so nothing is cleared. */
  reset(): void {}
}

type Labels = Readonly<Record<string, string>>;
interface Series {
  readonly labels: Labels;
  read(): number;
}

/** Engine metrics: the registry, the hot-path counter block and the tick-to-order latency recorders. */
export class EngineMetrics {
  readonly registry: Registry;
  readonly counters: EngineCounters;
  /** Tick-to-order latency since start (exported as the Prometheus histogram). */
  readonly latency: LatencyHistogram;
  /** Tick-to-order latency over the sliding window (exported as the gate gauges). */
  readonly window: SlidingWindowQuantiles;
  /** Decision latency since start: every trade, publisher stamp -> its decision complete (exported as a histogram). */
  readonly decision: LatencyHistogram;
  /** Decision latency over the sliding window (exported as the gate's default gauges). */
  readonly decisionWindow: SlidingWindowQuantiles;
  private readonly clock: Clock;
  private readonly refresh: ((counters: EngineCounters) => void) | undefined;
  private readonly collect: (() => void) | undefined;
  private readonly snapshot: WindowSnapshot = createWindowSnapshot();
  private readonly decisionSnapshot: WindowSnapshot = createWindowSnapshot();
  private scrapeInProgress = false;
  private timer: ReturnType<typeof setInterval> | undefined;

  /**
   * Records one tick-to-order latency (ns) into both the cumulative histogram and the sliding window.
   * O(1), allocation-free; a bound function, so it can be handed to the pipeline as a callback.
   */
  readonly recordTickToOrder = (ns: number): void => {
    this.latency.record(ns);
    this.window.record(ns);
  };

  /** Records a batch's decision latencies into the decision histogram and window. Allocation-free. */
  readonly decisionRecorder: BatchLatencyRecorder = {
    recordSince: (stampsNs, count, nowNs) => {
      this.decision.recordSince(stampsNs, count, nowNs);
      this.decisionWindow.recordSince(stampsNs, count, nowNs);
    },
  };

  /** Where decision latency recorded on other threads is added (shared-latency.ts): the histogram and the window. */
  get decisionTargets(): readonly BucketCountsTarget[] {
    return [this.decision, this.decisionWindow];
  }

  constructor(options: EngineMetricsOptions) {
    const rings = options.rings ?? [];
    const pools = options.pools ?? ['order'];
    const denyReasons = options.denyReasons ?? denyReasonNames;
    const windowSeconds = options.windowSeconds ?? 30;
    const windowIntervals = options.windowIntervals ?? 6;
    if (!(windowSeconds > 0) || !Number.isInteger(windowIntervals) || windowIntervals < 1) {
      throw new RangeError(`window needs seconds > 0 and an integer interval count >= 1, got ${windowSeconds}/${windowIntervals}`);
    }
    this.clock = options.clock ?? systemClock;
    this.refresh = options.refresh;
    this.collect = options.collect;
    this.registry = new Registry();
    this.counters = new EngineCounters(
      {
        frameRejectReasons: options.frameRejectReasons.length,
        tickRejectReasons: options.tickRejectReasons.length,
        rings: rings.length,
        strategies: options.strategies.length,
        denyReasons: denyReasons.length,
        pools: pools.length,
      },
      options.shared,
    );
    this.latency = new LatencyHistogram();
    this.decision = new LatencyHistogram();
    // Interval boundaries fall on wall-clock multiples of the interval, so every pod's intervals (on NTP-synced
    // nodes) cover the same times and the gate compares canary and stable on exactly the same intervals.
    const intervalMs = windowIntervalMs(windowSeconds, windowIntervals);
    const phaseMs = ((options.wallClockMs ?? Date.now)() % intervalMs + intervalMs) % intervalMs;
    const windowOptions = { intervalMs, intervals: windowIntervals, startMs: this.nowMs() - phaseMs };
    this.window = new SlidingWindowQuantiles(windowOptions);
    this.decisionWindow = new SlidingWindowQuantiles(windowOptions);
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.registerAll(options.frameRejectReasons, options.tickRejectReasons, options.strategies, rings, pools, denyReasons);
    this.registerControl(options.control ?? new ControlCounters(), options.ordersLatched ?? (() => false));
    const faultMicros = options.faultInjectionExtraLatencyMicros ?? 0;
    this.gauge('fault_injection_extra_latency_micros',
      'Configured fault injection delay per order, in microseconds (tests and demos only); 0 when fault injection is off.',
      [], [{ labels: {}, read: () => faultMicros }]);
  }

  /**
   * Takes in latency recorded on other threads (`collect`), then rotates both sliding windows to the clock's
   * current time, so such samples land in the interval they were recorded in, give or take one timer period.
   */
  rotateWindow(): void {
    this.collect?.();
    const now = this.nowMs();
    this.window.rotate(now);
    this.decisionWindow.rotate(now);
  }

  /** The tick-to-order sliding-window figures now (rotated first), e.g. for the control socket's status reply. */
  windowSnapshot(out: WindowSnapshot = createWindowSnapshot()): WindowSnapshot {
    this.rotateWindow();
    return this.window.snapshot(out);
  }

  /** The latency gate's window report of decision or tick-to-order latency now (rotated first); gate-window.ts. */
  gateWindow(query: GateWindowQuery): GateWindowReport {
    this.rotateWindow();
    return gateWindowReport(query.metric === 'decision' ? this.decisionWindow : this.window, query.metric, query.maxAgeMs);
  }

  /** The decision-latency sliding-window figures now (rotated first). */
  decisionWindowSnapshot(out: WindowSnapshot = createWindowSnapshot()): WindowSnapshot {
    this.rotateWindow();
    return this.decisionWindow.snapshot(out);
  }

  /**
   * Starts rotating the window on an unref'd timer (it never keeps the process alive), a quarter interval
   * apart (at most 250 ms), so a sample is attributed to an interval at most one timer period late.
   * Idempotent.
   */
  startWindowTimer(): void {
    if (this.timer !== undefined) return;
    const periodMs = Math.max(1, Math.min(250, Math.floor(this.window.intervalMs / 4)));
    this.timer = setInterval(() => this.rotateWindow(), periodMs);
    this.timer.unref();
  }

  /** Starts the metrics' background work: today only the window timer. Idempotent. */
  start(): void {
    this.startWindowTimer();
  }

  /** Stops the window timer. The registry keeps answering scrapes. */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  private nowMs(): number {
    return this.clock.nowNs() / 1e6;
  }

  /**
   * Runs `refresh` and takes the window snapshot once per scrape. `Registry.metrics()` calls every metric's
   * collect synchronously before awaiting anything, so the flag, cleared in a microtask, spans exactly one scrape
   * and every gauge of that scrape reads the same snapshot.
   */
  private readonly beginScrape = (): void => {
    if (this.scrapeInProgress) return;
    this.scrapeInProgress = true;
    queueMicrotask(() => {
      this.scrapeInProgress = false;
    });
    this.refresh?.(this.counters);
    this.rotateWindow();
    this.window.snapshot(this.snapshot);
    this.decisionWindow.snapshot(this.decisionSnapshot);
  };

  private registerAll(
    frameRejectReasons: readonly string[],
    tickRejectReasons: readonly string[],
    strategies: readonly string[],
    rings: readonly string[],
    pools: readonly string[],
    denyReasons: readonly string[],
  ): void {
    const c = this.counters;
    const one = (read: () => number): Series[] => [{ labels: {}, read }];
    const each = (label: string, names: readonly string[], values: Float64Array, from = 0): Series[] =>
      names.slice(from).map((value, i) => ({ labels: { [label]: value }, read: () => values[i + from] }));

    this.counter('ticks_received_total', 'Ticks received in market-data frames (before validation).', [], one(() => c.ticksReceived));
    this.counter('frames_received_total', 'Market-data frames received.', [], one(() => c.framesReceived));
    this.counter('frames_rejected_total', 'Market-data frames dropped whole, by reason.', ['reason'],
      each('reason', frameRejectReasons, c.framesRejected, 1));
    this.counter('ticks_rejected_total', 'Ticks dropped by validation, by reason.', ['reason'],
      each('reason', tickRejectReasons, c.ticksRejected, 1));
    this.counter('ticks_lost_total', 'Ticks missing from a stream sequence (gaps, e.g. PUB high-water-mark drops).', [],
      one(() => c.ticksLost));
    this.gauge('ring_occupancy', 'Fraction of each ring buffer in use at scrape time (0..1).', ['ring'],
      each('ring', rings, c.ringOccupancy));
    this.counter('ring_dropped_total', 'Items a full ring dropped under the drop overflow policy.', ['ring'],
      each('ring', rings, c.ringDropped));
    this.counter('signals_total', 'Signals emitted, by strategy.', ['strategy'], each('strategy', strategies, c.signals));
    this.counter('strategy_faults_total', 'Strategy handler faults (a throw, a bad order), by strategy: the first disables the strategy for the engine\'s life.', ['strategy'], each('strategy', strategies, c.strategyFaults));
    this.counter('orders_total', 'Orders checked by risk, by result (accepted or denied).', ['result'], [
      { labels: { result: 'accepted' }, read: () => c.ordersAccepted },
      {
        labels: { result: 'denied' },
        read: () => {
          let total = 0;
          for (let code = 1; code < denyReasons.length; code++) total += c.ordersDenied[code];
          return total;
        },
      },
    ]);
    this.counter('orders_denied_total', 'Orders denied by risk, by reason.', ['reason'],
      each('reason', denyReasons, c.ordersDenied, 1));
    this.counter('orders_published_total', 'Orders handed to the order socket.', [], one(() => c.ordersPublished));
    this.gauge('orders_queued', 'Orders accepted and waiting for the order socket (no gateway connected, or a slow one).', [],
      one(() => c.ordersQueued));
    this.counter('orders_undelivered_total', 'Orders accepted and never handed to a connected gateway (queue overflow, failed sends, left at shutdown).', [],
      one(() => c.ordersUndelivered));
    this.counter('pool_exhausted_total', 'Times an object pool was empty (the work it would have held was dropped and counted).',
      ['pool'], each('pool', pools, c.poolExhausted));
    this.gauge('orders_enabled', '1 while orders are enabled (risk switch on, no kill switch), else 0.', [],
      one(() => c.ordersEnabled));
    this.gauge('ready', '1 while the engine is ready to trade, else 0.', [], one(() => c.ready));
    this.counter('unowned_decisions_total', 'Decisions to trade a symbol another pod owns (or none does): computed and measured, never sent.', [],
      one(() => c.unownedDecisions));
    this.counter('other_shard_decisions_total', 'onBar decisions (workers layout) for a symbol another shard\'s instance of the strategy decides for: not sent (BarContext.handles).', [],
      one(() => c.otherShardDecisions));
    this.gauge('owned_symbols', 'Symbols this engine may send orders for now (shards granted by the operator, or every symbol when ownership.mode is all).', [],
      one(() => c.ownedSymbols));
    this.gauge('warm_start', 'How this engine started, 1 for the state that holds: none (no history configured), warm (indicators seeded from history), cold (the history was unusable and history.onError is coldStart).',
      ['state'], WARM_START_STATES.map((state, i) => ({ labels: { state }, read: () => (c.warmStartState === i ? 1 : 0) })));
    this.gauge('indicator_backend', 'The batch backend this engine runs its batch work on (the scans\' correlation matrix), 1 for the one chosen: none (no such work configured), js, wasm, workers, gpu. Why it was chosen (the calibration\'s figures) is in the status and the log.',
      ['backend'], INDICATOR_BACKENDS.map((backend, i) => ({ labels: { backend }, read: () => (c.indicatorBackend === i ? 1 : 0) })));
    this.gauge('scan_kernels', 'What runs the scans\' per-bar part (the scanned indicators of every symbol, ranks and z-scores), 1 for the one chosen: none (no scans), js or wasm (the same values bit for bit; wasm unless the backend is js). Why is in the status and the log.',
      ['kernels'], SCAN_KERNELS.map((kernels, i) => ({ labels: { kernels }, read: () => (c.scanKernels === i ? 1 : 0) })));
    this.counter('indicator_backend_fallbacks_total', 'Scans whose correlation the batch backend failed (a lost GPU device, a size past its buffers): js computed it instead, with the same values. The log names the error.', [],
      one(() => c.backendFallbacks));
    this.gauge('warm_start_backend', 'Where the warm start computed the indicators\' states, 1 for the one used: none (no warm start), js or wasm (the same states bit for bit; wasm unless the backend is js). Why is in the status and the log.',
      ['backend'], WARM_START_BACKENDS.map((backend, i) => ({ labels: { backend }, read: () => (c.warmStartBackend === i ? 1 : 0) })));
    this.gauge('warm_start_seconds', 'Time the warm start from history took (0 without one), in seconds.', [], one(() => c.warmStartSeconds));
    this.gauge('warm_start_trades', 'Trades of history behind the warm start: seeded straight into the indicators, or replayed through the strategies (ticks, quotes included).',
      ['part'], [{ labels: { part: 'seeded' }, read: () => c.warmStartSeededTrades }, { labels: { part: 'replayed' }, read: () => c.warmStartReplayedTicks }]);
    this.counter('bars_closed_total', 'Bars closed for the scans (every symbol at once, at each bar interval of market time).', [], one(() => c.barsClosed));
    this.counter('scans_total', 'Bar-close scans by result: completed, skipped (the previous scan still ran: never queued), torn (its rows were overwritten while it ran: discarded), failed.',
      ['result'], SCAN_RESULTS.map((result, i) => ({ labels: { result }, read: () => c.scans[i] })));
    this.counter('bar_anomalies_total', 'What the bars did not take in as it came: a late print (joined the open bar), a print stamped over a week ahead (left out), an empty bar of a market-wide silence not closed (beyond 16), a bar the per-bar indicators missed (it left the panel before a late scan).',
      ['kind'], BAR_ANOMALIES.map((kind, i) => ({ labels: { kind }, read: () => c.barAnomalies[i] })));
    this.gauge('scan_last_seconds', 'The last completed scan, by part: the per-bar indicators of every symbol, the cross-sections (rank, z-score), the correlation matrix.',
      ['part'], SCAN_PARTS.map((part, i) => ({ labels: { part }, read: () => c.scanSeconds[i] })));
    this.gauge('warm_start_bars', 'Bars the scans\' warm start built from the history (every trade of the file), their per-bar indicators fed before ready; 0 without scans or history.', [],
      one(() => c.warmStartBars));
    this.gauge('warm_start_short_symbols', 'Symbols whose history had fewer trades than the longest indicator warm-up: they started with unstable indicators.', [],
      one(() => c.warmStartShortSymbols));

    this.registerLatencyFamily('tick_to_order', this.latency, this.snapshot, {
      histogram: 'Tick-to-order latency since start: feed publish stamp to order hand-off to the socket, in seconds.',
      quantiles: 'Tick-to-order latency quantile over the sliding window, in microseconds (NaN when the window has no samples). Gate API.',
      samples: 'Tick-to-order samples in the sliding window. Gate API.',
      seconds: 'Time span the sliding window currently covers, in seconds. Gate API.',
    });
    this.registerLatencyFamily('decision', this.decision, this.decisionSnapshot, {
      histogram: 'Decision latency since start, every trade: feed publish stamp to its decision complete (indicators, every strategy, risk, the order encoded), in seconds.',
      quantiles: 'Decision latency quantile over the sliding window, every trade, in microseconds (NaN when the window has no samples). Gate API (the default sample).',
      samples: 'Decisions (trades processed) in the sliding window. Gate API.',
      seconds: 'Time span the decision window currently covers, in seconds. Gate API.',
    });
  }

  /**
   * One latency family: `<name>_latency_seconds` (the cumulative histogram) and the sliding window's gate gauges
   * `<name>_latency_window_micros{quantile}`, `_samples` and `_seconds`, read from `snapshot` (taken once per scrape).
   */
  private registerLatencyFamily(
    name: string,
    histogram: LatencyHistogram,
    snapshot: WindowSnapshot,
    help: { readonly histogram: string; readonly quantiles: string; readonly samples: string; readonly seconds: string },
  ): void {
    const metric = new LatencyHistogramMetric(`${METRIC_PREFIX}${name}_latency_seconds`, help.histogram, histogram, TICK_TO_ORDER_BUCKETS_MICROS, this.beginScrape);
    // The registry's typings only list prom-client's own classes; at runtime it needs name, type, get() and reset().
    this.registry.registerMetric(metric as unknown as Metric);
    this.gauge(`${name}_latency_window_micros`, help.quantiles, ['quantile'], [
      { labels: { quantile: WINDOW_QUANTILES[0] }, read: () => snapshot.p50Ns / 1_000 },
      { labels: { quantile: WINDOW_QUANTILES[1] }, read: () => snapshot.p90Ns / 1_000 },
      { labels: { quantile: WINDOW_QUANTILES[2] }, read: () => snapshot.p99Ns / 1_000 },
      { labels: { quantile: WINDOW_QUANTILES[3] }, read: () => snapshot.p999Ns / 1_000 },
    ]);
    this.gauge(`${name}_latency_window_samples`, help.samples, [], [{ labels: {}, read: () => snapshot.samples }]);
    this.gauge(`${name}_latency_window_seconds`, help.seconds, [], [{ labels: {}, read: () => Math.round(snapshot.windowMs) / 1_000 }]);
  }

  private registerControl(control: ControlCounters, latched: () => boolean): void {
    const commands: Series[] = controlCommandLabels.flatMap((command, i) => controlResultLabels.map((result, j) => ({
      labels: { command, result },
      read: () => control.commands[i * controlResultLabels.length + j],
    })));
    this.counter('control_commands_total', 'Control requests answered, by command and result (ok, rejected, malformed, unknown_command).',
      ['command', 'result'], commands);
    this.counter('control_refusals_total', 'Control peers refused in the CURVE handshake (never answered), by reason.', ['reason'],
      controlRefusalReasons.map((reason, i) => ({ labels: { reason }, read: () => control.refusals[i] })));
    this.gauge('orders_latched', "1 while the operator's cut is latched (orders-on refused until unlatch), else 0.", [],
      [{ labels: {}, read: () => (latched() ? 1 : 0) }]);
  }

  private counter(name: string, help: string, labelNames: string[], series: readonly Series[]): void {
    const beginScrape = this.beginScrape;
    new Counter({
      name: METRIC_PREFIX + name,
      help,
      labelNames,
      registers: [this.registry],
      collect(this: Counter) {
        beginScrape();
        this.reset();
        for (const { labels, read } of series) {
          const value = read();
          this.inc(labels, Number.isFinite(value) && value > 0 ? value : 0);
        }
      },
    });
  }

  private gauge(name: string, help: string, labelNames: string[], series: readonly Series[]): void {
    const beginScrape = this.beginScrape;
    new Gauge({
      name: METRIC_PREFIX + name,
      help,
      labelNames,
      registers: [this.registry],
      collect(this: Gauge) {
        beginScrape();
        for (const { labels, read } of series) this.set(labels, read());
      },
    });
  }
}

/** Builds the engine's metrics on a fresh registry. See EngineMetrics. */
export function createEngineMetrics(options: EngineMetricsOptions): EngineMetrics {
  return new EngineMetrics(options);
}
