import { describe, expect, it } from 'vitest';
import { growingModule, liveBytesByModule, ModuleHeapGuard, type HeapReadings, type HeapSampler, type SampledNode } from './module-heap-guard.ts';

const MIB = 1024 * 1024;
const HOARDER = 'file:///strategies/hoards.mjs';
const CHURNER = 'file:///strategies/churns.ts';

function node(url: string, selfSize: number, children: SampledNode[] = []): SampledNode {
  return { callFrame: { url }, selfSize, children };
}

/** The engine calling a strategy's handler, which allocates in its own file and in a helper it imports. */
function profile(hoarderBytes: number, churnerBytes: number, engineBytes: number): SampledNode {
  return node('', 0, [
    node('file:///app/engine/pipeline/tick-processor.js', engineBytes, [
      node(`${HOARDER}`, hoarderBytes / 2, [node('file:///strategies/lib/history.mjs', hoarderBytes / 2)]),
      node(`${CHURNER}?tsx-namespace=1733`, churnerBytes),
    ]),
  ]);
}

/** A sampler whose heap and samples the test sets; it records what the guard asked of it. */
class ScriptedSampler implements HeapSampler {
  heap: HeapReadings = { usedBytes: 100 * MIB, limitBytes: 1000 * MIB };
  samples: SampledNode = profile(0, 0, 0);
  readonly calls: string[] = [];
  read(): HeapReadings {
    return this.heap;
  }
  start(): void {
    this.calls.push('start');
  }
  liveSamples(): SampledNode {
    this.calls.push('liveSamples');
    return this.samples;
  }
  stop(): void {
    this.calls.push('stop');
  }
}

function guardWith(sampler: ScriptedSampler): { guard: ModuleHeapGuard; clock: { now: number }; disabled: Array<[number, string]>; warnings: string[] } {
  const clock = { now: 0 };
  const disabled: Array<[number, string]> = [];
  const warnings: string[] = [];
  const guard = new ModuleHeapGuard({
    modules: [
      { url: HOARDER, label: 'module /strategies/hoards.mjs', strategies: [0, 2] },
      { url: CHURNER, label: 'module /strategies/churns.ts', strategies: [1] },
    ],
    sampler,
    nowMs: () => clock.now,
    disable: (strategy, reason) => disabled.push([strategy, reason]),
    warn: (line) => warnings.push(line),
  });
  return { guard, clock, disabled, warnings };
}

describe('liveBytesByModule', () => {
  it('charges each node to the innermost module on its stack, helpers included, and counts everything in the total', () => {
    const { byModule, total } = liveBytesByModule(profile(8 * MIB, 2 * MIB, 3 * MIB), [HOARDER, CHURNER]);
    expect([...byModule]).toEqual([8 * MIB, 2 * MIB]);
    expect(total).toBe(13 * MIB);
  });

  it('charges a module called from another module to the inner one', () => {
    const tree = node(HOARDER, 1, [node(CHURNER, 10)]);
    expect([...liveBytesByModule(tree, [HOARDER, CHURNER]).byModule]).toEqual([1, 10]);
  });
});

describe('growingModule', () => {
  it('names the module holding at least the minimum and at least half of what was kept', () => {
    expect(growingModule(Float64Array.of(6 * MIB, 1 * MIB), 12 * MIB, 4 * MIB)).toBe(0);
    expect(growingModule(Float64Array.of(1 * MIB, 6 * MIB), 8 * MIB, 4 * MIB)).toBe(1);
  });

  it('names nobody below the minimum, or when most of what was kept is not a module\'s', () => {
    expect(growingModule(Float64Array.of(3 * MIB, 0), 3 * MIB, 4 * MIB)).toBe(-1);
    expect(growingModule(Float64Array.of(5 * MIB, 0), 11 * MIB, 4 * MIB)).toBe(-1);
    expect(growingModule(new Float64Array(0), 0, 4 * MIB)).toBe(-1);
  });
});

