import type { EngineConfig, PipelineConfig } from '../config/engine-config.ts';
import type { RiskEngine } from '../risk/risk-engine.ts';
import type { SymbolTable } from '../wire/symbol-id.ts';
import type { IntakeCounters } from './frame-intake.ts';
import { InlinePipeline } from './inline-pipeline.ts';
import { OrderIdSource } from './order.ts';
import type { FramePublisher, LatencyRecorder } from './output-encoder.ts';
import type { Pipeline } from './pipeline.ts';
import type { ProcessorCounters } from './tick-processor.ts';
import { WorkersPipeline, workersRingNames } from './workers-pipeline.ts';

/** Everything either layout needs from the engine. */
export interface PipelineDeps {
  readonly config: EngineConfig;
  readonly symbols: SymbolTable;
  /** The engine's risk engine: inline checks orders with it; workers mirror its switches. */
  readonly risk: RiskEngine;
  /** The engine's 20-bit order-id instance. */
  readonly instanceId: number;
  readonly clockNs: () => number;
  readonly intakeCounters: IntakeCounters;
  readonly processorCounters: ProcessorCounters;
  /** Denial totals: inline must pass `risk.denials`; workers sum into this array. */
  readonly denials: Float64Array;
  readonly publisher: FramePublisher;
  readonly recordLatency: LatencyRecorder;
  readonly ordersStreamId: number;
  readonly signalsStreamId: number;
  readonly log: (line: string) => void;
  readonly onWorkerFailure: (workerIndex: number, error: Error) => void;
}

/** Builds the pipeline `config.pipeline.layout` names. */
export function createPipeline(deps: PipelineDeps): Pipeline {
  switch (deps.config.pipeline.layout) {
    case 'inline':
      return new InlinePipeline({ ...deps, orderIds: new OrderIdSource(deps.instanceId) });
    case 'workers':
      return new WorkersPipeline(deps);
  }
}

/** The ring names (metrics label `ring`) a layout exports, in the order its `readRings` fills them. */
export function ringNamesFor(pipeline: PipelineConfig): string[] {
  return pipeline.layout === 'workers' ? workersRingNames(pipeline.workers) : [];
}
