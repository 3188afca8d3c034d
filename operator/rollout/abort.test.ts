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
