import { describe, expect, it } from 'vitest';
import type { AnalysisStatus, Measurement } from '../api/types.ts';
import { exampleEngine } from '../../test/support/engines.ts';
import { analysisRecordName, endedAnalysisRecord, nextAnalysisRecord, readAnalysisRecord, recordMeasurementLimit } from './analysis-record.ts';
import { appliedHash } from './owned.ts';

const engine = exampleEngine('gpu-canary');
const startedAt = '2026-03-02T14:30:00.000Z';
const ms = (seconds: number): number => Date.parse(startedAt) + seconds * 1000;
const at = (seconds: number): string => new Date(ms(seconds)).toISOString();
const measurement = (seconds: number, result: Measurement['result'] = 'Pass'): Measurement => ({ time: at(seconds), revision: 'rev-b', p99Micros: 500 + seconds, thresholdMicros: 800, samples: 4000, result });
const analysis = (last: Measurement | undefined, phase: AnalysisStatus['phase'] = 'Running'): AnalysisStatus => ({
  phase, revision: 'rev-b', startedAt, ...(last === undefined ? {} : { lastMeasurement: last }),
});

describe('the analysis record', () => {
  it('starts with a measurement taken now, appends each new one once, and writes nothing when nothing is new', () => {
    expect(nextAnalysisRecord(engine, analysis(undefined), undefined, ms(5), false)).toBeUndefined();
    const first = nextAnalysisRecord(engine, analysis(measurement(5)), undefined, ms(5), false);
    expect(first?.metadata?.name).toBe(analysisRecordName(engine, 'rev-b', startedAt));
    expect(first?.metadata?.labels).toMatchObject({ 'trading.nexus.dev/revision': 'rev-b', 'trading.nexus.dev/record': 'analysis' });
    expect(first?.immutable).toBeUndefined();
    expect(nextAnalysisRecord(engine, analysis(measurement(5)), first, ms(7), false)).toBe(first);
    const second = nextAnalysisRecord(engine, analysis(measurement(10)), first, ms(10), false);
    expect(readAnalysisRecord(second)?.measurements).toEqual([measurement(5), measurement(10)]);
    expect(appliedHash(second)).not.toBe(appliedHash(first));
  });

  it('never creates a record from an analysis status left over from before (its record pruned with its revision)', () => {
    expect(nextAnalysisRecord(engine, analysis(measurement(5), 'Failed'), undefined, ms(600), false)).toBeUndefined();
    expect(nextAnalysisRecord(engine, analysis(measurement(5), 'Running'), undefined, ms(600), true)).toBeUndefined();
  });

  it('closes with the verdict at the last measurement time, the same on every pass, and is immutable from then on', () => {
    const open = nextAnalysisRecord(engine, analysis(measurement(5, 'Breach')), undefined, ms(5), false);
    const closed = nextAnalysisRecord(engine, analysis(measurement(10, 'Breach'), 'Failed'), open, ms(10), false);
    expect(closed?.immutable).toBe(true);
    expect(readAnalysisRecord(closed)).toMatchObject({ outcome: 'Failed', finishedAt: at(10), measurements: [measurement(5, 'Breach'), measurement(10, 'Breach')] });
    expect(readAnalysisRecord(closed)?.gate).toEqual(engine.spec.analysis?.latency);
    // A pass on a cache that has not seen the close yet renders the very same object.
    expect(nextAnalysisRecord(engine, analysis(measurement(10, 'Breach'), 'Failed'), open, ms(11), false)).toEqual(closed);
    expect(nextAnalysisRecord(engine, analysis(measurement(15), 'Running'), closed, ms(15), false)).toBe(closed);
  });

  it('closes as Aborted when the rollout was aborted before a verdict, and as Ended when superseded', () => {
    const open = nextAnalysisRecord(engine, analysis(measurement(5)), undefined, ms(5), false);
    expect(readAnalysisRecord(nextAnalysisRecord(engine, analysis(measurement(5)), open, ms(8), true))).toMatchObject({ outcome: 'Aborted', finishedAt: at(5) });
    const record = readAnalysisRecord(open);
    if (record === undefined) throw new Error('no record');
    const ended = endedAnalysisRecord(engine, record);
    expect(ended.immutable).toBe(true);
    expect(readAnalysisRecord(ended)).toMatchObject({ outcome: 'Ended', finishedAt: at(5) });
  });

  it('ignores a measurement of another revision or from before the analysis started', () => {
    expect(nextAnalysisRecord(engine, analysis({ ...measurement(5), revision: 'rev-a' }), undefined, ms(5), false)).toBeUndefined();
    expect(nextAnalysisRecord(engine, analysis(measurement(-5)), undefined, ms(-5), false)).toBeUndefined();
  });

  it('keeps at most recordMeasurementLimit measurements, counts the rest, and shortens long messages', () => {
    const long = { ...measurement(1), message: 'x'.repeat(1000) };
    let record = nextAnalysisRecord(engine, analysis(long), undefined, ms(1), false);
    const kept = readAnalysisRecord(record);
    expect(kept?.measurements[0]?.message).toHaveLength(160);
    const many = Array.from({ length: recordMeasurementLimit }, (_, i) => ({ ...measurement(i + 1), message: 'y'.repeat(160) }));
    record = { ...record, data: { 'analysis.json': JSON.stringify({ ...kept, measurements: many, lastMeasurementAt: at(recordMeasurementLimit) }) } };
    const next = measurement(recordMeasurementLimit + 1);
    const over = nextAnalysisRecord(engine, analysis(next), record, ms(recordMeasurementLimit + 1), false);
    expect(readAnalysisRecord(over)).toMatchObject({ dropped: 1, lastMeasurementAt: next.time });
    expect(readAnalysisRecord(over)?.measurements).toHaveLength(recordMeasurementLimit);
    expect(nextAnalysisRecord(engine, analysis(next), over, ms(recordMeasurementLimit + 2), false)).toBe(over);
    expect(JSON.stringify(over?.data).length).toBeLessThan(1024 * 1024);
  });

  it('reads nothing from a ConfigMap that is not a record', () => {
    expect(readAnalysisRecord({ data: { 'engine.yaml': 'symbols: []' } })).toBeUndefined();
    expect(readAnalysisRecord({ data: { 'analysis.json': 'not json' } })).toBeUndefined();
  });
});
