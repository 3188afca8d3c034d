import { describe, expect, it } from 'vitest';
import { Mulberry32 } from '../../engine/random/mulberry32.ts';
import { latencyAnalysis } from '../../test/support/engines.ts';
import { judgeComparison } from './comparison-verdict.ts';
import { DistributionBuilder } from './distribution.ts';
import type { MeasureResult } from './provider.ts';

const T0 = Date.parse('2026-03-02T14:30:00Z');

const latency = latencyAnalysis({
  method: 'MannWhitney', thresholdMicros: 800, relativeToStable: { maxIncreasePercent: 15 },
  interval: '5s', initialDelay: '10s', minSamples: 20, consecutiveBreaches: 2, successfulIntervals: 4,
});

/** A revision's measurement whose window holds `count` lognormal samples (median µs, sigma 0.22), over 5 s ending at T0. */
function revision(random: Mulberry32, count: number, medianMicros: number, extraMicros: readonly number[] = []): MeasureResult {
  const builder = new DistributionBuilder();
  for (let i = 0; i < count; i++) {
    const u = 1 - random.next();
    const v = random.next();
    builder.add(medianMicros * 1000 * Math.exp(0.22 * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)), 1);
  }
  for (const micros of extraMicros) builder.add(micros * 1000, 1);
  const distribution = builder.build();
  return { ok: true, value: { quantileMicros: undefined, samples: distribution.samples, podsMeasured: 1, window: { distribution, fromMs: T0 - 5_000, throughMs: T0 } } };
}

describe('judgeComparison', () => {
  it('breaches a canary slower than stable x tolerance with confidence, saying by how much and on what', () => {
    const random = new Mulberry32(1);
    const measurement = judgeComparison({ canary: revision(random, 400, 280 * 1.4), stable: revision(random, 1600, 280) }, latency, 'b', T0);
    expect(measurement.result).toBe('Breach');
    expect(measurement.samples).toBe(400);
    expect(measurement.stableSamples).toBe(1600);
    expect(measurement.windowMillis).toBe(5_000);
    expect(measurement.message).toMatch(/^canary 1\.[34]\dx stable \(99% bounds 1\.[34]\dx\.\.1\.[34]\dx, Mann-Whitney p < 1e-6\); p99 \d+ vs \d+ µs; 5\.0 s window, 400 vs 1600 samples: slower than stable x 1\.15$/);
  });

  it('passes a healthy canary, and keeps a borderline one Inconclusive so its window grows', () => {
    const random = new Mulberry32(2);
    const healthy = judgeComparison({ canary: revision(random, 400, 280), stable: revision(random, 1600, 280) }, latency, 'b', T0);
    expect(healthy.result).toBe('Pass');
    expect(healthy.message).toMatch(/: within stable x 1\.15 and within the 800 µs budget$/);
    const borderline = judgeComparison({ canary: revision(random, 60, 280 * 1.15), stable: revision(random, 240, 280) }, latency, 'b', T0);
    expect(borderline.result).toBe('Inconclusive');
    expect(borderline.message).toMatch(/the bounds straddle x 1\.15; the window grows$/);
  });

  it('is Inconclusive below minSamples on either side, and an Error without a window report or with a failed canary', () => {
    const random = new Mulberry32(3);
    const few = judgeComparison({ canary: revision(random, 12, 280), stable: revision(random, 500, 280) }, latency, 'b', T0);
    expect(few).toMatchObject({ result: 'Inconclusive', message: '5.0 s window: 12 canary and 500 stable samples, fewer than minSamples 20; the window grows' });
    const noStable = judgeComparison({ canary: revision(random, 100, 280) }, latency, 'b', T0);
    expect(noStable).toMatchObject({ result: 'Inconclusive', message: "the stable revision's samples for the comparison are missing: not measured" });
    const plain: MeasureResult = { ok: true, value: { quantileMicros: 300, samples: 100, podsMeasured: 1 } };
    expect(judgeComparison({ canary: plain, stable: plain }, latency, 'b', T0).result).toBe('Error');
    expect(judgeComparison({ canary: { ok: false, error: 'pod b-1: timed out after 2000 ms' } }, latency, 'b', T0)).toMatchObject({ result: 'Error', message: 'pod b-1: timed out after 2000 ms' });
  });

  it('holds the absolute budget by a binomial test: one slow sample in a small window is not a breach, many are', () => {
    const random = new Mulberry32(4);
    const oneSlow = judgeComparison({ canary: revision(random, 49, 280, [1500]), stable: revision(random, 400, 280) }, latency, 'b', T0);
    expect(oneSlow.result).not.toBe('Breach');
    expect(oneSlow.p99Micros).toBeGreaterThan(800);
    // 12 of 412 samples above 800 µs: a p99 at or under 800 µs would put 4 there at most.
    const manySlow = judgeComparison({ canary: revision(random, 400, 280, new Array<number>(12).fill(1500)), stable: revision(random, 1600, 280) }, latency, 'b', T0);
    expect(manySlow.result).toBe('Breach');
    expect(manySlow.message).toMatch(/^12 of 412 samples above threshold 800 µs \(at most 1 % expected; binomial p [0-9.e-]+\), p99 \d+ µs, while stable's p99 is \d+ µs/);
  });

  it('calls a canary over budget with stable over it too, and within tolerance, fleet-wide: Inconclusive', () => {
    const random = new Mulberry32(5);
    const burst = judgeComparison({ canary: revision(random, 400, 700), stable: revision(random, 1600, 700) }, latency, 'b', T0);
    expect(burst.result).toBe('Inconclusive');
    expect(burst.message).toMatch(/but stable is over it too .*: fleet-wide, not the canary$/);
  });
});
