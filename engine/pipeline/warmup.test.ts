import { describe, expect, it } from 'vitest';
import { monoNowNs } from '../clock/monotonic.ts';
import type { EngineConfig } from '../config/engine-config.ts';
import { probeConfig } from '../../test/support/engine-config.ts';
import { runInlineWarmup } from './inline-pipeline.ts';
import { runShardWarmup } from './shard-worker.ts';
import type { WarmupReport } from './warmup.ts';
import { runWorkersWarmup } from './workers-pipeline.ts';

/** The feed-thread warm-up each layout's start runs. */
function feedThreadWarmup(config: EngineConfig): WarmupReport {
  return config.pipeline.layout === 'workers' ? runWorkersWarmup(config, monoNowNs) : runInlineWarmup(config, monoNowNs);
}

describe('warm-up', () => {
  it.each(['inline', 'workers'] as const)('runs the %s layout feed-thread warm-up end to end, probe trades becoming orders', (layout) => {
    const config = probeConfig({ warmupTicks: 2_000, pipeline: { layout, workers: 2 } });
    const report = feedThreadWarmup(config);
    expect(report.ticks).toBe(2_000);
    // The random walk is 80 % trades; the probe strategy orders on every trade and the probe limits pass them.
    expect(report.orders).toBeGreaterThan(1_400);
    expect(report.orders).toBeLessThan(1_800);
  });

  it('runs a worker warm-up on a scratch shard with the same outcome as the feed-thread warm-up', () => {
    const config = probeConfig({ warmupTicks: 2_000, pipeline: { layout: 'workers', workers: 2 } });
    expect(runShardWarmup(config, monoNowNs, 2_000).orders).toBe(feedThreadWarmup(config).orders);
  });

  it.each(['inline', 'workers'] as const)('leaves fault injection out of the %s warm-ups, which would otherwise spin for minutes', (layout) => {
    // 1 s per order over about 160 orders: a warm-up that kept the fault would run into the test timeout.
    const config = probeConfig({
      warmupTicks: 200, pipeline: { layout, workers: 2 }, faultInjection: { extraLatencyMicros: 1_000_000 },
    });
    expect(feedThreadWarmup(config).orders).toBeGreaterThan(100);
    expect(runShardWarmup(config, monoNowNs, 200).orders).toBeGreaterThan(100);
  });
});
