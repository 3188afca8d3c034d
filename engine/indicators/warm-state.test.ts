import { describe, expect, it } from 'vitest';
import { randomWalkBars, seededRandom } from '../batch/series.ts';
import { leastCommonMultiple, replayStart, type StreamingIndicator } from './indicator.ts';
import { resyncInterval } from './rolling-sum.ts';
import { warmIndicator } from './warm-state.ts';
import { addFlatStretch, buildIndicator, warmStateSpecs } from '../../test/support/indicator-specs.ts';

// The warm-start promise of `replayAlignment`: a fresh indicator fed only the tail from `replayStart` ends in the
// same state as one fed the whole history. State is private, so it is compared the way it shows: every output
// at the end of the history and on every one of the next values, bit for bit, long enough to cross several
// re-summations (which would expose a window sum that only looked equal).
const specs = warmStateSpecs;

const build = buildIndicator;

function outputsOf(indicator: StreamingIndicator): number[] {
  return indicator.outputNames.map((_, k) => indicator.output(k));
}

describe('replayStart: a fresh indicator fed the tail ends where the whole history leaves one', () => {
  const bars = randomWalkBars(9_000, 7);
  // Runs of equal closes and zero volumes (flat markets, halts) go through the exact-zero branches too.
  for (let i = 3_000; i < 3_400; i++) {
    bars.close[i] = bars.close[2_999];
    bars.high[i] = bars.close[2_999];
    bars.low[i] = bars.close[2_999];
    bars.volume[i] = 0;
  }
  const random = seededRandom(11);
  const lengths = [0, 1, 19, 20, 1043, 1044, 2_000, 2_047, 2_048, 4_500, ...Array.from({ length: 6 }, () => Math.floor(random() * 6_000))];

  for (const spec of specs) {
    it(`${spec.type} ${JSON.stringify(spec.params)}`, () => {
      for (const length of lengths) {
        const whole = build(spec);
        const tail = build(spec);
        const start = replayStart(tail, length);
        expect(start).toBeGreaterThanOrEqual(0);
        expect(start).toBeLessThanOrEqual(Math.max(0, length - tail.warmupPeriod));
        if (tail.replayAlignment !== 0) expect(start % tail.replayAlignment).toBe(0);
        for (let i = 0; i < length; i++) whole.update(bars.close[i], bars.high[i], bars.low[i], bars.volume[i]);
        for (let i = start; i < length; i++) tail.update(bars.close[i], bars.high[i], bars.low[i], bars.volume[i]);
        expect(tail.isStable).toBe(whole.isStable);
        expect(outputsOf(tail)).toEqual(outputsOf(whole));
        for (let i = length; i < length + 3_000; i++) {
          whole.update(bars.close[i], bars.high[i], bars.low[i], bars.volume[i]);
          tail.update(bars.close[i], bars.high[i], bars.low[i], bars.volume[i]);
          const a = outputsOf(whole);
          const b = outputsOf(tail);
          for (let k = 0; k < a.length; k++) {
            if (!Object.is(a[k], b[k])) throw new Error(`length ${length} from ${start}: output ${k} differs at ${i}: ${a[k]} vs ${b[k]}`);
          }
        }
      }
    });
  }

  it('skips most of a long history for the windowed indicators and none of it for recursions', () => {
    expect(replayStart(build({ type: 'sma', params: { period: 20 } }), 2_000)).toBe(1_024);
    expect(replayStart(build({ type: 'sma', params: { period: 20 } }), 100_000)).toBe(99_328);
    expect(replayStart(build({ type: 'sma', params: { period: 20 } }), 19)).toBe(0);
    expect(replayStart(build({ type: 'ema', params: { period: 20 } }), 100_000)).toBe(0);
    expect(replayStart(build({ type: 'stoch', params: {} }), 100_000)).toBe(99_328);
  });

  it('aligns a composite window on both of its periods', () => {
    expect(leastCommonMultiple(1024, 1024)).toBe(1024);
    expect(leastCommonMultiple(1030, 1024)).toBe(527_360);
    expect(leastCommonMultiple(4, 6)).toBe(12);
    expect(build({ type: 'stoch', params: { fastKPeriod: 5, slowKPeriod: 1030, slowDPeriod: 3 } }).replayAlignment)
      .toBe(leastCommonMultiple(resyncInterval(1030), resyncInterval(3)));
  });
});

