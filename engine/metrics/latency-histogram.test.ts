import { describe, expect, it } from 'vitest';
import {
  bucketIndexOf,
  bucketLowerBound,
  bucketUpperBound,
  LatencyHistogram,
  MAX_RELATIVE_ERROR,
} from './latency-histogram.ts';
import { Mulberry32 } from '../random/mulberry32.ts';

/** Nearest-rank quantile of a sorted array: the ceil(q * n)-th smallest value (at least the first). */
function exactQuantile(sorted: Float64Array, q: number): number {
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1];
}

/** Reproducible floats in [0, 1) for random tables. */
function random(seed: number): () => number {
  const rng = new Mulberry32(seed);
  return () => rng.next();
}

describe('bucket math', () => {
  it.each([
    // value, index, lower, upper
    [0, 0, 0, 0],
    [1, 1, 1, 1],
    [255, 255, 255, 255],
    [256, 256, 256, 257],
    [257, 256, 256, 257],
    [511, 383, 510, 511],
    [512, 384, 512, 515],
    [10_000, 924, 9_984, 10_047],
    [2 ** 31 - 1, 3_199, 2 ** 31 - 2 ** 23, 2 ** 31 - 1],
    [2 ** 31, 3_200, 2 ** 31, 2 ** 31 + 2 ** 24 - 1],
    [2 ** 32 - 1, 3_327, 2 ** 32 - 2 ** 24, 2 ** 32 - 1],
    [2 ** 32, 3_328, 2 ** 32, 2 ** 32 + 2 ** 25 - 1],
    [100_000_000_000, 3_898, 186 * 2 ** 29, 187 * 2 ** 29 - 1],
  ])('places %d in bucket %d spanning [%d, %d]', (value, index, lower, upper) => {
    expect(bucketIndexOf(value)).toBe(index);
    expect(bucketLowerBound(index)).toBe(lower);
    expect(bucketUpperBound(index)).toBe(upper);
  });

  it('tiles the value range with contiguous buckets no wider than 1/128 of their values', () => {
    for (let index = 1; index <= bucketIndexOf(2 ** 40); index++) {
      expect(bucketLowerBound(index)).toBe(bucketUpperBound(index - 1) + 1);
      const lower = bucketLowerBound(index);
      const width = bucketUpperBound(index) - lower + 1;
      if (index >= 256) expect(width / lower).toBeLessThanOrEqual(MAX_RELATIVE_ERROR);
      expect(bucketIndexOf(lower)).toBe(index);
      expect(bucketIndexOf(bucketUpperBound(index))).toBe(index);
    }
  });

  it('records values across the 32-bit boundary in the same buckets as bucketIndexOf', () => {
    const histogram = new LatencyHistogram();
    for (const value of [2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 2 ** 25, 5e10]) {
      histogram.reset();
      histogram.record(value);
      expect(histogram.counts[bucketIndexOf(value)]).toBe(1);
      expect(histogram.max).toBe(value);
      expect(histogram.valueAtQuantile(1)).toBe(value);
    }
  });
});

