import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { crdPath, gateCrdPaths, generate, generateGateCrds, generatedPath, readCrd } from './generate.ts';
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
