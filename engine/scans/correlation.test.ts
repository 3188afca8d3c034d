import { describe, expect, it } from 'vitest';
import { seededRandom } from '../batch/series.ts';
import { createBarPanel, rowOffset, type BarPanel } from '../bars/bar-panel.ts';
import { correlationMatrix, CorrelationWorkspace } from './correlation.ts';

/** A panel whose closes are given per symbol (bar-major underneath), `closed` bars of them. */
function panelOf(closes: number[][]): BarPanel {
  const bars = closes[0].length;
  const panel = createBarPanel(closes.length, bars + 1);
  for (let b = 0; b < bars; b++) {
    for (let s = 0; s < closes.length; s++) panel.close[rowOffset(panel, b) + s] = closes[s][b];
  }
  panel.closed[0] = bars;
  return panel;
}

/** Pearson correlation, written the textbook way: the check on the reference kernel. */
function pearson(a: number[], b: number[]): number {
  const n = a.length;
  const ma = a.reduce((x, y) => x + y, 0) / n;
  const mb = b.reduce((x, y) => x + y, 0) / n;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < n; i++) {
    ab += (a[i] - ma) * (b[i] - mb);
    aa += (a[i] - ma) ** 2;
    bb += (b[i] - mb) ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}

const returnsOf = (closes: number[], from: number, to: number): number[] =>
  closes.slice(from, to).map((c, i) => c / closes[from + i - 1] - 1);

describe('correlationMatrix', () => {
  it('is the Pearson correlation of bar returns over the window, for every pair', () => {
    const random = seededRandom(3);
    const closes = Array.from({ length: 7 }, () => {
      let p = 100;
      return Array.from({ length: 40 }, () => (p *= 1 + (random() - 0.5) * 0.02));
    });
    closes[6] = closes[0].map((c) => c * 3); // the same returns as symbol 0
    const panel = panelOf(closes);
    const m = 7;
    const window = 30;
    const out = new Float64Array(m * m);
    correlationMatrix(panel, 39, new CorrelationWorkspace(m, window), out);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < m; j++) {
        const expected = i === j ? 1 : pearson(returnsOf(closes[i], 10, 40), returnsOf(closes[j], 10, 40));
        expect(out[i * m + j]).toBeCloseTo(expected, 12);
      }
    }
    expect(out[0 * m + 6]).toBeCloseTo(1, 12);
  });

  it('leaves out a symbol with a missing close, and says nothing of a flat one but that it is there', () => {
    const up = Array.from({ length: 12 }, (_, b) => 100 + b + (b % 3));
    const missing = up.map((c, b) => (b === 5 ? NaN : c));
    const flat = up.map(() => 50);
    const panel = panelOf([up, missing, flat]);
    const out = new Float64Array(9);
    correlationMatrix(panel, 11, new CorrelationWorkspace(3, 8), out);
    expect([out[0], out[4], out[8]]).toEqual([1, NaN, 1]);
    expect([out[1], out[3], out[5], out[7]]).toEqual([NaN, NaN, NaN, NaN]);
    expect([out[2], out[6]]).toEqual([NaN, NaN]); // flat: undefined
  });

  it('refuses a window the panel cannot hold or the bar has not reached', () => {
    const panel = panelOf([[1, 2, 3, 4, 5]]);
    expect(() => correlationMatrix(panel, 4, new CorrelationWorkspace(1, 6), new Float64Array(1))).toThrow(/window must be an integer in \[2, 5\]/);
    expect(() => correlationMatrix(panel, 2, new CorrelationWorkspace(1, 3), new Float64Array(1))).toThrow(/bar 2 has only 2 returns/);
  });
});
