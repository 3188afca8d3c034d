import { describe, expect, it } from 'vitest';
import type { GateWindowReport } from '../../engine/metrics/gate-window.ts';
import { parseWindowReport, selectWindow } from './window-report.ts';

const report = (intervals: GateWindowReport['intervals']): GateWindowReport => ({ version: 1, metric: 'decision', intervalMs: 1000, intervals });

describe('selectWindow', () => {
  it('keeps every pod\'s intervals that ended after the window start, on the operator\'s clock, and spans them', () => {
    // Both pods' intervals end on the same wall-clock seconds (7, 8 and 9 s); their replies arrived at 9.300 and
    // 9.348 s, so the ends they give map to 7.000/8.000/9.000 and 8.001/9.001 s: rounded to the boundary.
    const a = report([{ endAgeMs: 2300, samples: 2, buckets: [[300_000, 2]] }, { endAgeMs: 1300, samples: 3, buckets: [[310_000, 3]] }, { endAgeMs: 300, samples: 1, buckets: [[900_000, 1]] }]);
    const b = report([{ endAgeMs: 1347, samples: 4, buckets: [[305_000, 4]] }, { endAgeMs: 347, samples: 5, buckets: [[305_000, 5]] }]);
    const arrived = [{ pod: 'a', report: a, arrivedMs: 9_300 }, { pod: 'b', report: b, arrivedMs: 9_348 }];
    const window = selectWindow(arrived, 7_000);
    expect(window.distribution.samples).toBe(3 + 1 + 4 + 5);
    expect(window.fromMs).toBe(7_000);
    expect(window.throughMs).toBe(9_000);
    // Cut at 8 s (the gate's common end for every pod): the intervals ending at 9 s wait for the next window.
    const cut = selectWindow(arrived, 7_000, 8_000);
    expect([cut.distribution.samples, cut.fromMs, cut.throughMs]).toEqual([3 + 4, 7_000, 8_000]);
    // The next window starts at 9 s: neither pod's interval ending then is taken again (each reply's delay, here
    // up to 48 ms, is rounded away).
    expect(selectWindow(arrived, 9_000)).toEqual({ distribution: { bins: new Int32Array(0), counts: new Float64Array(0), samples: 0 }, fromMs: undefined, throughMs: undefined });
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
