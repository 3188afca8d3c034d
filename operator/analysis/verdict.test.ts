import { describe, expect, it } from 'vitest';
import { latencyAnalysis } from '../../test/support/engines.ts';
import type { AnalysisStatus, LatencyAnalysis, Measurement } from '../api/types.ts';
import type { MeasureResult } from './provider.ts';
import { advanceGate, historyLimit, judge, nextMeasurementDueMs, quantileName, relativeLimit, startGate, type GateOutcome } from './verdict.ts';

const T0 = Date.parse('2026-03-02T14:30:00Z');
const second = 1_000;

const latency: LatencyAnalysis = latencyAnalysis({ thresholdMicros: 800, interval: '15s', initialDelay: '30s', successfulIntervals: 4 });
const relative: LatencyAnalysis = { ...latency, relativeToStable: { maxIncreasePercent: 20 } };

function measured(quantileMicros: number | undefined, samples = 5_000): MeasureResult {
  return { ok: true, value: { quantileMicros, samples, podsMeasured: 1 } };
}

function refused(error = 'connect ECONNREFUSED 10.1.0.7:9100'): MeasureResult {
  return { ok: false, error };
}

const at = new Date(T0).toISOString();

it('starts from the CRD defaults these tests rely on', () => {
  expect(latency).toMatchObject({ window: '60s', minSamples: 100, consecutiveBreaches: 3, maxConsecutiveErrors: 5, onInconclusive: 'Pause', inconclusiveTimeoutSeconds: 900 });
});

describe('quantileName', () => {
  it.each([
    ['0.99', 'p99'],
    ['0.999', 'p99.9'],
    ['0.5', 'p50'],
    ['0.9', 'p90'],
  ])('names %s %s', (quantile, name) => {
    expect(quantileName(quantile)).toBe(name);
  });
});

describe('judge: absolute threshold 800 µs, minSamples 100', () => {
  it.each<[string, MeasureResult, Measurement['result'], number | undefined, string]>([
    ['well within budget', measured(640), 'Pass', 640, 'p99 640 µs <= threshold 800 µs (5000 samples)'],
    ['exactly at the threshold', measured(800), 'Pass', 800, 'p99 800 µs <= threshold 800 µs (5000 samples)'],
    ['a fraction above the threshold (rounded up, never away)', measured(800.0001), 'Breach', 801, 'p99 801 µs > threshold 800 µs (5000 samples)'],
    ['812.2 µs', measured(812.2), 'Breach', 813, 'p99 813 µs > threshold 800 µs (5000 samples)'],
    ['799.1 µs (rounded up to 800)', measured(799.1), 'Pass', 800, 'p99 800 µs <= threshold 800 µs (5000 samples)'],
    ['exactly minSamples', measured(640, 100), 'Pass', 640, 'p99 640 µs <= threshold 800 µs (100 samples)'],
  ])('%s', (_what, result, verdict, p99, message) => {
    expect(judge({ canary: result }, latency, 'rev-b', T0)).toEqual({
      time: at, revision: 'rev-b', thresholdMicros: 800, p99Micros: p99, samples: result.ok ? result.value.samples : undefined, result: verdict, message,
    });
  });

  it('is Inconclusive with fewer samples than minSamples, however high the value (market closed)', () => {
    expect(judge({ canary: measured(5_000, 40) }, latency, 'rev-b', T0)).toEqual({
      time: at, revision: 'rev-b', thresholdMicros: 800, samples: 40, result: 'Inconclusive', message: '40 samples in the window, fewer than minSamples 100',
    });
  });

  it('is Inconclusive when the window holds no sample (the engine exports NaN)', () => {
    expect(judge({ canary: measured(undefined, 0) }, latency, 'rev-b', T0)).toMatchObject({ result: 'Inconclusive', samples: 0 });
  });

  it('is Error when the provider failed, with its message and no value', () => {
    expect(judge({ canary: refused() }, latency, 'rev-b', T0)).toEqual({
      time: at, revision: 'rev-b', thresholdMicros: 800, result: 'Error', message: 'connect ECONNREFUSED 10.1.0.7:9100',
    });
  });

  it('bounds an error message at 1000 characters', () => {
    const judged = judge({ canary: refused('x'.repeat(5_000)) }, latency, 'rev-b', T0);
    expect(judged.message).toHaveLength(1_000);
    expect(judged.message?.endsWith('...')).toBe(true);
  });

  it('names the quantile gated in the message', () => {
    expect(judge({ canary: measured(900) }, { ...latency, quantile: '0.999' }, 'rev-b', T0).message).toBe('p99.9 900 µs > threshold 800 µs (5000 samples)');
  });
});

