import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWasm, wasmDir, wasmModules } from '../../../assembly/build.ts';
import { emaBatch } from '../ema.ts';
import { randomWalkBars } from '../series.ts';
import { smaBatch } from '../sma.ts';
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
