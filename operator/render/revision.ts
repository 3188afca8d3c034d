import type { TradingEngine } from '../api/types.ts';
import { shortHash } from './canonical-json.ts';
import { renderEngineConfig } from './engine-config.ts';
import { noModuleSources, type ModuleSources } from './module-sources.ts';
import { renderPodSpec } from './pod-template.ts';

/**
 * The revision of a TradingEngine: a 10-character hash of what makes a release, the pod spec plus the engine
 * configuration. Labels and annotations (spec.template.podLabels/podAnnotations, metadata) are not part of it,
 * so changing them alone is not a release and restarts nothing; neither are replicas, strategy or analysis.
 * Pure and stable: the same spec gives the same revision in every process and on every run. The order book id
 * (`ownership.book`, from the engine's name) is left out: it never changes for an engine. Strategy modules kept in
 * ConfigMaps count by content (`sources`, module-sources.ts): a new source is a new revision.
 */
export function revisionOf(engine: TradingEngine, sources: ModuleSources = noModuleSources): string {
  return shortHash({
    pod: renderPodSpec(engine, '<config>'),
    engine: renderEngineConfig(engine.spec, 0, sources),
  });
}