describe('judge: relative to stable (maxIncreasePercent 20)', () => {
  it.each<[string, number, number, Measurement['result'], string]>([
    ['above stable 500 + 20% = 600', 640, 500, 'Breach', 'p99 640 µs > stable 500 µs + 20% = 600 µs (5000 samples)'],
    ['at the relative limit', 600, 500, 'Pass', 'p99 600 µs <= threshold 800 µs and stable 500 µs + 20% (5000 samples)'],
    ['a stable figure rounded up (499.2 -> 500)', 600, 499.2, 'Pass', 'p99 600 µs <= threshold 800 µs and stable 500 µs + 20% (5000 samples)'],
    ['above the absolute threshold while stable is within it, even within the relative limit', 810, 700, 'Breach', 'p99 810 µs > threshold 800 µs while stable is 700 µs (5000 samples)'],
    ['above the threshold with stable over it too and within stable + 20% (fleet-wide)', 900, 820, 'Inconclusive', 'p99 900 µs > threshold 800 µs, but stable is over it too (820 µs) and the canary is within stable + 20% = 984 µs: fleet-wide, not the canary (5000 samples)'],
    ['above the threshold with stable over it too but beyond stable + 20%', 990, 820, 'Breach', 'p99 990 µs > stable 820 µs + 20% = 984 µs (5000 samples)'],
  ])('%s', (_what, canary, stable, verdict, message) => {
    const judged = judge({ canary: measured(canary), stable: measured(stable) }, relative, 'rev-b', T0);
    expect(judged).toMatchObject({ result: verdict, message, p99Micros: Math.ceil(canary), stableP99Micros: Math.ceil(stable), thresholdMicros: 800 });
  });

  it('is Inconclusive when the stable figure was not measured', () => {
    expect(judge({ canary: measured(640) }, relative, 'rev-b', T0)).toMatchObject({
      result: 'Inconclusive', p99Micros: 640, message: 'p99 640 µs; the stable figure for the relative check is missing: not measured',
    });
  });

  it('is Inconclusive when measuring stable failed', () => {
    expect(judge({ canary: measured(640), stable: refused('timeout after 2000 ms') }, relative, 'rev-b', T0)).toMatchObject({
      result: 'Inconclusive', message: 'p99 640 µs; the stable figure for the relative check is missing: timeout after 2000 ms',
    });
  });

  it('is Inconclusive when stable has fewer samples than minSamples', () => {
    expect(judge({ canary: measured(640), stable: measured(500, 10) }, relative, 'rev-b', T0)).toMatchObject({
      result: 'Inconclusive', message: 'p99 640 µs; stable has 10 samples, fewer than minSamples 100',
    });
  });

  it('ignores a stable figure when relativeToStable is not set', () => {
    const judged = judge({ canary: measured(640), stable: measured(100) }, latency, 'rev-b', T0);
    expect(judged.result).toBe('Pass');
    expect(judged).not.toHaveProperty('stableP99Micros');
  });
});

describe('relativeLimit', () => {
  it.each([
    [500, 20, 600],
    [333, 10, 366],
    [1, 50, 1],
    [800, 0, 800],
  ])('stable %i µs + %i%% -> %i µs (rounded down)', (stable, percent, limit) => {
    expect(relativeLimit(stable, percent)).toBe(limit);
  });
});

/** The gate after judging `results` one interval apart from T0, with the outcome of each step. */
function walk(results: ReadonlyArray<Measurement['result']>, spec: LatencyAnalysis = latency, start?: AnalysisStatus): { gate: AnalysisStatus; outcomes: GateOutcome[] } {
  let gate = start ?? startGate('rev-b', T0, undefined);
  const outcomes: GateOutcome[] = [];
  results.forEach((result, i) => {
    const nowMs = T0 + i * 15 * second;
    const step = advanceGate(gate, { time: new Date(nowMs).toISOString(), revision: 'rev-b', result }, spec, spec.successfulIntervals, nowMs);
    gate = step.analysis;
    outcomes.push(step.outcome);
  });
  return { gate, outcomes };
}

function streaks(gate: AnalysisStatus): [number | undefined, number | undefined, number | undefined] {
  return [gate.consecutiveBreaches, gate.consecutiveSuccesses, gate.consecutiveErrors];
}

