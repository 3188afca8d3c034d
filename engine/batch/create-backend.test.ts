import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { smaBatch } from '../indicators/sma.ts';
import type { AnyBatchBackend, BatchBackend } from './batch-backend.ts';
import { CALIBRATION_VERSION, machineKey, type Calibration } from './calibration.ts';
import { BackendUnavailableError, calibrationFor, createBackend, type AutoExplanation } from './create-backend.ts';
import { createJsBackend } from './js-backend.ts';

async function unavailable(promise: Promise<AnyBatchBackend>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(BackendUnavailableError);
    return (error as Error).message;
  }
  throw new Error('the backend was created');
}

describe('createBackend', () => {
  it('gives the JS reference backend for js', async () => {
    const backend = await createBackend('js');
    expect(backend.name).toBe('js');
    expect(backend.sma).toBe(smaBatch);
    await backend.close();
  });

  it('says why the gpu backend is unavailable, naming each Dawn backend tried', async () => {
    expect(await unavailable(createBackend('gpu', { env: { NEXUS_GPU_BACKEND: 'metal' } }))).toBe(
      'backend gpu is not available: no usable WebGPU adapter: NEXUS_GPU_BACKEND must be one of vulkan, opengles, got "metal"',
    );
  });

  it('creates the gpu backend on the adapter this machine has (Mesa llvmpipe in CI), naming it', async () => {
    const backend = await createBackend('gpu');
    expect(backend.name).toBe('gpu');
    const adapter = (backend as { adapter?: { kind: string; device: string; description: string } }).adapter;
    expect(adapter?.kind).toMatch(/^(hardware|software)$/);
    expect(`${adapter?.device} ${adapter?.description}`.trim()).not.toBe('');
    expect(Array.from(await backend.sma(Float64Array.from([1, 2, 3, 4]), 2))).toEqual([NaN, 1.5, 2.5, 3.5]);
    await backend.close();
  });

  it('starts the workers backend, whose single-series functions are the JS ones', async () => {
    const backend = await createBackend('workers');
    expect(backend.name).toBe('workers');
    expect(backend.sma).toBe(smaBatch);
    await backend.close();
  });

  it('loads wasm through its module and awaits createWasmBackend()', async () => {
    const wasm: BatchBackend = { ...createJsBackend(), name: 'wasm' };
    const backend = await createBackend('wasm', { loadWasm: async () => ({ createWasmBackend: async () => wasm }) });
    expect(backend).toBe(wasm);
  });

  it('says why wasm is not available: module missing, no factory, factory failing', async () => {
    const missing = Object.assign(new Error("Cannot find module './wasm-backend.ts'"), { code: 'ERR_MODULE_NOT_FOUND' });
    expect(await unavailable(createBackend('wasm', { loadWasm: () => Promise.reject(missing) }))).toBe(
      "backend wasm is not available: cannot load wasm-backend: Cannot find module './wasm-backend.ts'",
    );
    expect(await unavailable(createBackend('wasm', { loadWasm: async () => ({}) }))).toBe(
      'backend wasm is not available: wasm-backend does not export a createWasmBackend() function',
    );
    const failing = async (): Promise<unknown> => ({
      createWasmBackend: () => Promise.reject(new Error('assembly/build/indicators.wasm is missing (npm run build:wasm)')),
    });
    expect(await unavailable(createBackend('wasm', { loadWasm: failing }))).toBe(
      'backend wasm is not available: assembly/build/indicators.wasm is missing (npm run build:wasm)',
    );
  });

  it('creates the real wasm backend when this checkout has one, or says why not', async () => {
    let backend: AnyBatchBackend;
    try {
      backend = await createBackend('wasm');
    } catch (error) {
      expect(error).toBeInstanceOf(BackendUnavailableError);
      expect((error as Error).message).toMatch(/^backend wasm is not available: /);
      return;
    }
    expect(backend.name).toBe('wasm');
    await backend.close();
  });
});

