import { describe, expect, it } from 'vitest';
import type { CoreV1Event, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import type { TradingEngine } from '../../operator/api/types.ts';
import type { AnalysisRecord } from '../../operator/render/analysis-record.ts';
import { detail, gatePoints, summarize } from './engine-view.ts';

const engine = {
  apiVersion: 'trading.nexus.dev/v1alpha1', kind: 'TradingEngine', metadata: { name: 'alpha', namespace: 'trading' },
  spec: {
    replicas: 2,
    strategy: { type: 'Canary', canary: { steps: [{ setWeight: 50 }, { analysis: {} }, { pause: { durationSeconds: 60 } }] } },
    analysis: { latency: { thresholdMicros: 800, quantile: '0.99' } },
  },
  status: {
    phase: 'Progressing', message: 'Canary b at step 1/3', stableRevision: 'a', updateRevision: 'b', currentStepIndex: 1,
    canary: { weight: 50, ordersOffPods: [] }, readyReplicas: 3,
    analysis: { lastMeasurement: { time: '2026-12-06T09:00:04Z', revision: 'b', p99Micros: 420, stableP99Micros: 400, thresholdMicros: 800, result: 'Pass' } },
    shards: [
      { shard: 0, epoch: 3, symbols: ['AAPL', 'MSFT'], owner: 'alpha-b-1', granted: true },
      { shard: 1, epoch: 2, symbols: ['NVDA'], owner: 'alpha-a-1', granted: true },
      { shard: 2, epoch: 1, symbols: ['AMZN'], owner: 'alpha-a-2' },
    ],
    conditions: [{ type: 'Ready', status: 'True', reason: 'AllReplicasReady', message: 'ok', lastTransitionTime: '2026-12-06T09:00:00Z' }],
  },
} as unknown as TradingEngine;

const replicaSet = (revision: string, replicas: number): V1ReplicaSet => ({ metadata: { name: `alpha-${revision}`, labels: { 'trading.nexus.dev/revision': revision } }, spec: { replicas, selector: {} }, status: { replicas, availableReplicas: replicas } });
const pod = (name: string, revision: string, ready: boolean): V1Pod => ({
  metadata: { name, labels: { 'trading.nexus.dev/revision': revision } },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});
const measurement = (time: string, p99Micros: number, result: 'Pass' | 'Breach') => ({ time, revision: 'b', p99Micros, thresholdMicros: 800, result });

describe('the dashboard\'s views', () => {
  it('summarizes an engine for the list: phase, step of steps, weight, the gate against its threshold, pods', () => {
    expect(summarize(engine)).toEqual({
      namespace: 'trading', name: 'alpha', phase: 'Progressing', message: 'Canary b at step 1/3', strategy: 'Canary', step: { index: 1, count: 3 }, weight: 50,
      gate: { p99Micros: 420, stableP99Micros: 400, thresholdMicros: 800, result: 'Pass' }, readyPods: 3, desiredPods: 2, stableRevision: 'a', updateRevision: 'b', paused: false,
    });
    // A settled engine: no step, no weight.
    const settled = summarize({ ...engine, status: { ...engine.status, updateRevision: 'a', phase: 'Healthy' } });
    expect(settled.step).toBeUndefined();
    expect(settled.weight).toBe(0);
  });

  it('gives the engine page its steps, revisions with pods and the symbols each owns, Events newest first, and records', () => {
    const events: CoreV1Event[] = [
      { metadata: {}, involvedObject: {}, type: 'Normal', reason: 'RolloutStarted', message: 'started', lastTimestamp: new Date('2026-12-06T09:00:00Z'), count: 1 },
      { metadata: {}, involvedObject: {}, type: 'Warning', reason: 'AnalysisErrors', message: 'errors', lastTimestamp: new Date('2026-12-06T09:00:03Z'), count: 2 },
    ];
    const record: AnalysisRecord = { revision: 'b', startedAt: '2026-12-06T09:00:00Z', gate: undefined, dropped: 0, measurements: [measurement('2026-12-06T09:00:02Z', 380, 'Pass')] };
    const view = detail(engine, [replicaSet('a', 2), replicaSet('b', 1), replicaSet('old', 0)], [pod('alpha-a-1', 'a', true), pod('alpha-a-2', 'a', false), pod('alpha-b-1', 'b', true)], events, [record]);
    expect(view.steps).toEqual([
      { index: 0, label: 'setWeight 50', state: 'done' }, { index: 1, label: 'analysis', state: 'current' }, { index: 2, label: 'pause 60s', state: 'pending' },
    ]);
    expect(view.revisions.map((revision) => [revision.revision, revision.role, revision.pods.map((p) => [p.name, p.ready, p.symbols.join(' ')])])).toEqual([
      ['a', 'stable', [['alpha-a-1', true, 'NVDA'], ['alpha-a-2', false, '']]],
      ['b', 'canary', [['alpha-b-1', true, 'AAPL MSFT']]],
    ]);
    expect(view.events.map((event) => [event.reason, event.time, event.count])).toEqual([['AnalysisErrors', '2026-12-06T09:00:03.000Z', 2], ['RolloutStarted', '2026-12-06T09:00:00.000Z', 1]]);
    expect(view.records).toEqual([{ revision: 'b', startedAt: '2026-12-06T09:00:00Z', measurements: 1 }]);
    expect(view.measurements.map((point) => point.p99Micros)).toEqual([380, 420]);
    expect(view.thresholdMicros).toBe(800);
  });

  it('charts every measurement once, records and the status\'s last together, in time order', () => {
    const records: AnalysisRecord[] = [
      { revision: 'b', startedAt: 't', gate: undefined, dropped: 0, measurements: [measurement('2026-12-06T09:00:04Z', 900, 'Breach'), measurement('2026-12-06T09:00:02Z', 500, 'Pass')] },
    ];
    const points = gatePoints(records, measurement('2026-12-06T09:00:04Z', 900, 'Breach'));
    expect(points.map((point) => [point.time, point.result])).toEqual([['2026-12-06T09:00:02Z', 'Pass'], ['2026-12-06T09:00:04Z', 'Breach']]);
  });

  it('gives a blue-green engine its two steps and roles, and keeps an Event time it cannot read as it is', () => {
    const blueGreen = {
      ...engine,
      spec: { ...engine.spec, strategy: { type: 'BlueGreen', blueGreen: {} } },
      status: { ...engine.status, currentStepIndex: 1 },
    } as unknown as TradingEngine;
    const event: CoreV1Event = { metadata: {}, involvedObject: {}, type: 'Normal', reason: 'ActiveSwitched', message: 'switched' };
    const view = detail(blueGreen, [replicaSet('b', 2)], [pod('alpha-b-1', 'b', true)], [event], []);
    expect(view.steps).toEqual([{ index: 0, label: 'preview', state: 'done' }, { index: 1, label: 'post-promotion', state: 'current' }]);
    expect(view.revisions.map((revision) => revision.role)).toEqual(['preview']);
    expect(view.events[0]?.time).toBe('');
    expect(summarize(blueGreen).step).toEqual({ index: 1, count: 2 });
    // No strategy: no steps.
    expect(detail({ ...engine, spec: { ...engine.spec, strategy: undefined } } as unknown as TradingEngine, [], [], [], []).steps).toEqual([]);
  });
});