describe('LatencyHistogram', () => {
  it('tracks count, sum, min and max exactly and truncates fractions', () => {
    const histogram = new LatencyHistogram();
    for (const value of [1500.7, 20_000, 7, 3e9]) histogram.record(value);
    expect(histogram.count).toBe(4);
    expect(histogram.sum).toBe(1500 + 20_000 + 7 + 3e9);
    expect(histogram.min).toBe(7);
    expect(histogram.max).toBe(3e9);
  });

  it('reports zeros when empty', () => {
    const histogram = new LatencyHistogram();
    expect([histogram.count, histogram.sum, histogram.min, histogram.max]).toEqual([0, 0, 0, 0]);
    expect(histogram.valueAtQuantile(0.99)).toBe(0);
    expect(histogram.countAtOrBelow(1e6)).toBe(0);
  });

  it('clamps values above the highest trackable value and counts them', () => {
    const histogram = new LatencyHistogram(1_000_000);
    histogram.record(5_000_000);
    histogram.record(2e12);
    histogram.record(10);
    expect(histogram.count).toBe(3);
    expect(histogram.clampedHighCount).toBe(2);
    expect(histogram.max).toBe(1_000_000);
    expect(histogram.valueAtQuantile(1)).toBe(1_000_000);
  });

  it('records negative and NaN values as zero and counts them', () => {
    const histogram = new LatencyHistogram();
    histogram.record(-40);
    histogram.record(Number.NaN);
    expect(histogram.count).toBe(2);
    expect(histogram.clampedLowCount).toBe(2);
    expect(histogram.sum).toBe(0);
    expect(histogram.counts[0]).toBe(2);
  });

  it('rejects a highest trackable value outside its supported range', () => {
    expect(() => new LatencyHistogram(100)).toThrow(RangeError);
    expect(() => new LatencyHistogram(1.5e3 + 0.5)).toThrow(RangeError);
  });

  it.each([
    ['uniform 1 µs .. 10 ms', 1, (r: () => number) => 1_000 + r() * 10_000_000],
    ['log-uniform 1 ns .. 100 s', 2, (r: () => number) => Math.exp(r() * Math.log(1e11))],
    ['exponential around 50 µs', 3, (r: () => number) => -50_000 * Math.log(1 - r())],
    ['small integers 0 .. 300', 4, (r: () => number) => Math.floor(r() * 300)],
  ])('matches exact nearest-rank quantiles within 1 %% on %s', (_name, seed, draw) => {
    const next = random(seed);
    const samples = new Float64Array(20_000);
    const histogram = new LatencyHistogram();
    for (let i = 0; i < samples.length; i++) {
      samples[i] = Math.floor(draw(next));
      histogram.record(samples[i]);
    }
    samples.sort();
    for (const q of [0, 0.001, 0.1, 0.5, 0.9, 0.99, 0.999, 0.9999, 1]) {
      const exact = exactQuantile(samples, q);
      const reported = histogram.valueAtQuantile(q);
      expect(reported).toBeGreaterThanOrEqual(exact);
      expect(reported).toBeLessThanOrEqual(exact * (1 + MAX_RELATIVE_ERROR));
      if (exact < 256) expect(reported).toBe(exact);
    }
    expect(histogram.valueAtQuantile(0)).toBe(samples[0]);
    expect(histogram.valueAtQuantile(1)).toBe(samples[samples.length - 1]);
  });

  it('counts samples at or below a bound, placing only the straddling bucket above it', () => {
    const histogram = new LatencyHistogram();
    for (const value of [100, 9_983, 9_984, 10_000, 10_047, 10_048, 50_000]) histogram.record(value);
    // 10_000 falls in bucket [9_984, 10_047], which straddles the bound and counts above it.
    expect(histogram.countAtOrBelow(10_000)).toBe(2);
    expect(histogram.countAtOrBelow(10_047)).toBe(5);
    expect(histogram.countAtOrBelow(100)).toBe(1);
    expect(histogram.countAtOrBelow(99)).toBe(0);
    expect(histogram.countAtOrBelow(50_000)).toBe(7);
    expect(histogram.countAtOrBelow(-1)).toBe(0);
    const bounds = [99, 100, 10_000, 10_047, 20_000, 50_000, 1e12];
    const out = new Float64Array(bounds.length);
    histogram.cumulativeCounts(bounds, out);
    expect([...out]).toEqual(bounds.map((bound) => histogram.countAtOrBelow(bound)));
  });

  it('counts random samples at or below bounds within one bucket of the exact count', () => {
    const next = random(9);
    const histogram = new LatencyHistogram();
    const samples: number[] = [];
    for (let i = 0; i < 5_000; i++) {
      const value = Math.floor(5_000 + next() * 2_000_000);
      samples.push(value);
      histogram.record(value);
    }
    for (const bound of [10_000, 125_000, 1_000_000, 1_500_000]) {
      const exact = samples.filter((value) => value <= bound).length;
      const slack = samples.filter((value) => value <= bound && value >= bound * (1 - MAX_RELATIVE_ERROR)).length;
      const counted = histogram.countAtOrBelow(bound);
      expect(counted).toBeLessThanOrEqual(exact);
      expect(counted).toBeGreaterThanOrEqual(exact - slack);
    }
  });

  it('merges another histogram and resets to empty', () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    a.record(1_000);
    a.record(2_000);
    b.record(500);
    b.record(4e10);
    a.addFrom(b);
    expect(a.count).toBe(4);
    expect(a.sum).toBe(1_000 + 2_000 + 500 + 4e10);
    expect(a.min).toBe(500);
    expect(a.max).toBe(4e10);
    expect(a.valueAtQuantile(0.5)).toBeGreaterThanOrEqual(1_000);
    expect(a.valueAtQuantile(0.5)).toBeLessThanOrEqual(1_000 * (1 + MAX_RELATIVE_ERROR));
    a.reset();
    expect(a.count).toBe(0);
    expect(a.counts.every((count) => count === 0)).toBe(true);
    expect(() => a.addFrom(new LatencyHistogram(1_000_000))).toThrow(RangeError);
  });
});
