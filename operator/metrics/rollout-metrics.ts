import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { TradingEngineStatus } from '../api/types.ts';

/**
 * Per-engine rollout metrics, so SREs can alert on "a rollout aborted" or "orders could not be cut" and compute a
 * change failure rate: gauges set from the status each reconcile decided, and a counter of every Event the
 * operator records (each Event is one transition: RolloutAborted, RolloutCompleted, OrdersOffFailed, ...).
 *
 *   nexus_operator_engine_phase{engine_namespace,engine,phase}        1 for the engine's current phase only
 *   nexus_operator_rollout_step{engine_namespace,engine}              current canary/blue-green step (-1: none)
 *   nexus_operator_rollout_canary_weight_percent{...}                 the canary's share (0 without a canary)
 *   nexus_operator_rollout_aborted{...,reason}                        1 while the rollout is aborted, with its reason
 *   nexus_operator_gate_latency_micros{...,side}                      the last gate measurement: canary and stable
 *   nexus_operator_gate_threshold_micros{...}                         that measurement's threshold
 *   nexus_operator_gate_breaches_in_a_row{...}                        the gate's current breach streak
 *   nexus_operator_events_total{...,type,reason}                      every Event recorded
 *   nexus_operator_gate_measurements_total{...,result}               every gate measurement, by result
 *   nexus_operator_rollout_duration_seconds{...,result}              rollout start to promotion or abort (histogram)
 *
 * The engine is `engine_namespace` and `engine`, not `namespace` and `name`: Prometheus gives every scraped series
 * the scrape target's own `namespace` (the operator's), which would rename a `namespace` label to
 * `exported_namespace`.
 * Series of an engine that is deleted are dropped (`forget`), so a dashboard never shows a ghost.
 */
export interface RolloutMetrics {
  /** Sets the gauges of engine `namespace/name` from the status just decided. */
  observe(namespace: string, name: string, status: TradingEngineStatus): void;
  /** Counts one Event the operator recorded for the engine (`by` 0: makes its series exist). */
  event(namespace: string, name: string, type: string, reason: string, by?: number): void;
  /** A rollout ended (`promoted` to stable, or `aborted`) `seconds` after it started: time to promotion. */
  rolloutEnded(namespace: string, name: string, result: 'promoted' | 'aborted', seconds: number): void;
  /** Drops every series of a deleted engine. */
  forget(namespace: string, name: string): void;
}

/** The results a gate measurement can have (status.analysis.lastMeasurement.result). */
const measurementResults = ['Pass', 'Breach', 'Inconclusive', 'Error'] as const;

/** The Warning Events the chart's alerts watch (templates/prometheusrule.yaml). */
export const alertedReasons = ['RolloutAborted', 'OrdersOffFailed', 'AnalysisErrors', 'EngineExited', 'StrategyDisabled'] as const;

/** The Normal Events the chart's dashboard marks as annotations and counts (dashboards/nexus-rollouts.json). */
export const annotatedReasons = ['RolloutStarted', 'StepCompleted', 'RolloutCompleted', 'RolloutRestarted', 'RolloutRetried'] as const;

/** Every Event series that exists at 0 from an engine's first reconcile, so its first occurrence shows as an increase. */
const zeroedEvents: ReadonlyArray<{ readonly type: string; readonly reason: string }> = [
  ...alertedReasons.map((reason) => ({ type: 'Warning', reason })),
  ...annotatedReasons.map((reason) => ({ type: 'Normal', reason })),
];

