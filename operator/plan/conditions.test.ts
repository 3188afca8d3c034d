import { describe, expect, it } from 'vitest';
import type { Condition } from '../api/types.ts';
import { findCondition, mergeConditions, metaTime, type DesiredCondition } from './conditions.ts';

const tenOClock = Date.parse('2026-01-02T10:00:00Z');
const fivePast = Date.parse('2026-01-02T10:05:00.900Z');

const readySince10: Condition = {
  type: 'Ready', status: 'True', reason: 'AllReplicasReady', message: '1/1 ready', observedGeneration: 1, lastTransitionTime: '2026-01-02T10:00:00Z',
};

describe('metaTime', () => {
  it.each([
    ['2026-01-02T03:04:05.000Z', '2026-01-02T03:04:05Z'],
    ['2026-01-02T03:04:05.999Z', '2026-01-02T03:04:05Z'],
    ['2026-01-02T03:04:05.001Z', '2026-01-02T03:04:05Z'],
    ['1970-01-01T00:00:00.500Z', '1970-01-01T00:00:00Z'],
    ['2026-12-31T23:59:59.999Z', '2026-12-31T23:59:59Z'],
  ])('truncates %s to whole seconds as %s', (iso, expected) => {
    expect(metaTime(Date.parse(iso))).toBe(expected);
  });

  it('round-trips through Date.parse', () => {
    expect(Date.parse(metaTime(fivePast))).toBe(Date.parse('2026-01-02T10:05:00Z'));
  });
});

describe('mergeConditions', () => {
  it.each<[string, DesiredCondition, string]>([
    ['the same status with a new message', { type: 'Ready', status: 'True', reason: 'AllReplicasReady', message: '3/3 ready' }, '2026-01-02T10:00:00Z'],
    ['the same status with a new reason', { type: 'Ready', status: 'True', reason: 'Recovered', message: '1/1 ready' }, '2026-01-02T10:00:00Z'],
    ['a flip to False', { type: 'Ready', status: 'False', reason: 'ReplicasNotReady', message: '0/1 ready' }, '2026-01-02T10:05:00Z'],
    ['a flip to Unknown', { type: 'Ready', status: 'Unknown', reason: 'Probing', message: '?' }, '2026-01-02T10:05:00Z'],
  ])('on %s sets lastTransitionTime %s', (_what, desired, time) => {
    expect(mergeConditions([readySince10], [desired], 4, fivePast)).toEqual([{ ...desired, observedGeneration: 4, lastTransitionTime: time }]);
  });

  it('takes reason, message and observedGeneration from the desired condition', () => {
    const [merged] = mergeConditions([readySince10], [{ type: 'Ready', status: 'True', reason: 'Other', message: 'new' }], 9, fivePast);
    expect(merged).toEqual({ type: 'Ready', status: 'True', reason: 'Other', message: 'new', observedGeneration: 9, lastTransitionTime: readySince10.lastTransitionTime });
  });

  it('stamps a new condition with now, truncated to seconds', () => {
    expect(mergeConditions(undefined, [{ type: 'Paused', status: 'False', reason: 'NotPaused', message: '' }], 1, fivePast)).toEqual([
      { type: 'Paused', status: 'False', reason: 'NotPaused', message: '', observedGeneration: 1, lastTransitionTime: '2026-01-02T10:05:00Z' },
    ]);
    expect(mergeConditions([readySince10], [{ type: 'Paused', status: 'False', reason: 'NotPaused', message: '' }], 1, fivePast)[0]?.lastTransitionTime)
      .toBe('2026-01-02T10:05:00Z');
  });

  it('matches previous conditions by type, keeps the order of desired and drops the rest', () => {
    const previous: Condition[] = [
      readySince10,
      { type: 'Gone', status: 'True', reason: 'X', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' },
      { type: 'Available', status: 'False', reason: 'ReplicasUnavailable', message: '', lastTransitionTime: '2026-01-02T09:00:00Z' },
    ];
    const merged = mergeConditions(previous, [
      { type: 'Available', status: 'False', reason: 'ReplicasUnavailable', message: '0 available' },
      { type: 'Ready', status: 'False', reason: 'ReplicasNotReady', message: '0/1' },
    ], 2, fivePast);
    expect(merged.map((c) => [c.type, c.lastTransitionTime])).toEqual([
      ['Available', '2026-01-02T09:00:00Z'],
      ['Ready', '2026-01-02T10:05:00Z'],
    ]);
  });

  it('keeps the transition time however much later it runs, while the status holds', () => {
    let conditions = mergeConditions(undefined, [{ type: 'Ready', status: 'True', reason: 'A', message: '' }], 1, tenOClock);
    for (const later of [1, 60, 3_600, 86_400]) {
      conditions = mergeConditions(conditions, [{ type: 'Ready', status: 'True', reason: 'A', message: `${later}` }], 1, tenOClock + later * 1000);
    }
    expect(conditions[0]?.lastTransitionTime).toBe('2026-01-02T10:00:00Z');
    expect(conditions[0]?.message).toBe('86400');
  });

  it('does not change the previous conditions', () => {
    const previous = [readySince10];
    const snapshot = structuredClone(previous);
    mergeConditions(previous, [{ type: 'Ready', status: 'False', reason: 'R', message: 'm' }], 2, fivePast);
    expect(previous).toEqual(snapshot);
  });

  it('returns nothing for nothing desired', () => {
    expect(mergeConditions([readySince10], [], 1, fivePast)).toEqual([]);
  });
});

describe('findCondition', () => {
  it('finds a condition by type, or undefined', () => {
    expect(findCondition([readySince10], 'Ready')).toBe(readySince10);
    expect(findCondition([readySince10], 'Available')).toBeUndefined();
    expect(findCondition(undefined, 'Ready')).toBeUndefined();
  });
});
