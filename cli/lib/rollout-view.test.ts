import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { applySpecDefaults } from '../../operator/api/defaults.ts';
import type { Measurement, TradingEngine, TradingEngineSpec, TradingEngineStatus } from '../../operator/api/types.ts';
import {
  describeStepProgress, formatRollout, humanSeconds, lastMeasurements, quantileLabel, requestedLine, rolloutOutcome, stepLine,
  formatEngineList,
} from './rollout-view.ts';

const now = Date.parse('2026-11-24T10:05:00Z');

function exampleSpec(file: string, edit: (spec: Record<string, unknown>) => void = () => undefined): TradingEngineSpec {
  const document = parse(readFileSync(new URL(`../../examples/${file}`, import.meta.url), 'utf8')) as { spec: Record<string, unknown> };
  edit(document.spec);
  return applySpecDefaults(document.spec);
}

/** examples/gpu-canary.yaml: steps setWeight 25, analysis, pause 300s, setWeight 50, analysis, setWeight 100. */
const canarySpec = exampleSpec('gpu-canary.yaml');

function engine(spec: TradingEngineSpec, status?: TradingEngineStatus, generation = 2): TradingEngine {
  return { apiVersion: 'trading.nexus.dev/v1alpha1', kind: 'TradingEngine', metadata: { name: 'alpha', namespace: 'trading', generation, resourceVersion: '42' }, spec, status };
}

const measurement = (time: string, p99Micros: number, result: Measurement['result']): Measurement =>
  ({ time, revision: '7f6e5d4c3b', p99Micros, stableP99Micros: 700, thresholdMicros: 800, samples: 5000, result });

