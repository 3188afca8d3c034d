import { beforeAll, describe, expect, it } from 'vitest';
import { buildWasm } from '../../assembly/build.ts';
import { randomWalkBars, type Bars } from './series.ts';
import { createGpuBackend, GPU_TOLERANCE } from './gpu-backend.ts';
import type { AnyBatchBackend, BatchBackend } from './batch-backend.ts';
import { createJsBackend } from './js-backend.ts';
import { symbolColumn, toBarMajor, type AsyncPanelBatch, type PanelBatch } from './panel.ts';
import { createWasmBackend } from './wasm-backend.ts';
import { createWorkersBackend } from './workers-backend.ts';

/**
 * The one contract every batch backend passes, checked against the JS reference backend.
 * Adding a backend is one line in `backends` (and in `panelBackends` when it has the multi-symbol functions).
 * Backends that compute in f64 equal the reference bit for bit; the GPU computes in f32 and must stay within
 * its stated tolerance (gpu-backend.ts GPU_TOLERANCE), with NaN exactly where the reference has NaN.
 *
 * The GPU backend runs on whatever adapter adapter.ts finds: here and in CI, Mesa's llvmpipe through Dawn's
 * OpenGL ES backend (.ci/run installs the Debian packages). Without one the GPU suites fail with the reason.
 */
interface Tolerance {
  readonly relative: number;
  readonly absolute: number;
}

const backends: readonly { name: string; create: () => Promise<AnyBatchBackend>; tolerance?: Tolerance }[] = [
  { name: 'js', create: async () => createJsBackend() },
  { name: 'wasm', create: () => createWasmBackend() },
  { name: 'gpu', create: () => createGpuBackend(), tolerance: GPU_TOLERANCE },
];

/** Synchronous panel functions as AsyncPanelBatch (a throw becomes a rejection), so one suite serves both kinds. */
function asyncPanel<B extends PanelBatch & BatchBackend>(backend: B): AsyncPanelBatch & BatchBackend {
  return {
    ...backend,
    smaMany: async (...args) => backend.smaMany(...args),
    emaMany: async (...args) => backend.emaMany(...args),
    rsiMany: async (...args) => backend.rsiMany(...args),
    atrMany: async (...args) => backend.atrMany(...args),
    macdMany: async (...args) => backend.macdMany(...args),
  };
}

const panelBackends: readonly { name: string; create: () => Promise<AsyncPanelBatch & AnyBatchBackend>; tolerance?: Tolerance }[] = [
  { name: 'wasm', create: async () => asyncPanel(await createWasmBackend()) },
  { name: 'workers (2 threads)', create: () => createWorkersBackend({ workers: 2 }) },
  { name: 'gpu', create: () => createGpuBackend(), tolerance: GPU_TOLERANCE },
];

// The wasm modules are build outputs: compile them when missing or older than assembly/ (a no-op otherwise;
// `npm test` has already run `npm run build:wasm`).
beforeAll(async () => {
  await buildWasm();
}, 120_000);

const reference = createJsBackend();

type InputName = 'close' | 'high' | 'low' | 'volume';

/** One indicator call with fixed parameters, generic over the backend; outputs in the README's order. */
interface Case {
  readonly label: string;
  readonly inputs: readonly InputName[];
  /** Largest period checked against the input length. */
  readonly longest: number;
  /** First output index (README warm-up table). */
  readonly firstIndex: number;
  readonly outputs: number;
  /** Every output after warm-up on constant bars (high = low = close = 100.25, volume 100). */
  readonly flat: readonly number[];
  /** Outputs on a fixed 0..100 scale (RSI, Stochastic) rather than the price scale. */
  readonly oscillator?: boolean;
  run(backend: AnyBatchBackend, bars: Bars, out?: Float64Array[]): Promise<Float64Array[]>;
}

const C = 100.25; // exact in binary, so sums and (h + l + c) / 3 of constant bars are exact too

