import { describe, expect, it } from 'vitest';
import { atrBatch } from './atr.ts';
import { bbandsBatch } from './bbands.ts';
import { emaBatch } from './ema.ts';
import { macdBatch } from './macd.ts';
import { rsiBatch } from './rsi.ts';
import { randomWalkBars } from '../batch/series.ts';
import { smaBatch } from './sma.ts';
import { stochBatch } from './stoch.ts';
import { vwapBatch } from './vwap.ts';

const bars = randomWalkBars(40, 2);

/** Every batch function as (close series, one period, out) -> first output array, sharing the other inputs. */
const batches: { name: string; run: (close: Float64Array, period: number, out?: Float64Array[]) => Float64Array }[] = [
  { name: 'smaBatch', run: (c, p, o) => smaBatch(c, p, o?.[0]) },
  { name: 'emaBatch', run: (c, p, o) => emaBatch(c, p, o?.[0]) },
  { name: 'rsiBatch', run: (c, p, o) => rsiBatch(c, p, o?.[0]) },
  {
    name: 'macdBatch',
    run: (c, p, o) => macdBatch(c, 1, p, 1, o && { macd: o[0], signal: o[1], histogram: o[2] }).macd,
  },
  { name: 'bbandsBatch', run: (c, p, o) => bbandsBatch(c, p, 2, o && { upper: o[0], middle: o[1], lower: o[2] }).upper },
  { name: 'atrBatch', run: (c, p, o) => atrBatch(bars.high.subarray(0, c.length), bars.low.subarray(0, c.length), c, p, o?.[0]) },
  {
    name: 'vwapBatch',
    run: (c, p, o) =>
      vwapBatch(bars.high.subarray(0, c.length), bars.low.subarray(0, c.length), c, bars.volume.subarray(0, c.length), p, o?.[0]),
  },
  {
    name: 'stochBatch',
    run: (c, p, o) =>
      stochBatch(bars.high.subarray(0, c.length), bars.low.subarray(0, c.length), c, p, 1, 1, o && { slowK: o[0], slowD: o[1] })
        .slowK,
  },
];

describe.each(batches)('$name', ({ name, run }) => {
  // macd's period here is slowPeriod, so 1 would not exceed fastPeriod 1: use 2 as the smallest valid period.
  const small = name === 'macdBatch' ? 2 : 1;

  it('returns an empty output for an empty input', () => {
    expect(run(new Float64Array(0), 3).length).toBe(0);
  });

  it('rejects periods that are not integers >= 1', () => {
    for (const bad of [0, -1, 2.5, Number.NaN]) expect(() => run(bars.close, bad)).toThrow(RangeError);
    expect(() => run(bars.close, 0)).toThrow(/must be an integer >= 1, got 0/);
  });

  it('rejects a period larger than the input with a clear message', () => {
    expect(() => run(bars.close.subarray(0, 5), 6)).toThrow(/\(6\) is larger than the input length \(5\)/);
  });

  it('names the first non-finite input index', () => {
    const close = bars.close.slice();
    close[7] = Number.NaN;
    close[9] = Infinity;
    expect(() => run(close, 3)).toThrow('close[7] is not finite (NaN)');
  });

  it('reuses a provided out array, overwriting stale warm-up slots with NaN', () => {
    const out = [0, 1, 2].map(() => new Float64Array(bars.close.length).fill(123));
    const result = run(bars.close, 5, out);
    expect(result).toBe(out[0]);
    expect(result[0]).toBeNaN();
    expect(Array.from(result)).toEqual(Array.from(run(bars.close, 5)));
  });

  it('rejects an out array of the wrong length or sharing memory with an input', () => {
    const out = [0, 1, 2].map(() => new Float64Array(bars.close.length));
    out[0] = new Float64Array(3);
    expect(() => run(bars.close, 5, out)).toThrow(/expected the input length 40/);
    const close = bars.close.slice();
    out[0] = close;
    expect(() => run(close, 5, out)).toThrow(/shares memory with an input/);
  });

  it('accepts the smallest period and a period equal to the input length', () => {
    expect(run(bars.close, small).length).toBe(40);
    expect(run(bars.close.subarray(0, 4), 4).length).toBe(4);
  });
});

describe('multi-output batch functions', () => {
  it('reject out arrays that alias each other', () => {
    const a = new Float64Array(bars.close.length);
    const b = new Float64Array(bars.close.length);
    expect(() => macdBatch(bars.close, 2, 3, 2, { macd: a, signal: a, histogram: b })).toThrow(/out\.signal shares memory/);
    expect(() => bbandsBatch(bars.close, 3, 2, { upper: a, middle: b, lower: b })).toThrow(/out\.lower shares memory/);
    expect(() => stochBatch(bars.high, bars.low, bars.close, 3, 1, 1, { slowK: a, slowD: a })).toThrow(/out\.slowD shares/);
  });
});