describe('advanceGate: streaks', () => {
  it('fails at consecutiveBreaches breaches in a row', () => {
    const { gate, outcomes } = walk(['Breach', 'Breach', 'Breach']);
    expect(outcomes).toEqual(['Running', 'Running', 'Failed']);
    expect(gate.phase).toBe('Failed');
    expect(streaks(gate)).toEqual([3, 0, 0]);
  });

  it('passes at successfulIntervals passes in a row', () => {
    const { gate, outcomes } = walk(['Pass', 'Pass', 'Pass', 'Pass']);
    expect(outcomes).toEqual(['Running', 'Running', 'Running', 'Passed']);
    expect(gate.phase).toBe('Successful');
    expect(streaks(gate)).toEqual([0, 4, 0]);
  });

  it('breaks a breach streak with a pass', () => {
    const { gate, outcomes } = walk(['Breach', 'Breach', 'Pass', 'Breach', 'Breach']);
    expect(outcomes).toEqual(['Running', 'Running', 'Running', 'Running', 'Running']);
    expect(streaks(gate)).toEqual([2, 0, 0]);
  });

  it('breaks a pass streak with a breach', () => {
    const { gate } = walk(['Pass', 'Pass', 'Pass', 'Breach']);
    expect(streaks(gate)).toEqual([1, 0, 0]);
  });

  it('leaves the breach streak unchanged through errors and inconclusive measurements', () => {
    const { gate, outcomes } = walk(['Breach', 'Breach', 'Error', 'Inconclusive', 'Error', 'Breach']);
    expect(outcomes).toEqual(['Running', 'Running', 'Running', 'Running', 'Running', 'Failed']);
    expect(streaks(gate)).toEqual([3, 0, 0]);
  });

  it('leaves the pass streak unchanged through errors and inconclusive measurements', () => {
    const { gate } = walk(['Pass', 'Pass', 'Error', 'Inconclusive']);
    expect(streaks(gate)).toEqual([0, 2, 0]);
  });

  it('never fails on errors: maxConsecutiveErrors in a row is ErrorLimit, 20 in a row still no Failed', () => {
    const { gate, outcomes } = walk(Array.from({ length: 20 }, () => 'Error' as const));
    expect(outcomes.slice(0, 5)).toEqual(['Running', 'Running', 'Running', 'Running', 'ErrorLimit']);
    expect(outcomes).not.toContain('Failed');
    expect(gate.phase).toBe('Error');
    expect(streaks(gate)).toEqual([0, 0, 20]);
  });

  it('resets the error streak on any measurement that got data', () => {
    expect(walk(['Error', 'Error', 'Pass']).gate.consecutiveErrors).toBe(0);
    expect(walk(['Error', 'Error', 'Breach']).gate.consecutiveErrors).toBe(0);
    expect(walk(['Error', 'Error', 'Inconclusive']).gate.consecutiveErrors).toBe(0);
  });

  it('keeps the gate Running on a single error or inconclusive measurement; the phase says Inconclusive', () => {
    expect(walk(['Error']).gate.phase).toBe('Running');
    expect(walk(['Inconclusive']).gate.phase).toBe('Inconclusive');
  });

  it('uses the step\'s required successes', () => {
    const gate = startGate('rev-b', T0, undefined);
    const step = advanceGate(gate, { revision: 'rev-b', result: 'Pass' }, latency, 1, T0);
    expect(step.outcome).toBe('Passed');
  });
});

describe('advanceGate: inconclusive timeout (900 s)', () => {
  it('runs from the first inconclusive measurement and is reached after inconclusiveTimeoutSeconds', () => {
    const results = Array.from({ length: 61 }, () => 'Inconclusive' as const); // 0 .. 900 s, 15 s apart
    const { gate, outcomes } = walk(results);
    expect(gate.inconclusiveSince).toBe(at);
    expect(outcomes.slice(0, 60).every((outcome) => outcome === 'Running')).toBe(true);
    expect(outcomes[60]).toBe('InconclusiveTimeout');
    expect(gate.phase).toBe('Inconclusive');
  });

  it('restarts when a conclusive measurement comes in between', () => {
    const { gate } = walk(['Inconclusive', 'Inconclusive', 'Pass']);
    expect(gate).not.toHaveProperty('inconclusiveSince');
    const again = walk(['Inconclusive', 'Breach', 'Inconclusive']).gate;
    expect(again.inconclusiveSince).toBe(new Date(T0 + 30 * second).toISOString());
  });

  it('is not cleared by an error', () => {
    expect(walk(['Inconclusive', 'Error']).gate.inconclusiveSince).toBe(at);
  });
});