function sma(period: number): Case {
  return {
    label: `sma:${period}`, inputs: ['close'], longest: period, firstIndex: period - 1, outputs: 1, flat: [C],
    run: async (b, x, o) => [await b.sma(x.close, period, o?.[0])],
  };
}
function ema(period: number): Case {
  return {
    label: `ema:${period}`, inputs: ['close'], longest: period, firstIndex: period - 1, outputs: 1, flat: [C],
    run: async (b, x, o) => [await b.ema(x.close, period, o?.[0])],
  };
}
function rsi(period: number): Case {
  return {
    label: `rsi:${period}`, inputs: ['close'], longest: period, firstIndex: period, outputs: 1, flat: [50], oscillator: true,
    run: async (b, x, o) => [await b.rsi(x.close, period, o?.[0])],
  };
}
function macd(fast: number, slow: number, signal: number): Case {
  return {
    label: `macd:${fast}:${slow}:${signal}`, inputs: ['close'], longest: Math.max(slow, signal),
    firstIndex: slow + signal - 2, outputs: 3, flat: [0, 0, 0],
    run: async (b, x, o) => {
      const r = await b.macd(x.close, fast, slow, signal, o && { macd: o[0], signal: o[1], histogram: o[2] });
      return [r.macd, r.signal, r.histogram];
    },
  };
}
function bbands(period: number, stdDev: number): Case {
  return {
    label: `bbands:${period}:${stdDev}`, inputs: ['close'], longest: period, firstIndex: period - 1, outputs: 3,
    flat: [C, C, C],
    run: async (b, x, o) => {
      const r = await b.bbands(x.close, period, stdDev, o && { upper: o[0], middle: o[1], lower: o[2] });
      return [r.upper, r.middle, r.lower];
    },
  };
}
function atr(period: number): Case {
  return {
    label: `atr:${period}`, inputs: ['high', 'low', 'close'], longest: period, firstIndex: period, outputs: 1, flat: [0],
    run: async (b, x, o) => [await b.atr(x.high, x.low, x.close, period, o?.[0])],
  };
}
function vwap(period: number): Case {
  return {
    label: `vwap:${period}`, inputs: ['high', 'low', 'close', 'volume'], longest: period, firstIndex: period - 1,
    outputs: 1, flat: [C],
    run: async (b, x, o) => [await b.vwap(x.high, x.low, x.close, x.volume, period, o?.[0])],
  };
}
function stoch(fastK: number, slowK: number, slowD: number): Case {
  return {
    label: `stoch:${fastK}:${slowK}:${slowD}`, inputs: ['high', 'low', 'close'], longest: Math.max(fastK, slowK, slowD),
    firstIndex: fastK + slowK + slowD - 3, outputs: 2, flat: [50, 50], oscillator: true,
    run: async (b, x, o) => {
      const r = await b.stoch(x.high, x.low, x.close, fastK, slowK, slowD, o && { slowK: o[0], slowD: o[1] });
      return [r.slowK, r.slowD];
    },
  };
}

/** Typical, minimal and longer-than-the-re-summation-interval (1024) parameters for every indicator. */
const cases: readonly Case[] = [
  sma(20), sma(1), sma(1500),
  ema(20), ema(1),
  rsi(14), rsi(1),
  macd(12, 26, 9), macd(1, 2, 1),
  bbands(20, 2.5), bbands(1, 2), bbands(1500, 2),
  atr(14), atr(1),
  vwap(20), vwap(1), vwap(1500),
  stoch(14, 3, 3), stoch(1, 1, 1), stoch(5, 1100, 1030),
];

/** 10k seeded random-walk bars with a 300-bar halt (flat prices, zero volume): every flat-market branch. */
function parityBars(): Bars {
  const bars = randomWalkBars(10_000, 42);
  const price = bars.close[2999];
  for (let i = 3000; i < 3300; i++) {
    bars.high[i] = price;
    bars.low[i] = price;
    bars.close[i] = price;
    bars.volume[i] = 0;
  }
  return bars;
}

function slice(bars: Bars, length: number): Bars {
  return {
    high: bars.high.slice(0, length),
    low: bars.low.slice(0, length),
    close: bars.close.slice(0, length),
    volume: bars.volume.slice(0, length),
  };
}

function constantBars(length: number): Bars {
  return {
    high: new Float64Array(length).fill(C),
    low: new Float64Array(length).fill(C),
    close: new Float64Array(length).fill(C),
    volume: new Float64Array(length).fill(100),
  };
}

/** Fails at the first index where two outputs differ in any bit (Object.is: NaN equals NaN, -0 is not 0). */
function expectIdentical(actual: Float64Array[], expected: Float64Array[], what: string): void {
  expect(actual.length, what).toBe(expected.length);
  for (let k = 0; k < expected.length; k++) {
    expect(actual[k].length, `${what}, output ${k} length`).toBe(expected[k].length);
    for (let i = 0; i < expected[k].length; i++) {
      if (!Object.is(actual[k][i], expected[k][i])) {
        expect.fail(`${what}, output ${k} at index ${i}: ${actual[k][i]}, reference ${expected[k][i]}`);
      }
    }
  }
}

