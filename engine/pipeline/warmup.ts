import type { EngineConfig } from '../config/engine-config.ts';
import { GeneratedTick, RandomWalk } from '../sim/random-walk.ts';
import { DENY_REASON_SLOTS, RiskEngine } from '../risk/risk-engine.ts';
import { SymbolTable } from '../wire/symbol-id.ts';
import { TickFrameWriter } from '../wire/tick-codec.ts';
import { withoutFaultInjection } from './fault-injection.ts';
import { createIntakeCounters } from './frame-intake.ts';
import { InlinePipeline } from './inline-pipeline.ts';
import { OrderIdSource } from './order.ts';
import type { FramePublisher } from './output-encoder.ts';
import { ShardWorker, nextPowerOfTwo } from './shard-worker.ts';
import { createProcessorCounters } from './tick-processor.ts';
import { WorkersPipeline } from './workers-pipeline.ts';

export interface WarmupReport {
  readonly ticks: number;
  readonly orders: number;
  readonly durationMs: number;
}

/** Ticks per synthetic frame in every warm-up. */
const WARMUP_FRAME_TICKS = 64;

/**
 * JIT warm-up of the feed thread for the configured layout: `runWarmup` (inline) or `runWorkersWarmup` (the
 * feed thread's half of the workers layout; each worker warms itself, see `runShardWarmup`).
 */
export function runLayoutWarmup(config: EngineConfig, clockNs: () => number): WarmupReport {
  return config.pipeline.layout === 'workers' ? runWorkersWarmup(config, clockNs) : runWarmup(config, clockNs);
}

/**
 * JIT warm-up: runs `config.warmupTicks` synthetic ticks through a scratch pipeline built from the same config
 * (same classes, so V8 optimises the same functions), with its own risk state and a publisher that discards
 * everything. Nothing reaches a socket and the real pipeline's state is untouched; the first real tick then runs
 * optimised code instead of the interpreter. Fault injection is left out: warm-up would only spin.
 */
export function runWarmup(engineConfig: EngineConfig, clockNs: () => number): WarmupReport {
  const started = clockNs();
  const config = withoutFaultInjection(engineConfig);
  const processorCounters = createProcessorCounters(config.strategies.length);
  const discard = discardingPublisher();
  const pipeline = new InlinePipeline({
    config,
    symbols: new SymbolTable(config.symbols),
    risk: new RiskEngine({ ...config.risk, ordersEnabled: true }, config.symbols.length),
    orderIds: new OrderIdSource(0),
    clockNs,
    intakeCounters: createIntakeCounters(),
    processorCounters,
    publisher: discard.publisher,
    recordLatency: () => undefined,
    ordersStreamId: 0,
    signalsStreamId: 1,
  });
  feedSyntheticFrames(config, clockNs, (frame) => pipeline.processFrame(frame));
  return { ticks: config.warmupTicks, orders: discard.orders(), durationMs: (clockNs() - started) / 1e6 };
}

/**
 * The workers layout's feed-thread warm-up: a scratch WorkersPipeline (small rings, threads never started) whose
 * shards are run in this thread by ShardWorker after each frame, so the feed thread's own hot functions (tick
 * routing, ring writes, output collection, encoding) are optimised before the first real frame. The real
 * pipeline, its workers and their risk state are untouched. Fault injection is left out.
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
    ordersStreamId: 0,
    signalsStreamId: 1,
    log: () => undefined,
    frameSpinMicros: 0,
    // A frame's records must fit: nothing drains an output ring while its in-thread shard runs.
    outputCapacity: nextPowerOfTwo(Math.max(2048, WARMUP_FRAME_TICKS * config.strategies.length * 2)),
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

function discardingPublisher(): { publisher: FramePublisher; orders: () => number } {
  let orders = 0;
  return {
    publisher: {
      publishOrders: (_frame, count) => {
        orders += count;
      },
      publishSignals: () => undefined,
    },
    orders: () => orders,
  };
}

/** Feeds `config.warmupTicks` random-walk ticks over every configured symbol as 64-tick frames. */
function feedSyntheticFrames(config: EngineConfig, clockNs: () => number, onFrame: (frame: Uint8Array) => void): void {
  const walk = new RandomWalk({ symbolCount: config.symbols.length, seed: 12345, tradeRatio: 0.8, volatility: 0.002, startPrice: 100 });
  const tick = new GeneratedTick();
  const writer = new TickFrameWriter(WARMUP_FRAME_TICKS);
  const ids = new SymbolTable(config.symbols).ids;
  let sequence = 0;
  let exchangeTs = 1;
  for (let sent = 0; sent < config.warmupTicks; ) {
    writer.begin(1, sequence);
    while (!writer.isFull && sent < config.warmupTicks) {
      walk.next(tick);
      writer.append(ids[tick.symbolIndex], tick.kind, tick.price, tick.size, exchangeTs++, clockNs());
      sent++;
    }
    sequence += writer.count;
    onFrame(writer.finishView(clockNs()));
  }
}
