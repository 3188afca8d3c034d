import type { Worker } from 'node:worker_threads';
import type { EngineConfig } from '../config/engine-config.ts';
import { DENY_REASON_SLOTS, RiskEngine } from '../risk/risk-engine.ts';
import { SpscRing } from '../ring/spsc-ring.ts';
import { YieldingWaitStrategy } from '../ring/wait-strategy.ts';
import { spawnWorker } from '../threads/spawn-worker.ts';
import { TickKind } from '../wire/layout.ts';
import { SymbolTable } from '../wire/symbol-id.ts';
import type { TickSlot } from '../wire/tick-codec.ts';
import { withoutFaultInjection } from './fault-injection.ts';
import { FrameIntake, createIntakeCounters, type TickHandler } from './frame-intake.ts';
import { Order, OrderIdSource, Signal, workerOrderInstance } from './order.ts';
import { OutputEncoder } from './output-encoder.ts';
import type { Pipeline, PipelineDeps } from './pipeline.ts';
import { ShardWorker, nextPowerOfTwo, shardOfSymbol } from './shard-worker.ts';
import type { WarmStartReport } from './warm-start.ts';
import type { TradeHistory } from '../history/trade-history.ts';
import { createProcessorCounters, type ProcessorCounters } from './tick-processor.ts';
import { WARMUP_BATCH_TICKS, discardingPublisher, feedSyntheticFrames, type WarmupReport } from './warmup.ts';
import { PipelineControl } from './worker-control.ts';
import { WorkerCounters, zeroScalars } from './worker-counters.ts';
import type { PipelineWorkerData, PipelineWorkerMessage, PipelineWorkerReady } from './worker-protocol.ts';
import { BAR_RECORD, OUTPUT_SLOT_BYTES, OutputField, OutputRecord, TICK_SLOT_BYTES, writeTickSlot } from './worker-slots.ts';
import type { BarScan } from '../strategy/sdk.ts';
import { waitAsync } from '../threads/wait-async.ts';
import { SharedLatencyDrain, sharedLatencyBytes } from '../metrics/shared-latency.ts';
import { SymbolOwnership, type OwnershipCells } from '../ownership/symbol-ownership.ts';


/** The shared pipeline dependencies (PipelineDeps) plus the workers layout's tuning knobs. */
export interface WorkersPipelineOptions extends Omit<PipelineDeps, 'onWorkerFailure'> {
  /** Called once per worker that fails (throws, or exits before a drain asked it to). */
  readonly onWorkerFailure?: (workerIndex: number, error: Error) => void;
  /** Records per outbound frame (<= MAX_RECORDS_PER_FRAME). */
  readonly maxRecordsPerFrame?: number;
  /** After a frame, how long main may spin collecting output before leaving the rest to the wake-up path. */
  readonly frameSpinMicros?: number;
  /** 'block' overflow: how long main waits for space in one ring within one frame before it drops and counts. */
  readonly blockTimeoutMs?: number;
  /** Output ring slots per worker (a power of two). Default: 2 x ringCapacity, at most 2^18. */
  readonly outputCapacity?: number;
  /** Synthetic ticks each worker runs on a scratch shard before it reports ready. Default: config.warmupTicks. */
  readonly warmupTicks?: number;
}

/** Ring names (label `ring`) of the workers layout, in `readRings` order. Example: 2 -> input-0, output-0, input-1, output-1. */
export function workersRingNames(workers: number): string[] {
  const names: string[] = [];
  for (let w = 0; w < workers; w++) names.push(`input-${w}`, `output-${w}`);
  return names;
}

/**
 * Default frame spin. Measured on the 2-core dev host (4-tick frames about 1 ms apart, main idle in epoll between
 * frames, 1 worker): with a 'spin' worker, a 30 µs spin took tick-to-order p50 from ~20 µs (wake-up path only)
 * to ~10-12 µs and p99 from ~85 µs to ~45-55 µs; with 'yield' or 'block' workers, which take 50-100+ µs to wake
 * on that host, no spin length changed latency measurably. The spin ends as soon as the frame's output is in.
 */