/** The message of the RangeError `promise` rejects with, or fails. */
async function rejectionOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(RangeError);
    return (error as Error).message;
  }
  return expect.fail('the promise did not reject');
}

/** The message of the RangeError `call` throws or rejects with, or fails. */
async function rangeErrorOf(call: () => unknown): Promise<string> {
  try {
    await call();
  } catch (error) {
    expect(error).toBeInstanceOf(RangeError);
    return (error as Error).message;
  }
  return expect.fail('no RangeError was thrown');
}

/**
 * Bit-identical outputs without a tolerance; with one, NaN exactly where the reference has NaN and every other
 * value within `relative` x `scale` (price outputs) or `absolute` (oscillators).
 */
function expectMatch(
  actual: Float64Array[], expected: Float64Array[], what: string, tolerance: Tolerance | undefined, scale: number, oscillator = false,
): void {
  if (tolerance === undefined) {
    expectIdentical(actual, expected, what);
    return;
  }
  const allowed = oscillator ? tolerance.absolute : tolerance.relative * scale;
  expect(actual.length, what).toBe(expected.length);
  for (let k = 0; k < expected.length; k++) {
    expect(actual[k].length, `${what}, output ${k} length`).toBe(expected[k].length);
    for (let i = 0; i < expected[k].length; i++) {
      const a = actual[k][i];
      const e = expected[k][i];
      if (Number.isNaN(a) !== Number.isNaN(e) || Math.abs(a - e) > allowed) {
        expect.fail(`${what}, output ${k} at index ${i}: ${a}, reference ${e} (allowed difference ${allowed})`);
      }
    }
  }
}

/** The largest input magnitude: the price scale a tolerance is relative to. */
function priceScale(bars: Bars): number {
  let scale = 0;
  for (const values of [bars.high, bars.low, bars.close]) for (const v of values) scale = Math.max(scale, Math.abs(v));
  return scale;
}

const bars = parityBars();

