import { describe, expect, it } from 'vitest';
import { gateWindowReport, maxGateWindowAgeMs, parseGateWindowQuery } from './gate-window.ts';
import { SlidingWindowQuantiles } from './sliding-window.ts';

/** A window of 4 intervals of 1 s started at t=0, with `perSecond[s]` samples of `(s + 1) * 100` µs in second s. */
function windowWith(perSecond: readonly number[], nowMs: number): SlidingWindowQuantiles {
  const window = new SlidingWindowQuantiles({ intervalMs: 1000, intervals: 4, startMs: 0 });
  perSecond.forEach((count, second) => {
    window.rotate(second * 1000 + 100);
    for (let i = 0; i < count; i++) window.record((second + 1) * 100_000);
  });
  window.rotate(nowMs);
  return window;
}

describe('gateWindowReport', () => {
  it('reports completed intervals only, oldest first, each with its age and its own samples', () => {
    // At t=3.4 s: seconds 0, 1 and 2 are complete, second 3 is filling (its 7 samples are not reported).
    const report = gateWindowReport(windowWith([2, 3, 5, 7], 3400), 'decision', 60_000);
    expect(report.version).toBe(1);
    expect(report.intervalMs).toBe(1000);
    expect(report.intervals.map((interval) => [interval.endAgeMs, interval.samples])).toEqual([[2400, 2], [1400, 3], [400, 5]]);
    // One bucket per interval, its upper edge within 0.78 % above the recorded value.
    const [first, , third] = report.intervals;
    expect(first.buckets).toHaveLength(1);
    expect(first.buckets[0][1]).toBe(2);
    expect(first.buckets[0][0]).toBeGreaterThanOrEqual(100_000);
    expect(first.buckets[0][0]).toBeLessThanOrEqual(100_000 * 1.0079);
    expect(third.buckets[0][0]).toBeGreaterThanOrEqual(300_000);
  });

  it('leaves out intervals that ended more than maxAgeMs ago and intervals before the window started', () => {
    const window = windowWith([2, 3, 5, 7], 3400);
    expect(gateWindowReport(window, 'decision', 1400).intervals.map((interval) => interval.samples)).toEqual([3, 5]);
    expect(gateWindowReport(window, 'decision', 399).intervals).toEqual([]);
    // 1.2 s after start only second 0 is complete; nothing before t=0 is reported as an (empty) interval.
    expect(gateWindowReport(windowWith([2, 3], 1200), 'decision', 60_000).intervals.map((interval) => interval.samples)).toEqual([2]);
  });

  it('reports an expired interval no more: the ring holds intervals - 1 completed ones', () => {
    // At t=6.2 s with 4 intervals: seconds 3, 4, 5 are complete; 0..2 expired.
    const report = gateWindowReport(windowWith([1, 1, 1, 4, 5, 6, 9], 6200), 'tickToOrder', 60_000);
    expect(report.metric).toBe('tickToOrder');
    expect(report.intervals.map((interval) => [interval.endAgeMs, interval.samples])).toEqual([[2200, 4], [1200, 5], [200, 6]]);
  });

  it('reports an interval the clock jumped over as empty, not as its old samples', () => {
    const window = windowWith([5], 0);
    window.rotate(2500);
    expect(gateWindowReport(window, 'decision', 60_000).intervals.map((interval) => interval.samples)).toEqual([5, 0]);
  });
});

describe('parseGateWindowQuery', () => {
  it('reads the metric and the age limit, defaulting the limit to the longest window', () => {
    expect(parseGateWindowQuery(new URLSearchParams('metric=decision&maxAgeMs=15000'))).toEqual({ metric: 'decision', maxAgeMs: 15_000 });
    expect(parseGateWindowQuery(new URLSearchParams('metric=tickToOrder'))).toEqual({ metric: 'tickToOrder', maxAgeMs: maxGateWindowAgeMs });
  });

  it('refuses a missing or unknown metric and an age that is not a bounded integer, naming the field', () => {
    expect(parseGateWindowQuery(new URLSearchParams(''))).toBe('metric is required: one of decision, tickToOrder');
    expect(parseGateWindowQuery(new URLSearchParams('metric=fills'))).toBe('metric "fills" is not one of decision, tickToOrder');
    for (const age of ['-1', '1.5', 'x', '3600001', '']) {
      expect(parseGateWindowQuery(new URLSearchParams(`metric=decision&maxAgeMs=${age}`))).toMatch(/^maxAgeMs .* is not an integer from 0 to 3600000$/);
    }
  });
});