export const DEFAULT_FRAME_SPIN_MICROS = 30;
/**
 * 'block' overflow: the longest main waits for one ring per frame. A live worker frees a slot within one batch
 * (DEFAULT_MAX_BATCH ticks, microseconds), so this only has to ride out scheduling stalls on a loaded host
 * while still bounding how long metrics and the control socket can be held up by a stuck worker.
 */
export const DEFAULT_BLOCK_TIMEOUT_MS = 100;
/** How long a bar's onBar may keep a worker before the engine logs that the scan's result set is held. */
const BAR_WAIT_WARNING_MS = 5_000;
/** How long one wait for input-ring space lasts before main collects output again ('block' overflow). */
const BLOCK_SLICE_MS = 0.05;

const WORKER_MODULE = new URL(import.meta.url.endsWith('.ts') ? './pipeline.worker.ts' : './pipeline.worker.js', import.meta.url);

/**
 * The `workers` layout: the feed thread validates frames and routes each tick to the worker that owns its symbol
 * (`symbolIndex % workers`); each worker runs indicators, strategies and its own risk engine; the feed thread
 * encodes and publishes what comes back. Every ring has one writer thread and one reader thread (SPSC).
 *
 *                     main (feed) thread                                    worker threads
 *   market data   +---------------------------+  input-0 (ticks, 32 B)  +-------------------------------+
 *   --- frame --->| FrameIntake (validate)    |=======================> | ShardWorker 0                 |
 *                 |  onTick: symbol % N ------+  input-1                | TickProcessor -> RiskEngine 0 |
 *                 |                           |=======================> | ShardWorker 1 ...             |
 *                 |                           |                         +---------------+---------------+
 *                 |                           |  output-i (orders and signals, 56 B)   |
 *   orders  <-----| OutputEncoder <- collect  |<=======================================+
 *   signals <-----|   (frames, latency)       |       wakes main: control.mainWake (Atomics.waitAsync)
 *                 |  control block -----------+---> orders-enabled / kill switch + generation (per batch)
 *                 +---------------------------+       per-worker counters (SharedArrayBuffer, summed on scrape)
 *
 * Input. Ticks are written in place into ring slots and published once per input frame per ring (`publish`),
 * not per tick. A full input ring follows `pipeline.overflow`: 'drop' refuses the tick and counts it in the
 * ring's dropped counter; 'block' publishes what it has and waits (yielding, collecting output meanwhile, since a
 * worker may itself be waiting for output space) up to `blockTimeoutMs` per ring per frame, then drops and counts
 * the rest of that frame's ticks for the ring. Either way every accepted tick is processed or counted as dropped
 * (`nexus_engine_ring_dropped_total{ring="input-<i>"}`): accepted == processed + dropped once the rings are empty.
 *
 * Output. Main collects output (a) right after each frame: it spins, collecting, until every input ring it fed
 * reads empty (workers release input only after publishing its output, so that means the frame's output is all
 * here) or `frameSpinMicros` has passed; and (b) whenever a worker publishes while main is idle, woken through
 * `Atomics.waitAsync` on the control block's wake cell: no timer polling and no spinning while idle. Records go
 * through the same OutputEncoder as the inline layout; tick-to-order latency is recorded at hand-off, per order.
 * Orders of one symbol keep their order (one worker, FIFO rings); orders of different shards may interleave.
 *
 * Start: spawn the workers, which each warm up on a scratch shard (`runShardWarmup`) and report ready
 * (worker-protocol.ts); meanwhile this thread warms its own half on a scratch copy of the layout
 * (`runWorkersWarmup`).
 *
 * Risk switches reach every worker through the control block before its next batch (`syncRiskSwitches`).
 * Counters: each worker keeps its counts in its own SharedArrayBuffer; `refreshCounters` sums them.
 *
 * Drain: close the input rings -> workers finish their rings and exit -> collect every output ring -> flush.
 * Bounded by the timeout: a worker still running is terminated and its unprocessed ticks counted as dropped.
 * A worker that fails is logged by the engine through `onWorkerFailure`; its unprocessed and later ticks are
 * counted as dropped (what it published before failing is still collected).
 */