describe.each(backends)('batch backend $name', ({ create, tolerance }) => {
  let backend: AnyBatchBackend;
  beforeAll(async () => {
    backend = await create();
    return () => backend.close();
  }, 60_000);

  describe.each(cases)('$label', (c) => {
    const match = (actual: Float64Array[], expected: Float64Array[], what: string, input: Bars): void =>
      expectMatch(actual, expected, what, tolerance, priceScale(input), c.oscillator);

    it('is NaN exactly before its first output index, then finite (warm-up and alignment)', async () => {
      const outputs = await c.run(backend, bars);
      for (const out of outputs) {
        expect(out.length).toBe(bars.close.length);
        for (let i = 0; i < out.length; i++) {
          if (Number.isNaN(out[i]) !== i < c.firstIndex) expect.fail(`index ${i}: ${out[i]} (first output ${c.firstIndex})`);
        }
      }
    });

    it(`equals the JS reference ${tolerance ? 'within tolerance' : 'bit for bit'} on 10k random-walk bars with a halt`, async () => {
      match(await c.run(backend, bars), await c.run(reference, bars), c.label, bars);
    });

    it('equals the JS reference at lengths around the first re-summation index', async () => {
      for (const length of [c.firstIndex + 1, c.firstIndex + 1024, c.firstIndex + 1025, c.firstIndex + 1026]) {
        if (length > bars.close.length) continue;
        const part = slice(bars, length);
        match(await c.run(backend, part), await c.run(reference, part), `length ${length}`, part);
      }
    });

    it.each(c.inputs)('throws a RangeError naming the first non-finite %s, before writing any output', async (input) => {
      for (const bad of [NaN, Infinity, -Infinity]) {
        const part = slice(bars, 2000);
        part[input][137] = bad;
        part[input][1500] = NaN;
        const out = Array.from({ length: c.outputs }, () => new Float64Array(2000).fill(7));
        expect(await rangeErrorOf(() => c.run(backend, part, out))).toBe(`${input}[137] is not finite (${bad})`);
        for (const o of out) expect(o.every((v) => v === 7)).toBe(true);
      }
    });

    it('gives empty outputs for an empty input', async () => {
      const outputs = await c.run(backend, slice(bars, 0));
      expect(outputs.map((o) => o.length)).toEqual(new Array(c.outputs).fill(0));
    });

    it('throws the RangeError of the JS reference when a period is longer than the input', async () => {
      const short = slice(bars, c.longest - 1);
      if (short.close.length === 0) return; // period 1: no shorter non-empty input
      const message = await rangeErrorOf(() => c.run(reference, short));
      expect(message).toMatch(/is larger than the input length/);
      expect(await rangeErrorOf(() => c.run(backend, short))).toBe(message);
    });

    it('is all NaN on an input long enough for its periods but shorter than its warm-up', async () => {
      if (c.longest > c.firstIndex) return; // warm-up == longest period: no such input
      for (const length of [c.longest, c.firstIndex]) {
        for (const out of await c.run(backend, slice(bars, length))) expect(out.every(Number.isNaN)).toBe(true);
      }
    });

    it('gives the documented flat values on constant bars (zero-width bands, RSI and stoch 50)', async () => {
      const outputs = await c.run(backend, constantBars(c.firstIndex + 100));
      outputs.forEach((out, k) => {
        expect(Array.from(out.subarray(c.firstIndex))).toEqual(new Array(100).fill(c.flat[k]));
      });
    });

    it('writes into the given out arrays, returns them and leaves nothing stale on reuse', async () => {
      const out = Array.from({ length: c.outputs }, () => new Float64Array(3000).fill(7));
      const part = slice(bars, 3000);
      const first = await c.run(backend, part, out);
      first.forEach((o, k) => expect(o).toBe(out[k]));
      match(first, await c.run(reference, part), 'first call', part);
      const other = slice(parityBars(), 3000);
      other.close.reverse();
      other.high.reverse();
      other.low.reverse();
      other.volume.reverse();
      const second = await c.run(backend, other, out);
      second.forEach((o, k) => expect(o).toBe(out[k]));
      match(second, await c.run(reference, other), 'second call into the same arrays', other);
    });
  });

  /** Argument errors beyond non-finite values: each backend throws the reference's RangeError, output untouched. */
  const x = slice(bars, 200);
  const swapped = slice(bars, 200);
  swapped.high[42] = swapped.low[42] - 1;
  const negative = slice(bars, 200);
  negative.volume[17] = -1;
  const badCalls: readonly { label: string; call: (b: AnyBatchBackend, out: Float64Array) => unknown }[] = [
    { label: 'period 0', call: (b, out) => b.sma(x.close, 0, out) },
    { label: 'fractional period', call: (b, out) => b.ema(x.close, 2.5, out) },
    { label: 'NaN period', call: (b, out) => b.rsi(x.close, NaN, out) },
    { label: 'macd fast >= slow', call: (b, out) => b.macd(x.close, 26, 12, 9, { macd: out, signal: new Float64Array(200), histogram: new Float64Array(200) }) },
    { label: 'macd signal longer than the input', call: (b) => b.macd(x.close, 2, 3, 201) },
    { label: 'bbands stdDev 0', call: (b, out) => b.bbands(x.close, 20, 0, { upper: out, middle: new Float64Array(200), lower: new Float64Array(200) }) },
    { label: 'bbands stdDev Infinity', call: (b) => b.bbands(x.close, 20, Infinity) },
    { label: 'inputs of different lengths', call: (b, out) => b.atr(x.high.subarray(0, 150), x.low, x.close, 14, out) },
    { label: 'volume of a different length', call: (b, out) => b.vwap(x.high, x.low, x.close, x.volume.subarray(1), 14, out) },
    { label: 'high below low', call: (b, out) => b.atr(swapped.high, swapped.low, swapped.close, 14, out) },
    { label: 'high below low (stoch)', call: (b, out) => b.stoch(swapped.high, swapped.low, swapped.close, 14, 3, 3, { slowK: out, slowD: new Float64Array(200) }) },
    { label: 'negative volume', call: (b, out) => b.vwap(negative.high, negative.low, negative.close, negative.volume, 14, out) },
    { label: 'stoch period 0', call: (b) => b.stoch(x.high, x.low, x.close, 14, 0, 3) },
    { label: 'out of the wrong length', call: (b) => b.ema(x.close, 5, new Float64Array(199)) },
    { label: 'out sharing memory with an input', call: (b) => b.sma(x.close, 5, x.close.subarray(0, 200)) },
    { label: 'a second out sharing memory with the first', call: (b, out) => b.macd(x.close, 12, 26, 9, { macd: out, signal: out, histogram: new Float64Array(200) }) },
  ];

  it.each(badCalls)('throws the reference RangeError for $label, writing nothing', async ({ call }) => {
    const expected = await rangeErrorOf(() => call(reference, new Float64Array(200)));
    const out = new Float64Array(200).fill(7);
    expect(await rangeErrorOf(() => call(backend, out))).toBe(expected);
    expect(out.every((v) => v === 7)).toBe(true);
  });
});

