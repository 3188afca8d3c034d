import type { AnalysisStatus, TradingEngine } from '../api/types.ts';
import { quantileName } from '../analysis/verdict.ts';
import type { DesiredCondition } from '../plan/conditions.ts';

/** The most revisions kept in status.stableHistory (the CRD's maxItems). */
export const stableHistoryLimit = 20;

/**
 * The user-request fields in their consumed state. The operator always writes them explicitly (never omits
 * them): `nexus rollout` sets them with merge patches under another field manager, and server-side apply only
 * removes fields that no other manager owns, so writing a value is the only way to take them back.
 */
export function requestFields(): { abort: boolean; promoteFull: boolean; promotedStep: number } {
  return { abort: false, promoteFull: false, promotedStep: -1 };
}

/** `revision` first, then the earlier stable revisions without it, bounded. */
export function pushStableHistory(history: readonly string[] | undefined, revision: string): string[] {
  return [revision, ...(history ?? []).filter((entry) => entry !== revision)].slice(0, stableHistoryLimit);
}

/**
 * The LatencyHealthy condition from the gate's last measurement: True on Pass, False on Breach, Unknown
 * otherwise (no data is not a verdict). Undefined when the engine has no latency gate.
 */
export function latencyCondition(engine: TradingEngine, analysis: AnalysisStatus | undefined): DesiredCondition | undefined {
  const latency = engine.spec.analysis?.latency;
  if (latency === undefined) return undefined;
  const last = analysis?.lastMeasurement;
  const name = quantileName(latency.quantile);
  if (last === undefined) return { type: 'LatencyHealthy', status: 'Unknown', reason: 'NotMeasured', message: `No ${name} measurement yet (threshold ${latency.thresholdMicros} µs)` };
  const text = `Revision ${last.revision ?? ''}: ${last.message ?? ''} at ${last.time ?? ''}`;
  switch (last.result) {
    case 'Pass': return { type: 'LatencyHealthy', status: 'True', reason: 'WithinBudget', message: text };
    case 'Breach': return { type: 'LatencyHealthy', status: 'False', reason: 'LatencyBreach', message: text };
    case 'Inconclusive': return { type: 'LatencyHealthy', status: 'Unknown', reason: 'Inconclusive', message: text };
    default: return { type: 'LatencyHealthy', status: 'Unknown', reason: 'MeasurementError', message: text };
  }
}