export class WorkersPipeline implements TickHandler, Pipeline {
  readonly layout = 'workers';
  readonly intake: FrameIntake;
  readonly control: PipelineControl;
  readonly inputs: readonly SpscRing[];
  readonly outputs: readonly SpscRing[];
  readonly workerCounters: readonly WorkerCounters[];
  /** Each worker's decision latency block, and the main thread's drain of it. */
  private readonly decisionBlocks: readonly SharedArrayBuffer[];
  private readonly decisionDrains: readonly SharedLatencyDrain[];
  readonly processorCounters: ProcessorCounters;
  readonly denials: Float64Array;
  readonly ringNames: readonly string[];
  private readonly encoder: OutputEncoder;
  /** Reused records that output-ring slots are read into before encoding (no allocation per record). */
  private readonly collectedOrder = new Order();
  private readonly collectedSignal = new Signal();
  private readonly workerCount: number;
  private readonly shardOf: Int32Array;
  /** Slots claimed in each input ring since its last publish. */
  private readonly claimed: Int32Array;
  /** 1 once a ring's 'block' wait timed out in the current frame: its further ticks this frame are dropped. */
  private readonly timedOut: Uint8Array;
  private anyTimedOut = false;
  /** 1 once a worker is gone (failed or terminated): its unprocessed ticks were counted, later ones are dropped. */
  private readonly gone: Uint8Array;
  /** 1 for a worker the drain terminated: its exit is expected, not a failure. */
  private readonly terminated: Uint8Array;
  private readonly claimInput: (ring: SpscRing, worker: number) => number;
  private readonly frameSpinMs: number;
  private readonly blockTimeoutMs: number;
  private readonly workers: (Worker | undefined)[];
  /** The engine's ownership cells and the risk engines' shared position storage, handed to every worker. */
  readonly ownership: OwnershipCells;
  private readonly positions: SharedArrayBuffer;
  private readonly exits: Promise<void>[] = [];
  private state: 'new' | 'starting' | 'running' | 'draining' | 'stopped' = 'new';
  private drained: Promise<void> | undefined;
  /** With onBar strategies (options.barScans): per worker, the bar records it has run (it writes) and been sent (main). */
  private readonly barAcks: Int32Array | undefined;
  private readonly barsSent: Int32Array;
  /** The last bar delivery's completion: each waits for the one before, so they settle in order. */
  private barsDone: Promise<void> = Promise.resolve();

  constructor(private readonly options: WorkersPipelineOptions) {
    const { config } = options;
    const { workers, ringCapacity, overflow } = config.pipeline;
    this.workerCount = workers;
    this.processorCounters = options.processorCounters;
    this.denials = options.denials;
    this.ringNames = workersRingNames(workers);
    this.frameSpinMs = (options.frameSpinMicros ?? DEFAULT_FRAME_SPIN_MICROS) / 1000;
    this.blockTimeoutMs = options.blockTimeoutMs ?? DEFAULT_BLOCK_TIMEOUT_MS;
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
    this.control = PipelineControl.create(options.risk.ordersEnabled, options.risk.killSwitchActive);
    const positions = options.risk.positionView.buffer;
    if (!(positions instanceof SharedArrayBuffer)) {
      throw new TypeError('WorkersPipeline needs a risk engine whose positions are on a SharedArrayBuffer (its default storage)');
    }
    this.positions = positions;
    this.ownership = options.ownership ?? new SymbolOwnership('all', config.symbols.length).cells;
    // Main's side of an input ring waits only under 'block' overflow, briefly and never parked for long.
    const mainWait = new YieldingWaitStrategy(100, 0.02);
    const outputCapacity = options.outputCapacity ?? Math.min(2 ** 18, nextPowerOfTwo(ringCapacity * 2));
    const inputs: SpscRing[] = [];
    const outputs: SpscRing[] = [];
    const counters: WorkerCounters[] = [];
    const decisions: SharedArrayBuffer[] = [];
    for (let w = 0; w < workers; w++) {
      decisions.push(new SharedArrayBuffer(sharedLatencyBytes()));
      inputs.push(SpscRing.create({ capacity: ringCapacity, slotBytes: TICK_SLOT_BYTES, overflow, waitStrategy: mainWait }));
      outputs.push(SpscRing.create({ capacity: outputCapacity, slotBytes: OUTPUT_SLOT_BYTES, overflow: 'block', waitStrategy: mainWait }));
      counters.push(new WorkerCounters(config.strategies.length));
    }
    this.inputs = inputs;
    this.outputs = outputs;
    this.workerCounters = counters;
    this.decisionBlocks = decisions;
    this.decisionDrains = decisions.map((sab) => new SharedLatencyDrain(sab));
    this.shardOf = Int32Array.from(config.symbols, (_symbol, index) => shardOfSymbol(index, workers));
    this.claimed = new Int32Array(workers);
    this.barAcks = options.barScans === undefined ? undefined : new Int32Array(new SharedArrayBuffer(workers * 4));
    this.barsSent = new Int32Array(workers);
    this.timedOut = new Uint8Array(workers);
    this.gone = new Uint8Array(workers);
    this.terminated = new Uint8Array(workers);
    this.workers = new Array<Worker | undefined>(workers).fill(undefined);
    // Chosen once: 'drop' is the ring's own counting claim; 'block' is a bounded wait that keeps collecting.
    this.claimInput =
      overflow === 'drop'
        ? (ring) => ring.claim()
        : (ring, worker) => {
            const slot = ring.tryClaim();
            return slot >= 0 ? slot : this.claimWhenFull(ring, worker);
          };
  }

