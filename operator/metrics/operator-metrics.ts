import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { WorkQueueObserver } from '../runtime/work-queue.ts';
import { createRolloutMetrics, type RolloutMetrics } from './rollout-metrics.ts';

/**
 * The operator's Prometheus metrics on an explicit registry (never prom-client's global one). Names are stable:
 * reconcile outcomes and latency, work-queue depth and waits, watch restarts by cause, engines by phase, whether
 * this replica leads, and per engine its rollout (rollout-metrics.ts).
 */
export interface OperatorMetrics {
  readonly registry: Registry;
  readonly reconciles: Counter<'result'>;
  readonly reconcileSeconds: Histogram;
  readonly apiWrites: Counter;
  readonly watchRestarts: Counter<'kind' | 'reason'>;
  readonly enginesByPhase: Gauge<'phase'>;
  readonly leader: Gauge;
  readonly queueObserver: WorkQueueObserver;
  /** Per-engine rollout gauges and the Events counter (rollout-metrics.ts). */
  readonly rollout: RolloutMetrics;
  /** Event webhook outcomes: delivered, retried (an attempt failed), dropped. */
  readonly webhookEvents: Counter<'result'>;
}

export function createOperatorMetrics(): OperatorMetrics {
  const registry = new Registry();
  const reconciles = new Counter({
    name: 'nexus_operator_reconcile_total', help: 'Reconciles by result (success, error, requeue).', labelNames: ['result'] as const, registers: [registry],
  });
  const reconcileSeconds = new Histogram({
    name: 'nexus_operator_reconcile_duration_seconds', help: 'Time one reconcile took, API writes included.',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [registry],
  });
  const apiWrites = new Counter({ name: 'nexus_operator_api_writes_total', help: 'API writes made by reconciles (applies, deletes, status).', registers: [registry] });
  const watchRestarts = new Counter({
    name: 'nexus_operator_watch_restarts_total', help: 'Watch restarts by kind and cause (expired = 410 Gone, error, silence, timeout).',
    labelNames: ['kind', 'reason'] as const, registers: [registry],
  });
  const enginesByPhase = new Gauge({ name: 'nexus_operator_engines', help: 'TradingEngines by status phase.', labelNames: ['phase'] as const, registers: [registry] });
  const webhookEvents = new Counter({
    name: 'nexus_operator_webhook_events_total', help: 'Event webhook outcomes: delivered, retried (an attempt failed), dropped (given up or pushed out of a full queue).',
    labelNames: ['result'] as const, registers: [registry],
  });
  // At 0 from the start, so the first drop shows as an increase (a series born at 1 shows none).
  for (const result of ['delivered', 'retried', 'dropped'] as const) webhookEvents.inc({ result }, 0);
  const leader = new Gauge({ name: 'nexus_operator_leader', help: '1 while this replica holds the leader lease.', registers: [registry] });
  const depth = new Gauge({ name: 'nexus_operator_workqueue_depth', help: 'Keys waiting in the work queue.', registers: [registry] });
  const adds = new Counter({ name: 'nexus_operator_workqueue_adds_total', help: 'Keys added to the work queue.', registers: [registry] });
  const retries = new Counter({ name: 'nexus_operator_workqueue_retries_total', help: 'Rate-limited re-adds (failed reconciles).', registers: [registry] });
  const wait = new Histogram({
    name: 'nexus_operator_workqueue_wait_seconds', help: 'Time a key waited in the queue before a worker took it.',
    buckets: [0.0001, 0.001, 0.01, 0.1, 1, 10], registers: [registry],
  });
  const work = new Histogram({
    name: 'nexus_operator_workqueue_work_seconds', help: 'Time a worker held a key.',
    buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5], registers: [registry],
  });
  return {
    registry, reconciles, reconcileSeconds, apiWrites, watchRestarts, enginesByPhase, leader, rollout: createRolloutMetrics(registry), webhookEvents,
    queueObserver: {
      depth: (n) => depth.set(n),
      added: () => adds.inc(),
      retried: () => retries.inc(),
      latencyMs: (ms) => wait.observe(ms / 1000),
      workMs: (ms) => work.observe(ms / 1000),
    },
  };
}
