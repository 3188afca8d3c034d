import { beforeAll, describe, expect, it } from 'vitest';
import type { StreamingIndicator } from '../indicators/indicator.ts';
import { jsWarmStates, warmIndicator, type HistoryColumns } from '../indicators/warm-state.ts';
import { randomWalkBars, seededRandom } from './series.ts';
import { openWasmWarmStates, type WasmWarmStates } from './wasm-warm-states.ts';
import { addFlatStretch, buildIndicator, warmStateSpecs } from '../../test/support/indicator-specs.ts';

// The wasm warm-state kernels against the JS ones (which warm-state.test.ts holds to the streaming classes): the
// same state, bit for bit, for every indicator class, on bars (high, low, close apart) and on trades (one price
// column, as a warm start passes them), over windows that cross the windowed indicators' re-summations, through
// flat and untraded stretches and for periods past the re-summation interval.
const specs = warmStateSpecs;

const build = buildIndicator;

function stateOf(indicator: StreamingIndicator): Float64Array {
  const state = new Float64Array(indicator.stateSize);
  indicator.saveState(state, 0);
  return state;
}

describe('wasm warm-state kernels', () => {
  let wasm: WasmWarmStates;
  beforeAll(async () => {
    wasm = await openWasmWarmStates();
  });

  const bars = randomWalkBars(12_000, 5);
  addFlatStretch(bars, 4_000, 4_300);
  const trades: HistoryColumns = { high: bars.close, low: bars.close, close: bars.close, volume: bars.volume };
  // Lows of -0 (and a NaN high) in places: the stochastic's wasm kernel then takes the deque path, not pmax/pmin.
  const signed: HistoryColumns = { ...bars, high: bars.high.slice(), low: bars.low.slice() };
  for (let i = 150; i < 12_000; i += 997) signed.low[i] = -0;
  signed.high[2_345] = Number.NaN;
  const random = seededRandom(23);
  const windows = [[0, 0], [10, 11], [100, 114], [100, 115], [100, 130], [0, 2_000], [500, 2_500], [3_900, 4_250], [1, 9_000],
    ...Array.from({ length: 5 }, () => {
      const from = Math.floor(random() * 3_000);
      return [from, from + Math.floor(random() * 6_000)];
    })];

  for (const spec of specs) {
    it(`${spec.type} ${JSON.stringify(spec.params)}: the JS kernel's state, bit for bit, on bars and on trades`, () => {
      for (const columns of [bars, trades, signed]) {
        for (const [from, to] of windows) {
          const indicator = build(spec);
          const expected = new Float64Array(indicator.stateSize).fill(-1);
          const actual = new Float64Array(indicator.stateSize).fill(-2);
          expect(jsWarmStates.stateAfter(indicator, columns, from, to, expected)).toBe(true);
          expect(wasm.stateAfter(indicator, columns, from, to, actual)).toBe(true);
          for (let k = 0; k < expected.length; k++) {
            if (!Object.is(actual[k], expected[k])) {
              const which = columns === trades ? 'trades' : columns === signed ? 'bars with -0 lows' : 'bars';
              throw new Error(`${which} [${from}, ${to}): state slot ${k} is ${actual[k]}, JS ${expected[k]}`);
            }
          }
        }
      }
    });
  }

  it('warms an indicator as streaming leaves it, and takes new columns and ranges, not a stale copy', () => {
    // The same columns with another range in a row, then other columns: each must be copied in again.
    for (const columns of [bars, trades]) {
      for (const [from, to] of [[0, 3_000], [0, 2_999], [7, 2_999]]) {
        const streamed = build(specs[9]);
        for (let i = from; i < to; i++) streamed.update(columns.close[i], columns.high[i], columns.low[i], columns.volume[i]);
        const warmed = build(specs[9]);
        warmIndicator(warmed, columns, from, to, wasm);
        expect(Array.from(stateOf(warmed))).toEqual(Array.from(stateOf(streamed)));
      }
    }
  });

  it('says so for an indicator it has no kernel for, and writes nothing', () => {
    const unknown = { type: 'custom', stateSize: 4 } as unknown as StreamingIndicator;
    const out = new Float64Array(4).fill(3);
    expect(wasm.stateAfter(unknown, trades, 0, 100, out)).toBe(false);
    expect(Array.from(out)).toEqual([3, 3, 3, 3]);
  });
});
