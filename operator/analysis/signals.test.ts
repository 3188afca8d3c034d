import { describe, expect, it } from 'vitest';
import type { SignalCheck } from '../api/types.ts';
import { parseExposition } from './exposition.ts';
import { addSignalCounts, judgeChecks, readSignalCounts, type SignalCounts } from './signals.ts';

const body = [
  'nexus_engine_ticks_received_total 10000',
  'nexus_engine_ticks_rejected_total{reason="bad_price"} 20',
  'nexus_engine_ticks_rejected_total{reason="unknown_symbol"} 10',
  'nexus_engine_frames_received_total 500',
  'nexus_engine_frames_rejected_total{reason="truncated"} 5',
  'nexus_engine_ticks_lost_total 0',
  'nexus_engine_orders_total{result="accepted"} 90',
  'nexus_engine_orders_total{result="denied"} 10',
  'nexus_engine_pool_exhausted_total{pool="order"} 0',
].join('\n');

function counts(text: string): SignalCounts {
  const parsed = parseExposition(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return readSignalCounts(parsed.samples);
}

const check = (overrides: Partial<SignalCheck>): SignalCheck => ({ signal: 'TicksRejected', minEvents: 1000, consecutiveFailures: 3, ...overrides });

describe('readSignalCounts', () => {
  it('reads each ratio from the counters the engine exports, summed over reasons', () => {
    expect(counts(body)).toEqual({
      TicksRejected: { events: 30, total: 10000 },
      FramesRejected: { events: 5, total: 500 },
      TicksLost: { events: 0, total: 10000 },
      OrdersDenied: { events: 10, total: 100 },
      PoolExhausted: { events: 0, total: 10000 },
    });
    expect(addSignalCounts(counts(body), counts(body)).TicksRejected).toEqual({ events: 60, total: 20000 });
    expect(counts('').TicksRejected).toEqual({ events: 0, total: 0 });
  });
});

describe('judgeChecks', () => {
  const stable = counts(body.replace('{reason="bad_price"} 20', '{reason="bad_price"} 0'));
  const canary = counts(body);

  it('fails a canary over the stable ratio plus the allowed increase, and counts the failures in a row', () => {
    const first = judgeChecks([check({ maxIncreasePercent: 100 })], canary, stable, undefined);
    expect(first.statuses).toEqual([{
      signal: 'TicksRejected', result: 'Fail', consecutiveFailures: 1, canaryRatio: 0.003, stableRatio: 0.001, canaryEvents: 10000,
      message: 'TicksRejected: 0.3 % ticks rejected (30 of 10000) > stable 0.1 % + 100%',
    }]);
    expect(first.failed).toBeUndefined();
    const third = judgeChecks([check({ maxIncreasePercent: 100 })], canary, stable, [{ signal: 'TicksRejected', consecutiveFailures: 2 }]);
    expect(third.failed).toMatchObject({ signal: 'TicksRejected', consecutiveFailures: 3 });
  });

  it('needs both limits exceeded when both are set, and resets the streak on a pass', () => {
    const passed = judgeChecks([check({ maxIncreasePercent: 100, maxRatio: 0.01 })], canary, stable, [{ signal: 'TicksRejected', consecutiveFailures: 2 }]);
    expect(passed.statuses[0]).toMatchObject({ result: 'Pass', consecutiveFailures: 0 });
    expect(passed.statuses[0]?.message).toBe('TicksRejected: 0.3 % ticks rejected (30 of 10000) <= stable 0.1 % + 100% and maxRatio 1 %');
    expect(judgeChecks([check({ maxRatio: 0.002 })], canary, undefined, undefined).statuses[0]).toMatchObject({ result: 'Fail', message: 'TicksRejected: 0.3 % ticks rejected (30 of 10000) > maxRatio 0.2 %' });
  });

  it('is Inconclusive, keeping the streak, with too few events or without the counts it compares', () => {
    const few = counts(body.replace('ticks_received_total 10000', 'ticks_received_total 500'));
    expect(judgeChecks([check({ maxRatio: 0 })], few, stable, [{ signal: 'TicksRejected', consecutiveFailures: 2 }]).statuses[0])
      .toMatchObject({ result: 'Inconclusive', consecutiveFailures: 2, message: 'TicksRejected: the canary has seen 500 events, fewer than minEvents 1000' });
    expect(judgeChecks([check({ maxIncreasePercent: 10 })], canary, undefined, undefined).statuses[0]?.result).toBe('Inconclusive');
    expect(judgeChecks([check({ maxRatio: 0 })], undefined, undefined, undefined).statuses[0]?.message).toMatch(/the canary's counters were not read \(its measurement failed\)/);
    expect(judgeChecks([check({ signal: 'OrdersDenied', maxRatio: 0.5 })], canary, stable, undefined).statuses[0]?.result).toBe('Inconclusive');
  });
});
