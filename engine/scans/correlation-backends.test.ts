import { beforeAll, describe, expect, it } from 'vitest';
import { buildWasm } from '../../assembly/build.ts';
import { gramBackends, openedForSuite } from '../../test/support/batch-backends.ts';
import { seededRandom } from '../batch/series.ts';
import { createBarPanel, rowOffset, type BarPanel } from '../bars/bar-panel.ts';
import { standardIndicators } from '../config/presets.ts';
import { BarScanner } from './bar-scanner.ts';
import { correlationMatrix, correlationMatrixOn, CorrelationWorkspace } from './correlation.ts';

/**
 * The scans' correlation matrix on every backend against the reference (correlationMatrix on this thread): the
 * same NaN entries (missing and flat symbols), the same bits on js, wasm and workers, within GRAM_GPU_TOLERANCE
 * on gpu; and a whole BarScanner on a backend reports what the reference scanner reports.
 */
const backends = gramBackends;

beforeAll(async () => {
  await buildWasm();
}, 120_000);

const SYMBOLS = 41;
const BARS = 90;

/** Random-walk closes with a few common factors; symbol 3 never trades, symbol 7 is halted (flat) for the window. */
function marketPanel(): BarPanel {
  const panel = createBarPanel(SYMBOLS, BARS + 1);
  const random = seededRandom(21);
  const price = Array.from({ length: SYMBOLS }, (_, s) => 10 + s);
  for (let b = 0; b < BARS; b++) {
    const factor = [random() - 0.5, random() - 0.5];
    for (let s = 0; s < SYMBOLS; s++) {
      if (!(s === 7 && b > 20)) price[s] *= 1 + 0.01 * (factor[s % 2] * (s % 5) / 4 + random() - 0.5);
      panel.close[rowOffset(panel, b) + s] = s === 3 ? Number.NaN : price[s];
    }
  }
  panel.closed[0] = BARS;
  return panel;
}

describe.each(backends)('correlation on $name', ({ create, tolerance }) => {
  const opened = openedForSuite(create);

  it('equals the reference matrix, NaN for the missing and the flat symbol', async () => {
    const panel = marketPanel();
    const window = 64;
    const expected = new Float64Array(SYMBOLS * SYMBOLS);
    correlationMatrix(panel, BARS - 1, new CorrelationWorkspace(SYMBOLS, window), expected);
    const got = new Float64Array(SYMBOLS * SYMBOLS);
    const backend = opened();
    const allocate = (backend as { allocate?: (n: number) => Float64Array }).allocate;
    await correlationMatrixOn(backend, panel, BARS - 1, new CorrelationWorkspace(SYMBOLS, window, allocate), got);
    expect(Number.isNaN(got[3 * SYMBOLS + 3])).toBe(true);
    expect(got[7 * SYMBOLS + 7]).toBe(1);
    expect(Number.isNaN(got[7 * SYMBOLS + 8])).toBe(true);
    for (let k = 0; k < got.length; k++) {
      const at = `(${Math.floor(k / SYMBOLS)}, ${k % SYMBOLS})`;
      if (Number.isNaN(expected[k]) || tolerance === undefined) {
        if (!Object.is(got[k], expected[k])) expect.fail(`entry ${at}: ${got[k]} != ${expected[k]}`);
      } else if (!(Math.abs(got[k] - expected[k]) <= tolerance)) {
        expect.fail(`entry ${at}: ${got[k]} is more than ${tolerance} from ${expected[k]}`);
      }
    }
  });

  it('a BarScanner on it reports the reference scanner\'s values', async () => {
    const panel = marketPanel();
    const settings = { indicators: standardIndicators.slice(0, 3), correlation: { symbols: 30, window: 32 } };
    const reference = new BarScanner(panel, settings, () => 0);
    const scanner = new BarScanner(panel, settings, () => 0, opened());
    for (const bar of [10, 40, 41, BARS - 1]) {
      const [a, b] = [await reference.scan(bar), await scanner.scan(bar)];
      expect([...b.returnRank]).toEqual([...a.returnRank]);
      expect(b.values.map((v) => [...v])).toEqual(a.values.map((v) => [...v]));
      const [x, y] = [a.correlation ?? new Float64Array(0), b.correlation ?? new Float64Array(0)];
      for (let k = 0; k < x.length; k++) {
        const close = Number.isNaN(x[k]) || tolerance === undefined ? Object.is(x[k], y[k]) : Math.abs(x[k] - y[k]) <= tolerance;
        if (!close) expect.fail(`bar ${bar} entry ${k}: ${y[k]} vs ${x[k]}`);
      }
    }
  });
});
