import type { EngineConfig } from '../config/engine-config.ts';
import { RiskEngine } from '../risk/risk-engine.ts';
import { SpscRing } from '../ring/spsc-ring.ts';
import { BusySpinWaitStrategy } from '../ring/wait-strategy.ts';
import { TickKind } from '../wire/layout.ts';
import { withoutFaultInjection } from './fault-injection.ts';
import { OrderIdSource } from './order.ts';
import { RingOutputSink } from './ring-output-sink.ts';
import { TickProcessor, type ProcessorCounters } from './tick-processor.ts';
import { TICK_PRICE, TICK_PUBLISH_NS, TICK_SIZE } from '../strategy/strategy-context.ts';
import { PipelineControl } from './worker-control.ts';
import { WorkerCounters } from './worker-counters.ts';
import { SyntheticTicks, WARMUP_BATCH_TICKS, type WarmupReport } from './warmup.ts';
import { BAR_RECORD, OUTPUT_SLOT_BYTES, TICK_SLOT_BYTES, TickField, writeTickSlot } from './worker-slots.ts';
import { barScanOf, type MutableBarScan } from '../scans/bar-scan-view.ts';
import type { BarScanResults } from '../scans/scan-thread.ts';
import type { BatchLatencyRecorder } from '../metrics/shared-latency.ts';
import { OwnershipCells, SymbolOwnership, UNOWNED } from '../ownership/symbol-ownership.ts';

export interface ShardWorkerOptions {
  readonly config: EngineConfig;
  /** False for the scratch worker of the JIT warm-up: no heap guard beside the real one's. Default true. */
  readonly heapGuard?: boolean;
  /** This worker's input ring (it is the consumer). */
  readonly input: SpscRing;
  /** This worker's output ring (it is the producer). */
  readonly output: SpscRing;
  readonly control: PipelineControl;
  readonly counters: WorkerCounters;
  readonly orderIds: OrderIdSource;
  readonly clockNs: () => number;
  /** Decision latency per trade (the worker's SharedLatencyRecorder); none in scratch shards. */
  readonly recordDecision?: BatchLatencyRecorder;
  /** Most ticks per batch (default DEFAULT_MAX_BATCH); see the class comment. */
  readonly maxBatch?: number;
  /**
   * The engine's ownership cells; copied into this worker's own before a batch whenever the generation moved.
   * Default: every symbol, unfenced.
   */
  readonly ownership?: OwnershipCells;
  /** Position storage shared with the engine's other risk engines (RiskEngine's positionStorage). */
  readonly positions?: Float64Array;
  /** Told once per strategy a fault disables, by strategy index (the thread entry posts it to the main thread). */
  readonly onStrategyFault?: (strategy: number, reason: string) => void;
  /**
   * With onBar strategies: the scan thread's result sets, this worker's index among `workers` (its onBar
   * instances decide for its shard's symbols: TickProcessorOptions.handledSymbols), and the cells where each worker
   * counts the bar records it has run (`acks[workerIndex]`, notified: WorkersPipeline.deliverBar waits on them).
   */
  readonly bars?: { readonly results: BarScanResults; readonly workerIndex: number; readonly workers: number; readonly acks: Int32Array };
}

/**
 * Ticks per worker batch at most. A batch's outputs become visible, and its input slots free, only when the
 * batch ends, so this bounds both the extra tick-to-order latency a burst adds (about maxBatch x per-tick cost)
 * and how long a feed thread blocked on a full ring waits; per-batch costs (a few atomic loads and stores) are
 * spread over up to this many ticks.
 */
export const DEFAULT_MAX_BATCH = 32;

/**
 * One symbol shard's processing: the worker-thread half of the workers layout, written as a plain class so
 * the same code runs in `pipeline.worker.ts`, in the worker's warm-up and in tests without a thread.
 *
 *   input ring --> TickProcessor (indicators -> strategies -> own RiskEngine) --> RingOutputSink --> output ring
 *
 * Per batch (`processBatch`, at most `maxBatch` ticks): apply changed risk switches -> stamp the batch start
 * (`beginFrame`: the batch's signals and orders carry it) -> process the ticks ->
 * publish counters -> publish outputs (waking main) -> release the input slots. The order is deliberate: a main
 * thread that has collected a record sees counters that include its tick, and once a worker's input ring reads
 * empty, every output and count of the ticks it held is already visible, which is how main knows a frame is
 * complete without a message.
 *
 * The RiskEngine covers every configured symbol (indices stay global) but sees only this shard's trades and
 * orders; positions and reference prices are per symbol, so sharding by symbol loses no risk state.
 *
 * Ownership: the processor reads this worker's copy of the ownership cells, refreshed with the risk switches
 * when the control block's generation moved, so a batch is decided under one ownership throughout. Every batch
 * that began under the old cells holds only ticks published before the change (its ticks were seen before the
 * generation was loaded), which is how the main thread knows when a released symbol can send nothing more
 * (WorkersPipeline.fenceOwnership).
 * Allocation-free per tick.
 */
