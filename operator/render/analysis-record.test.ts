import { describe, expect, it } from 'vitest';
import type { AnalysisStatus, Measurement } from '../api/types.ts';
import { exampleEngine } from '../../test/support/engines.ts';
import { analysisRecordName, nextAnalysisRecord, readAnalysisRecord, recordMeasurementLimit } from './analysis-record.ts';
import { appliedHash } from './owned.ts';

const engine = exampleEngine('gpu-canary');
const startedAt = '2026-03-02T14:30:00.000Z';
const at = (seconds: number): string => new Date(Date.parse(startedAt) + seconds * 1000).toISOString();
const measurement = (seconds: number, result: Measurement['result'] = 'Pass'): Measurement => ({ time: at(seconds), revision: 'rev-b', p99Micros: 500 + seconds, thresholdMicros: 800, samples: 4000, result });
const analysis = (last: Measurement | undefined, phase: AnalysisStatus['phase'] = 'Running'): AnalysisStatus => ({
  phase, revision: 'rev-b', startedAt, ...(last === undefined ? {} : { lastMeasurement: last }),
});
const now = Date.parse(startedAt) + 600_000;

describe('the analysis record', () => {
  it('starts at the first measurement, appends each new one once, and writes nothing when nothing is new', () => {
    expect(nextAnalysisRecord(engine, analysis(undefined), undefined, now)).toBeUndefined();
    const first = nextAnalysisRecord(engine, analysis(measurement(5)), undefined, now);
    expect(first?.metadata?.name).toBe(analysisRecordName(engine, 'rev-b', startedAt));
    expect(first?.metadata?.labels).toMatchObject({ 'trading.nexus.dev/revision': 'rev-b', 'trading.nexus.dev/record': 'analysis' });
    expect(first?.immutable).toBeUndefined();
    expect(nextAnalysisRecord(engine, analysis(measurement(5)), first, now)).toBe(first);
    const second = nextAnalysisRecord(engine, analysis(measurement(10)), first, now);
    expect(readAnalysisRecord(second)?.measurements).toEqual([measurement(5), measurement(10)]);
    expect(appliedHash(second)).not.toBe(appliedHash(first));
  });

  it('closes with the verdict and is immutable from then on', () => {
    const open = nextAnalysisRecord(engine, analysis(measurement(5, 'Breach')), undefined, now);
    const closed = nextAnalysisRecord(engine, analysis(measurement(10, 'Breach'), 'Failed'), open, now);
    expect(closed?.immutable).toBe(true);
    expect(readAnalysisRecord(closed)).toMatchObject({ outcome: 'Failed', finishedAt: new Date(now).toISOString(), measurements: [measurement(5, 'Breach'), measurement(10, 'Breach')] });
    expect(readAnalysisRecord(closed)?.gate).toEqual(engine.spec.analysis?.latency);
    expect(nextAnalysisRecord(engine, analysis(measurement(15), 'Running'), closed, now)).toBe(closed);
  });

  it('ignores a measurement of another revision or from before the analysis started', () => {
    expect(nextAnalysisRecord(engine, analysis({ ...measurement(5), revision: 'rev-a' }), undefined, now)).toBeUndefined();
    expect(nextAnalysisRecord(engine, analysis(measurement(-5)), undefined, now)).toBeUndefined();
  });

  it('keeps at most recordMeasurementLimit measurements and counts the rest', () => {
    let record = nextAnalysisRecord(engine, analysis(measurement(1)), undefined, now);
    const full = readAnalysisRecord(record);
    const many = Array.from({ length: recordMeasurementLimit }, (_, i) => measurement(i + 1));
    record = { ...record, data: { 'analysis.json': JSON.stringify({ ...full, measurements: many, lastMeasurementAt: at(recordMeasurementLimit) }) } };
    const over = nextAnalysisRecord(engine, analysis(measurement(recordMeasurementLimit + 1)), record, now);
    expect(readAnalysisRecord(over)).toMatchObject({ dropped: 1, lastMeasurementAt: at(recordMeasurementLimit + 1) });
    expect(readAnalysisRecord(over)?.measurements).toHaveLength(recordMeasurementLimit);
    expect(nextAnalysisRecord(engine, analysis(measurement(recordMeasurementLimit + 1)), over, now)).toBe(over);
  });

  it('reads nothing from a ConfigMap that is not a record', () => {
    expect(readAnalysisRecord({ data: { 'engine.yaml': 'symbols: []' } })).toBeUndefined();
    expect(readAnalysisRecord({ data: { 'analysis.json': 'not json' } })).toBeUndefined();
  });
});
