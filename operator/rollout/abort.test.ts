import { describe, expect, it } from 'vitest';
import type { CanaryStep } from '../api/types.ts';
import { gpuCanary, images, p99, release, second, World, type SpecEdit } from '../../test/support/rollout-world.ts';

/** Measure every 5 s from the start of the analysis step; 2 canary pods (setWeight 50) under the gate. */
const twoCanaryPods: SpecEdit = (s) => {
  s.analysis.latency.interval = '5s';
  s.analysis.latency.initialDelay = '0s';
  s.strategy.canary.steps = [{ setWeight: 50 }, { analysis: {} }, { setWeight: 100 }] satisfies CanaryStep[];
};

/** Healthy on v1 (A), v2 (B) rolled out to 2 canary pods, then breaching until the gate aborts. */
function breachUntilAbort(world: World): void {
  world.canaryLatency = p99(900);
  world.edit(release(images.v2));
  world.after(second);
  world.settle();
  world.run(60 * second, { stepMs: 5 * second, until: (w) => w.status.abort === true });
}

describe('abort: orders-off that fails', () => {
  it('scales a pod whose orders could not be cut down at once, the others after the delay', () => {
    const world = World.healthy(gpuCanary(twoCanaryPods));
    const revA = world.revision;
    let refused = '';
    world.control = (target) => {
      if (refused === '') refused = target.pod;
      return target.pod === refused ? { ok: false, error: 'timeout after 2000 ms', micros: 2_000_000 } : { ok: true, micros: 900 };
    };
    breachUntilAbort(world);
    const revB = world.status.updateRevision ?? '';
    const aborted = world.reconciles.find((r) => r.controlled.length > 0);
    const pods = aborted?.controlled[0]?.targets.map((target) => target.pod) ?? [];
    expect(pods).toHaveLength(2);
    const cut = pods.filter((pod) => pod !== refused);
    expect(aborted?.events.map((event) => [event.type, event.reason])).toEqual([
      ['Warning', 'RolloutAborted'], ['Normal', 'OrdersOff'], ['Warning', 'OrdersOffFailed'], ['Normal', 'ScalingReplicaSet'],
    ]);
    expect(aborted?.events[0]?.message).toMatch(new RegExp(`^Aborted revision ${revB} \\(LatencyBreach\\): p99 900 µs > .*; canary scaled down now, stable ${revA} keeps 4 pods$`));
    expect(aborted?.events[1]?.message).toBe(`Orders off on 1/2 canary pods of revision ${revB} (${cut.join(', ')}); slowest control round trip 0.9 ms`);
    expect(aborted?.events[2]?.message).toBe(`Could not cut orders on canary pods ${refused} (timeout after 2000 ms): scaling them down now`);
    expect(world.status).toMatchObject({ abort: true, canary: { ordersEnabled: false, ordersOffPods: cut } });
    expect(world.size(revB)).toBe(0);
    expect(world.size(revA)).toBe(4);
  });
});

describe('abort: steady afterwards', () => {
  it('cuts no pod twice and announces nothing more while aborted', () => {
    const world = World.healthy(gpuCanary(twoCanaryPods));
    breachUntilAbort(world);
    const since = world.nowMs + 1;
    world.run(10 * 60 * second, { stepMs: 5 * second });
    expect(world.reconciles.filter((r) => r.atMs >= since).flatMap((r) => [...r.controlled, ...r.measured])).toEqual([]);
    expect(world.eventsSince(since).map((event) => event.reason)).toEqual(['ScalingReplicaSet']);
    expect(world.eventsSince(0, 'RolloutAborted')).toHaveLength(1);
    expect(world.status).toMatchObject({ phase: 'Aborted', abort: true, abortReason: 'LatencyBreach', canary: { weight: 0, ordersEnabled: false } });
  });
});

describe('abort: a cut pod that restarts is cut again', () => {
  it('cuts a canary pod again when its engine container restarted since its cut, once, with a Warning', () => {
    const world = World.healthy(gpuCanary(twoCanaryPods, (s) => { s.strategy.canary.abortScaleDownDelaySeconds = 600; }));
    breachUntilAbort(world);
    const revB = world.status.updateRevision ?? '';
    const [first, second] = world.status.canary?.cutPods ?? [];
    expect(first).toMatchObject({ uid: `uid-${first?.pod ?? ''}`, restarts: 0 });
    expect(second).toBeDefined();

    world.restartContainer(first?.pod ?? '');
    const again = world.after(5 * 1_000);
    expect(again.controlled.map((request) => request.targets.map((target) => target.pod))).toEqual([[first?.pod]]);
    expect(again.events.map((event) => event.reason)).toEqual(['CutPodRestarted', 'OrdersOff']);
    expect(again.events[0]?.message).toBe(`canary pods ${first?.pod ?? ''} (restarts 0 -> 1) of aborted revision ${revB} restarted after their cut: cutting them again`);
    expect(world.status.canary?.cutPods).toEqual(expect.arrayContaining([{ ...first, restarts: 1 }, second]));
    expect(world.status.canary?.ordersOffPods).toHaveLength(2);

    // Cut in this incarnation: nothing more to do.
    expect(world.after(5 * 1_000).controlled).toEqual([]);
  });

  it('waits for a restarted container to be ready before cutting it again, keeping its last cut on record', () => {
    const world = World.healthy(gpuCanary(twoCanaryPods, (s) => { s.strategy.canary.abortScaleDownDelaySeconds = 600; }));
    breachUntilAbort(world);
    const [first] = world.status.canary?.cutPods ?? [];
    world.restartContainer(first?.pod ?? '', false);
    const starting = world.after(5 * 1_000);
    expect(starting.controlled).toEqual([]);
    expect(world.status.canary?.cutPods).toContainEqual(first);
    expect(world.size(world.status.updateRevision ?? '')).toBe(2);
    world.containerReady(first?.pod ?? '');
    expect(world.after(1_000).controlled.map((request) => request.targets.map((target) => target.pod))).toEqual([[first?.pod]]);
  });
});
