import type { V1ConfigMap } from '@kubernetes/client-node';
import type { AnalysisStatus, LatencyAnalysis, Measurement, TradingEngine } from '../api/types.ts';
import { canonicalJson } from './canonical-json.ts';
import { commonLabels, labelKeys } from './labels.ts';
import { ownerReference, withAppliedHash } from './owned.ts';

/**
 * The record of one analysis of the latency gate: a ConfigMap owned by the TradingEngine, with every measurement
 * the analysis took (appended as it takes them), the gate it judged against, and its verdict once it has one; then
 * immutable. Status keeps the latest figures only; `nexus rollout history` reads these. A record carries its
 * revision's label, so it is pruned with its revision's ReplicaSet (revisionHistoryLimit). Pure.
 */

/** The label that marks a ConfigMap as an analysis record (and its value). */
export const recordLabel = { key: 'trading.nexus.dev/record', value: 'analysis' } as const;
export const recordFileName = 'analysis.json';
/** The most measurements one record keeps (a ConfigMap holds at most 1 MiB); later ones are counted, not kept. */
export const recordMeasurementLimit = 2_000;

export type RecordOutcome = 'Successful' | 'Failed' | 'Aborted' | 'Ended';

/** The longest measurement message a record keeps (2,000 measurements must fit a ConfigMap's 1 MiB). */
const recordMessageChars = 160;

export interface AnalysisRecord {
  readonly revision: string;
  readonly startedAt: string;
  readonly gate: LatencyAnalysis | undefined;
  readonly measurements: readonly Measurement[];
  /** Measurements taken beyond recordMeasurementLimit (not kept). */
  readonly dropped: number;
  /** The time of the latest measurement taken, kept or not: what a measurement must be later than to be new. */
  readonly lastMeasurementAt?: string;
  /**
   * How the analysis ended, once it has: Successful or Failed (the gate's verdict), Aborted (the rollout was
   * aborted first, e.g. by hand or by a check), Ended (superseded without a verdict: a new revision, a retry, an
   * inconclusive analysis passed over). Absent while it runs.
   */
  readonly outcome?: RecordOutcome;
  readonly finishedAt?: string;
}

/** `<engine>-gate-<revision>-<start in base-36 milliseconds>`: one name per analysis (a retry starts a new one). */
export function analysisRecordName(engine: TradingEngine, revision: string, startedAt: string): string {
  const ms = Date.parse(startedAt);
  return `${engine.metadata.name ?? ''}-gate-${revision}-${Number.isFinite(ms) ? ms.toString(36) : '0'}`;
}

/** The record a ConfigMap holds; undefined when it is not one this operator wrote. */
export function readAnalysisRecord(configMap: V1ConfigMap | undefined): AnalysisRecord | undefined {
  const text = configMap?.data?.[recordFileName];
  if (text === undefined) return undefined;
  try {
    const record = JSON.parse(text) as AnalysisRecord;
    return Array.isArray(record.measurements) && typeof record.revision === 'string' ? record : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The record of `analysis` after this reconcile: the observed one (if any) with the latest measurement appended when
 * it is new, closed with the verdict once the analysis is Successful or Failed, or as Aborted when the rollout was
 * aborted first. A record is created only by a measurement taken in this reconcile (at `nowMs`), so an analysis
 * left in status after its record was pruned with its revision is never written again. Returns the observed object
 * itself when nothing changed, and undefined when there is nothing to record.
 */
export function nextAnalysisRecord(engine: TradingEngine, analysis: AnalysisStatus | undefined, observed: V1ConfigMap | undefined, nowMs: number, aborted: boolean): V1ConfigMap | undefined {
  if (analysis?.revision === undefined || analysis.startedAt === undefined) return undefined;
  const before = readAnalysisRecord(observed);
  if (before?.outcome !== undefined) return observed;
  const latest = analysis.lastMeasurement;
  const latestMs = Date.parse(latest?.time ?? '');
  const isNew = latest !== undefined && latest.revision === analysis.revision && latestMs >= Date.parse(analysis.startedAt)
    && (before?.lastMeasurementAt === undefined || latestMs > Date.parse(before.lastMeasurementAt));
  if (before === undefined && !(isNew && latestMs === nowMs)) return undefined;
  const record: AnalysisRecord = before ?? { revision: analysis.revision, startedAt: analysis.startedAt, gate: engine.spec.analysis?.latency, measurements: [], dropped: 0 };
  const verdict = analysis.phase === 'Successful' || analysis.phase === 'Failed' ? analysis.phase : undefined;
  const outcome: RecordOutcome | undefined = verdict ?? (aborted ? 'Aborted' : undefined);
  if (!isNew && outcome === undefined) return observed;
  const keep = isNew && record.measurements.length < recordMeasurementLimit;
  const next: AnalysisRecord = {
    ...record,
    measurements: keep ? [...record.measurements, trimmed(latest)] : record.measurements,
    dropped: record.dropped + (isNew && !keep ? 1 : 0),
    ...(isNew ? { lastMeasurementAt: latest.time } : {}),
    // The finish time is the last measurement's (or now, without one): the same on every pass, so a pass that reads
    // a lagging cache renders the same closed record instead of changing an immutable one.
    ...(outcome === undefined ? {} : { outcome, finishedAt: (isNew ? latest.time : record.lastMeasurementAt) ?? new Date(nowMs).toISOString() }),
  };
  return render(engine, next, outcome !== undefined);
}

/** An open record closed as Ended: its analysis was superseded without a verdict. */
export function endedAnalysisRecord(engine: TradingEngine, record: AnalysisRecord): V1ConfigMap {
  return render(engine, { ...record, outcome: 'Ended', finishedAt: record.lastMeasurementAt ?? record.startedAt }, true);
}

function trimmed(measurement: Measurement): Measurement {
  const message = measurement.message;
  return message === undefined || message.length <= recordMessageChars ? measurement : { ...measurement, message: `${message.slice(0, recordMessageChars - 3)}...` };
}

function render(engine: TradingEngine, record: AnalysisRecord, final: boolean): V1ConfigMap {
  return withAppliedHash<V1ConfigMap>({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: analysisRecordName(engine, record.revision, record.startedAt),
      namespace: engine.metadata.namespace,
      labels: { ...commonLabels(engine), [labelKeys.revision]: record.revision, [recordLabel.key]: recordLabel.value },
      ownerReferences: [ownerReference(engine)],
    },
    ...(final ? { immutable: true } : {}),
    data: { [recordFileName]: canonicalJson(record) },
  });
}
