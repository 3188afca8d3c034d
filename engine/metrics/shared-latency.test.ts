import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from './latency-histogram.ts';
import { SharedLatencyDrain, SharedLatencyRecorder, sharedLatencyBytes } from './shared-latency.ts';
import { SlidingWindowQuantiles } from './sliding-window.ts';

/** One latency through the batch API the pipeline uses: a stamp of 0 read at `ns`. */
function recordOne(recorder: SharedLatencyRecorder, ns: number): void {
  recorder.recordSince(Float64Array.of(0), 1, ns);
}

describe('shared latency: recorded on one side, drained on the other', () => {
  it('delivers every sample once, with the quantiles a local histogram gives', () => {
    const sab = new SharedArrayBuffer(sharedLatencyBytes());
    const recorder = new SharedLatencyRecorder(sab);
    const drain = new SharedLatencyDrain(sab);
    const local = new LatencyHistogram();
    const drained = new LatencyHistogram();
    const window = new SlidingWindowQuantiles({ intervalMs: 1000, intervals: 5, startMs: 0 });
    for (let i = 1; i <= 1000; i++) {
      recordOne(recorder, i * 1_000);
      local.record(i * 1_000);
    }
    expect(drain.drainInto([drained, window])).toBe(1000);
    expect(drain.drainInto([drained, window])).toBe(0);
    recordOne(recorder, 2_000_000);
    local.record(2_000_000);
    expect(drain.drainInto([drained, window])).toBe(1);
    expect(drained.count).toBe(1001);
    expect(drained.sum).toBe(local.sum);
    for (const q of [0.5, 0.9, 0.99]) expect(drained.valueAtQuantile(q)).toBe(local.valueAtQuantile(q));
    expect(drained.max).toBeGreaterThanOrEqual(2_000_000);
    expect(drained.max / 2_000_000).toBeLessThan(1.008);
    expect(window.snapshot({ p50Ns: 0, p90Ns: 0, p99Ns: 0, p999Ns: 0, samples: 0, windowMs: 0, maxNs: 0 }).samples).toBe(1001);
  });

  it('clamps what a histogram cannot hold, as LatencyHistogram does', () => {
    const sab = new SharedArrayBuffer(sharedLatencyBytes(1_000_000));
    const recorder = new SharedLatencyRecorder(sab, 1_000_000);
    const drained = new LatencyHistogram(1_000_000);
    recordOne(recorder, -5);
    recordOne(recorder, Number.NaN);
    recordOne(recorder, 5_000_000);
    new SharedLatencyDrain(sab).drainInto([drained]);
    expect(drained.count).toBe(3);
    expect(drained.valueAtQuantile(0.5)).toBe(0);
    expect(drained.max).toBe(1_000_000);
    expect(() => new SharedLatencyRecorder(new SharedArrayBuffer(8))).toThrow(/needs \d+ bytes/);
  });
});