// ---- multi-symbol (panel) functions -------------------------------------------------------------------------

const SYMBOLS = 7; // odd: six symbols in f64x2 pairs and one in a half vector
const BARS = 3000;

/** Seeded bars per symbol; symbol 3 halts (flat prices, zero volume) for 300 bars. */
function panelSeries(symbols: number): Bars[] {
  return Array.from({ length: symbols }, (_, s) => {
    const b = randomWalkBars(BARS, 100 + s, 50 + 10 * s);
    if (s === 3) {
      const price = b.close[999];
      for (let i = 1000; i < 1300; i++) {
        b.high[i] = price;
        b.low[i] = price;
        b.close[i] = price;
        b.volume[i] = 0;
      }
    }
    return b;
  });
}

interface Panel {
  readonly symbols: number;
  readonly bars: number;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
}

function panelOf(series: readonly Bars[]): Panel {
  return {
    symbols: series.length,
    bars: series.length === 0 ? 0 : series[0].close.length,
    high: toBarMajor(series.map((b) => b.high)),
    low: toBarMajor(series.map((b) => b.low)),
    close: toBarMajor(series.map((b) => b.close)),
  };
}

/** One panel call and its single-series twin (the reference each symbol's column must equal). */
interface PanelCase {
  readonly label: string;
  readonly firstIndex: number;
  readonly longest: number;
  readonly inputs: readonly ('close' | 'high' | 'low')[];
  readonly oscillator?: boolean;
  many(backend: AsyncPanelBatch, p: Panel, out?: Float64Array[]): Promise<Float64Array[]>;
  single(backend: BatchBackend, bars: Bars): Float64Array[];
}

const panelCases: readonly PanelCase[] = [
  ...[20, 1, 1500].map((period): PanelCase => ({
    label: `smaMany:${period}`, firstIndex: period - 1, longest: period, inputs: ['close'],
    many: async (b, p, o) => [await b.smaMany(p.close, p.symbols, p.bars, period, o?.[0])],
    single: (b, x) => [b.sma(x.close, period)],
  })),
  ...[20, 1].map((period): PanelCase => ({
    label: `emaMany:${period}`, firstIndex: period - 1, longest: period, inputs: ['close'],
    many: async (b, p, o) => [await b.emaMany(p.close, p.symbols, p.bars, period, o?.[0])],
    single: (b, x) => [b.ema(x.close, period)],
  })),
  ...[14, 1].map((period): PanelCase => ({
    label: `rsiMany:${period}`, firstIndex: period, longest: period, inputs: ['close'], oscillator: true,
    many: async (b, p, o) => [await b.rsiMany(p.close, p.symbols, p.bars, period, o?.[0])],
    single: (b, x) => [b.rsi(x.close, period)],
  })),
  ...[14, 1].map((period): PanelCase => ({
    label: `atrMany:${period}`, firstIndex: period, longest: period, inputs: ['high', 'low', 'close'],
    many: async (b, p, o) => [await b.atrMany(p.high, p.low, p.close, p.symbols, p.bars, period, o?.[0])],
    single: (b, x) => [b.atr(x.high, x.low, x.close, period)],
  })),
  ...[[12, 26, 9], [1, 2, 1]].map(([fast, slow, signal]): PanelCase => ({
    label: `macdMany:${fast}:${slow}:${signal}`, firstIndex: slow + signal - 2, longest: Math.max(slow, signal), inputs: ['close'],
    many: async (b, p, o) => {
      const r = await b.macdMany(p.close, p.symbols, p.bars, fast, slow, signal, o && { macd: o[0], signal: o[1], histogram: o[2] });
      return [r.macd, r.signal, r.histogram];
    },
    single: (b, x) => {
      const r = b.macd(x.close, fast, slow, signal);
      return [r.macd, r.signal, r.histogram];
    },
  })),
];

