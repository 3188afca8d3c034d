import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createRolloutMetrics } from './rollout-metrics.ts';

/** The registry's exposition, only the lines of series (no HELP/TYPE); `gauges` leaves out the Events counter. */
async function series(registry: Registry, gauges = false): Promise<string[]> {
  return (await registry.metrics()).split('\n').filter((line) => line !== '' && !line.startsWith('#') && !(gauges && line.startsWith('nexus_operator_events_total')));
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
});
