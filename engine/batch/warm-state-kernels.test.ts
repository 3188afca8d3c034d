import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsWarmStates } from '../indicators/warm-state.ts';
import { openWarmStateKernels } from './warm-state-kernels.ts';

describe('openWarmStateKernels: the warm start\'s kernels for the engine\'s backend', () => {
  it('runs the JS kernels for js, as configured', async () => {
    const choice = await openWarmStateKernels('js');
    expect(choice.kernels).toBe(jsWarmStates);
    expect(choice.reason).toBe('as configured');
  });

  it('runs the wasm kernels for every other backend, saying why when it was not asked for by name', async () => {
    expect(await openWarmStateKernels('wasm')).toMatchObject({ kernels: { name: 'wasm' }, reason: 'as configured' });
    for (const choice of ['auto', 'workers', 'gpu'] as const) {
      const opened = await openWarmStateKernels(choice);
      expect(opened.kernels.name).toBe('wasm');
      expect(opened.reason).toBe(`backend ${choice}: wasm runs the warm-state kernels (exact, the fastest on a CPU)`);
    }
  });

  it('falls back to the JS kernels when the module cannot be loaded, naming the file', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'nexus-no-wasm-'));
    try {
      const choice = await openWarmStateKernels('gpu', empty);
      expect(choice.kernels).toBe(jsWarmStates);
      expect(choice.reason).toContain(`${join(empty, 'indicators.wasm')} is missing: run npm run build:wasm`);
      expect(choice.reason).toMatch(/: js runs them$/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
