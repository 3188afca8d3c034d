import { describe, expect, it } from 'vitest';
import { growingModule, liveBytesByModule, ModuleHeapGuard, type HeapReadings, type HeapSampler, type LiveSamples, type SampledNode } from './module-heap-guard.ts';

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

/** A sampler whose heap, samples and post-collection heap the test sets; it records what the guard asked of it. */
class ScriptedSampler implements HeapSampler {
  heap: HeapReadings = { usedBytes: 100 * MIB, limitBytes: 1000 * MIB };
  samples: SampledNode = profile(0, 0, 0);
  /** The heap after each window's collection. */
  settled = 500 * MIB;
  readonly calls: string[] = [];
  reads = 0;
  read(): HeapReadings {
    this.reads++;
    return this.heap;
  }
  start(): void {
    this.calls.push('start');
  }
  liveSamples(): LiveSamples {
    this.calls.push('liveSamples');
    return { head: this.samples, usedAfterCollection: this.settled };
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

/** Runs one whole sampling window from `at` (start, then its end 250 ms later); returns the time after it. */
function window(guard: ModuleHeapGuard, clock: { now: number }, at: number): number {
  clock.now = at;
  guard.poll();
  clock.now = at + 250;
  guard.poll();
  return at + 260;
}

describe('ModuleHeapGuard', () => {
  it('only reads the heap while it is below the mark', () => {
    const sampler = new ScriptedSampler();
    const { guard, clock, disabled } = guardWith(sampler);
    for (; clock.now < 5_000; clock.now += 5) guard.poll();
    expect(sampler.reads).toBe(500); // every 10 ms
    expect(sampler.calls).toEqual([]);
    expect(disabled).toEqual([]);
  });

  it('over the mark, disables every strategy of a module blamed by two windows in a row while the heap grew', () => {
    const sampler = new ScriptedSampler();
    const { guard, clock, disabled, warnings } = guardWith(sampler);
    sampler.heap = { usedBytes: 600 * MIB, limitBytes: 1000 * MIB };
    sampler.samples = profile(40 * MIB, 2 * MIB, 3 * MIB);
    guard.poll();
    expect(sampler.calls).toEqual(['start']);
    clock.now = 100;
    guard.poll();
    expect(sampler.calls).toEqual(['start']); // the window is not over, and the heap has not grown much
    clock.now = 250;
    sampler.heap = { usedBytes: 300 * MIB, limitBytes: 1000 * MIB }; // under the mark after its own collection
    guard.poll();
    expect(sampler.calls).toEqual(['start', 'liveSamples', 'stop', 'start']); // a suspect: the second window starts at once
    expect(disabled).toEqual([]);
    sampler.settled = 540 * MIB;
    sampler.heap = { usedBytes: 600 * MIB, limitBytes: 1000 * MIB };
    clock.now = 500;
    guard.poll();
    expect(sampler.calls).toHaveLength(6);
    expect(warnings).toEqual([]);
    expect(disabled.map(([strategy]) => strategy)).toEqual([0, 2]);
    expect(disabled[0][1]).toBe(
      'heap: module /strategies/hoards.mjs kept 40 MiB alive in 250 ms (of 45 MiB kept by the engine), and the heap grew by 40 MiB after a full ' +
        'collection since the window before, while the engine\'s heap was at 600 of 1000 MiB (the guard looks from 40%)',
    );
  });

  it('ends a window early once the heap has grown by 5% of the limit', () => {
    const sampler = new ScriptedSampler();
    const { guard, clock, disabled } = guardWith(sampler);
    sampler.heap = { usedBytes: 600 * MIB, limitBytes: 1000 * MIB };
    sampler.samples = profile(40 * MIB, 0, 0);
    guard.poll();
    sampler.heap = { usedBytes: 651 * MIB, limitBytes: 1000 * MIB };
    clock.now = 20;
    guard.poll();
    expect(sampler.calls).toEqual(['start', 'liveSamples', 'stop', 'start']);
    // The confirming window needs less: twice minLiveBytes (8 MiB), here 9.
    sampler.settled = 560 * MIB;
    sampler.heap = { usedBytes: 660 * MIB, limitBytes: 1000 * MIB };
    clock.now = 30;
    guard.poll();
    expect(disabled.map(([strategy]) => strategy)).toEqual([0, 2]);
    expect(disabled[0][1]).toContain('in 10 ms');
  });

  it('spares a module whose allocations stay alive but do not grow the heap (a cache that replaces what it holds)', () => {
    const sampler = new ScriptedSampler();
    const { guard, clock, disabled, warnings } = guardWith(sampler);
    sampler.heap = { usedBytes: 600 * MIB, limitBytes: 1000 * MIB };
    sampler.samples = profile(40 * MIB, 0, 0);
    const next = window(guard, clock, 0);
    window(guard, clock, next); // the same module again, and the heap after the collection where it was
    expect(disabled).toEqual([]);
    expect(warnings).toEqual([
      'Heap guard: the engine\'s heap was at 600 of 1000 MiB (the guard looks from 40%); module /strategies/hoards.mjs kept most of what the last two ' +
        'windows allocated, but the heap did not grow (0.0 MiB after a full collection): a cache, not a leak; next look in 20 ms',
    ]);
  });

  it('blames nobody when what was kept is mostly not a module\'s, warns, and backs off before the next window', () => {
    const sampler = new ScriptedSampler();
    const { guard, clock, disabled, warnings } = guardWith(sampler);
    sampler.heap = { usedBytes: 700 * MIB, limitBytes: 1000 * MIB };
    sampler.samples = profile(5 * MIB, 0, 30 * MIB);
    window(guard, clock, 0);
    expect(disabled).toEqual([]);
    expect(warnings).toEqual([
      'Heap guard: the engine\'s heap was at 700 of 1000 MiB (the guard looks from 40%), and no strategy module kept most of the 35 MiB still alive from the last 250 ms; next look in 20 ms',
    ]);
    clock.now = 265;
    guard.poll();
    expect(sampler.calls).toEqual(['start', 'liveSamples', 'stop']); // backing off
    clock.now = 270;
    guard.poll();
    expect(sampler.calls.at(-1)).toBe('start');
  });

  it('keeps backing off when its own collections push the heap under the mark, until it has stayed under for a minute', () => {
    const sampler = new ScriptedSampler();
    const { guard, clock, warnings } = guardWith(sampler);
    const over = { usedBytes: 700 * MIB, limitBytes: 1000 * MIB };
    const under = { usedBytes: 300 * MIB, limitBytes: 1000 * MIB };
    sampler.samples = profile(0, 0, 30 * MIB);
    // Over the mark, a window; under it (after the collection); over again: each window doubles the backoff.
    let at = 0;
    for (let k = 0; k < 4; k++) {
      sampler.heap = over;
      at = window(guard, clock, at) + 70_000; // past any backoff
      sampler.heap = under;
      clock.now = at;
      guard.poll();
      at += 20;
    }
    expect(warnings.map((line) => line.replace(/.*next look in /, ''))).toEqual(['20 ms', '40 ms', '80 ms', '160 ms']);
    // A minute under the mark resets it.
    for (const end = at + 61_000; at < end; at += 1_000) {
      clock.now = at;
      guard.poll();
    }
    sampler.heap = over;
    window(guard, clock, at);
    expect(warnings.at(-1)).toContain('next look in 20 ms');
  });

  it('confirms nothing when the two windows blame two modules, and backs off', () => {
    const sampler = new ScriptedSampler();
    const { guard, clock, disabled, warnings } = guardWith(sampler);
    sampler.heap = { usedBytes: 600 * MIB, limitBytes: 1000 * MIB };
    sampler.samples = profile(40 * MIB, 0, 0);
    const next = window(guard, clock, 0);
    sampler.samples = profile(0, 40 * MIB, 0);
    sampler.settled += 80 * MIB;
    window(guard, clock, next);
    expect(disabled).toEqual([]);
    expect(warnings).toEqual([
      'Heap guard: the engine\'s heap was at 600 of 1000 MiB (the guard looks from 40%); the last two windows blamed two modules ' +
        '(module /strategies/hoards.mjs, then module /strategies/churns.ts): neither confirmed; next look in 20 ms',
    ]);
  });

  it('charges a disabled module neither blame nor weight: a timer it set at load cannot hide the next grower', () => {
    const sampler = new ScriptedSampler();
    const { guard, clock, disabled } = guardWith(sampler);
    sampler.heap = { usedBytes: 600 * MIB, limitBytes: 1000 * MIB };
    sampler.samples = profile(40 * MIB, 0, 0);
    let at = window(guard, clock, 0);
    sampler.settled += 40 * MIB;
    at = window(guard, clock, at);
    expect(disabled.map(([strategy]) => strategy)).toEqual([0, 2]);
    // The disabled module still allocates more than the next grower: counted in neither side of "half".
    sampler.samples = profile(30 * MIB, 8 * MIB, 1 * MIB);
    at = window(guard, clock, at);
    sampler.settled += 8 * MIB;
    window(guard, clock, at);
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