  /** The worker threads, by worker index; undefined before start and once a worker has exited. */
  get threads(): readonly (Worker | undefined)[] {
    return this.workers;
  }

  /**
   * Spawns the workers, warms this thread's half of the layout while they warm up on theirs, and resolves with
   * this thread's warm-up report once every worker is ready; rejects (and stops them all) if one fails.
   */
  async start(history?: TradeHistory): Promise<WarmupReport> {
    if (this.state !== 'new') throw new Error(`WorkersPipeline.start: already ${this.state}`);
    this.state = 'starting';
    const { config, log } = this.options;
    const ready: Promise<PipelineWorkerReady>[] = [];
    for (let w = 0; w < this.workerCount; w++) {
      const data: PipelineWorkerData = {
        config,
        workerIndex: w,
        orderInstance: workerOrderInstance(this.options.instanceId, w),
        waitStrategy: config.pipeline.waitStrategy,
        warmupTicks: this.options.warmupTicks ?? config.warmupTicks,
        input: this.inputs[w].sab,
        output: this.outputs[w].sab,
        control: this.control.sab,
        counters: this.workerCounters[w].sab,
        decisions: this.decisionBlocks[w],
        ownership: this.ownership.sab,
        positions: this.positions,
        ...(history === undefined ? {} : { history }),
        ...(this.options.barScans === undefined || this.barAcks === undefined ? {} : {
          bars: { results: this.options.barScans, acks: this.barAcks.buffer as SharedArrayBuffer },
        }),
      };
      const worker = spawnWorker(WORKER_MODULE, data, { name: `nexus-pipeline-${w}` });
      this.workers[w] = worker;
      let failure: Error | undefined;
      worker.on('error', (error: unknown) => {
        failure ??= error instanceof Error ? error : new Error(String(error));
      });
      this.exits.push(
        new Promise<void>((resolve) => {
          worker.once('exit', (code: number) => {
            this.workers[w] = undefined;
            this.onWorkerExit(w, code, failure);
            resolve();
          });
        }),
      );
      ready.push(
        new Promise<PipelineWorkerReady>((resolve, reject) => {
          worker.on('message', (message: PipelineWorkerMessage) => {
            if (message.type === 'ready') resolve(message);
            else this.options.onStrategyFault?.(message.strategy, message.reason);
          });
          worker.once('exit', (code: number) => reject(failure ?? new Error(`Pipeline worker ${w} exited with code ${code} before it was ready`)));
        }),
      );
    }
    const warmup = runWorkersWarmup(config, this.options.clockNs);
    let reports: PipelineWorkerReady[];
    try {
      reports = await Promise.all(ready);
    } catch (error) {
      this.state = 'stopped';
      for (const ring of this.inputs) ring.close();
      await Promise.all(this.exits);
      throw error;
    }
    reports.forEach((report, w) =>
      log(`Pipeline worker ready worker=${w} warmupTicks=${report.warmup.ticks} warmupMs=${report.warmup.durationMs.toFixed(1)}`),
    );
    const starts = reports.flatMap((report) => (report.warmup.warmStart === undefined ? [] : [report.warmup.warmStart]));
    const report = starts.length === 0 ? warmup : { ...warmup, warmStart: combineWarmStarts(starts) };
    if (this.state !== 'starting') return report; // a drain began while the workers warmed up
    this.state = 'running';
    this.armWake();
    return report;
  }

