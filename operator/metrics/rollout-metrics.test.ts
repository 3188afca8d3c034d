import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createRolloutMetrics } from './rollout-metrics.ts';

/** The registry's exposition, only the lines of series (no HELP/TYPE); `gauges` leaves out the counters and histograms. */
async function series(registry: Registry, gauges = false): Promise<string[]> {
  return (await registry.metrics()).split('\n').filter((line) => line !== '' && !line.startsWith('#')
    && !(gauges && /^nexus_operator_(events_total|gate_measurements_total|rollout_duration_seconds)/.test(line)));
}

describe('rollout metrics', () => {
  it('sets the gauges of an engine from its status, dropping what the status no longer has', async () => {
    const registry = new Registry();
    const metrics = createRolloutMetrics(registry);
    metrics.observe('trading', 'alpha', {
      phase: 'Progressing', currentStepIndex: 1, canary: { weight: 25 },
      analysis: { consecutiveBreaches: 2, lastMeasurement: { p99Micros: 912, stableP99Micros: 470, thresholdMicros: 800 } },
    });
    expect(await series(registry, true)).toEqual([
      'nexus_operator_engine_phase{engine_namespace="trading",engine="alpha",phase="Progressing"} 1',
      'nexus_operator_rollout_step{engine_namespace="trading",engine="alpha"} 1',
      'nexus_operator_rollout_canary_weight_percent{engine_namespace="trading",engine="alpha"} 25',
      'nexus_operator_gate_latency_micros{engine_namespace="trading",engine="alpha",side="canary"} 912',
      'nexus_operator_gate_latency_micros{engine_namespace="trading",engine="alpha",side="stable"} 470',
      'nexus_operator_gate_threshold_micros{engine_namespace="trading",engine="alpha"} 800',
      'nexus_operator_gate_breaches_in_a_row{engine_namespace="trading",engine="alpha"} 2',
    ]);
    // Aborted, without a measurement in this status: the phase series moves, the aborted series appears with its
    // reason, and the measurement series go (the status no longer has them).
    metrics.observe('trading', 'alpha', { phase: 'Aborted', abortedAt: '2026-12-06T09:00:00Z', abortReason: 'LatencyBreach', currentStepIndex: 1 });
    const aborted = await series(registry, true);
    expect(aborted).toContain('nexus_operator_engine_phase{engine_namespace="trading",engine="alpha",phase="Aborted"} 1');
    expect(aborted).toContain('nexus_operator_rollout_aborted{engine_namespace="trading",engine="alpha",reason="LatencyBreach"} 1');
    expect(aborted.some((line) => line.includes('phase="Progressing"') || line.includes('side="canary"'))).toBe(false);
  });

  it('counts every Event by type and reason, and forgets a deleted engine entirely', async () => {
    const registry = new Registry();
    const metrics = createRolloutMetrics(registry);
    metrics.event('trading', 'alpha', 'Warning', 'RolloutAborted');
    metrics.event('trading', 'alpha', 'Warning', 'RolloutAborted');
    metrics.event('trading', 'beta', 'Normal', 'RolloutCompleted');
    metrics.observe('trading', 'alpha', { phase: 'Healthy' });
    expect(await series(registry)).toContain('nexus_operator_events_total{engine_namespace="trading",engine="alpha",type="Warning",reason="RolloutAborted"} 2');
    // The Events the alerts watch exist at 0 from an engine's first reconcile, so a first abort shows as an increase.
    expect(await series(registry)).toContain('nexus_operator_events_total{engine_namespace="trading",engine="alpha",type="Warning",reason="OrdersOffFailed"} 0');
    // So do the Normal Events the dashboard marks, so a first promotion shows as an annotation.
    expect(await series(registry)).toContain('nexus_operator_events_total{engine_namespace="trading",engine="alpha",type="Normal",reason="RolloutCompleted"} 0');
    metrics.forget('trading', 'alpha');
    const left = await series(registry);
    expect(left.filter((line) => line.includes('engine="alpha"'))).toEqual([]);
    expect(left).toContain('nexus_operator_events_total{engine_namespace="trading",engine="beta",type="Normal",reason="RolloutCompleted"} 1');
  });

  it('counts each gate measurement once by result, not again on a restart, and times rollouts to promotion and abort', async () => {
    const registry = new Registry();
    const metrics = createRolloutMetrics(registry);
    const measured = (time: string, result: 'Pass' | 'Breach'): Parameters<typeof metrics.observe>[2] => ({ phase: 'Progressing', analysis: { lastMeasurement: { time, result, p99Micros: 400 } } });
    const count = async (result: string): Promise<string | undefined> => (await series(registry))
      .find((line) => line.startsWith(`nexus_operator_gate_measurements_total{engine_namespace="trading",engine="alpha",result="${result}"}`))?.split(' ')[1];
    // The first status after a start only sets the mark: the measurement in it may have been counted before.
    metrics.observe('trading', 'alpha', measured('2026-12-06T09:00:00Z', 'Pass'));
    expect([await count('Pass'), await count('Breach')]).toEqual(['0', '0']);
    metrics.observe('trading', 'alpha', measured('2026-12-06T09:00:00Z', 'Pass'));
    metrics.observe('trading', 'alpha', measured('2026-12-06T09:00:05Z', 'Pass'));
    metrics.observe('trading', 'alpha', measured('2026-12-06T09:00:10Z', 'Breach'));
    metrics.observe('trading', 'alpha', measured('2026-12-06T09:00:10Z', 'Breach'));
    expect([await count('Pass'), await count('Breach')]).toEqual(['1', '1']);
    metrics.rolloutEnded('trading', 'alpha', 'promoted', 95);
    metrics.rolloutEnded('trading', 'alpha', 'aborted', -1);
    const lines = await series(registry);
    expect(lines).toContain('nexus_operator_rollout_duration_seconds_bucket{le="120",engine_namespace="trading",engine="alpha",result="promoted"} 1');
    expect(lines).toContain('nexus_operator_rollout_duration_seconds_sum{engine_namespace="trading",engine="alpha",result="promoted"} 95');
    expect(lines.some((line) => line.includes('result="aborted"'))).toBe(false);
    metrics.forget('trading', 'alpha');
    expect(await series(registry)).toEqual([]);
  });
});
