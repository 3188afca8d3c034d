import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomWalkBars } from './series.ts';
import { createWasmBackend, type WasmBackend } from './wasm-backend.ts';
import { toBarMajor } from './panel.ts';
import { createWorkersBackend, type WorkersBackend } from './workers-backend.ts';

// What the contract suite (contract.test.ts, which runs the panel functions on 2 workers) does not cover: resident
// arrays and value scans split across workers.

describe('the workers backend', () => {
  const symbols = 45;
  const bars = 600;
  const length = symbols * bars;
  let workers: WorkersBackend;
  let wasm: WasmBackend;
  let panels: { high: Float64Array; low: Float64Array; close: Float64Array };
  beforeAll(async () => {
    [workers, wasm] = await Promise.all([createWorkersBackend({ workers: 2 }), createWasmBackend()]);
    const series = Array.from({ length: symbols }, (_, s) => randomWalkBars(bars, 300 + s));
    panels = {
      high: toBarMajor(series.map((b) => b.high)),
      low: toBarMajor(series.map((b) => b.low)),
      close: toBarMajor(series.map((b) => b.close)),
    };
  });
  afterAll(async () => {
    await Promise.all([workers.close(), wasm.close()]);
  });

  it('runs in place on resident arrays, equal to the one-thread wasm backend bit for bit', async () => {
    const close = workers.allocate(length);
    close.set(panels.close);
    const out = workers.allocate(length);
    expect(workers.isResident(close)).toBe(true);
    expect(await workers.rsiMany(close, symbols, bars, 14, out)).toBe(out);
    const expected = wasm.rsiMany(panels.close, symbols, bars, 14);
    expect(out.every((v, i) => Object.is(v, expected[i]))).toBe(true);
    const macd = await workers.macdMany(close, symbols, bars, 12, 26, 9);
    const macdExpected = wasm.macdMany(panels.close, symbols, bars, 12, 26, 9);
    expect(macd.histogram.every((v, i) => Object.is(v, macdExpected.histogram[i]))).toBe(true);
    workers.release(close);
    workers.release(out);
  });

  it('reports the first bad input in argument order when workers find bad values in different inputs', async () => {
    const high = Float64Array.from(panels.high);
    const close = Float64Array.from(panels.close);
    close[3] = Number.NaN; // in the first worker's part, third input
    high[length - 5] = Number.POSITIVE_INFINITY; // in the second worker's part, first input
    const out = new Float64Array(length).fill(7);
    const expected = `high[${length - 5}] (symbol ${(length - 5) % symbols}, bar ${bars - 1}) is not finite (Infinity)`;
    await expect(workers.atrMany(high, panels.low, close, symbols, bars, 14, out)).rejects.toThrow(new RangeError(expected));
    expect(() => wasm.atrMany(high, panels.low, close, symbols, bars, 14)).toThrow(new RangeError(expected));
    expect(out.every((v) => v === 7)).toBe(true);
  });

  it('refuses high below low found by a worker, naming the first bar', async () => {
    const low = Float64Array.from(panels.low);
    low[length - 1] = panels.high[length - 1] + 1;
    await expect(workers.atrMany(panels.high, low, panels.close, symbols, bars, 14)).rejects.toThrow(/^high\[26999\] \(.*\) is below low\[26999\]/);
  });
});
