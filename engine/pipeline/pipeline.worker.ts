// The workers layout's thread entry: one symbol shard. Attaches to the rings, control block and counters the
// main thread made (workerData), warms up on a scratch shard, warm-starts its symbols from the history it was
// given (if any), reports ready, then processes its input ring until
// the main thread closes it and it is drained; the thread then exits with code 0. See workers-pipeline.ts; the
// messages both sides exchange are in worker-protocol.ts.
import { parentPort, workerData } from 'node:worker_threads';
import { monoNowNs } from '../clock/monotonic.ts';
import { SpscRing } from '../ring/spsc-ring.ts';
import { createWaitStrategy } from '../ring/wait-strategy.ts';
import { OrderIdSource } from './order.ts';
import { ShardWorker, runShardWarmup, shardOfSymbol } from './shard-worker.ts';
import { warmStart } from './warm-start.ts';
import { openWarmStateKernels } from '../batch/warm-state-kernels.ts';
import { PipelineControl } from './worker-control.ts';
import { WorkerCounters } from './worker-counters.ts';
import { SharedLatencyRecorder } from '../metrics/shared-latency.ts';
import type { PipelineWorkerData, PipelineWorkerReady, PipelineWorkerStrategyFault } from './worker-protocol.ts';
import { OwnershipCells } from '../ownership/symbol-ownership.ts';
import { loadStrategyModules } from '../strategy/strategy-modules.ts';

const data = workerData as PipelineWorkerData;
if (parentPort === null) throw new Error('pipeline.worker.ts runs only as a worker thread');
// Each thread loads the strategy modules for itself (the main thread checked them before starting the workers).
await loadStrategyModules(data.config.strategies);
const waitStrategy = createWaitStrategy(data.waitStrategy);
const shard = new ShardWorker({
  config: data.config,
  input: SpscRing.attach(data.input, { waitStrategy }),
  output: SpscRing.attach(data.output, { waitStrategy }),
  control: PipelineControl.attach(data.control),
  counters: new WorkerCounters(data.config.strategies.length, data.counters),
  recordDecision: new SharedLatencyRecorder(data.decisions),
  orderIds: new OrderIdSource(data.orderInstance),
  clockNs: monoNowNs,
  ownership: new OwnershipCells(data.config.symbols.length, data.ownership),
  positions: new Float64Array(data.positions),
  onStrategyFault: (strategy, reason) => {
    const message: PipelineWorkerStrategyFault = { type: 'strategyFault', strategy, reason };
    parentPort?.postMessage(message);
  },
  ...(data.bars === undefined ? {} : {
    bars: { results: data.bars.results, workerIndex: data.workerIndex, workers: data.config.pipeline.workers, acks: new Int32Array(data.bars.acks) },
  }),
});
const jit = runShardWarmup(data.config, monoNowNs, data.warmupTicks);
const workers = data.config.pipeline.workers;
const warmup = data.history === undefined ? jit : {
  ...jit,
  warmStart: warmStart(
    shard.processor, data.history, (symbol) => shardOfSymbol(symbol, workers) === data.workerIndex, monoNowNs,
    await openWarmStateKernels(data.config.backend),
  ),
};
// The history is not needed after this: drop this thread's hold on its shared buffers, so they can be freed.
delete (data as { history?: unknown }).history;
const ready: PipelineWorkerReady = { type: 'ready', warmup };
parentPort.postMessage(ready);
shard.run();