  /** Validates the frame, routes its ticks to the workers, then collects and publishes what came back. */
  processFrame(frame: Uint8Array, topicId?: number): void {
    this.intake.accept(frame, topicId);
    this.publishInputs();
    this.collectAfterFrame();
    this.encoder.flush();
  }

  onTick(symbolIndex: number, tick: TickSlot): void {
    if (tick.kind === TickKind.Trade) this.options.trades?.onTradeOf(symbolIndex, tick);
    const worker = this.shardOf[symbolIndex];
    const ring = this.inputs[worker];
    if (this.gone[worker] !== 0) {
      ring.recordDropped(1);
      return;
    }
    const slot = this.claimInput(ring, worker);
    if (slot < 0) return;
    this.claimed[worker]++;
    writeTickSlot(ring, slot, symbolIndex, tick.kind, tick.price, tick.size, tick.publishMonoNs);
  }

  syncRiskSwitches(): void {
    const risk = this.options.risk;
    this.control.publishSwitches(risk.ordersEnabled, risk.killSwitchActive);
  }

  syncOwnership(): void {
    this.control.publishOwnership();
  }

  /**
   * Bumps the generation, notes how far each input ring is published, then collects and publishes output until
   * each live worker has released its ring that far: a batch decided under the old cells holds only ticks
   * published before the bump (ShardWorker), and a worker releases a batch's ticks only after publishing its
   * output. Polls once per event-loop turn, so frames keep flowing meanwhile.
   */
  async fenceOwnership(timeoutMs: number): Promise<boolean> {
    this.publishInputs();
    this.control.publishOwnership();
    const targets = this.inputs.map((ring) => ring.publishedSequence());
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      this.flush();
      if (this.inputs.every((ring, w) => this.gone[w] !== 0 || ring.releasedThrough(targets[w]))) {
        this.flush();
        return true;
      }
      if (performance.now() >= deadline) return false;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  refreshCounters(): void {
    const totals = this.processorCounters;
    zeroScalars(totals);
    totals.signals.fill(0);
    totals.strategyFaults.fill(0);
    this.denials.fill(0);
    for (const counters of this.workerCounters) counters.addInto(totals, this.denials);
  }

  collectDecisions(): void {
    for (const drain of this.decisionDrains) drain.drainInto(this.options.decisions.targets);
  }

  /**
   * A bar close's scan (in the scan thread's result set `slot`) to every worker's onBar strategies: a bar record in
   * each input ring (worker-slots.ts BAR_RECORD), after the ticks already routed, so each shard runs onBar in order
   * with its ticks. Resolves once every worker has run it and published its orders (the result set may then be
   * rewritten), in the order the deliveries were made. A worker that is gone, or whose ring had no room (counted as
   * a dropped record of that ring), is not waited for.
   */
  deliverBar(scan: BarScan, timeNs: number, slot: number): Promise<void> {
    const acks = this.barAcks;
    if (acks === undefined) throw new Error('deliverBar: this pipeline was started without the scans\' result sets (barScans)');
    const targets = new Int32Array(this.workerCount).fill(-1);
    for (let w = 0; w < this.workerCount; w++) {
      const ring = this.inputs[w];
      if (this.gone[w] !== 0) continue;
      const at = this.claimInput(ring, w);
      if (at < 0) continue;
      this.claimed[w]++;
      writeTickSlot(ring, at, slot, BAR_RECORD, scan.barStartNs, scan.bar, timeNs);
      targets[w] = ++this.barsSent[w];
    }
    this.publishInputs();
    // After the one before, however it ended: a failed wait must not let later deliveries through unwaited.
    const done = this.barsDone.catch(() => undefined).then(() => this.barRun(acks, targets, scan.bar));
    this.barsDone = done;
    return done;
  }

  /** Resolves once each worker w with targets[w] >= 0 has run that many bar records, is gone, or the pipeline stopped. */
  private async barRun(acks: Int32Array, targets: Int32Array, bar: number): Promise<void> {
    const started = performance.now();
    let warned = false;
    for (let w = 0; w < targets.length; w++) {
      for (;;) {
        const run = Atomics.load(acks, w);
        if (targets[w] < 0 || run >= targets[w] || this.gone[w] !== 0 || this.state === 'stopped') break;
        if (!warned && performance.now() - started > BAR_WAIT_WARNING_MS) {
          warned = true;
          this.options.log(`Warning: pipeline worker has not run a bar's onBar strategies worker=${w} bar=${bar} waitedMs=${BAR_WAIT_WARNING_MS}; its scan result set stays held (a scan that needs that set is skipped)`);
        }
        // Woken by the worker's notify; the timeout only re-checks gone, stopped and the warning.
        const wait = waitAsync(acks, w, run, 1_000);
        if (wait.async) await wait.value;
      }
    }
  }

  readRings(occupancy: Float64Array, dropped: Float64Array): void {
    for (let w = 0; w < this.workerCount; w++) {
      const input = this.inputs[w];
      const output = this.outputs[w];
      occupancy[2 * w] = input.occupancy() / input.capacity;
      dropped[2 * w] = input.dropped();
      occupancy[2 * w + 1] = output.occupancy() / output.capacity;
      dropped[2 * w + 1] = output.dropped();
    }
  }

  drain(timeoutMs: number): Promise<void> {
    this.drained ??= this.doDrain(timeoutMs);
    return this.drained;
  }

  /** Collects what the workers have published so far and publishes it, with any partly filled frame. */
  flush(): void {
    this.collect();
    this.encoder.flush();
  }

  /** Collects every record the workers have published and encodes it (flushing only full frames); returns how many. */
  collect(): number {
    let total = 0;
    for (let w = 0; w < this.workerCount; w++) total += this.collectFrom(this.outputs[w]);
    return total;
  }

  // ---- Internals ---------------------------------------------------------------------------------------

  private collectFrom(ring: SpscRing): number {
    const ready = ring.available();
    if (ready === 0) return 0;
    const encoder = this.encoder;
    const f64 = ring.f64;
    const i32 = ring.i32;
    const stride = ring.slotF64;
    for (let k = 0; k < ready; k++) {
      const base = ring.slotIndexAt(k) * stride;
      const ints = 2 * base;
      if (i32[ints + OutputField.RecordI32] === OutputRecord.Order) {
        const order = this.collectedOrder;
        order.orderId = f64[base + OutputField.OrderId];
        order.symbolIndex = i32[ints + OutputField.SymbolIndexI32];
        order.strategyId = i32[ints + OutputField.StrategyIdI32];
        order.side = i32[ints + OutputField.SideI32];
        order.price = f64[base + OutputField.Price];
        order.quantity = f64[base + OutputField.Amount];
        order.tickPublishMonoNs = f64[base + OutputField.TickPublishMonoNs];
        order.orderMonoNs = f64[base + OutputField.MadeMonoNs];
        order.shard = i32[ints + OutputField.ShardI32];
        order.shardEpoch = i32[ints + OutputField.ShardEpochI32];
        encoder.order(order);
      } else {
        const signal = this.collectedSignal;
        signal.symbolIndex = i32[ints + OutputField.SymbolIndexI32];
        signal.strategyId = i32[ints + OutputField.StrategyIdI32];
        signal.side = i32[ints + OutputField.SideI32];
        signal.price = f64[base + OutputField.Price];
        signal.strength = f64[base + OutputField.Amount];
        signal.tickPublishMonoNs = f64[base + OutputField.TickPublishMonoNs];
        signal.signalMonoNs = f64[base + OutputField.MadeMonoNs];
        encoder.signal(signal);
      }
    }
    ring.release(ready);
    return ready;
  }

  /** Publishes each input ring's claimed slots: one release store (and at most one wake) per ring per frame. */
  private publishInputs(): void {
    for (let w = 0; w < this.workerCount; w++) {
      if (this.claimed[w] === 0) continue;
      this.claimed[w] = 0;
      this.inputs[w].publish();
    }
    if (this.anyTimedOut) {
      this.timedOut.fill(0);
      this.anyTimedOut = false;
    }
  }

  /**
   * Spins collecting output until every live input ring reads empty (the frame's output is all collected) or the
   * spin budget is spent; whatever comes later arrives through the wake-up path. Physical time on purpose: this
   * bounds a busy wait, it is not engine logic.
   */
  private collectAfterFrame(): void {
    this.collect();
    if (this.frameSpinMs <= 0) return;
    const deadline = performance.now() + this.frameSpinMs;
    while (!this.inputsEmpty()) {
      if (performance.now() >= deadline) return;
      this.collect();
    }
    this.collect();
  }

  private inputsEmpty(): boolean {
    for (let w = 0; w < this.workerCount; w++) {
      if (this.gone[w] === 0 && this.inputs[w].occupancy() > 0) return false;
    }
    return true;
  }

  /** 'block' overflow, ring full: hand over what we have, then wait (bounded) while collecting output. */
  private claimWhenFull(ring: SpscRing, worker: number): number {
    if (this.timedOut[worker] === 0 && !ring.isClosed()) {
      if (this.claimed[worker] > 0) {
        this.claimed[worker] = 0;
        ring.publish();
      }
      const deadline = performance.now() + this.blockTimeoutMs;
      for (;;) {
        // A worker waiting for output space cannot take input: collect before every wait.
        this.collect();
        if (ring.waitForSpace(BLOCK_SLICE_MS) > 0) {
          const slot = ring.tryClaim();
          if (slot >= 0) return slot;
        }
        if (ring.isClosed() || performance.now() >= deadline) break;
      }
      this.timedOut[worker] = 1;
      this.anyTimedOut = true;
    }
    ring.recordDropped(1);
    return -1;
  }

  /**
   * Idle wake-up: raise the wake flag, re-check (output published before a worker could see the flag brought no
   * notify), then wait asynchronously until a worker clears the flag. One promise per idle period, none per tick.
   */
  private armWake(): void {
    if (this.state === 'stopped') return;
    this.control.raiseWake();
    if (this.collect() > 0) this.encoder.flush();
    const woken = this.control.waitForWake();
    if (woken === null) setImmediate(this.onWake);
    else void woken.then(this.onWake);
  }

  private readonly onWake = (): void => {
    if (this.state === 'stopped') return;
    if (this.collect() > 0) this.encoder.flush();
    this.armWake();
  };

  private onWorkerExit(worker: number, code: number, error: Error | undefined): void {
    if (this.gone[worker] !== 0 || this.terminated[worker] !== 0) return; // already reported, or terminated by drain
    if (error === undefined && code === 0 && (this.state === 'draining' || this.state === 'stopped')) return;
    const failure = error ?? new Error(`exited with code ${code}${this.state === 'draining' ? '' : ' while the engine was running'}`);
    this.markGone(worker);
    this.options.onWorkerFailure?.(worker, failure);
  }

  /** A worker that will take no more input: count what it left unprocessed, drop what comes later. */
  private markGone(worker: number): void {
    if (this.gone[worker] !== 0) return;
    this.gone[worker] = 1;
    const ring = this.inputs[worker];
    ring.close();
    const left = ring.occupancy();
    if (left > 0) ring.recordDropped(left);
  }

  private async doDrain(timeoutMs: number): Promise<void> {
    const { log } = this.options;
    this.publishInputs();
    const started = this.state === 'running' || this.state === 'starting';
    this.state = 'draining';
    for (const ring of this.inputs) ring.close();
    if (started) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(resolve, timeoutMs, 'timeout');
      });
      const outcome = await Promise.race([Promise.all(this.exits).then(() => 'exited' as const), timeout]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        const running = this.workers.flatMap((worker, w) => (worker === undefined ? [] : [w]));
        log(`Pipeline drain timed out timeoutMs=${timeoutMs} workers=${running.join(',')}, terminating`);
        for (const w of running) {
          this.terminated[w] = 1;
          this.outputs[w].close();
          await this.workers[w]?.terminate();
          this.markGone(w);
        }
      }
    }
    for (let w = 0; w < this.workerCount; w++) this.markGone(w); // never started or failed: count what is left
    this.collect();
    this.encoder.flush();
    this.state = 'stopped';
    this.control.wakeNow();
    this.refreshCounters();
  }
}

