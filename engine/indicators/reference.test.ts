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

// Slow O(n * period) references written straight from the definitions (test-only): every window is summed
// afresh, so they share no running state, ring or re-summation schedule with the code under test.

const nans = (n: number): number[] => new Array<number>(n).fill(NaN);

function mean(x: ArrayLike<number>, from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i];
  return s / (to - from);
}

function refSma(x: ArrayLike<number>, p: number): number[] {
  const out = nans(x.length);
  for (let i = p - 1; i < x.length; i++) out[i] = mean(x, i - p + 1, i + 1);
  return out;
}

/** EMA seeded with the mean of x[start, start + p), first value at start + p - 1. */
function refEmaFrom(x: ArrayLike<number>, p: number, start: number): number[] {
  const out = nans(x.length);
  const a = 2 / (p + 1);
  let e = mean(x, start, start + p);
  out[start + p - 1] = e;
  for (let i = start + p; i < x.length; i++) {
    e = a * x[i] + (1 - a) * e;
    out[i] = e;
  }
  return out;
}

function refRsi(x: ArrayLike<number>, p: number): number[] {
  const out = nans(x.length);
  const gains: number[] = [0];
  const losses: number[] = [0];
  for (let i = 1; i < x.length; i++) {
    gains.push(Math.max(x[i] - x[i - 1], 0));
    losses.push(Math.max(x[i - 1] - x[i], 0));
  }
  let g = mean(gains, 1, p + 1);
  let l = mean(losses, 1, p + 1);
  const rsi = (): number => (g + l === 0 ? 50 : (100 * g) / (g + l));
  out[p] = rsi();
  for (let i = p + 1; i < x.length; i++) {
    g = (g * (p - 1) + gains[i]) / p;
    l = (l * (p - 1) + losses[i]) / p;
    out[i] = rsi();
  }
  return out;
}

function refMacd(x: ArrayLike<number>, fast: number, slow: number, signal: number): number[][] {
  const fastEma = refEmaFrom(x, fast, slow - fast);
  const slowEma = refEmaFrom(x, slow, 0);
  const line = fastEma.map((f, i) => f - slowEma[i]);
  const sig = refEmaFrom(line, signal, slow - 1);
  const first = slow + signal - 2;
  const macd = line.map((m, i) => (i < first ? NaN : m));
  return [macd, sig, macd.map((m, i) => m - sig[i])];
}

function refBbands(x: ArrayLike<number>, p: number, k: number): number[][] {
  const upper = nans(x.length);
  const middle = nans(x.length);
  const lower = nans(x.length);
  for (let i = p - 1; i < x.length; i++) {
    const m = mean(x, i - p + 1, i + 1);
    let v = 0;
    for (let j = i - p + 1; j <= i; j++) v += (x[j] - m) ** 2;
    const sd = Math.sqrt(v / p);
    upper[i] = m + k * sd;
    middle[i] = m;
    lower[i] = m - k * sd;
  }
  return [upper, middle, lower];
}

function refAtr(h: ArrayLike<number>, l: ArrayLike<number>, c: ArrayLike<number>, p: number): number[] {
  const out = nans(c.length);
  const tr = [NaN];
  for (let i = 1; i < c.length; i++) {
    tr.push(Math.max(h[i] - l[i], Math.abs(h[i] - c[i - 1]), Math.abs(l[i] - c[i - 1])));
  }
  let atr = mean(tr, 1, p + 1);
  out[p] = atr;
  for (let i = p + 1; i < c.length; i++) {
    atr = (atr * (p - 1) + tr[i]) / p;
    out[i] = atr;
  }
  return out;
}

function refVwap(h: ArrayLike<number>, l: ArrayLike<number>, c: ArrayLike<number>, v: ArrayLike<number>, p: number) {
  const out = nans(c.length);
  for (let i = p - 1; i < c.length; i++) {
    let pv = 0;
    let vol = 0;
    let tp = 0;
    for (let j = i - p + 1; j <= i; j++) {
      const t = (h[j] + l[j] + c[j]) / 3;
      pv += t * v[j];
      vol += v[j];
      tp += t;
    }
    out[i] = vol === 0 ? tp / p : pv / vol;
  }
  return out;
}

function refStoch(h: ArrayLike<number>, l: ArrayLike<number>, c: ArrayLike<number>, fk: number, sk: number, sd: number) {
  const k = nans(c.length);
  for (let i = fk - 1; i < c.length; i++) {
    let hh = -Infinity;
    let ll = Infinity;
    for (let j = i - fk + 1; j <= i; j++) {
      hh = Math.max(hh, h[j]);
      ll = Math.min(ll, l[j]);
    }
    k[i] = hh === ll ? 50 : (100 * (c[i] - ll)) / (hh - ll);
  }
  const slowK = nans(c.length);
  for (let i = fk + sk - 2; i < c.length; i++) slowK[i] = mean(k, i - sk + 1, i + 1);
  const slowD = nans(c.length);
  for (let i = fk + sk + sd - 3; i < c.length; i++) slowD[i] = mean(slowK, i - sd + 1, i + 1);
  return [slowK.map((x, i) => (Number.isNaN(slowD[i]) ? NaN : x)), slowD];
}

/** Equal NaN pattern and values within 1e-9 relative (1e-9 absolute near zero). */
function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(e) || Number.isNaN(a)) {
      if (Number.isNaN(e) !== Number.isNaN(a)) expect.fail(`${label}[${i}]: got ${a}, expected ${e}`);
      continue;
    }
    if (Math.abs(a - e) > 1e-9 * Math.max(1, Math.abs(e))) expect.fail(`${label}[${i}]: got ${a}, expected ${e}`);
  }
}

const { high, low, close, volume } = randomWalkBars(3000, 99);

describe('batch indicators against naive O(n * period) references', () => {
  it('sma', () => expectClose(smaBatch(close, 20), refSma(close, 20), 'sma'));
  it('ema', () => expectClose(emaBatch(close, 20), refEmaFrom(close, 20, 0), 'ema'));
  it('rsi', () => expectClose(rsiBatch(close, 14), refRsi(close, 14), 'rsi'));
  it('macd', () => {
    const out = macdBatch(close, 12, 26, 9);
    const [m, s, hist] = refMacd(close, 12, 26, 9);
    expectClose(out.macd, m, 'macd');
    expectClose(out.signal, s, 'signal');
    expectClose(out.histogram, hist, 'histogram');
  });
  it('bbands', () => {
    const out = bbandsBatch(close, 20, 2.5);
    const [u, m, l] = refBbands(close, 20, 2.5);
    expectClose(out.upper, u, 'upper');
    expectClose(out.middle, m, 'middle');
    expectClose(out.lower, l, 'lower');
  });
  it('atr', () => expectClose(atrBatch(high, low, close, 14), refAtr(high, low, close, 14), 'atr'));
  it('vwap', () => expectClose(vwapBatch(high, low, close, volume, 20), refVwap(high, low, close, volume, 20), 'vwap'));
  it('stoch', () => {
    const out = stochBatch(high, low, close, 14, 3, 3);
    const [k, d] = refStoch(high, low, close, 14, 3, 3);
    expectClose(out.slowK, k, 'slowK');
    expectClose(out.slowD, d, 'slowD');
  });
});