describe('createBackend auto', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nexus-calibration-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  /** A calibration for this machine in which `winner` is fastest on series and `panelWinner` on panels. */
  function cachedCalibration(winner: 'js' | 'wasm' | 'gpu', panelWinner: 'js' | 'wasm' | 'gpu' | 'workers', env: NodeJS.ProcessEnv): Calibration {
    const points = (['js', 'wasm', 'gpu', 'workers'] as const).flatMap((backend) => [
      { backend, shape: 'series' as const, symbols: 1, bars: 20_000, nsPerPoint: backend === winner ? 1 : 5 },
      { backend, shape: 'panel' as const, symbols: 256, bars: 4_000, nsPerPoint: backend === panelWinner ? 1 : 5 },
    ]);
    return { version: CALIBRATION_VERSION, machine: machineKey(env), measuredAt: '2026-11-24T00:00:00.000Z', points, unavailable: {} };
  }

  it('picks from the cached calibration by workload shape, and says why', async () => {
    const file = join(dir, 'cached.json');
    const env = { NEXUS_CALIBRATION_FILE: file };
    await writeFile(file, JSON.stringify(cachedCalibration('wasm', 'gpu', env)));
    const decisions: AutoExplanation[] = [];
    const series = await createBackend('auto', { env, onDecision: (e) => decisions.push(e) });
    expect(series.name).toBe('wasm');
    await series.close();
    const panel = await createBackend('auto', { env, workload: { shape: 'panel', symbols: 2000, bars: 10_000 }, onDecision: (e) => decisions.push(e) });
    expect(panel.name).toBe('gpu');
    await panel.close();
    expect(decisions.map((d) => [d.cached, d.decision.reason])).toEqual([
      [true, 'wasm: 1.00 ns/point on series 20000 bars (js 5.00, gpu 5.00, workers 5.00)'],
      [true, 'gpu: 1.00 ns/point on panel 256x4000 (js 5.00, wasm 5.00, workers 5.00)'],
    ]);
  });

  it('falls back to js, saying why, when the decided backend does not start', async () => {
    const file = join(dir, 'gpu-wins.json');
    const env = { NEXUS_CALIBRATION_FILE: file, NEXUS_GPU_BACKEND: 'none' };
    await writeFile(file, JSON.stringify(cachedCalibration('gpu', 'gpu', env)));
    const decisions: AutoExplanation[] = [];
    const backend = await createBackend('auto', { env, onDecision: (e) => decisions.push(e) });
    expect(backend.name).toBe('js');
    expect(decisions[0].fallback).toBe(
      'gpu did not start (backend gpu is not available: no usable WebGPU adapter: NEXUS_GPU_BACKEND must be one of vulkan, opengles, got "none"); using js',
    );
  });

  it('measures every backend on this machine when nothing is cached, and caches it', async () => {
    const file = join(dir, 'measured.json');
    const first = await calibrationFor({ env: { NEXUS_CALIBRATION_FILE: file } });
    expect(first.cached).toBe(false);
    const measured = new Set(first.calibration.points.map((p) => `${p.backend} ${p.shape}`));
    const expectations = ['js series', 'js panel', 'wasm series', 'wasm panel', 'workers panel', 'gpu series', 'gpu panel'];
    for (const expected of [...expectations, 'js correlation', 'wasm correlation', 'workers correlation', 'gpu correlation']) {
      expect(measured, expected).toContain(expected);
    }
    for (const point of first.calibration.points) expect(point.nsPerPoint).toBeGreaterThan(0);
    expect(first.calibration.gpuAdapter).toMatch(/ via (vulkan|opengles), (hardware|software)$/);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(first.calibration);
    const second = await calibrationFor({ env: { NEXUS_CALIBRATION_FILE: file } });
    expect(second.cached).toBe(true);
    expect(second.calibration).toEqual(first.calibration);
  }, 120_000);
});
