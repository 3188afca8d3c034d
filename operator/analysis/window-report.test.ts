import { describe, expect, it } from 'vitest';
import type { GateWindowReport } from '../../engine/metrics/gate-window.ts';
import { parseWindowReport, selectWindow } from './window-report.ts';

const report = (intervals: GateWindowReport['intervals']): GateWindowReport => ({ version: 1, metric: 'decision', intervalMs: 1000, intervals });

describe('selectWindow', () => {
  it('keeps every pod\'s intervals that ended after the window start, on the operator\'s clock, and spans them', () => {
    const a = report([{ endAgeMs: 2300, samples: 2, buckets: [[300_000, 2]] }, { endAgeMs: 1300, samples: 3, buckets: [[310_000, 3]] }, { endAgeMs: 300, samples: 1, buckets: [[900_000, 1]] }]);
    const b = report([{ endAgeMs: 1800, samples: 4, buckets: [[305_000, 4]] }, { endAgeMs: 800, samples: 5, buckets: [[305_000, 5]] }]);
    // Pod a answered at 10_000 (its intervals ended 7_700, 8_700, 9_700), pod b at 10_050 (8_250, 9_250).
    const window = selectWindow([{ pod: 'a', report: a, arrivedMs: 10_000 }, { pod: 'b', report: b, arrivedMs: 10_050 }], 8_000);
    expect(window.distribution.samples).toBe(3 + 1 + 4 + 5);
    expect(window.fromMs).toBe(7_250);
    expect(window.throughMs).toBe(9_700);
    expect(selectWindow([{ pod: 'a', report: a, arrivedMs: 10_000 }], 9_700)).toEqual({ distribution: { bins: new Int32Array(0), counts: new Float64Array(0), samples: 0 }, fromMs: undefined, throughMs: undefined });
  });
});

describe('parseWindowReport', () => {
  it('reads a report and refuses anything else with the reason', () => {
    const body = JSON.stringify(report([{ endAgeMs: 300, samples: 3, buckets: [[300_000, 1], [400_000, 2]] }]));
    expect(parseWindowReport(body, 'decision')).toEqual(report([{ endAgeMs: 300, samples: 3, buckets: [[300_000, 1], [400_000, 2]] }]));
    const cases: Array<[string, string]> = [
      ['not json', 'the window report is not JSON: '],
      ['[]', 'the window report is not a JSON object'],
      [JSON.stringify({ ...report([]), version: 2 }), 'window report version 2 is not 1 (the engine is from another release)'],
      [JSON.stringify({ ...report([]), metric: 'tickToOrder' }), 'the window report is of metric "tickToOrder", not decision'],
      [JSON.stringify({ ...report([]), intervalMs: 0 }), "the window report's intervalMs 0 is not a positive integer"],
      [JSON.stringify({ ...report([]), intervals: {} }), "the window report's intervals is not a list"],
      [JSON.stringify(report([{ endAgeMs: -1, samples: 0, buckets: [] }])), "the window report's intervals[0]: endAgeMs -1 is not a non-negative integer"],
      [JSON.stringify(report([{ endAgeMs: 1, samples: 2, buckets: [[300_000, 1]] }])), "the window report's intervals[0]: its buckets hold 1 samples, not 2"],
      [JSON.stringify(report([{ endAgeMs: 1, samples: 1, buckets: [[300_000]] as never }])), "the window report's intervals[0]: bucket [300000] is not [upper edge ns, count]"],
    ];
    for (const [text, message] of cases) expect(parseWindowReport(text, 'decision')).toMatch(new RegExp(`^${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });
});