export class ShardWorker {
  readonly risk: RiskEngine;
  readonly processor: TickProcessor;
  /** This worker's counters (scalars copied to shared memory once per batch). */
  readonly counters: ProcessorCounters;
  private readonly sink: RingOutputSink;
  private generation: number;
  private readonly maxBatch: number;
  /** This worker's copy of the ownership cells, read by its processor. */
  private readonly owned: OwnershipCells;
  private readonly engineOwnership: OwnershipCells;
  /** Per scan result set, its BarScan view (onBar); empty without onBar strategies. */
  private readonly barViews: MutableBarScan[];
  /** Bar records run so far (published to the acks cell at the end of their batch). */
  private barsRun = 0;

  constructor(private readonly options: ShardWorkerOptions) {
    const { config, counters, control } = options;
    this.risk = new RiskEngine(config.risk, config.symbols.length, counters.denials, options.positions);
    this.owned = new OwnershipCells(config.symbols.length);
    this.owned.epochs.fill(UNOWNED); // until the first batch copies the engine's cells
    this.engineOwnership = options.ownership ?? new SymbolOwnership('all', config.symbols.length).cells;
    this.counters = counters.processorCounters();
    this.sink = new RingOutputSink(options.output, control);
    this.processor = new TickProcessor({
      config,
      risk: this.risk,
      sink: this.sink,
      orderIds: options.orderIds,
      clockNs: options.clockNs,
      counters: this.counters,
      ownership: this.owned,
      ...(options.recordDecision === undefined ? {} : { recordDecision: options.recordDecision }),
      ...(options.onStrategyFault === undefined ? {} : {
        onStrategyFault: (index, _strategy, reason) => options.onStrategyFault?.(index, reason),
      }),
      ...(options.heapGuard === undefined ? {} : { heapGuard: options.heapGuard }),
      ...(options.bars === undefined ? {} : {
        handledSymbols: Uint8Array.from(config.symbols, (_, s) => (shardOfSymbol(s, options.bars?.workers ?? 1) === options.bars?.workerIndex ? 1 : 0)),
      }),
    });
    const results = options.bars?.results;
    this.barViews = results === undefined ? [] : results.slots.map((arrays) => barScanOf(arrays, results.names, results.correlationSymbols));
    this.generation = control.generation() - 1; // applied before the first batch
    this.maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
  }

  /** Processes batches until the input ring is closed and drained. Blocks this thread (wait strategy). */
  run(): void {
    const input = this.options.input;
    for (;;) {
      const ready = input.waitForAvailable();
      if (ready === 0) return;
      this.processBatch(ready < this.maxBatch ? ready : this.maxBatch);
    }
  }

  /** Processes whatever is available now, in batches, without waiting; returns how many ticks. */
  poll(): number {
    let total = 0;
    for (;;) {
      const ready = this.options.input.available();
      if (ready === 0) return total;
      const batch = ready < this.maxBatch ? ready : this.maxBatch;
      this.processBatch(batch);
      total += batch;
    }
  }

  /** Processes the first `ready` available ticks (see the class comment for the order of steps). */
  processBatch(ready: number): void {
    this.applySwitches();
    const input = this.options.input;
    const processor = this.processor;
    processor.beginFrame();
    const f64 = input.f64;
    const i32 = input.i32;
    const stride = input.slotF64;
    // The tick goes to the processor in its register: no double crosses the call (engine/indicators/indicator.ts).
    const register = processor.tick;
    const barsBefore = this.barsRun;
    for (let k = 0; k < ready; k++) {
      const base = input.slotIndexAt(k) * stride;
      const symbolIndex = i32[2 * base + TickField.SymbolIndexI32];
      const kind = i32[2 * base + TickField.KindI32];
      if (kind === BAR_RECORD) {
        this.runBar(symbolIndex, f64[base + TickField.Size], f64[base + TickField.Price], f64[base + TickField.PublishMonoNs]);
        continue;
      }
      register[TICK_PRICE] = f64[base + TickField.Price];
      register[TICK_PUBLISH_NS] = f64[base + TickField.PublishMonoNs];
      if (kind === TickKind.Trade) {
        register[TICK_SIZE] = f64[base + TickField.Size];
        processor.takeTrade(symbolIndex);
      } else {
        register[TICK_SIZE] = 0;
        processor.takeQuote(symbolIndex, kind === TickKind.Bid);
      }
    }
    this.options.counters.publish(this.counters);
    this.sink.publish();
    // After the batch's orders are out: the main thread may hand the scan's result set to the scan thread again.
    const bars = this.options.bars;
    if (bars !== undefined && this.barsRun !== barsBefore) {
      Atomics.store(bars.acks, bars.workerIndex, this.barsRun);
      Atomics.notify(bars.acks, bars.workerIndex);
    }
    // After the hand-off of the batch's orders to the main thread, as inline takes it after the frame's flush.
    processor.finishDecisions();
    input.release(ready);
  }

