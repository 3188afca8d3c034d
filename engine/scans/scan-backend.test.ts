import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWasm } from '../../assembly/build.ts';
import { CALIBRATION_VERSION, machineKey, type Calibration } from '../batch/calibration.ts';
import { backendChoices } from '../batch/create-backend.ts';
import { INDICATOR_BACKEND_CHOICES } from '../config/engine-config.ts';
import { openScanBackend } from './scan-backend.ts';

const workload = { shape: 'correlation' as const, symbols: 1000, bars: 256 };

describe('openScanBackend: the scans\' batch backend and why', () => {
  let dir: string;
  beforeAll(async () => {
    await buildWasm();
    dir = await mkdtemp(join(tmpdir(), 'nexus-scan-backend-'));
  }, 120_000);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('takes every choice the engine config accepts, and no other', () => {
    expect([...INDICATOR_BACKEND_CHOICES].sort()).toEqual([...backendChoices].sort());
  });

  it('opens a backend asked for by name', async () => {
    const { backend, report } = await openScanBackend('wasm', workload);
    expect(backend.name).toBe('wasm');
    expect(report).toEqual({ requested: 'wasm', backend: 'wasm', reason: 'as configured' });
    await backend.close();
  });

  it('runs js when the backend asked for cannot start, and says why', async () => {
    const { backend, report } = await openScanBackend('gpu', workload, { NEXUS_GPU_BACKEND: 'metal' });
    expect(backend.name).toBe('js');
    expect(report.backend).toBe('js');
    expect(report.reason).toBe(
      'backend gpu is not available: no usable WebGPU adapter: NEXUS_GPU_BACKEND must be one of vulkan, opengles, got "metal"; js runs it instead',
    );
  });

  it('auto picks the fastest on the correlation workload from the calibration, with its figures, never workers', async () => {
    const file = join(dir, 'calibration.json');
    const env = { NEXUS_CALIBRATION_FILE: file };
    // workers fastest on correlation (left out of auto: its threads would compete with the tick thread), then wasm;
    // wasm also wins the panel shape, where gpu is measured but slower: the correlation's own figures decide.
    const points = (['js', 'wasm', 'workers', 'gpu'] as const).flatMap((backend) => [
      { backend, shape: 'panel' as const, symbols: 256, bars: 4_000, nsPerPoint: backend === 'gpu' ? 1 : 4 },
      { backend, shape: 'correlation' as const, symbols: 512, bars: 256, nsPerPoint: { js: 160, wasm: 40, workers: 20, gpu: 80 }[backend] },
    ]);
    const calibration: Calibration = { version: CALIBRATION_VERSION, machine: machineKey(env), measuredAt: '2026-12-06T00:00:00.000Z', points, unavailable: {} };
    await writeFile(file, JSON.stringify(calibration));
    const { backend, report } = await openScanBackend('auto', workload, env);
    expect(backend.name).toBe('wasm');
    expect(report).toEqual({
      requested: 'auto', backend: 'wasm',
      reason: `wasm: 40.0 ns/point on correlation 512x256 (gpu 80.0, js 160); calibration cached in ${file}`,
    });
    await backend.close();
  });

  it('runs js when the backend does not open in time, and says so', async () => {
    const { backend, report } = await openScanBackend('wasm', workload, process.env, 1);
    expect(backend.name).toBe('js');
    expect(report.reason).toBe('backend wasm did not open within 1 ms; js runs it instead');
  });
});
