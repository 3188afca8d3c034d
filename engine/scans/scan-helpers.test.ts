import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileKernelModule, defaultWasmDir } from '../batch/wasm-backend.ts';
import { SharedWasmMemory } from '../batch/wasm-memory.ts';
import { HelperJob } from './scan-helper-protocol.ts';
import { ScanHelpers } from './scan-helpers.ts';
import { symbolCuts } from './scan-split.ts';
import { seededRandom } from '../batch/series.ts';
import { crossSectionRank, crossSectionZScore, RankWorkspace } from './cross-section.ts';
import { sameBits } from '../../test/support/indicator-specs.ts';

describe('scan helpers', () => {
  it('cut the symbols into chunks on cache lines', () => {
    expect(symbolCuts(10_000, 2)).toEqual([0, 5_008, 10_000]); // 5,000 is not a multiple of 16
    expect(symbolCuts(100, 3)).toEqual([0, 32, 64, 100]);
    expect(symbolCuts(40, 2)).toEqual([0, 16, 40]);
    expect(symbolCuts(6, 2)).toEqual([0, 0, 6]); // fewer symbols than a cut: one chunk takes them
    expect(symbolCuts(10_000, 8)).toEqual([0, 1_248, 2_496, 3_744, 5_008, 6_256, 7_504, 8_752, 10_000]);
  });

  it('share a job\'s units with this thread, and end one whose rest this thread gave up, without waiting for it', async () => {
    const module = await compileKernelModule(join(defaultWasmDir(), 'scan.wasm'));
    const memory = new SharedWasmMemory(1 << 16);
    const helpers = await ScanHelpers.open(module, memory.memory, 1, 16, () => memory.allocate(1024));
    try {
      // No columns registered: a COLUMNS unit is nothing to run, so the claims alone are what is tested.
      // That every unit runs once whoever claims it is held by bar-scanner.test.ts (the same bits on 2 and 3 threads).
      for (let job = 0; job < 200; job++) {
        helpers.start(HelperJob.COLUMNS, 0, 8, [0, 0, 0, 0]);
        for (let unit = helpers.claim(); unit >= 0; unit = helpers.claim()) helpers.complete();
        helpers.finish(); // every unit done, whoever ran it (a unit counted twice or never would throw here)
      }
      // This thread's unit threw: it gives up the units nobody claimed (none is left to claim), and the job ends.
      helpers.start(HelperJob.COLUMNS, 0, 1_000, [0, 0, 0, 0]);
      expect(helpers.claim()).toBeGreaterThanOrEqual(0);
      helpers.complete();
      helpers.cancelRest();
      expect(helpers.claim()).toBe(-1);
      helpers.finish();
      // Giving up units alone breaks nothing: the next job runs.
      helpers.start(HelperJob.COLUMNS, 0, 3, [0, 0, 0, 0]);
      for (let unit = helpers.claim(); unit >= 0; unit = helpers.claim()) helpers.complete();
      helpers.finish();
      // What the scan thread does after its own unit threw (wasm-scan-kernels.ts): no later job may start.
      helpers.giveUp('the scan thread\'s share of a job threw (boom)');
      expect(() => helpers.start(HelperJob.COLUMNS, 0, 1, [0, 0, 0, 0]))
        .toThrow('the scan thread\'s share of a job threw (boom); the scans stop, as the state it was writing is unknown');
    } finally {
      helpers.close();
    }
  });

  it('copy a cross-section the helper ran into arrays on shared memory, from views made after the memory grew', async () => {
    const module = await compileKernelModule(join(defaultWasmDir(), 'scan.wasm'));
    const memory = new SharedWasmMemory(1 << 16);
    const n = 50;
    const helpers = await ScanHelpers.open(module, memory.memory, 1, n, () => memory.allocate(2_048));
    try {
      memory.allocate(1 << 20); // 8 MB: the memory grows after the helper started
      const random = seededRandom(5);
      const input = memory.array(memory.allocate(n), n);
      input.set(Array.from({ length: n }, (_, i) => (i % 9 === 0 ? Number.NaN : Math.round(random() * 20) / 4)));
      const [rankAt, zAt] = [memory.allocate(n), memory.allocate(n)];
      const shared = (): Float64Array => new Float64Array(new SharedArrayBuffer(n * 8));
      const targets = { rank: shared(), z: shared(), values: shared() };
      helpers.register([{
        type: 'crossSections', id: 1, jobs: [{
          input: input.byteOffset, n, rank: rankAt, z: zAt,
          copies: [{ from: memory.array(rankAt, n), to: targets.rank }, { from: memory.array(zAt, n), to: targets.z }, { from: input, to: targets.values }],
        }],
      }]);
      helpers.start(HelperJob.CROSS_SECTIONS, 1, 1); // this thread claims nothing: the helper runs the unit
      helpers.finish();
      const [rank, z] = [new Float64Array(n), new Float64Array(n)];
      crossSectionRank(input, rank, new RankWorkspace(n));
      crossSectionZScore(input, z);
      expect(sameBits(targets.rank, rank)).toBe(true);
      expect(sameBits(targets.z, z)).toBe(true);
      expect(sameBits(targets.values, input)).toBe(true);
    } finally {
      helpers.close();
    }
  });

  it('stop the scans for good, naming the helper and its error, when a helper\'s job throws', async () => {
    const module = await compileKernelModule(join(defaultWasmDir(), 'scan.wasm'));
    const memory = new SharedWasmMemory(1 << 16);
    const helpers = await ScanHelpers.open(module, memory.memory, 1, 16, () => memory.allocate(1024));
    try {
      expect(helpers.count).toBe(1);
      helpers.start(HelperJob.CROSS_SECTIONS, 99, 1); // a list never registered; this thread leaves its unit to the helper
      expect(() => helpers.finish()).toThrow(
        'scan helper 0 failed: cross-section 0 of list 99 was never registered; the scans stop, as the state it was writing is unknown',
      );
      // Every later job is refused: the state a failed helper was writing is unknown.
      expect(() => helpers.start(HelperJob.COLUMNS, 0, 1, [0, 0, 0, 0])).toThrow(/scan helper 0 failed/);
    } finally {
      helpers.close();
    }
  });
});
