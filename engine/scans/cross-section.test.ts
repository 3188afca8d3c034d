import { describe, expect, it } from 'vitest';
import { crossSectionRank, crossSectionZScore } from './cross-section.ts';

const rank = (values: number[]): number[] => {
  const out = new Float64Array(values.length);
  crossSectionRank(Float64Array.from(values), out, new Float64Array(values.length), new Float64Array(values.length));
  return [...out];
};
const zscore = (values: number[]): number[] => {
  const out = new Float64Array(values.length);
  crossSectionZScore(Float64Array.from(values), out);
  return [...out];
};

describe('cross-sections', () => {
  it('ranks 0 (lowest) to 1 (highest), ties share their average, NaN stays out', () => {
    expect(rank([3, 1, NaN, 2, 2])).toEqual([1, 0, NaN, 0.5, 0.5]);
    expect(rank([5])).toEqual([0.5]);
    expect(rank([NaN, NaN])).toEqual([NaN, NaN]);
    expect(rank([-1, 0, 4, 4, 4])).toEqual([0, 0.25, 0.75, 0.75, 0.75]);
  });

  it('z-scores against the mean and population deviation of the values there are', () => {
    const z = zscore([1, 2, 3, NaN]);
    expect(z[0]).toBeCloseTo(-Math.sqrt(1.5), 12);
    expect(z[1]).toBe(0);
    expect(z[2]).toBeCloseTo(Math.sqrt(1.5), 12);
    expect(z[3]).toBeNaN();
    expect(zscore([7, 7, 7])).toEqual([0, 0, 0]); // no dispersion
    expect(zscore([NaN])).toEqual([NaN]);
    // A large common level does not cancel the spread (two passes).
    const big = zscore([1e12 + 1, 1e12 + 2, 1e12 + 3]);
    expect(big[2]).toBeCloseTo(Math.sqrt(1.5), 9);
  });
});
