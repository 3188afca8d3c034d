import { describe, expect, it } from 'vitest';
import { smaBatch } from '../sma.ts';
import type { BatchBackend } from './batch-backend.ts';
import { BackendUnavailableError, createBackend } from './create-backend.ts';
import { createJsBackend } from './js-backend.ts';

async function unavailable(promise: Promise<BatchBackend>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(BackendUnavailableError);
    return (error as Error).message;
  }
  throw new Error('the backend was created');
}

describe('createBackend', () => {
  it.each(['js', 'auto'] as const)('gives the JS reference backend for %s', async (choice) => {
    const backend = await createBackend(choice);
    expect(backend.name).toBe('js');
    expect(backend.sma).toBe(smaBatch);
    await backend.close();
  });

  it('says the gpu backend is not built yet', async () => {
    expect(await unavailable(createBackend('gpu'))).toBe('backend gpu is not available: the GPU backend (gpu.js on WebGPU) is not built yet, issue 9 (use js, wasm or workers)');
  });

  it('starts the workers backend, whose single-series functions are the JS ones', async () => {
    const backend = await createBackend('workers');
    expect(backend.name).toBe('workers');
    expect(backend.sma).toBe(smaBatch);
    await backend.close();
  });

  it('loads wasm through its module and awaits createWasmBackend()', async () => {
    const wasm: BatchBackend = { ...createJsBackend(), name: 'wasm' };
    const backend = await createBackend('wasm', async () => ({ createWasmBackend: async () => wasm }));
    expect(backend).toBe(wasm);
  });

  it('says why wasm is not available: module missing, no factory, factory failing', async () => {
    const missing = Object.assign(new Error("Cannot find module './wasm-backend.ts'"), { code: 'ERR_MODULE_NOT_FOUND' });
    expect(await unavailable(createBackend('wasm', () => Promise.reject(missing)))).toBe(
      "backend wasm is not available: cannot load wasm-backend: Cannot find module './wasm-backend.ts'",
    );
    expect(await unavailable(createBackend('wasm', async () => ({})))).toBe(
      'backend wasm is not available: wasm-backend does not export a createWasmBackend() function',
    );
    const failing = async (): Promise<unknown> => ({
      createWasmBackend: () => Promise.reject(new Error('assembly/build/indicators.wasm is missing (npm run build:wasm)')),
    });
    expect(await unavailable(createBackend('wasm', failing))).toBe(
      'backend wasm is not available: assembly/build/indicators.wasm is missing (npm run build:wasm)',
    );
  });

  it('creates the real wasm backend when this checkout has one, or says why not', async () => {
    let backend: BatchBackend;
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