describe('advanceGate: outcome order Failed, Passed, InconclusiveTimeout, ErrorLimit', () => {
  const long = new Date(T0 - 3_600 * second).toISOString();
  const base = startGate('rev-b', T0 - 3_600 * second, undefined);
  const error: Measurement = { revision: 'rev-b', result: 'Error' };

  it.each<[string, Partial<AnalysisStatus>, GateOutcome]>([
    ['Failed before Passed and ErrorLimit', { consecutiveBreaches: 3, consecutiveSuccesses: 4, consecutiveErrors: 4 }, 'Failed'],
    ['Passed before InconclusiveTimeout and ErrorLimit', { consecutiveSuccesses: 4, consecutiveErrors: 4, inconclusiveSince: long }, 'Passed'],
    ['InconclusiveTimeout before ErrorLimit', { consecutiveErrors: 4, inconclusiveSince: long }, 'InconclusiveTimeout'],
    ['ErrorLimit alone', { consecutiveErrors: 4 }, 'ErrorLimit'],
  ])('%s', (_what, streak, outcome) => {
    expect(advanceGate({ ...base, ...streak }, error, latency, 4, T0).outcome).toBe(outcome);
  });
});

describe('advanceGate: history', () => {
  it(`keeps the last ${historyLimit} measurements, oldest first, and the last one apart`, () => {
    const { gate } = walk(Array.from({ length: 25 }, (_, i) => (i % 2 === 0 ? 'Inconclusive' as const : 'Error' as const)));
    expect(historyLimit).toBe(20);
    expect(gate.history).toHaveLength(20);
    expect(gate.history?.[0]?.time).toBe(new Date(T0 + 5 * 15 * second).toISOString());
    expect(gate.history?.[19]).toEqual(gate.lastMeasurement);
    expect(gate.lastMeasurement?.time).toBe(new Date(T0 + 24 * 15 * second).toISOString());
  });

  it('does not change the gate it was given', () => {
    const gate = startGate('rev-b', T0, undefined);
    const snapshot = structuredClone(gate);
    advanceGate(gate, { revision: 'rev-b', result: 'Breach' }, latency, 4, T0);
    expect(gate).toEqual(snapshot);
  });
});

describe('startGate', () => {
  it('starts Running with zeroed streaks, keeping the earlier history and last measurement for display', () => {
    const earlier = walk(['Breach', 'Breach']).gate;
    expect(startGate('rev-c', T0 + 60 * second, earlier)).toEqual({
      phase: 'Running', revision: 'rev-c', startedAt: new Date(T0 + 60 * second).toISOString(),
      consecutiveBreaches: 0, consecutiveSuccesses: 0, consecutiveErrors: 0,
      lastMeasurement: earlier.lastMeasurement, history: earlier.history,
    });
  });
});

describe('nextMeasurementDueMs (initialDelay 30s, interval 15s)', () => {
  const gate = startGate('rev-b', T0, undefined);

  it('is initialDelay after the gate started before any measurement', () => {
    expect(nextMeasurementDueMs(gate, latency)).toBe(T0 + 30 * second);
  });

  it('is interval after the last measurement, then again', () => {
    const first = advanceGate(gate, { time: new Date(T0 + 30 * second).toISOString(), revision: 'rev-b', result: 'Pass' }, latency, 4, T0 + 30 * second).analysis;
    expect(nextMeasurementDueMs(first, latency)).toBe(T0 + 45 * second);
    const late = advanceGate(first, { time: new Date(T0 + 52 * second).toISOString(), revision: 'rev-b', result: 'Pass' }, latency, 4, T0 + 52 * second).analysis;
    expect(nextMeasurementDueMs(late, latency)).toBe(T0 + 67 * second);
  });

  it('ignores a measurement from before the gate started or of another revision', () => {
    const before: Measurement = { time: new Date(T0 - second).toISOString(), revision: 'rev-b', result: 'Pass' };
    expect(nextMeasurementDueMs({ ...gate, lastMeasurement: before }, latency)).toBe(T0 + 30 * second);
    const other: Measurement = { time: new Date(T0 + 40 * second).toISOString(), revision: 'rev-a', result: 'Pass' };
    expect(nextMeasurementDueMs({ ...gate, lastMeasurement: other }, latency)).toBe(T0 + 30 * second);
  });

  it('is due at once with initialDelay 0s', () => {
    expect(nextMeasurementDueMs(gate, { ...latency, initialDelay: '0s' })).toBe(T0);
  });

  it('is NaN when the gate never started or a duration does not parse', () => {
    expect(nextMeasurementDueMs({ phase: 'Pending' }, latency)).toBeNaN();
    expect(nextMeasurementDueMs(gate, { ...latency, interval: '15' })).toBeNaN();
  });
});