/** The workers' warm starts as one: they run at once, so the layout was warm when the slowest was. */
function combineWarmStarts(starts: readonly WarmStartReport[]): WarmStartReport {
  return {
    symbols: starts.reduce((sum, r) => sum + r.symbols, 0),
    seededTrades: starts.reduce((sum, r) => sum + r.seededTrades, 0),
    replayedTicks: starts.reduce((sum, r) => sum + r.replayedTicks, 0),
    durationMs: Math.max(...starts.map((r) => r.durationMs)),
    // Every worker opens the same kernels for the same config; one that could not load wasm says so.
    backend: starts.every((r) => r.backend === 'wasm') ? 'wasm' : 'js',
    backendReason: (starts.find((r) => r.backend !== 'wasm') ?? starts[0]).backendReason,
  };
}

/**
 * The feed thread's JIT warm-up for the workers layout, part of `WorkersPipeline.start` (each worker warms
 * itself, see `runShardWarmup`): a scratch WorkersPipeline (small rings, threads never started) whose shards are
 * run in this thread by ShardWorker after each synthetic frame (warmup.ts), so the feed thread's own hot
 * functions (tick routing, ring writes, output collection, encoding) are optimised before the first real frame.
 * The real pipeline, its workers and their risk state are untouched. Fault injection is left out.
 */