function feed(indicator: StreamingIndicator, bars: ReturnType<typeof randomWalkBars>, from: number, to: number): void {
  for (let i = from; i < to; i++) indicator.update(bars.close[i], bars.high[i], bars.low[i], bars.volume[i]);
}

function savedState(indicator: StreamingIndicator): Float64Array {
  const state = new Float64Array(indicator.stateSize + 2).fill(-7);
  indicator.saveState(state, 1);
  expect(state[0]).toBe(-7); // nothing written outside [offset, offset + stateSize)
  expect(state[state.length - 1]).toBe(-7);
  return state.subarray(1, 1 + indicator.stateSize);
}

function expectSameBits(actual: Float64Array, expected: Float64Array, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  for (let k = 0; k < expected.length; k++) {
    if (!Object.is(actual[k], expected[k])) throw new Error(`${what}: state slot ${k} is ${actual[k]}, streamed ${expected[k]}`);
  }
}

function expectSameContinuation(a: StreamingIndicator, b: StreamingIndicator, bars: ReturnType<typeof randomWalkBars>, from: number, what: string): void {
  for (let i = from; i < from + 2_500; i++) {
    a.update(bars.close[i], bars.high[i], bars.low[i], bars.volume[i]);
    b.update(bars.close[i], bars.high[i], bars.low[i], bars.volume[i]);
    const x = outputsOf(a);
    const y = outputsOf(b);
    for (let k = 0; k < x.length; k++) {
      if (!Object.is(x[k], y[k])) throw new Error(`${what}: output ${k} differs at ${i}: ${x[k]} vs ${y[k]}`);
    }
  }
}

describe('saveState / loadState', () => {
  const bars = randomWalkBars(12_000, 3);
  for (const spec of specs) {
    it(`${spec.type} ${JSON.stringify(spec.params)}: a loaded copy continues bit for bit`, () => {
      for (const length of [0, 1, 5, 40, 1_100, 3_333]) {
        const original = build(spec);
        feed(original, bars, 0, length);
        const state = savedState(original);
        const copy = build(spec);
        copy.update(1, 2, 0.5, 3); // whatever it held before is replaced
        copy.loadState(state, 0);
        expect(copy.isStable).toBe(original.isStable);
        expectSameBits(savedState(copy), state, `length ${length}`);
        expectSameContinuation(original, copy, bars, length, `length ${length}`);
      }
    });
  }

  it('refuses a state whose count cannot be, and keeps its own', () => {
    const sma = build({ type: 'sma', params: { period: 3 } });
    feed(sma, bars, 0, 10);
    const before = savedState(sma);
    const bad = new Float64Array(sma.stateSize);
    bad[0] = 4;
    expect(() => sma.loadState(bad, 0)).toThrow(/sma state at 0: count must be an integer in \[0, 3\], got 4/);
    bad[0] = 1.5;
    expect(() => sma.loadState(bad, 0)).toThrow(RangeError);
    expectSameBits(savedState(sma), before, 'after a refused load');
    const stoch = build({ type: 'stoch', params: {} });
    const wrong = new Float64Array(stoch.stateSize);
    wrong[3] = 15; // a deque longer than fastKPeriod
    expect(() => stoch.loadState(wrong, 0)).toThrow(/stoch state at 3/);
  });
});

describe('warmIndicator: the state after a history without feeding it tick by tick', () => {
  const bars = randomWalkBars(12_000, 5);
  addFlatStretch(bars, 4_000, 4_300);
  const random = seededRandom(17);
  const windows = [[0, 0], [10, 11], [100, 130], [0, 2_000], [500, 2_500], [3_900, 4_250], [1, 9_000],
    ...Array.from({ length: 5 }, () => {
      const from = Math.floor(random() * 3_000);
      return [from, from + Math.floor(random() * 6_000)];
    })];
  for (const spec of specs) {
    it(`${spec.type} ${JSON.stringify(spec.params)}: equals the streamed state, bit for bit`, () => {
      for (const [from, to] of windows) {
        const streamed = build(spec);
        feed(streamed, bars, from, to);
        const warmed = build(spec);
        warmIndicator(warmed, bars, from, to);
        expectSameBits(savedState(warmed), savedState(streamed), `[${from}, ${to})`);
        expectSameContinuation(streamed, warmed, bars, to, `[${from}, ${to})`);
      }
    });
  }
});
