import { describe, expect, it } from 'vitest';
import { formatAnalysisHistory } from './analysis-history.ts';

describe('formatAnalysisHistory', () => {
  it('prints one line per analysis, oldest first, with counts by result and the p99 range', () => {
    const gate = { source: { type: 'PodScrape' as const }, method: 'Threshold' as const, confidence: '0.99', metric: 'Decision' as const, quantile: '0.99', thresholdMicros: 800, interval: '5s', window: '5s', initialDelay: '0s', minSamples: 200, consecutiveBreaches: 3, successfulIntervals: 3, maxConsecutiveErrors: 5, onInconclusive: 'Pause' as const, inconclusiveTimeoutSeconds: 900 };
    const lines = formatAnalysisHistory([
      { revision: 'bbbbbbbbbb', startedAt: '2026-03-02T15:00:00.000Z', gate, measurements: [{ p99Micros: 900, result: 'Breach' }, { p99Micros: 950, result: 'Breach' }, { result: 'Error' }], dropped: 0, outcome: 'Failed' },
      { revision: 'aaaaaaaaaa', startedAt: '2026-03-02T14:30:00.000Z', gate, measurements: [{ p99Micros: 500, result: 'Pass' }], dropped: 2 },
    ]);
    expect(lines[1]).toBe(`${'2026-03-02T14:30:00Z'.padEnd(22)}${'aaaaaaaaaa'.padEnd(12)}${'Running'.padEnd(12)}${'3 (1/0/0/0), 2 not kept'.padEnd(47)}${'500..500'.padEnd(18)}p99 <= 800 µs (Decision)`);
    expect(lines[2]).toContain('bbbbbbbbbb  Failed      3 (0/2/0/1)');
    expect(lines[2]).toContain('900..950');
    expect(formatAnalysisHistory([])).toEqual(['No analysis recorded yet (a record is kept from the first measurement of each analysis).']);
  });
});
