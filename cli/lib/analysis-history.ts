import type { AnalysisRecord } from '../../operator/render/analysis-record.ts';

/**
 * `nexus rollout history`: one line per analysis of the latency gate, oldest first, from the records the operator
 * keeps (operator/render/analysis-record.ts). Pure. Example:
 *
 *   started               revision    outcome     measurements (pass/breach/inconclusive/error)  p99 µs min..max   gate
 *   2026-03-02T14:30:10Z  7f9c2d1e0a  Failed      3 (0/3/0/0)                                    900..900          p99 <= 800 µs
 */
export function formatAnalysisHistory(records: readonly AnalysisRecord[]): string[] {
  if (records.length === 0) return ['No analysis recorded yet (a record is kept from the first measurement of each analysis).'];
  const header = `${'started'.padEnd(22)}${'revision'.padEnd(12)}${'outcome'.padEnd(12)}${'measurements (pass/breach/inconclusive/error)'.padEnd(47)}${'p99 µs min..max'.padEnd(18)}gate`;
  const lines = [header];
  for (const record of [...records].sort((a, b) => a.startedAt.localeCompare(b.startedAt))) {
    const count = (result: string): number => record.measurements.filter((m) => m.result === result).length;
    const values = record.measurements.map((m) => m.p99Micros).filter((v): v is number => v !== undefined);
    const range = values.length === 0 ? '-' : `${Math.min(...values)}..${Math.max(...values)}`;
    const total = record.measurements.length + record.dropped;
    const counts = `${total} (${count('Pass')}/${count('Breach')}/${count('Inconclusive')}/${count('Error')})${record.dropped > 0 ? `, ${record.dropped} not kept` : ''}`;
    const gate = record.gate === undefined ? '-' : `${quantileName(record.gate.quantile)} <= ${record.gate.thresholdMicros} µs (${record.gate.metric ?? 'Decision'})`;
    lines.push(`${record.startedAt.replace(/\.\d{3}Z$/, 'Z').padEnd(22)}${record.revision.padEnd(12)}${(record.outcome ?? 'Running').padEnd(12)}${counts.padEnd(47)}${range.padEnd(18)}${gate}`);
  }
  return lines;
}

function quantileName(quantile: string): string {
  return `p${quantile.replace(/^0\./, '').padEnd(2, '0')}`;
}
