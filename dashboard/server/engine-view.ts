import type { CoreV1Event, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import type { Measurement, TradingEngine } from '../../operator/api/types.ts';
import type { AnalysisRecord } from '../../operator/render/analysis-record.ts';
import { labelKeys } from '../../operator/render/labels.ts';
import { blueGreenSteps } from '../../operator/rollout/bluegreen.ts';
import { describeStep } from '../../operator/rollout/canary.ts';
import type { EngineDetail, EngineSummary, GatePoint, PodView, RevisionView, StepView } from '../view-types.ts';

/**
 * What the dashboard shows of TradingEngines, as pure functions of the objects the API server returned (no clock,
 * no I/O): one summary per engine for the list page, and one engine's whole rollout for its page. The browser
 * renders these as they are (dashboard/web/), so every rule about what a field means lives here, beside the
 * operator's own types, and is tested without a browser.
 */

/** The list page's line: phase, step, weight, the gate's last figure against its threshold, pods ready. */
export function summarize(engine: TradingEngine): EngineSummary {
  const status = engine.status ?? {};
  const last = status.analysis?.lastMeasurement;
  const strategy = engine.spec.strategy?.type ?? 'None';
  const stepCount = strategy === 'Canary' ? engine.spec.strategy?.canary?.steps?.length ?? 0 : strategy === 'BlueGreen' ? 2 : 0;
  const rolling = status.updateRevision !== undefined && status.updateRevision !== status.stableRevision;
  return {
    namespace: engine.metadata.namespace ?? '',
    name: engine.metadata.name ?? '',
    phase: status.phase ?? 'Pending',
    message: status.message ?? '',
    strategy,
    ...(rolling && status.currentStepIndex !== undefined ? { step: { index: status.currentStepIndex, count: stepCount } } : {}),
    weight: rolling ? status.canary?.weight ?? 0 : 0,
    ...(last === undefined ? {} : {
      gate: {
        ...(last.p99Micros === undefined ? {} : { p99Micros: last.p99Micros }),
        ...(last.stableP99Micros === undefined ? {} : { stableP99Micros: last.stableP99Micros }),
        thresholdMicros: last.thresholdMicros ?? engine.spec.analysis?.latency?.thresholdMicros ?? 0,
        ...(last.result === undefined ? {} : { result: last.result }),
      },
    }),
    readyPods: status.readyReplicas ?? 0,
    desiredPods: engine.spec.replicas,
    stableRevision: status.stableRevision ?? '',
    updateRevision: status.updateRevision ?? '',
    paused: engine.spec.paused === true || status.phase === 'Paused',
    ...(status.abortedAt === undefined ? {} : { abort: { reason: status.abortReason ?? 'Manual', at: status.abortedAt } }),
  };
}

/** Everything the engine page shows, from the engine, its ReplicaSets and pods, its Events and its analysis records. */
export function detail(
  engine: TradingEngine,
  replicaSets: readonly V1ReplicaSet[],
  pods: readonly V1Pod[],
  events: readonly CoreV1Event[],
  records: readonly AnalysisRecord[],
): EngineDetail {
  const summary = summarize(engine);
  const status = engine.status ?? {};
  return {
    ...summary,
    thresholdMicros: engine.spec.analysis?.latency?.thresholdMicros,
    quantile: engine.spec.analysis?.latency?.quantile ?? '0.99',
    steps: stepsOf(engine),
    revisions: revisionsOf(engine, replicaSets, pods),
    measurements: gatePoints(records, status.analysis?.lastMeasurement),
    events: [...events]
      .map((event) => ({
        time: event.lastTimestamp?.toString() ?? event.eventTime?.toString() ?? event.metadata.creationTimestamp?.toString() ?? '',
        type: event.type ?? 'Normal',
        reason: event.reason ?? '',
        message: event.message ?? '',
        count: event.count ?? 1,
      }))
      .map((event) => ({ ...event, time: normalTime(event.time) }))
      .sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0)),
    records: [...records]
      .sort((a, b) => (a.startedAt < b.startedAt ? 1 : -1))
      .map((record) => ({
        revision: record.revision, startedAt: record.startedAt, measurements: record.measurements.length + record.dropped,
        ...(record.outcome === undefined ? {} : { outcome: record.outcome }), ...(record.finishedAt === undefined ? {} : { finishedAt: record.finishedAt }),
      })),
    conditions: (status.conditions ?? []).map((condition) => ({ type: condition.type, status: condition.status, reason: condition.reason, message: condition.message })),
  };
}

