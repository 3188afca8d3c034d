import { describe, expect, it } from 'vitest';
import { Mulberry32 } from '../../engine/random/mulberry32.ts';
import { binOf, binsPerOctave, binUpperNs, DistributionBuilder, quantileMicros, type LatencyDistribution } from './distribution.ts';
import { compareDistributions, normalCdf, normalQuantile } from './mann-whitney.ts';

function distributionOf(samplesNs: readonly number[]): LatencyDistribution {
  const builder = new DistributionBuilder();
  for (const ns of samplesNs) builder.add(ns, 1);
  return builder.build();
}

/** Lognormal samples (median `medianNs`, sigma `sigma`) from a seeded generator. */
function lognormal(random: Mulberry32, count: number, medianNs: number, sigma: number): number[] {
  return Array.from({ length: count }, () => {
    const u = 1 - random.next();
    const v = random.next();
    return medianNs * Math.exp(sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
  });
}

describe('normalCdf and normalQuantile', () => {
  it('match the standard normal table', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 5);
    expect(normalQuantile(0.99)).toBeCloseTo(2.326348, 5);
    expect(normalQuantile(0.5)).toBeCloseTo(0, 9);
    expect(normalQuantile(0.001)).toBeCloseTo(-3.090232, 5);
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 6);
    expect(normalCdf(-2.326348)).toBeCloseTo(0.01, 6);
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(() => normalQuantile(1)).toThrow('0 < p < 1');
  });
});

describe('compareDistributions', () => {
  it('agrees with the brute-force U statistic and Hodges-Lehmann ratio on raw samples', () => {
    // Samples at bin centres, so binning loses nothing and the brute force over raw pairs is the reference.
    const random = new Mulberry32(7);
    const centre = (ns: number): number => binUpperNs(binOf(ns) - 0.5);
    const canary = lognormal(random, 300, 330_000, 0.25).map(centre);
    const stable = lognormal(random, 500, 300_000, 0.25).map(centre);
    let u = 0;
    const logRatios: number[] = [];
    for (const c of canary) {
      for (const s of stable) {
        const offset = binOf(c) - binOf(s);
        u += offset > 0 ? 1 : offset === 0 ? 0.5 : 0;
        logRatios.push(offset);
      }
    }
    logRatios.sort((a, b) => a - b);
    const medianOffset = logRatios[Math.ceil(logRatios.length / 2) - 1];
    const result = compareDistributions(distributionOf(canary), distributionOf(stable), 0.99);
    expect(result.canarySamples).toBe(300);
    expect(result.stableSamples).toBe(500);
    expect(result.ratio).toBeCloseTo(2 ** (medianOffset / binsPerOctave), 12);
    // z from the reference U with the untied variance is within the tie correction's effect.
    const untiedZ = (u - 150_000 / 2) / Math.sqrt((150_000 * 801) / 12);
    expect(result.z).toBeGreaterThanOrEqual(untiedZ);
    expect(result.z).toBeLessThan(untiedZ * 1.01);
    expect(result.ratio).toBeGreaterThan(1.05);
    expect(result.ratio).toBeLessThan(1.15);
    expect(result.ratioLow).toBeLessThanOrEqual(result.ratio);
    expect(result.ratioHigh).toBeGreaterThanOrEqual(result.ratio);
    expect(result.pValue).toBeLessThan(0.001);
  });

  it('bounds a 1.3x regression away from 1.15 and a healthy canary below it, on 400 against 1600 samples', () => {
    const random = new Mulberry32(11);
    const stable = distributionOf(lognormal(random, 1600, 280_000, 0.22));
    const slow = compareDistributions(distributionOf(lognormal(random, 400, 280_000 * 1.3, 0.22)), stable, 0.99);
    expect(slow.ratioLow).toBeGreaterThan(1.15);
    expect(slow.ratio).toBeGreaterThan(1.25);
    expect(slow.ratio).toBeLessThan(1.35);
    const healthy = compareDistributions(distributionOf(lognormal(random, 400, 280_000, 0.22)), stable, 0.99);
    expect(healthy.ratioHigh).toBeLessThanOrEqual(1.15);
    expect(healthy.ratioLow).toBeLessThanOrEqual(1);
  });

  it('keeps its stated false-alarm rate: same distribution, the lower bound exceeds 1 in about 1 % of windows at 0.99', () => {
    const random = new Mulberry32(3);
    let above = 0;
    const trials = 1000;
    for (let trial = 0; trial < trials; trial++) {
      const canary = distributionOf(lognormal(random, 200, 300_000, 0.3));
      const stable = distributionOf(lognormal(random, 400, 300_000, 0.3));
      if (compareDistributions(canary, stable, 0.99).ratioLow > 1) above++;
    }
    // Binomial(1000, 0.01): 10 expected, 2..22 holds with > 99.9 % probability. A bound one bin too tight
    // (the off-by-one a rank mistake makes) shows up here as a rate several times higher.
    expect(above).toBeGreaterThanOrEqual(2);
    expect(above).toBeLessThanOrEqual(22);
  });

  it('gives no bound from too few samples and refuses an empty side', () => {
    const few = compareDistributions(distributionOf([300_000, 310_000]), distributionOf([290_000, 305_000]), 0.99);
    expect(few.ratioLow).toBe(0);
    expect(few.ratioHigh).toBe(Number.POSITIVE_INFINITY);
    expect(() => compareDistributions(distributionOf([]), distributionOf([1]), 0.99)).toThrow('empty distribution');
  });
});

describe('quantileMicros', () => {
  it('reports the nearest-rank quantile as its bin upper edge, never below the sample', () => {
    const distribution = distributionOf([...Array.from({ length: 99 }, () => 200_000), 900_000]);
    expect(quantileMicros(distribution, 0.99)).toBeGreaterThanOrEqual(200);
    expect(quantileMicros(distribution, 0.99)).toBeLessThan(200 * 1.011);
    expect(quantileMicros(distribution, 1)).toBeGreaterThanOrEqual(900);
    expect(quantileMicros(distributionOf([]), 0.99)).toBeUndefined();
  });
});