describe.each(panelBackends)('panel functions of $name', ({ create, tolerance }) => {
  let backend: AsyncPanelBatch & AnyBatchBackend;
  beforeAll(async () => {
    backend = await create();
    return () => backend.close();
  }, 60_000);

  describe.each(panelCases)('$label', (c) => {
    it.each([7, 8, 1, 37])(`gives each of %i symbols the single-series JS result ${tolerance ? 'within tolerance' : 'bit for bit'}`, async (symbols) => {
      const series = panelSeries(symbols);
      const panel = panelOf(series);
      const outputs = await c.many(backend, panel);
      const columns = outputs.map(() => new Float64Array(BARS));
      for (let s = 0; s < symbols; s++) {
        const lane = outputs.map((o, k) => symbolColumn(o, symbols, s, columns[k]));
        expectMatch(lane, c.single(reference, series[s]), `symbol ${s} of ${symbols}`, tolerance, priceScale(series[s]), c.oscillator);
      }
    });

    it('is NaN before its first output row (all NaN with fewer bars), empty for an empty panel', async () => {
      const series = panelSeries(SYMBOLS).map((b) => slice(b, Math.max(c.longest, c.firstIndex)));
      for (const out of await c.many(backend, panelOf(series))) {
        expect(out.subarray(0, c.firstIndex * SYMBOLS).every(Number.isNaN)).toBe(true);
      }
      for (const p of [panelOf([]), panelOf(panelSeries(3).map((b) => slice(b, 0)))]) {
        const outputs = await c.many(backend, p);
        expect(outputs.map((o) => o.length)).toEqual(outputs.map(() => 0));
      }
    });

    it('names the symbol and bar of the first non-finite value, before writing any output', async () => {
      for (const input of c.inputs) {
        const panel = panelOf(panelSeries(SYMBOLS));
        panel[input][5 * SYMBOLS + 4] = Infinity;
        const out = [new Float64Array(SYMBOLS * BARS).fill(7), new Float64Array(SYMBOLS * BARS).fill(7), new Float64Array(SYMBOLS * BARS).fill(7)];
        expect(await rejectionOf(c.many(backend, panel, out))).toBe(`${input}[39] (symbol 4, bar 5) is not finite (Infinity)`);
        for (const o of out) expect(o.every((v) => v === 7)).toBe(true);
      }
    });

    it('reuses its out arrays', async () => {
      const out = [new Float64Array(SYMBOLS * BARS), new Float64Array(SYMBOLS * BARS), new Float64Array(SYMBOLS * BARS)];
      const panel = panelOf(panelSeries(SYMBOLS));
      const first = await c.many(backend, panel, out);
      first.forEach((o, k) => expect(o).toBe(out[k]));
      panel.close.reverse();
      panel.high.reverse();
      panel.low.reverse();
      const second = await c.many(backend, panel, out);
      second.forEach((o, k) => expect(o).toBe(out[k]));
      expectIdentical(second.map((o) => o.slice()), await c.many(backend, panel), 'second call into the same arrays');
    });
  });

  it('throws RangeErrors for a bad shape, a period longer than the bars and high below low', async () => {
    const panel = panelOf(panelSeries(SYMBOLS));
    expect(await rejectionOf(backend.emaMany(panel.close, SYMBOLS, BARS - 1, 20))).toBe(
      `close has ${SYMBOLS * BARS} values, expected symbols * bars = ${SYMBOLS} * ${BARS - 1} = ${SYMBOLS * (BARS - 1)}`,
    );
    expect(await rejectionOf(backend.rsiMany(panel.close, 2.5, BARS, 14))).toBe('symbols must be an integer >= 0, got 2.5');
    expect(await rejectionOf(backend.smaMany(panel.close, SYMBOLS, BARS, BARS + 1))).toBe(
      `period (${BARS + 1}) is larger than the input length (${BARS})`,
    );
    expect(await rejectionOf(backend.macdMany(panel.close, SYMBOLS, BARS, 26, 12, 9))).toBe(
      'fastPeriod (26) must be less than slowPeriod (12)',
    );
    panel.low[2 * SYMBOLS + 6] = panel.high[2 * SYMBOLS + 6] + 1;
    expect(await rejectionOf(backend.atrMany(panel.high, panel.low, panel.close, SYMBOLS, BARS, 14))).toMatch(
      new RegExp(`^high\\[${2 * SYMBOLS + 6}\\] \\(.*\\) is below low\\[${2 * SYMBOLS + 6}\\] \\(.*\\) \\(symbol 6, bar 2\\)$`),
    );
  });
});
