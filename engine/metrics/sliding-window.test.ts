import { describe, expect, it } from 'vitest';
import { MAX_RELATIVE_ERROR } from './latency-histogram.ts';
import { createWindowSnapshot, SlidingWindowQuantiles } from './sliding-window.ts';

/** A window of 3 intervals of 1 s, starting at t = 10 s on a manual clock. */
function windowAt(startMs = 10_000): SlidingWindowQuantiles {
  return new SlidingWindowQuantiles({ intervalMs: 1_000, intervals: 3, startMs });
}

describe('SlidingWindowQuantiles', () => {
  it('keeps a sample for K intervals counted from the start of its interval and drops it exactly then', () => {
    const window = windowAt();
    const out = createWindowSnapshot();
    window.rotate(10_400);
    window.record(50_000); // recorded in interval [10_000, 11_000)
    for (const [nowMs, samples] of [
      [10_999, 1], [11_000, 1], [12_999, 1], [12_999.9, 1], [13_000, 0],
    ] as const) {
      window.rotate(nowMs);
      expect(window.snapshot(out).samples, `at ${nowMs} ms`).toBe(samples);
    }
  });

  it('reports quantiles over every live interval', () => {
    const window = windowAt(0);
    const out = createWindowSnapshot();
    for (let i = 1; i <= 100; i++) window.record(i * 1_000); // interval 0: 1..100 µs
    window.rotate(1_000);
    for (let i = 101; i <= 200; i++) window.record(i * 1_000); // interval 1: 101..200 µs
    window.snapshot(out);
    expect(out.samples).toBe(200);
    for (const [value, exact] of [[out.p50Ns, 100_000], [out.p90Ns, 180_000], [out.p99Ns, 198_000], [out.p999Ns, 200_000]]) {
      expect(value).toBeGreaterThanOrEqual(exact);
      expect(value).toBeLessThanOrEqual(exact * (1 + MAX_RELATIVE_ERROR));
    }
    expect(out.maxNs).toBe(200_000);
    window.rotate(3_000); // interval 0 expires
    window.snapshot(out);
    expect(out.samples).toBe(100);
    expect(out.p50Ns).toBeGreaterThanOrEqual(150_000);
  });

  it('clears every slot after a jump of K or more intervals', () => {
    const window = windowAt();
    const out = createWindowSnapshot();
    window.record(1_000);
    window.rotate(11_000);
    window.record(2_000);
    window.rotate(60_000);
    expect(window.snapshot(out).samples).toBe(0);
    window.record(3_000); // lands in the interval [60_000, 61_000)
    window.rotate(62_999);
    expect(window.snapshot(out).samples).toBe(1);
    window.rotate(63_000);
    expect(window.snapshot(out).samples).toBe(0);
  });

  it('ignores a clock that goes backwards', () => {
    const window = windowAt();
    const out = createWindowSnapshot();
    window.rotate(12_500);
    window.record(1_000);
    window.rotate(5_000);
    expect(window.snapshot(out)).toMatchObject({ samples: 1, windowMs: 2_500 });
  });

  it('reports NaN quantiles and zero samples when empty', () => {
    const out = windowAt().snapshot(createWindowSnapshot());
    expect(out.samples).toBe(0);
    expect(out.p99Ns).toBeNaN();
    expect(out.maxNs).toBeNaN();
  });

  it('reports the span its data covers, growing to K intervals', () => {
    const window = windowAt();
    const out = createWindowSnapshot();
    window.rotate(10_250);
    expect(window.snapshot(out).windowMs).toBe(250);
    window.rotate(12_500);
    expect(window.snapshot(out).windowMs).toBe(2_500);
    window.rotate(13_250); // oldest live interval now starts at 11_000
    expect(window.snapshot(out).windowMs).toBe(2_250);
    window.rotate(13_999);
    expect(window.snapshot(out).windowMs).toBe(2_999);
    expect(window.lengthMs).toBe(3_000);
  });

  it('rejects invalid options', () => {
    expect(() => new SlidingWindowQuantiles({ intervalMs: 0, intervals: 3, startMs: 0 })).toThrow(RangeError);
    expect(() => new SlidingWindowQuantiles({ intervalMs: 100, intervals: 0, startMs: 0 })).toThrow(RangeError);
    expect(() => new SlidingWindowQuantiles({ intervalMs: 100, intervals: 2, startMs: NaN })).toThrow(RangeError);
  });
});
