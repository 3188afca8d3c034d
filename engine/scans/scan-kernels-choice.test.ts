import { describe, expect, it } from 'vitest';
import { openScanKernels, scanThreadsFor } from './scan-kernels-choice.ts';

describe('openScanKernels: what runs a scan\'s per-bar part', () => {
  it('runs js when js is asked for by name, and WebAssembly for every other backend', async () => {
    expect((await openScanKernels('js', 4)).kernels.name).toBe('js');
    for (const backend of ['auto', 'wasm', 'workers', 'gpu'] as const) {
      const opened = await openScanKernels(backend, 4);
      try {
        expect(opened.kernels.name, backend).toBe('wasm');
        expect(opened.kernels.threads, backend).toBe(scanThreadsFor(backend));
        expect(opened.reason).toContain(`backend ${backend}: the WebAssembly scan kernels`);
      } finally {
        opened.kernels.close();
      }
    }
  });

  it('splits the per-bar part over the cores for workers only, up to four threads', () => {
    expect(scanThreadsFor('workers', 2)).toBe(2);
    expect(scanThreadsFor('workers', 64)).toBe(4);
    expect(scanThreadsFor('workers', 1)).toBe(1);
    for (const backend of ['auto', 'wasm', 'gpu', 'js'] as const) expect(scanThreadsFor(backend, 64)).toBe(1);
  });

  it('falls back to js, saying why, when the WebAssembly kernels do not load', async () => {
    const opened = await openScanKernels('auto', 4, 1, () => Promise.reject(new Error('/x/scan.wasm is missing: run npm run build:wasm')));
    expect(opened.kernels.name).toBe('js');
    expect(opened.reason).toBe('the WebAssembly scan kernels did not load (/x/scan.wasm is missing: run npm run build:wasm); js runs them');
  });
});