describe('formatRollout', () => {
  it('prints a dash for every status field of a fresh object and does not crash', () => {
    expect(formatRollout(engine(canarySpec), now)).toEqual([
      'Name:        trading/alpha',
      'Phase:       -',
      'Strategy:    Canary',
      'Revisions:   stable -, update -',
      'Replicas:    ready -/4, available -, updated -',
      'Step:        -/6',
      'Canary:      weight -, pods wanted -, orders -',
      'Analysis:    -',
      'Gate:        p99 - vs threshold 800 µs, stable p99 - (limit +20% = -), samples - (min 1000), no measurement yet',
      'Streaks:     breaches -/3, successes -/4, errors -/5',
      'Abort:       -',
      'Paused:      -',
      'History:     -',
      'Conditions:  -',
    ]);
  });

  it('prints an empty status and a spec without strategy or analysis with only the lines that apply', () => {
    const lines = formatRollout(engine(exampleSpec('minimal.yaml'), {}), now);
    expect(lines).toContain('Strategy:    none (replace at once)');
    expect(lines.some((line) => /^(Step|Canary|Gate|Blue-green):/.test(line))).toBe(false);
  });

  it('shows a canary mid-analysis: step, weight, the gate against both limits, streaks, the last five measurements, conditions', () => {
    const history = [
      measurement('2026-11-24T10:03:15Z', 690, 'Pass'),
      measurement('2026-11-24T10:03:30Z', 710, 'Pass'),
      measurement('2026-11-24T10:03:45Z', 0, 'Inconclusive'),
      measurement('2026-11-24T10:04:00Z', 0, 'Error'),
      measurement('2026-11-24T10:04:15Z', 790, 'Pass'),
      measurement('2026-11-24T10:04:30Z', 805, 'Breach'),
    ];
    const status: TradingEngineStatus = {
      observedGeneration: 2, phase: 'Progressing', message: 'analysis of 7f6e5d4c3b', stableRevision: '5d9c7f8b6a', updateRevision: '7f6e5d4c3b',
      readyText: '5/5', availableReplicas: 5, updatedReplicas: 1, currentStepIndex: 1,
      canary: { weight: 25, replicas: 1, ordersEnabled: true },
      analysis: {
        phase: 'Running', revision: '7f6e5d4c3b', startedAt: '2026-11-24T10:03:00Z', consecutiveBreaches: 1, consecutiveSuccesses: 0, consecutiveErrors: 0,
        lastMeasurement: { ...measurement('2026-11-24T10:04:45Z', 812, 'Breach'), samples: 5234 },
        history,
      },
      conditions: [
        { type: 'Ready', status: 'True', lastTransitionTime: '2026-11-24T09:00:00Z', reason: 'AllReplicasReady', message: '5/5 ready' },
        { type: 'Progressing', status: 'True', lastTransitionTime: '2026-11-24T10:00:00Z', reason: 'RevisionProgressing', message: 'revision 7f6e5d4c3b at step 1' },
      ],
    };
    expect(formatRollout(engine(canarySpec, status), now)).toEqual([
      'Name:        trading/alpha',
      'Phase:       Progressing  analysis of 7f6e5d4c3b',
      'Strategy:    Canary',
      'Revisions:   stable 5d9c7f8b6a, update 7f6e5d4c3b',
      'Replicas:    ready 5/5, available 5, updated 1',
      'Step:        1/6 analysis',
      'Canary:      weight 25%, pods wanted 1, orders enabled',
      'Analysis:    Running on revision 7f6e5d4c3b, started 2026-11-24T10:03:00Z (2m ago)',
      'Gate:        p99 812 µs vs threshold 800 µs, stable p99 700 µs (limit +20% = 840 µs), samples 5234 (min 1000), Breach at 2026-11-24T10:04:45Z (15s ago)',
      'Streaks:     breaches 1/3, successes 0/4, errors 0/5',
      'Abort:       -',
      'Paused:      -',
      'History (last 5 of 6):',
      '  TIME                  REVISION    P99 µs  STABLE µs  SAMPLES  RESULT',
      '  2026-11-24T10:03:30Z  7f6e5d4c3b  710     700        5000     Pass',
      '  2026-11-24T10:03:45Z  7f6e5d4c3b  0       700        5000     Inconclusive',
      '  2026-11-24T10:04:00Z  7f6e5d4c3b  0       700        5000     Error',
      '  2026-11-24T10:04:15Z  7f6e5d4c3b  790     700        5000     Pass',
      '  2026-11-24T10:04:30Z  7f6e5d4c3b  805     700        5000     Breach',
      'Conditions:',
      '  TYPE         STATUS  REASON               MESSAGE',
      '  Ready        True    AllReplicasReady     5/5 ready',
      '  Progressing  True    RevisionProgressing  revision 7f6e5d4c3b at step 1',
    ]);
  });

  it('shows an aborted canary: reason, when, orders cut on which pods, weight 0', () => {
    const status: TradingEngineStatus = {
      phase: 'Aborted', stableRevision: '5d9c7f8b6a', updateRevision: '7f6e5d4c3b', currentStepIndex: 1,
      abort: true, abortReason: 'LatencyBreach', abortedAt: '2026-11-24T10:04:00Z',
      canary: { weight: 0, replicas: 0, ordersEnabled: false, ordersOffPods: ['alpha-7f6e5d4c3b-x1'], ordersOffAt: '2026-11-24T10:04:00Z' },
      analysis: { phase: 'Failed', consecutiveBreaches: 3, lastMeasurement: { p99Micros: 1210, stableP99Micros: 700, thresholdMicros: 800, samples: 4000, result: 'Breach', message: 'p99 1210 µs > 800 µs' } },
      gate: { kind: 'ClusterLatencyGate', name: 'low-latency', generation: 4 },
    };
    const lines = formatRollout(engine(canarySpec, status), now);
    expect(lines).toContain('Gate from:   ClusterLatencyGate/low-latency (generation 4)');
    expect(lines).toContain('Phase:       Aborted');
    expect(lines).toContain('Canary:      weight 0%, pods wanted 0, orders CUT at 2026-11-24T10:04:00Z (60s ago) on alpha-7f6e5d4c3b-x1');
    expect(lines).toContain('Abort:       aborted, reason LatencyBreach at 2026-11-24T10:04:00Z (60s ago)');
    expect(lines).toContain('Gate:        p99 1210 µs vs threshold 800 µs, stable p99 700 µs (limit +20% = 840 µs), samples 4000 (min 1000), Breach, p99 1210 µs > 800 µs');
    expect(lines).toContain('Streaks:     breaches 3/3, successes -/4, errors -/5');
  });

  it('shows a blue-green rollout: active, preview and the scale-down countdown', () => {
    const spec = exampleSpec('minimal.yaml', (s) => {
      s.strategy = { type: 'BlueGreen', blueGreen: { scaleDownDelaySeconds: 300 } };
      s.analysis = { latency: { thresholdMicros: 500, quantile: '0.999' } };
    });
    const status: TradingEngineStatus = {
      phase: 'Progressing', stableRevision: 'aaaaaaaaaa', updateRevision: 'bbbbbbbbbb',
      blueGreen: { active: 'bbbbbbbbbb', preview: 'bbbbbbbbbb', scaleDownAt: '2026-11-24T10:09:30Z' },
      analysis: { phase: 'Running', consecutiveSuccesses: 2, lastMeasurement: { p99Micros: 320, thresholdMicros: 500, samples: 900, result: 'Pass' } },
    };
    const lines = formatRollout(engine(spec, status), now);
    expect(lines).toContain('Strategy:    BlueGreen');
    expect(lines).toContain('Step:        -');
    expect(stepLine(engine(spec, { ...status, currentStepIndex: 1 }), now)).toBe('1');
    expect(lines).toContain('Blue-green:  active bbbbbbbbbb, preview bbbbbbbbbb, scale down at 2026-11-24T10:09:30Z (in 4m30s)');
    expect(lines).toContain('Gate:        p99.9 320 µs vs threshold 500 µs, samples 900 (min 100), Pass');
    expect(lines).toContain('Streaks:     breaches -/3, successes 2/5, errors -/5');
    expect(lines.some((line) => line.startsWith('Canary:'))).toBe(false);
  });

  it('lists pause conditions and spec.paused', () => {
    const spec = { ...canarySpec, paused: true };
    const status: TradingEngineStatus = { pauseConditions: [{ reason: 'Inconclusive', startTime: '2026-11-24T10:04:15Z' }] };
    expect(formatRollout(engine(spec, status), now)).toContain('Paused:      spec.paused, Inconclusive since 2026-11-24T10:04:15Z (45s ago)');
  });
});

