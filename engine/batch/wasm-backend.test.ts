import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWasm, wasmDir, wasmModules } from '../../assembly/build.ts';
import { atrBatch } from '../indicators/atr.ts';
import { emaBatch } from '../indicators/ema.ts';
import { rsiBatch } from '../indicators/rsi.ts';
import { randomWalkBars } from './series.ts';
import { smaBatch } from '../indicators/sma.ts';
import { stochBatch } from '../indicators/stoch.ts';
import { createJsBackend } from './js-backend.ts';
import { panelFromBatch, toBarMajor } from './panel.ts';
import { createWasmBackend, type WasmBackend } from './wasm-backend.ts';

/** Indices where two arrays differ in any bit (toEqual on a million values is slow). */
function differences(a: Float64Array, b: Float64Array): number {
  if (a.length !== b.length) return Math.max(a.length, b.length);
  let count = 0;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) count++;
  return count;
}

// What the contract suite (contract.test.ts) does not cover: loading, the build's freshness check, the reused
// workspace and close().

beforeAll(async () => {
  await buildWasm();
}, 120_000);

describe('createWasmBackend', () => {
  const empty = mkdtempSync(join(tmpdir(), 'nexus-wasm-'));
  afterAll(() => rmSync(empty, { recursive: true, force: true }));

  it('names the missing module and the build command', async () => {
    await expect(createWasmBackend({ dir: empty })).rejects.toThrow(
      `${join(empty, 'indicators.wasm')} is missing: run npm run build:wasm`,
    );
  });

  it('loads build/wasm by default', async () => {
    const backend = await createWasmBackend();
    expect(backend.name).toBe('wasm');
    await backend.close();
  });
});

describe('buildWasm', () => {
  it('compiles nothing when every module is newer than its sources', async () => {
    const result = await buildWasm();
    expect(result.built).toEqual([]);
    expect(result.upToDate).toEqual(wasmModules.map((m) => join(wasmDir, m.output)));
  });
});

describe('the wasm backend', () => {
  let backend: WasmBackend;
  beforeAll(async () => {
    backend = await createWasmBackend();
  });
  afterAll(() => backend.close());

  it('grows its memory for a large call and keeps computing correctly on smaller and larger ones', () => {
    for (const length of [100, 300_000, 50, 1_000_000, 30]) {
      const { close } = randomWalkBars(length, length);
      expect(differences(backend.ema(close, 20), emaBatch(close, 20)), `ema, length ${length}`).toBe(0);
      expect(differences(backend.sma(close, 10), smaBatch(close, 10)), `sma, length ${length}`).toBe(0);
    }
  });

  it('works with its methods detached from the object', () => {
    const { sma } = backend;
    const { close } = randomWalkBars(100, 3);
    expect(sma(close, 5)).toEqual(smaBatch(close, 5));
  });

  it('throws once closed', async () => {
    const closing = await createWasmBackend();
    await closing.close();
    expect(() => closing.sma(new Float64Array(10), 5)).toThrow('the wasm backend is closed');
    expect(() => closing.emaMany(new Float64Array(10), 2, 5, 5)).toThrow('the wasm backend is closed');
  });
});

