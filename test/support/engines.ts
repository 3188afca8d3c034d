import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { applySpecDefaults } from '../../operator/api/defaults.ts';
import type { LatencyAnalysis, TradingEngine } from '../../operator/api/types.ts';

/** Test helper: a TradingEngine from examples/NAME.yaml, defaulted as the API server would, with a uid. */
export function exampleEngine(name: 'minimal' | 'gpu-canary' | 'strategies/tradingengine', overrides: { namespace?: string; uid?: string } = {}): TradingEngine {
  const path = fileURLToPath(new URL(`../../examples/${name}.yaml`, import.meta.url));
  const raw = parse(readFileSync(path, 'utf8')) as { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; spec: unknown };
  return {
    apiVersion: raw.apiVersion,
    kind: raw.kind,
    metadata: { ...raw.metadata, namespace: overrides.namespace ?? 'trading', uid: overrides.uid ?? `uid-${raw.metadata.name}`, generation: 1 },
    spec: applySpecDefaults(raw.spec),
  };
}

/** A copy of an engine with its spec changed by `edit` (which may mutate the deep copy it receives). */
export function withSpec(engine: TradingEngine, edit: (spec: Record<string, any>) => void): TradingEngine { // eslint-disable-line @typescript-eslint/no-explicit-any
  const spec = structuredClone(engine.spec) as unknown as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  edit(spec);
  return { ...engine, spec: applySpecDefaults(spec) };
}

/** A latency gate as the API server stores it: the CRD's defaults under `fields` (thresholdMicros is required). */
export function latencyAnalysis(fields: Partial<LatencyAnalysis> & Pick<LatencyAnalysis, 'thresholdMicros'>): LatencyAnalysis {
  const latency = withSpec(exampleEngine('minimal'), (spec) => { spec.analysis = { latency: fields }; }).spec.analysis?.latency;
  if (latency === undefined) throw new Error('the defaulted spec lost its latency gate');
  return latency;
}

/** One series' value on a real engine pod's /metrics (port 9100), or undefined when the engine exports none. */
export async function engineMetric(podIp: string, series: string): Promise<number | undefined> {
  const text = await (await fetch(`http://${podIp}:9100/metrics`)).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}
