import type { PipelineConfig } from '../config/engine-config.ts';
import type { ConfiguredStrategy } from '../strategy/strategy.ts';
import { InlinePipeline } from './inline-pipeline.ts';
import { OrderIdSource } from './order.ts';
import type { Pipeline, PipelineDeps } from './pipeline.ts';
import { WorkersPipeline, workersRingNames } from './workers-pipeline.ts';

/** Builds the pipeline `config.pipeline.layout` names. */
export function createPipeline(deps: PipelineDeps): Pipeline {
  switch (deps.config.pipeline.layout) {
    case 'inline': {
      const { onStrategyFault, ...rest } = deps;
      return new InlinePipeline({
        ...rest,
        orderIds: new OrderIdSource(deps.instanceId),
        recordDecision: deps.decisions.record,
        ...(onStrategyFault === undefined ? {} : { onStrategyFault: (index: number, _strategy: ConfiguredStrategy, reason: string) => onStrategyFault(index, reason) }),
      });
    }
    case 'workers':
      return new WorkersPipeline(deps);
  }
}

/** The ring names (metrics label `ring`) a layout exports, in the order its `readRings` fills them. */
export function ringNamesFor(pipeline: PipelineConfig): string[] {
  return pipeline.layout === 'workers' ? workersRingNames(pipeline.workers) : [];
}