/** An API server timestamp (Date or string) as ISO 8601, so times sort as strings. */
function normalTime(time: string): string {
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? time : new Date(ms).toISOString();
}

/** The rollout's steps with the current one marked: canary steps, or blue-green's preview and post-promotion. */
function stepsOf(engine: TradingEngine): StepView[] {
  const status = engine.status ?? {};
  const rolling = status.updateRevision !== undefined && status.updateRevision !== status.stableRevision;
  const current = rolling ? status.currentStepIndex ?? 0 : Number.POSITIVE_INFINITY;
  const stateOf = (index: number): StepView['state'] => (index < current ? 'done' : index === current ? 'current' : 'pending');
  if (engine.spec.strategy?.type === 'Canary') {
    return (engine.spec.strategy.canary?.steps ?? []).map((step, index) => ({ index, label: describeStep(step), state: stateOf(index) }));
  }
  if (engine.spec.strategy?.type === 'BlueGreen') {
    return [
      { index: blueGreenSteps.preview, label: 'preview', state: stateOf(blueGreenSteps.preview) },
      { index: blueGreenSteps.postPromotion, label: 'post-promotion', state: stateOf(blueGreenSteps.postPromotion) },
    ];
  }
  return [];
}

/** Each revision with a ReplicaSet: its role, size and pods, each pod with the symbols it owns (status.shards). */
function revisionsOf(engine: TradingEngine, replicaSets: readonly V1ReplicaSet[], pods: readonly V1Pod[]): RevisionView[] {
  const status = engine.status ?? {};
  const symbolsByPod = new Map<string, string[]>();
  for (const shard of status.shards ?? []) {
    if (shard.owner === undefined || shard.granted !== true) continue;
    symbolsByPod.set(shard.owner, [...(symbolsByPod.get(shard.owner) ?? []), ...shard.symbols]);
  }
  const cut = new Set(status.canary?.ordersOffPods ?? []);
  return replicaSets
    .map((replicaSet): RevisionView => {
      const revision = replicaSet.metadata?.labels?.[labelKeys.revision] ?? '';
      const role = revision === status.stableRevision ? 'stable' : revision === status.updateRevision
        ? engine.spec.strategy?.type === 'BlueGreen' ? 'preview' : 'canary' : 'old';
      const podViews = pods
        .filter((pod) => pod.metadata?.labels?.[labelKeys.revision] === revision)
        .map((pod): PodView => {
          const name = pod.metadata?.name ?? '';
          return {
            name,
            phase: pod.metadata?.deletionTimestamp === undefined ? pod.status?.phase ?? 'Pending' : 'Terminating',
            ready: pod.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True') === true,
            symbols: symbolsByPod.get(name) ?? [],
            ordersCut: cut.has(name),
          };
        })
        .sort((a, b) => a.name.localeCompare(b.name));
      return { revision, role, replicas: replicaSet.spec?.replicas ?? 0, available: replicaSet.status?.availableReplicas ?? 0, pods: podViews };
    })
    .filter((view) => view.replicas > 0 || view.pods.length > 0 || view.role !== 'old')
    .sort((a, b) => roleOrder[a.role] - roleOrder[b.role]);
}

const roleOrder: Record<RevisionView['role'], number> = { stable: 0, canary: 1, preview: 1, old: 2 };

/**
 * Every gate measurement the records keep (each analysis's, oldest first) and the status's last one, once each:
 * the chart's points, canary and stable against the threshold, coloured by verdict.
 */
export function gatePoints(records: readonly AnalysisRecord[], last: Measurement | undefined): GatePoint[] {
  const seen = new Set<string>();
  const points: GatePoint[] = [];
  const add = (measurement: Measurement): void => {
    if (measurement.time === undefined) return;
    const key = `${measurement.revision ?? ''}@${measurement.time}`;
    if (seen.has(key)) return;
    seen.add(key);
    points.push({
      time: measurement.time,
      revision: measurement.revision ?? '',
      result: measurement.result ?? 'Error',
      ...(measurement.p99Micros === undefined ? {} : { p99Micros: measurement.p99Micros }),
      ...(measurement.stableP99Micros === undefined ? {} : { stableP99Micros: measurement.stableP99Micros }),
      ...(measurement.thresholdMicros === undefined ? {} : { thresholdMicros: measurement.thresholdMicros }),
      ...(measurement.samples === undefined ? {} : { samples: measurement.samples }),
      ...(measurement.message === undefined ? {} : { message: measurement.message }),
    });
  };
  for (const record of records) for (const measurement of record.measurements) add(measurement);
  if (last !== undefined) add(last);
  return points.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
}