describe('resident arrays (allocate / release)', () => {
  let backend: WasmBackend;
  beforeAll(async () => {
    backend = await createWasmBackend();
  });
  afterAll(() => backend.close());

  /** A resident copy of `values`. */
  const resident = (values: Float64Array): Float64Array => {
    const array = backend.allocate(values.length);
    array.set(values);
    return array;
  };

  it('hands out zero-filled, cache-line-aligned arrays in its memory; plain arrays are not resident', () => {
    const a = backend.allocate(1000);
    const b = backend.allocate(3);
    expect(a.length).toBe(1000);
    expect(a.every((v) => v === 0)).toBe(true);
    expect(a.byteOffset % 64).toBe(0);
    expect(b.byteOffset % 64).toBe(0);
    expect(b.byteOffset >= a.byteOffset + a.byteLength || a.byteOffset >= b.byteOffset + b.byteLength).toBe(true);
    expect(backend.isResident(a)).toBe(true);
    expect(backend.isResident(a.subarray(10, 20))).toBe(true);
    expect(backend.isResident(new Float64Array(10))).toBe(false);
    expect(backend.isResident(new Float64Array(new SharedArrayBuffer(80)))).toBe(false);
    backend.release(a);
    backend.release(b);
  });

  it('computes in place on resident inputs and outputs, bit for bit the JS functions', () => {
    const bars = randomWalkBars(5000, 11);
    const [high, low, close] = [resident(bars.high), resident(bars.low), resident(bars.close)];
    const out = backend.allocate(5000);
    expect(backend.sma(close, 20, out)).toBe(out);
    expect(differences(out, smaBatch(bars.close, 20))).toBe(0);
    expect(differences(backend.rsi(close, 14, out), rsiBatch(bars.close, 14))).toBe(0);
    expect(differences(backend.atr(high, low, close, 14, out), atrBatch(bars.high, bars.low, bars.close, 14))).toBe(0);
    const slowK = backend.allocate(5000);
    const slowD = new Float64Array(5000); // a mix: one output resident, one staged
    const stoch = backend.stoch(high, low, close, 14, 3, 3, { slowK, slowD });
    const reference = stochBatch(bars.high, bars.low, bars.close, 14, 3, 3);
    expect(differences(stoch.slowK, reference.slowK) + differences(stoch.slowD, reference.slowD)).toBe(0);
    // Subarrays of resident arrays are resident too.
    expect(differences(backend.ema(close.subarray(100, 900), 10, out.subarray(0, 800)), emaBatch(bars.close.subarray(100, 900), 10))).toBe(0);
    for (const array of [high, low, close, out, slowK]) backend.release(array);
  });

  it('runs panel scans in place, each column equal to the reference', () => {
    const symbols = 7;
    const bars = 300;
    const series = Array.from({ length: symbols }, (_, s) => randomWalkBars(bars, 100 + s).close);
    const panel = resident(toBarMajor(series));
    const out = backend.allocate(symbols * bars);
    const reference = panelFromBatch(createJsBackend());
    expect(differences(backend.emaMany(panel, symbols, bars, 20, out), reference.emaMany(panel, symbols, bars, 20))).toBe(0);
    expect(differences(backend.rsiMany(panel, symbols, bars, 14, out), reference.rsiMany(panel, symbols, bars, 14))).toBe(0);
    const macd = { macd: backend.allocate(symbols * bars), signal: backend.allocate(symbols * bars), histogram: out };
    const expected = reference.macdMany(panel, symbols, bars, 12, 26, 9);
    backend.macdMany(panel, symbols, bars, 12, 26, 9, macd);
    expect(differences(macd.macd, expected.macd) + differences(macd.signal, expected.signal)).toBe(0);
    expect(differences(macd.histogram, expected.histogram)).toBe(0);
    for (const array of [panel, out, macd.macd, macd.signal]) backend.release(array);
  });

  it('keeps earlier arrays valid when the memory grows, and still sees them alias', () => {
    const early = resident(randomWalkBars(1000, 5).close);
    const big = backend.allocate(8_000_000); // 64 MB: the memory grows, the buffer object changes
    expect(early.length).toBe(1000);
    expect(differences(backend.sma(early, 10), smaBatch(early, 10))).toBe(0);
    // A view taken after the growth over the same bytes: outputArray cannot see it (different buffer objects).
    const late = backend.allocate(0);
    backend.release(late);
    const sameBytes = new Float64Array(big.buffer, early.byteOffset, early.length);
    expect(sameBytes.buffer).not.toBe(early.buffer);
    const before = Float64Array.from(early);
    expect(() => backend.sma(early, 10, sameBytes)).toThrow(new RangeError('out shares memory with an input array'));
    expect(differences(early, before)).toBe(0);
    backend.release(big);
    backend.release(early);
  });

  it('refuses a non-finite resident input with the reference message, leaving the resident output untouched', () => {
    const close = resident(randomWalkBars(3000, 9).close);
    close[2047] = Number.NaN;
    const out = backend.allocate(3000);
    out.fill(7);
    expect(() => backend.ema(close, 20, out)).toThrow(new RangeError('close[2047] is not finite (NaN)'));
    expect(() => backend.emaMany(close, 3, 1000, 20, out)).toThrow(
      new RangeError('close[2047] (symbol 1, bar 682) is not finite (NaN)'),
    );
    expect(out.every((v) => v === 7)).toBe(true);
    backend.release(close);
    backend.release(out);
  });

  it('frees every call\'s scratch: repeated staged calls do not grow the memory', () => {
    const { close } = randomWalkBars(200_000, 4);
    const { macd } = backend;
    macd(close, 12, 26, 9);
    const size = backend.threadShare().memory.buffer.byteLength;
    for (let i = 0; i < 20; i++) macd(close, 12, 26, 9);
    expect(backend.threadShare().memory.buffer.byteLength).toBe(size);
  });

  it('refuses to release a foreign array, twice, or after close', async () => {
    const a = backend.allocate(10);
    expect(() => backend.release(new Float64Array(10))).toThrow(/not an array from this backend's allocate\(\)/);
    expect(() => backend.release(a.subarray(1))).toThrow(RangeError);
    backend.release(a);
    expect(() => backend.release(a)).toThrow(/released already/);
    expect(() => backend.allocate(-1)).toThrow('length must be an integer >= 0, got -1');
    const closing = await createWasmBackend();
    await closing.close();
    expect(() => closing.allocate(10)).toThrow('the wasm backend is closed');
    expect(closing.isResident(new Float64Array(1))).toBe(false);
  });
});