export function runWorkersWarmup(config: EngineConfig, clockNs: () => number): WarmupReport {
  const started = clockNs();
  const scratch: EngineConfig = {
    ...withoutFaultInjection(config),
    risk: { ...config.risk, ordersEnabled: true },
    pipeline: { ...config.pipeline, ringCapacity: 1024, overflow: 'drop' },
  };
  const discard = discardingPublisher();
  const pipeline = new WorkersPipeline({
    config: scratch,
    symbols: new SymbolTable(config.symbols),
    risk: new RiskEngine(scratch.risk, config.symbols.length),
    instanceId: 0,
    clockNs,
    intakeCounters: createIntakeCounters(),
    processorCounters: createProcessorCounters(config.strategies.length),
    denials: new Float64Array(DENY_REASON_SLOTS),
    publisher: discard.publisher,
    recordLatency: () => undefined,
    decisions: { record: { recordSince: () => undefined }, targets: [] },
    ordersStreamId: 0,
    signalsStreamId: 1,
    log: () => undefined,
    frameSpinMicros: 0,
    // A frame's records must fit: nothing drains an output ring while its in-thread shard runs.
    outputCapacity: nextPowerOfTwo(Math.max(2048, WARMUP_BATCH_TICKS * config.strategies.length * 2)),
  });
  const shards = pipeline.inputs.map(
    (input, w) =>
      new ShardWorker({
        config: scratch,
        input,
        output: pipeline.outputs[w],
        control: pipeline.control,
        counters: pipeline.workerCounters[w],
        orderIds: new OrderIdSource(0),
        clockNs,
        ownership: pipeline.ownership,
        heapGuard: false,
      }),
  );
  feedSyntheticFrames(config, clockNs, (frame) => {
    pipeline.processFrame(frame);
    for (const shard of shards) shard.poll();
    pipeline.collect();
  });
  pipeline.flush();
  return { ticks: config.warmupTicks, orders: discard.orders(), durationMs: (clockNs() - started) / 1e6 };
}