describe('ModuleHeapGuard', () => {
  it('only reads the heap while it is below the mark', () => {
    const sampler = new ScriptedSampler();
    const { guard, clock, disabled } = guardWith(sampler);
    for (; clock.now < 5_000; clock.now += 5) guard.poll();
    expect(sampler.calls).toEqual([]);
    expect(disabled).toEqual([]);
  });

  it('over the mark, samples for a window, then disables every strategy of the module that kept most of it', () => {
    const sampler = new ScriptedSampler();
    const { guard, clock, disabled } = guardWith(sampler);
    sampler.heap = { usedBytes: 600 * MIB, limitBytes: 1000 * MIB };
    guard.poll();
    expect(sampler.calls).toEqual(['start']);
    sampler.samples = profile(40 * MIB, 2 * MIB, 3 * MIB);
    clock.now = 100;
    guard.poll();
    expect(sampler.calls).toEqual(['start']); // the window is not over, and the heap has not grown much
    clock.now = 250;
    guard.poll();
    expect(sampler.calls).toEqual(['start', 'liveSamples', 'stop']);
    expect(disabled.map(([strategy]) => strategy)).toEqual([0, 2]);
    expect(disabled[0][1]).toBe(
      'heap: module /strategies/hoards.mjs kept 40 MiB alive in 250 ms (of 45 MiB kept by the engine) while the engine\'s heap was at 600 of 1000 MiB (the guard looks from 50%)',
    );
  });

  it('ends the window early once the heap has grown by 5% of the limit', () => {
    const sampler = new ScriptedSampler();
    const { guard, clock, disabled } = guardWith(sampler);
    sampler.heap = { usedBytes: 600 * MIB, limitBytes: 1000 * MIB };
    guard.poll();
    sampler.samples = profile(40 * MIB, 0, 0);
    sampler.heap = { usedBytes: 651 * MIB, limitBytes: 1000 * MIB };
    clock.now = 20;
    guard.poll();
    expect(disabled.map(([strategy]) => strategy)).toEqual([0, 2]);
    expect(disabled[0][1]).toContain('in 20 ms');
  });

  it('blames nobody when what was kept is mostly not a module\'s, warns, and backs off before the next window', () => {
    const sampler = new ScriptedSampler();
    const { guard, clock, disabled, warnings } = guardWith(sampler);
    sampler.heap = { usedBytes: 700 * MIB, limitBytes: 1000 * MIB };
    sampler.samples = profile(5 * MIB, 0, 30 * MIB);
    guard.poll();
    clock.now = 250;
    guard.poll();
    expect(disabled).toEqual([]);
    expect(warnings).toEqual([
      'Heap guard: the engine\'s heap was at 700 of 1000 MiB (the guard looks from 50%), and no strategy module kept most of the 35 MiB still alive from the last 250 ms; next look in 20 ms',
    ]);
    clock.now = 265;
    guard.poll();
    expect(sampler.calls).toEqual(['start', 'liveSamples', 'stop']); // backing off
    clock.now = 270;
    guard.poll();
    expect(sampler.calls.at(-1)).toBe('start');
  });

  it('blames a disabled module no more (what a timer it set at load still allocates), and then the next grower', () => {
    const sampler = new ScriptedSampler();
    const { guard, clock, disabled, warnings } = guardWith(sampler);
    sampler.heap = { usedBytes: 600 * MIB, limitBytes: 1000 * MIB };
    sampler.samples = profile(40 * MIB, 0, 0);
    guard.poll();
    clock.now = 250;
    guard.poll();
    sampler.samples = profile(10 * MIB, 0, 0);
    clock.now = 260;
    guard.poll();
    clock.now = 510;
    guard.poll();
    expect(disabled.map(([strategy]) => strategy)).toEqual([0, 2]);
    expect(warnings).toHaveLength(1);
    sampler.samples = profile(0, 8 * MIB, 1 * MIB);
    clock.now = 530;
    guard.poll();
    clock.now = 780;
    guard.poll();
    expect(disabled.map(([strategy]) => strategy)).toEqual([0, 2, 1]);
  });

  it('never throws: a profiler that fails is stopped, named once, and the guard stays off', () => {
    const sampler = new ScriptedSampler();
    sampler.liveSamples = () => {
      throw new Error('inspector gone');
    };
    const { guard, clock, disabled, warnings } = guardWith(sampler);
    sampler.heap = { usedBytes: 600 * MIB, limitBytes: 1000 * MIB };
    guard.poll();
    clock.now = 250;
    expect(() => guard.poll()).not.toThrow();
    expect(sampler.calls).toEqual(['start', 'stop']);
    expect(warnings).toEqual(['Heap guard off: inspector gone; strategy modules are no longer watched for heap growth']);
    for (clock.now = 260; clock.now < 2_000; clock.now += 10) guard.poll();
    expect(sampler.calls).toEqual(['start', 'stop']);
    expect(disabled).toEqual([]);
  });
});
