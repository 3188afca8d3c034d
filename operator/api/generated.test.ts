import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { crdPath, gateCrdPaths, generate, generateGateCrds, generatedPath, readCrd, type JsonSchema } from './generate.ts';
import { applySpecDefaults } from './defaults.ts';

describe('operator/api/generated.ts', () => {
  it('matches what the generator makes of crds/tradingengine.yaml (run `npm run gen:api` after editing the CRD)', () => {
    expect(readFileSync(generatedPath, 'utf8')).toBe(generate(readFileSync(crdPath, 'utf8')));
  });

  it('keeps the LatencyGate and ClusterLatencyGate CRDs equal to what the generator makes of spec.analysis', () => {
    const gates = generateGateCrds(readFileSync(crdPath, 'utf8'));
    for (const kind of ['LatencyGate', 'ClusterLatencyGate'] as const) {
      expect(readFileSync(gateCrdPaths[kind], 'utf8'), `${gateCrdPaths[kind]} is stale: run npm run gen:api`).toBe(gates[kind]);
    }
    const cluster = readCrd(gates.ClusterLatencyGate);
    expect([cluster.kind, cluster.plural]).toEqual(['ClusterLatencyGate', 'clusterlatencygates']);
    // The gate's latency schema is the engine's, CEL rules and defaults included.
    const engineLatency = readCrd(readFileSync(crdPath, 'utf8')).schema.properties?.spec?.properties?.analysis?.properties?.latency;
    expect(cluster.schema.properties?.spec?.properties?.latency).toEqual(engineLatency);
  });

  it('fails generation for an object type the CRD adds without a chosen name', () => {
    const text = readFileSync(crdPath, 'utf8').replace(
      '                paused:\n',
      '                unnamed:\n                  type: object\n                  properties:\n                    x: {type: string}\n                paused:\n',
    );
    expect(() => generate(text)).toThrow(/spec\.unnamed: object type has no name/);
  });

  it('describes every property of the TradingEngine schema, so kubectl explain documents every field', () => {
    const schema = readCrd(readFileSync(crdPath, 'utf8')).schema;
    // apiVersion, kind and metadata of the object itself are the API server's own fields, documented by it.
    const own = Object.fromEntries(Object.entries(schema.properties ?? {}).filter(([name]) => !['apiVersion', 'kind', 'metadata'].includes(name)));
    expect(undescribedProperties({ ...schema, properties: own })).toEqual([]);
  });

  it('describes every property under spec of the LatencyGate and ClusterLatencyGate CRDs', () => {
    for (const kind of ['LatencyGate', 'ClusterLatencyGate'] as const) {
      const spec = readCrd(readFileSync(gateCrdPaths[kind], 'utf8')).schema.properties?.spec;
      expect(spec, kind).toBeDefined();
      expect(undescribedProperties(spec ?? {}, 'spec'), kind).toEqual([]);
    }
  });

  it('names the group, version and kind of the storage version', () => {
    const crd = readCrd(readFileSync(crdPath, 'utf8'));
    expect([crd.group, crd.version, crd.kind, crd.plural]).toEqual(['trading.nexus.dev', 'v1alpha1', 'TradingEngine', 'tradingengines']);
  });
});

describe('applySpecDefaults', () => {
  it('fills absent fields with the schema defaults, inside defaulted parents too, and keeps given values', () => {
    const spec = applySpecDefaults({
      replicas: 3,
      template: { image: 'nexus/engine:dev', resources: { cpu: '1', memory: '1Gi' }, gpu: { count: 1 } },
      engine: { symbols: ['AAPL'], zeromq: { endpoints: [] }, risk: { maxOrderQty: 7 } },
      analysis: { latency: { thresholdMicros: 500 } },
    });
    expect(spec.replicas).toBe(3);
    expect(spec.progressDeadlineSeconds).toBe(600);
    expect(spec.rollbackWindow).toEqual({ revisions: 2 });
    expect(spec.template.gpu?.resourceName).toBe('nvidia.com/gpu');
    expect(spec.engine.risk).toEqual({ maxOrderQty: 7, maxPosition: 1000, maxNotional: 1000000, priceBandBps: 500, ordersEnabled: true });
    expect(spec.engine.metrics).toEqual({ port: 9100, windowIntervals: 6 });
    expect(spec.analysis?.latency).toMatchObject({ quantile: '0.99', interval: '30s', window: '60s', source: { type: 'PodScrape' } });
  });

  it('does not change its input', () => {
    const input = { template: { image: 'x', resources: { cpu: 1, memory: 1 } }, engine: { symbols: ['A'], zeromq: { endpoints: [] } } };
    const copy = structuredClone(input);
    applySpecDefaults(input);
    expect(input).toEqual(copy);
  });
});

/**
 * The paths of every property below `schema` that has no description: nested objects, array items ('[]') and map
 * values ('.*') included. Example: {properties: {a: {type: 'string'}}} -> ['a'].
 */
function undescribedProperties(schema: JsonSchema, path = ''): string[] {
  const found: string[] = [];
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    const childPath = path === '' ? name : `${path}.${name}`;
    if (child.description === undefined) found.push(childPath);
    found.push(...undescribedProperties(child, childPath));
  }
  if (schema.items !== undefined) found.push(...undescribedProperties(schema.items, `${path}[]`));
  if (schema.additionalProperties !== undefined) found.push(...undescribedProperties(schema.additionalProperties, `${path}.*`));
  return found;
}