describe('stepLine and describeStepProgress', () => {
  const pausedAt = (startTime: string): TradingEngineStatus => ({ currentStepIndex: 2, pauseConditions: [{ reason: 'PauseStep', startTime }] });

  it.each([
    ['a weight step', { currentStepIndex: 0 }, '0/6 setWeight 25'],
    ['a timed pause with time left', pausedAt('2026-11-24T10:02:00Z'), '2/6 pause 300s (120s left)'],
    ['a timed pause whose time is up', pausedAt('2026-11-24T09:00:00Z'), '2/6 pause 300s (0s left)'],
    ['a timed pause not started yet', { currentStepIndex: 2 }, '2/6 pause 300s'],
    ['an analysis step', { currentStepIndex: 4 }, '4/6 analysis'],
    ['every step done', { currentStepIndex: 6 }, '6/6 done'],
    ['no step index', {}, '-/6'],
    ['a first revision, stable at once: no step was ever taken', { currentStepIndex: 6, stableRevision: 'a1', updateRevision: 'a1' }, '- (no rollout in progress)'],
  ] as const)('describes %s', (_what, status: TradingEngineStatus, expected) => {
    expect(stepLine(engine(canarySpec, status), now)).toBe(expected);
  });

  it('describes an untimed pause and an analysis step with its own interval count', () => {
    expect(describeStepProgress({ pause: {} }, undefined, now)).toBe('pause (waiting for promote)');
    expect(describeStepProgress({ analysis: { successfulIntervals: 3 } }, undefined, now)).toBe('analysis (3 successful intervals)');
  });

  it('counts successes against the analysis step\'s own successfulIntervals', () => {
    const spec = exampleSpec('gpu-canary.yaml', (s) => {
      (s.strategy as { canary: { steps: unknown[] } }).canary.steps = [{ setWeight: 10 }, { analysis: { successfulIntervals: 2 } }];
    });
    const lines = formatRollout(engine(spec, { currentStepIndex: 1, analysis: { consecutiveSuccesses: 1 } }), now);
    expect(lines).toContain('Streaks:     breaches -/3, successes 1/2, errors -/5');
  });
});