export function createRolloutMetrics(registry: Registry): RolloutMetrics {
  const labels = ['engine_namespace', 'engine'] as const;
  const phase = new Gauge({ name: 'nexus_operator_engine_phase', help: "1 for the TradingEngine's current status phase.", labelNames: [...labels, 'phase'] as const, registers: [registry] });
  const step = new Gauge({ name: 'nexus_operator_rollout_step', help: 'The current rollout step index (-1 when the engine is at no step).', labelNames: labels, registers: [registry] });
  const weight = new Gauge({ name: 'nexus_operator_rollout_canary_weight_percent', help: "The canary's weight in percent (0 without a canary).", labelNames: labels, registers: [registry] });
  const aborted = new Gauge({ name: 'nexus_operator_rollout_aborted', help: 'While a rollout is aborted: 1, labelled with its abort reason.', labelNames: [...labels, 'reason'] as const, registers: [registry] });
  const latency = new Gauge({ name: 'nexus_operator_gate_latency_micros', help: "The last gate measurement's quantile in microseconds, of the canary and of stable.", labelNames: [...labels, 'side'] as const, registers: [registry] });
  const threshold = new Gauge({ name: 'nexus_operator_gate_threshold_micros', help: 'The threshold of the last gate measurement, in microseconds.', labelNames: labels, registers: [registry] });
  const breaches = new Gauge({ name: 'nexus_operator_gate_breaches_in_a_row', help: "The gate's current streak of breaches.", labelNames: labels, registers: [registry] });
  const measurements = new Counter({
    name: 'nexus_operator_gate_measurements_total', help: 'Latency gate measurements, by result (Pass, Breach, Inconclusive, Error).',
    labelNames: [...labels, 'result'] as const, registers: [registry],
  });
  const durations = new Histogram({
    name: 'nexus_operator_rollout_duration_seconds', help: 'Time from a rollout\'s start to its promotion (result promoted) or abort (result aborted).',
    labelNames: [...labels, 'result'] as const, buckets: [30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14_400, 28_800, 86_400], registers: [registry],
  });
  /** Per engine: the time of the last measurement counted, so each is counted once. */
  const lastMeasured = new Map<string, string | undefined>();
  const ended = new Map<string, Set<'promoted' | 'aborted'>>();
  const events = new Counter({ name: 'nexus_operator_events_total', help: 'Events the operator recorded, by engine, type and reason (each is one transition).', labelNames: [...labels, 'type', 'reason'] as const, registers: [registry] });
  // prom-client removes a series only by its full label set: each engine's series are remembered so an observe can
  // drop the ones it no longer sets (a phase left, a measurement gone) and a deleted engine can drop them all.
  const gauges = new Map<string, Array<{ gauge: Gauge; labels: Record<string, string> }>>();
  const counted = new Map<string, Array<Record<string, string>>>();
  const keyOf = (namespace: string, name: string): string => `${namespace}/${name}`;
  const countEvent = (namespace: string, name: string, type: string, reason: string, by = 1): void => {
    const full = { engine_namespace: namespace, engine: name, type, reason };
    events.inc(full, by);
    const key = keyOf(namespace, name);
    const seen = counted.get(key) ?? [];
    if (!seen.some((labels) => labels.type === type && labels.reason === reason)) seen.push(full);
    counted.set(key, seen);
  };
  const dropGauges = (key: string): void => {
    for (const { gauge, labels: set } of gauges.get(key) ?? []) gauge.remove(set);
    gauges.delete(key);
  };
  return {
    observe(namespace, name, status) {
      const key = keyOf(namespace, name);
      // The Events alerts watch and the dashboard marks exist at 0 from the engine's first reconcile: a counter series born at 1 shows no
      // increase() at all, so the first abort after an operator start would never alert. (An Event in the very
      // first reconcile after a start, before Prometheus saw the 0, still goes unnoticed by increase().)
      for (const { type, reason } of zeroedEvents) {
        if (!(counted.get(key) ?? []).some((labels) => labels.reason === reason && labels.type === type)) countEvent(namespace, name, type, reason, 0);
      }
      dropGauges(key);
      const series: Array<{ gauge: Gauge; labels: Record<string, string> }> = [];
      const set = (gauge: Gauge, extra: Record<string, string>, value: number): void => {
        const full = { engine_namespace: namespace, engine: name, ...extra };
        gauge.set(full, value);
        series.push({ gauge, labels: full });
      };
      if (status.phase !== undefined) set(phase, { phase: status.phase }, 1);
      set(step, {}, status.currentStepIndex ?? -1);
      set(weight, {}, status.canary?.weight ?? 0);
      if (status.abortedAt !== undefined) set(aborted, { reason: status.abortReason ?? 'Unknown' }, 1);
      const measurement = status.analysis?.lastMeasurement;
      if (measurement?.p99Micros !== undefined) set(latency, { side: 'canary' }, measurement.p99Micros);
      if (measurement?.stableP99Micros !== undefined) set(latency, { side: 'stable' }, measurement.stableP99Micros);
      if (measurement?.thresholdMicros !== undefined) set(threshold, {}, measurement.thresholdMicros);
      set(breaches, {}, status.analysis?.consecutiveBreaches ?? 0);
      gauges.set(key, series);
      // A measurement is counted when a new one (a new time) appears. The first status seen after a start only sets
      // the mark, with every result at 0, so a restarted operator does not count the last measurement twice.
      const first = !lastMeasured.has(key);
      if (first) for (const result of measurementResults) measurements.inc({ engine_namespace: namespace, engine: name, result }, 0);
      if (!first && measurement?.time !== undefined && measurement.time !== lastMeasured.get(key)) {
        measurements.inc({ engine_namespace: namespace, engine: name, result: measurement.result ?? 'Error' });
      }
      lastMeasured.set(key, measurement?.time);
    },
    event: countEvent,
    rolloutEnded(namespace, name, result, seconds) {
      if (!Number.isFinite(seconds) || seconds < 0) return;
      durations.observe({ engine_namespace: namespace, engine: name, result }, seconds);
      const key = keyOf(namespace, name);
      ended.set(key, new Set([...(ended.get(key) ?? []), result]));
    },
    forget(namespace, name) {
      const key = keyOf(namespace, name);
      dropGauges(key);
      for (const result of measurementResults) measurements.remove({ engine_namespace: namespace, engine: name, result });
      lastMeasured.delete(key);
      for (const result of ended.get(key) ?? []) durations.remove({ engine_namespace: namespace, engine: name, result });
      ended.delete(key);
      for (const labels of counted.get(key) ?? []) events.remove(labels);
      counted.delete(key);
    },
  };
}
