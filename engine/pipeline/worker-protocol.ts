import type { EngineConfig } from '../config/engine-config.ts';
import type { WaitStrategyName } from '../ring/wait-strategy.ts';
import type { WarmupReport } from './warmup.ts';
import type { TradeHistory } from '../history/trade-history.ts';
import type { BarScanResults } from '../scans/scan-thread.ts';

/**
 * What passes between the workers layout's main thread (workers-pipeline.ts) and a pipeline worker
 * (pipeline.worker.ts) as messages. Types only: both sides import this file, and it imports nothing that runs,
 * so neither side depends on the other's code. Everything per tick goes through the rings and the control block
 * (worker-slots.ts, worker-control.ts), never through messages.
 */

/** What the main thread hands a pipeline worker; plain data and SharedArrayBuffers only. */
export interface PipelineWorkerData {
  readonly config: EngineConfig;
  readonly workerIndex: number;
  /** OrderIdSource instance of this worker (`workerOrderInstance`). */
  readonly orderInstance: number;
  readonly waitStrategy: WaitStrategyName;
  readonly warmupTicks: number;
  readonly input: SharedArrayBuffer;
  readonly output: SharedArrayBuffer;
  readonly control: SharedArrayBuffer;
  readonly counters: SharedArrayBuffer;
  /** This worker's decision latency (shared-latency.ts): it records, the main thread drains. */
  readonly decisions: SharedArrayBuffer;
  /** The engine's ownership cells (OwnershipCells): main writes, workers copy per generation. */
  readonly ownership: SharedArrayBuffer;
  /** Positions per symbol (Float64), shared by every risk engine of the engine; each worker writes its own symbols. */
  readonly positions: SharedArrayBuffer;
  /** The history to warm-start this worker's symbols from (its arrays on SharedArrayBuffers, shared by all workers). */
  readonly history?: TradeHistory;
  /** With onBar strategies: the scans' result sets, and the Int32 cells (one per worker) counting bar records run. */
  readonly bars?: { readonly results: BarScanResults; readonly acks: SharedArrayBuffer };
}

/** A pipeline worker's first message: warmed up, about to take ticks. */
export interface PipelineWorkerReady {
  readonly type: 'ready';
  readonly warmup: WarmupReport;
}

/** A strategy this worker disabled after a fault, with the reason (the main thread logs and reports it). */
export interface PipelineWorkerStrategyFault {
  readonly type: 'strategyFault';
  readonly strategy: number;
  readonly reason: string;
}

export type PipelineWorkerMessage = PipelineWorkerReady | PipelineWorkerStrategyFault;