describe('rolloutOutcome', () => {
  it.each([
    ['healthy once the update revision is stable', { observedGeneration: 2, phase: 'Healthy', stableRevision: 'a', updateRevision: 'a' }, 'healthy'],
    ['running while the update revision differs', { observedGeneration: 2, phase: 'Healthy', stableRevision: 'a', updateRevision: 'b' }, undefined],
    ['running while progressing', { observedGeneration: 2, phase: 'Progressing', stableRevision: 'a', updateRevision: 'b' }, undefined],
    ['aborted', { observedGeneration: 2, phase: 'Aborted', stableRevision: 'a', updateRevision: 'b', abort: true }, 'aborted'],
    ['not finished before the operator observed the generation', { observedGeneration: 1, phase: 'Healthy', stableRevision: 'a', updateRevision: 'a' }, undefined],
    ['not finished without a status', undefined, undefined],
  ] as const)('is %s', (_what, status: TradingEngineStatus | undefined, expected) => {
    expect(rolloutOutcome(engine(canarySpec, status))).toBe(expected);
  });
});

describe('small formatters', () => {
  it('names a request with the revision, step and weight it acted on', () => {
    const status: TradingEngineStatus = { updateRevision: '5d9c7f8b6a', currentStepIndex: 2, canary: { weight: 25 } };
    expect(requestedLine('abort', engine(canarySpec, status))).toBe('abort requested for trading/alpha (revision 5d9c7f8b6a at step 2, weight 25)');
    expect(requestedLine('retry', engine(canarySpec))).toBe('retry requested for trading/alpha (revision - at step -, weight -)');
  });

  it.each([['0.99', 'p99'], ['0.999', 'p99.9'], ['0.5', 'p50'], ['0.9', 'p90'], ['0.9999', 'p99.99']])('labels quantile %s as %s', (quantile, label) => {
    const spec = exampleSpec('gpu-canary.yaml', (s) => { (s.analysis as { latency: { quantile: string } }).latency.quantile = quantile; });
    expect(quantileLabel(engine(spec))).toBe(label);
  });

  it.each([[0, '0s'], [45.9, '45s'], [119, '119s'], [120, '2m'], [330, '5m30s'], [7500, '2h5m'], [3 * 86_400 + 4 * 3600, '3d4h']])('prints %d s as %s', (seconds, text) => {
    expect(humanSeconds(seconds)).toBe(text);
  });

  it('takes the newest measurements in time order whichever order they are stored in', () => {
    const history = [3, 1, 2].map((i) => measurement(`2026-11-24T10:0${i}:00Z`, i, 'Pass'));
    expect(lastMeasurements(history, 2).map((m) => m.p99Micros)).toEqual([2, 3]);
    expect(lastMeasurements([...history, { p99Micros: 9 }], 2).map((m) => m.p99Micros)).toEqual([2, 9]);
  });
});

describe('formatEngineList', () => {
  it('lists engines sorted by namespace and name, kubectl style, with the namespace column under -A', () => {
    const engine = (namespace: string, name: string, status: TradingEngineStatus, paused = false): TradingEngine => ({
      apiVersion: 'trading.nexus.dev/v1alpha1', kind: 'TradingEngine', metadata: { namespace, name },
      spec: { ...canarySpec, paused }, status,
    });
    const engines = [
      engine('trading', 'beta', { phase: 'Paused', readyText: '4/4', currentStepIndex: 1, canary: { weight: 25, ordersEnabled: true }, analysis: { lastMeasurement: { p99Micros: 812, thresholdMicros: 2000 } } } as TradingEngineStatus, true),
      engine('trading', 'alpha', { phase: 'Healthy', readyText: '4/4' }),
    ];
    expect(formatEngineList(engines, false)).toEqual([
      'NAME   PHASE    READY  STEP  WEIGHT  GATE             PAUSED',
      'alpha  Healthy  4/4    -     -       -                no',
      'beta   Paused   4/4    1/6   25%     p99 812/2000 µs  yes',
    ]);
    expect(formatEngineList(engines, true)[0]).toMatch(/^NAMESPACE\s+NAME\s+PHASE/);
    expect(formatEngineList([], true)).toEqual(['No TradingEngines found.']);
  });
});