  /** A bar record: the shard's onBar strategies on result set `slot` (its arrays stay put until this shard acks). */
  private runBar(slot: number, bar: number, barStartNs: number, closingStamp: number): void {
    this.barsRun++;
    const view = this.barViews[slot];
    if (view === undefined) return; // not possible: bar records come only to workers given the result sets
    view.bar = bar;
    view.barStartNs = barStartNs;
    this.processor.onBar(view, closingStamp);
  }

  private applySwitches(): void {
    const control = this.options.control;
    const generation = control.generation();
    if (generation === this.generation) return;
    this.generation = generation;
    this.owned.epochs.set(this.engineOwnership.epochs);
    this.owned.shards.set(this.engineOwnership.shards);
    this.risk.setOrdersEnabled(control.ordersEnabled());
    if (control.killSwitch()) {
      if (!this.risk.killSwitchActive) this.risk.activateKillSwitch('engine kill switch');
    } else if (this.risk.killSwitchActive) {
      this.risk.resetKillSwitch();
    }
  }
}

/**
 * A worker's JIT warm-up, the worker thread's part of the workers layout's start (pipeline.worker.ts runs it
 * before reporting ready): `ticks` ticks of the warm-up's synthetic source (warmup.ts) through a scratch
 * ShardWorker (its own rings, risk state, counters and order ids), in batches of WARMUP_BATCH_TICKS as the main
 * thread publishes them, with the output ring consumed and discarded here. The scratch worker runs the same
 * classes and functions as the real one, so V8 has optimised them before the first real tick; the real worker's
 * state is untouched. Fault injection is left out: warm-up would only spin.
 */
export function runShardWarmup(config: EngineConfig, clockNs: () => number, ticks: number): WarmupReport {
  const started = clockNs();
  const batch = WARMUP_BATCH_TICKS;
  const spin = new BusySpinWaitStrategy();
  const input = SpscRing.create({ capacity: batch, slotBytes: TICK_SLOT_BYTES, overflow: 'drop', waitStrategy: spin });
  // Room for a whole batch's records (a signal and an order per strategy per tick): nothing here drains mid-batch.
  const capacity = nextPowerOfTwo(Math.max(1024, batch * config.strategies.length * 2));
  const output = SpscRing.create({ capacity, slotBytes: OUTPUT_SLOT_BYTES, overflow: 'block', waitStrategy: spin });
  const shard = new ShardWorker({
    config: { ...withoutFaultInjection(config), risk: { ...config.risk, ordersEnabled: true } },
    input,
    output,
    control: PipelineControl.create(true, false),
    counters: new WorkerCounters(config.strategies.length),
    orderIds: new OrderIdSource(0),
    clockNs,
    heapGuard: false,
  });
  const source = new SyntheticTicks(config.symbols.length);
  for (let sent = 0; sent < ticks; ) {
    const room = input.claimable(); // the whole ring: every batch is consumed below
    let n = 0;
    for (; n < room && sent < ticks; n++, sent++) {
      const tick = source.next();
      writeTickSlot(input, input.claimSlotAt(n), tick.symbolIndex, tick.kind, tick.price, tick.size, clockNs());
    }
    input.publishN(n);
    shard.poll();
    output.release(output.available());
  }
  return { ticks, orders: shard.counters.ordersAccepted, durationMs: (clockNs() - started) / 1e6 };
}

/** The worker that trades symbol `symbolIndex` in a workers layout of `workers` threads: symbols dealt round robin. */
export function shardOfSymbol(symbolIndex: number, workers: number): number {
  return symbolIndex % workers;
}

/** The smallest power of two >= n (n >= 1). Examples: 1 -> 1, 1000 -> 1024, 1024 -> 1024. */
export function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
