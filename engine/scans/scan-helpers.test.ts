import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileKernelModule, defaultWasmDir } from '../batch/wasm-backend.ts';
import { SharedWasmMemory } from '../batch/wasm-memory.ts';
import { HelperJob } from './scan-helper-protocol.ts';
import { ScanHelpers } from './scan-helpers.ts';
import { jobCuts, symbolCuts } from './scan-split.ts';

describe('scan helpers', () => {
  it('split symbols on cache lines and cross-sections so that this thread takes the fewest', () => {
    expect(symbolCuts(10_000, 2)).toEqual([0, 5_008, 10_000]); // 5,000 is not a multiple of 16
    expect(symbolCuts(100, 3)).toEqual([0, 32, 64, 100]);
    expect(symbolCuts(40, 2)).toEqual([0, 16, 40]);
    expect(symbolCuts(6, 2)).toEqual([0, 0, 6]); // fewer symbols than a cut: the helper takes them
    expect(jobCuts(9, 2)).toEqual([0, 4, 9]);
    expect(jobCuts(9, 3)).toEqual([0, 3, 6, 9]);
    expect(jobCuts(10, 4)).toEqual([0, 2, 5, 8, 10]);
  });

  it('stop the scans for good, naming the helper and its error, when a helper\'s job throws', async () => {
    const module = await compileKernelModule(join(defaultWasmDir(), 'scan.wasm'));
    const memory = new SharedWasmMemory(1 << 16);
    const helpers = await ScanHelpers.open(module, memory.memory, 1, 16, () => memory.allocate(1024));
    try {
      expect(helpers.count).toBe(1);
      helpers.start(HelperJob.CROSS_SECTIONS, 99); // a list never registered
      expect(() => helpers.finish()).toThrow(
        'scan helper 0 failed: cross-section list 99 was never registered; the scans stop, as the state it was writing is unknown',
      );
      // Every later job is refused: the state a failed helper was writing is unknown.
      expect(() => helpers.start(HelperJob.COLUMNS, 0, [0, 0, 0, 0])).toThrow(/scan helper 0 failed/);
    } finally {
      helpers.close();
    }
  });
});
