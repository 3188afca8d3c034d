import { describe, expect, it } from 'vitest';
import { gpuCanary, images, minute, p99, release, second, World, type LatencyAnswer, type Reconciled, type SpecEdit } from '../../test/support/rollout-world.ts';

/** examples/gpu-canary.yaml as blue-green: 4 pods, the gate every 5 s from the start, 2 passes in a row pass. */
function blueGreen(options: Record<string, unknown> = {}): SpecEdit {
  return (s) => {
    s.strategy = {
      type: 'BlueGreen',
      blueGreen: { autoPromotionEnabled: true, autoPromotionSeconds: 60, scaleDownDelaySeconds: 300, prePromotionAnalysis: true, postPromotionAnalysis: true, ...options },
    };
    s.analysis.latency.interval = '5s';
    s.analysis.latency.initialDelay = '0s';
    s.analysis.latency.successfulIntervals = 2;
  };
}

/**
 * Healthy on v1 (revision A, active), then v2 (revision B) applied; its preview pods start and the
 * pre-promotion gate takes its first measurement in the returned reconcile (`gated`).
 */
function preview(options: Record<string, unknown> = {}, canary: LatencyAnswer = p99(500)): { world: World; revA: string; revB: string; started: Reconciled; gated: Reconciled } {
  const world = World.healthy(gpuCanary(blueGreen(options)));
  world.control = () => ({ ok: true, micros: 2_000 });
  world.canaryLatency = canary;
  const revA = world.revision;
  world.edit(release(images.v2));
  const revB = world.revision;
  const started = world.after(second);
  world.settle();
  const gated = world.after(second);
  return { world, revA, revB, started, gated };
}

function reasons(reconciled: { events: readonly { reason: string }[] }): string[] {
  return reconciled.events.map((event) => event.reason);
}

/** Runs the gate until the preview is promoted (ActiveSwitched), returning that reconcile. */
function promote(world: World): Reconciled {
  const made = world.run(10 * minute, { stepMs: second, until: (w) => w.status.blueGreen?.active !== w.status.stableRevision });
  const switched = made.at(-1) as Reconciled;
  expect(reasons(switched)).toContain('ActiveSwitched');
  return switched;
}

describe('blue-green: preview beside active', () => {
  const { world, revA, revB, started, gated } = preview();

  it('runs the full preview set beside the active set, the engine Service on the active revision', () => {
    expect(started.events.map((event) => [event.reason, event.message])).toEqual([
      ['RolloutStarted', `Blue-green rollout of revision ${revB} started: 4 preview pods beside active ${revA}`],
      ['RevisionCreated', `Created revision ${revB} (generation 2, image ${images.v2}) with 4 replicas`],
    ]);
    expect([world.timeline.at(-2)?.sizes[revA], world.timeline.at(-2)?.sizes[revB]]).toEqual([4, 4]);
    expect(world.serviceRevision()).toBe(revA);
    expect(world.serviceRevision('preview')).toBe(revB);
    expect(started.plan.status).toMatchObject({ currentStepIndex: 0, blueGreen: { active: revA, preview: revB } });
  });

  it('starts the pre-promotion gate on the preview pods once they are available', () => {
    expect(reasons(gated)).toEqual(['AnalysisStarted']);
    expect(gated.events[0]?.message).toContain('(pre-promotion)');
    expect(gated.measured[0]?.canary.revision).toBe(revB);
    expect(gated.measured[0]?.canary.pods.map((pod) => pod.name)).toEqual(world.podNames(revB));
    expect(gated.measured[0]?.stable?.revision).toBe(revA);
  });
});

describe('blue-green: pre-promotion failure', () => {
  const { world, revA, revB, gated } = preview({}, p99(950));
  // stable at 500 µs: the relative limit (600 µs) decides.
  const runs = [gated, world.after(5 * second), world.after(5 * second)];
  const aborted = runs[2] as Reconciled;
  const previewPods = world.podNames(revB);
  const later = [world.after(29 * second), world.after(second), world.after(minute)];

  it('aborts at the third breach, orders off on the preview pods first', () => {
    expect(runs.map((r) => r.plan.status.analysis?.consecutiveBreaches)).toEqual([1, 2, 3]);
    expect(runs.map((r) => r.controlled.length)).toEqual([0, 0, 1]);
    expect(aborted.atMs - gated.atMs).toBe(10 * second);
  });

  it('needs orders-off for exactly the preview pods, then announces the abort with the measured p99 and the threshold', () => {
    expect(previewPods).toHaveLength(4);
    expect(aborted.controlled.map((request) => request.targets.map((target) => target.pod))).toEqual([previewPods]);
    expect(aborted.events).toEqual([
      {
        type: 'Warning', reason: 'RolloutAborted',
        message: `Aborted revision ${revB} (LatencyBreach): p99 950 µs > stable 500 µs + 20% = 600 µs (5000 samples); 3 breaches in a row at pre-promotion (consecutiveBreaches 3); preview scaled down in 30 s, stable ${revA} keeps 4 pods`,
      },
      { type: 'Normal', reason: 'OrdersOff', message: `Orders off on 4/4 preview pods of revision ${revB} (${previewPods.join(', ')}); slowest control round trip 2.0 ms` },
    ]);
    expect(aborted.plan.status).toMatchObject({ phase: 'Aborted', abort: true, abortReason: 'LatencyBreach', blueGreen: { active: revA, preview: revB }, canary: { ordersEnabled: false } });
  });

  it('never switched the active Service, before, at or after the abort', () => {
    const since = gated.atMs - second;
    const actives = [...new Set(world.timeline.filter((entry) => entry.atMs >= since).map((entry) => entry.active))];
    expect(actives).toEqual([revA]);
    expect(world.minSize(revA)).toBe(4);
  });

  it('scales the preview down after abortScaleDownDelaySeconds, once', () => {
    expect(later.map((r) => world.timeline.find((entry) => entry.atMs === r.atMs)?.sizes[revB])).toEqual([4, 0, 0]);
    expect(world.eventsSince(0, 'RolloutAborted')).toHaveLength(1);
    expect(later[2]?.events).toEqual([]);
  });
});

describe('blue-green: retry after an abort', () => {
  it('starts the preview again with new pods and a fresh gate, the active Service untouched', () => {
    const { world, revA, revB } = preview({}, p99(950));
    world.after(5 * second);
    world.after(5 * second);
    expect(world.status).toMatchObject({ phase: 'Aborted', abort: true });
    const abortedPods = world.podNames(revB);
    world.patchStatus({ abort: false });
    world.canaryLatency = p99(500);
    const retried = world.after(second);
    expect(retried.events.map((event) => [event.reason, event.message])).toEqual([
      ['RolloutRetried', `Retry of revision ${revB} requested: preview starts again with zeroed counters`],
      ['ScalingReplicaSet', `Scaled ReplicaSet equities-momentum-${revB} from 4 to 0`],
    ]);
    expect(world.status.message).toBe(`Blue-green ${revB}, active ${revA}: waiting for the 4 pods of the aborted attempt to stop`);
    world.settle();
    const again = world.after(second);
    expect(reasons(again)).toEqual(['ScalingReplicaSet']);
    expect(world.status).toMatchObject({ phase: 'Progressing', abort: false, currentStepIndex: 0, canary: { ordersEnabled: true, ordersOffPods: [] } });
    world.settle();
    const gate = world.after(second);
    expect(reasons(gate)).toEqual(['AnalysisStarted']);
    expect(world.status.analysis).toMatchObject({ revision: revB, consecutiveBreaches: 0, consecutiveSuccesses: 1 });
    expect(world.podNames(revB).filter((pod) => abortedPods.includes(pod))).toEqual([]);
    expect([...new Set(world.timeline.map((entry) => entry.active))]).toEqual([revA]);
  });
});

describe('blue-green: automatic promotion', () => {
  it('switches the active Service autoPromotionSeconds after the pre-promotion gate passed', () => {
    const { world, revA, revB } = preview();
    const passed = world.after(5 * second);
    expect(reasons(passed)).toEqual(['AnalysisPassed']);
    expect(passed.plan.requeueAfterMs).toBe(60 * second);
    expect(passed.plan.status).toMatchObject({ phase: 'Progressing', pauseConditions: [{ reason: 'PauseStep' }] });
    const before = world.after(59 * second);
    expect(before.events).toEqual([]);
    expect(world.serviceRevision()).toBe(revA);
    const switched = world.after(second);
    expect(switched.atMs - passed.atMs).toBe(60 * second);
    expect(reasons(switched)).toEqual(['ActiveSwitched', 'AnalysisStarted']);
    expect(switched.events[0]?.message).toBe(`Engine Service switched to revision ${revB} (was ${revA}); ${revA} stays warm for 300 s`);
    expect(switched.events[1]?.message).toContain('(post-promotion)');
    expect(world.serviceRevision()).toBe(revB);
    expect(switched.plan.status).toMatchObject({ currentStepIndex: 1, blueGreen: { active: revB, preview: revB, scaleDownAt: new Date(switched.atMs + 300 * second).toISOString() } });
    expect([world.size(revA), world.size(revB)]).toEqual([4, 4]);
  });
});

describe('blue-green: promotion from a smaller preview (previewReplicaCount 2)', () => {
  it('scales the preview to replicas once auto-promotion is due and keeps it there until the switch', () => {
    const { world, revA, revB } = preview({ previewReplicaCount: 2 });
    expect(world.size(revB)).toBe(2);
    const passed = world.after(5 * second);
    expect(reasons(passed)).toEqual(['AnalysisPassed']);
    const due = world.after(60 * second);
    expect(reasons(due)).toEqual(['ScalingReplicaSet']);
    expect(world.size(revB)).toBe(4);
    // The ReplicaSet controller has not observed the scale-up yet: no pod available by its count.
    const unobserved = world.after(second);
    expect(unobserved.events).toEqual([]);
    expect(world.size(revB)).toBe(4);
    expect(world.serviceRevision()).toBe(revA);
    world.settle();
    const switched = world.after(second);
    expect(reasons(switched)).toEqual(['ActiveSwitched', 'AnalysisStarted']);
    expect(world.serviceRevision()).toBe(revB);
    expect(world.podsCreated.filter((pod) => pod.revision === revB)).toHaveLength(4);
  });
});

describe('blue-green: manual promotion (autoPromotionEnabled false)', () => {
  it('waits for nexus rollout promote, then switches', () => {
    const { world, revA, revB } = preview({ autoPromotionEnabled: false });
    const ready = world.after(5 * second);
    expect(reasons(ready)).toEqual(['AnalysisPassed', 'RolloutPaused']);
    expect(ready.events[1]?.message).toBe(`Preview ${revB} is ready: run nexus rollout promote to switch the active Service`);
    const hourLater = world.after(3_600 * second);
    expect(hourLater.events).toEqual([]);
    expect(world.status).toMatchObject({ phase: 'Paused', currentStepIndex: 0 });
    expect(world.serviceRevision()).toBe(revA);
    world.patchStatus({ promotedStep: 0 });
    const promoted = world.after(second);
    expect(reasons(promoted)).toEqual(['PromotionRequested', 'ActiveSwitched', 'AnalysisStarted']);
    expect(world.serviceRevision()).toBe(revB);
    expect(world.status).toMatchObject({ currentStepIndex: 1, promotedStep: -1, pauseConditions: [] });
  });

  it('keeps a promotion requested while the preview scales up from previewReplicaCount to replicas', () => {
    const { world, revA, revB } = preview({ autoPromotionEnabled: false, previewReplicaCount: 2 });
    expect(world.size(revB)).toBe(2);
    world.after(5 * second);
    world.patchStatus({ promotedStep: 0 });
    const requested = world.after(second);
    expect(reasons(requested)).toEqual(['ScalingReplicaSet']);
    expect(world.size(revB)).toBe(4);
    expect(world.serviceRevision()).toBe(revA);
    expect(world.status).toMatchObject({ phase: 'Progressing', promotedStep: 0, pauseConditions: [] });
    expect(world.status.message).toBe(`Blue-green ${revB}, active ${revA}: promotion: 2/4 pods of revision ${revB} available`);
    // Still promoting on the next reconcile, before the new pods are up: the request holds.
    const waiting = world.after(second);
    expect(waiting.events).toEqual([]);
    expect(world.size(revB)).toBe(4);
    world.settle();
    const switched = world.after(second);
    expect(reasons(switched)).toEqual(['PromotionRequested', 'ActiveSwitched', 'AnalysisStarted']);
    expect(world.serviceRevision()).toBe(revB);
    expect(world.status).toMatchObject({ currentStepIndex: 1, promotedStep: -1 });
    expect(world.eventsSince(0, 'PromotionRequested')).toHaveLength(1);
  });
});

describe('blue-green: promote --full', () => {
  it('skips the pre- and post-promotion gates and completes after scaleDownDelaySeconds, even while latency breaches', () => {
    const { world, revA, revB } = preview({ previewReplicaCount: 2 });
    world.canaryLatency = p99(900);
    world.patchStatus({ promoteFull: true });
    const requested = world.after(second);
    expect(requested.measured).toEqual([]);
    expect(reasons(requested)).toEqual(['ScalingReplicaSet']);
    world.settle();
    const switched = world.after(second);
    expect(reasons(switched)).toEqual(['PromotionRequested', 'ActiveSwitched']);
    expect(world.status).toMatchObject({ currentStepIndex: 1, promoteFull: true });
    const made = world.run(10 * minute, { stepMs: 5 * second, until: (w) => w.status.stableRevision === revB });
    expect(made.flatMap((r) => r.measured)).toEqual([]);
    expect(world.eventsSince(switched.atMs, 'AnalysisStarted')).toEqual([]);
    expect(world.eventsSince(switched.atMs, 'RolloutCompleted')[0]?.atMs).toBe(switched.atMs + 300 * second);
    expect(world.status).toMatchObject({ phase: 'Healthy', stableRevision: revB, promoteFull: false, stableHistory: [revB, revA] });
  });
});

describe('blue-green: promote at post-promotion', () => {
  it('a plain promote (status.promotedStep = 1) at the post-promotion step skips its gate once; the old set goes at scaleDownAt', () => {
    const { world, revA, revB } = preview();
    const switched = promote(world);
    expect(world.status).toMatchObject({ currentStepIndex: 1, blueGreen: { active: revB } });
    world.patchStatus({ promotedStep: 1 });
    const promoted = world.after(second);
    expect(reasons(promoted)).toEqual(['StepPromoted']);
    expect(world.status).toMatchObject({ promotedStep: -1, analysis: { phase: 'Successful' } });
    const made = world.run(10 * minute, { stepMs: 5 * second, until: (w) => w.status.stableRevision === revB });
    expect(made.flatMap((r) => r.measured)).toEqual([]);
    expect(made.flatMap((r) => reasons(r)).filter((reason) => reason === 'StepPromoted')).toEqual([]);
    const completedAt = world.eventsSince(switched.atMs, 'RolloutCompleted')[0]?.atMs ?? 0;
    expect(completedAt - switched.atMs).toBeGreaterThanOrEqual(300 * second);
    expect(completedAt - switched.atMs).toBeLessThanOrEqual(305 * second);
    expect(world.size(revA)).toBe(0);
  });
});

describe('blue-green: post-promotion failure', () => {
  const { world, revA, revB, started } = preview();
  const rolloutStart = started.atMs;
  const switched = promote(world);
  const newPods = world.podNames(revB);
  // Over the 800 µs budget while the old set (700 µs) is within it and within 700 µs + 20% = 840 µs.
  world.canaryLatency = p99(820);
  world.stableLatency = p99(700);
  const runs = [world.after(5 * second), world.after(5 * second), world.after(5 * second)];
  const aborted = runs[2] as Reconciled;

  it('counts breaches on the new active set', () => {
    expect(switched.plan.status.analysis).toMatchObject({ consecutiveSuccesses: 1 });
    expect(runs.map((r) => r.plan.status.analysis?.consecutiveBreaches)).toEqual([1, 2, 3]);
  });

  it('cuts orders on the new pods first, then switches the Service back to the old revision', () => {
    expect(aborted.controlled.map((request) => request.targets.map((target) => target.pod))).toEqual([newPods]);
    expect(reasons(aborted)).toEqual(['RolloutAborted', 'OrdersOff']);
    expect(aborted.events[0]?.message).toBe(
      `Aborted revision ${revB} (LatencyBreach): p99 820 µs > threshold 800 µs while stable is 700 µs (5000 samples); 3 breaches in a row at post-promotion (consecutiveBreaches 3); active switched back to ${revA}; preview scaled down in 30 s, stable ${revA} keeps 4 pods`,
    );
    expect(world.serviceRevision()).toBe(revA);
    expect(aborted.plan.status).toMatchObject({ phase: 'Aborted', abortReason: 'LatencyBreach', blueGreen: { active: revA, preview: revB }, canary: { ordersEnabled: false, ordersOffPods: newPods } });
  });

  it('switches back to the still-warm old set: never below replicas, no new pod', () => {
    expect(world.minSize(revA, rolloutStart)).toBe(4);
    expect(world.podsCreated.filter((pod) => pod.revision === revA && pod.atMs >= rolloutStart)).toEqual([]);
    expect(world.replicaSet(revA)?.status?.availableReplicas).toBe(4);
  });
});

describe('blue-green: completion', () => {
  const { world, revA, revB } = preview();
  const switched = promote(world);
  const gatePassed = world.after(5 * second);
  const warm = world.after(switched.atMs + 299 * second - world.nowMs);
  const done = world.after(second);

  it('keeps the old set warm at full size until scaleDownDelaySeconds after the switch', () => {
    expect(reasons(gatePassed)).toEqual(['AnalysisPassed']);
    expect(gatePassed.plan.requeueAfterMs).toBe(295 * second);
    expect(warm.events).toEqual([]);
    expect(world.timeline.find((entry) => entry.atMs === warm.atMs)?.sizes[revA]).toBe(4);
  });

  it('then makes the new revision stable and scales the old set to zero', () => {
    expect(done.atMs - switched.atMs).toBe(300 * second);
    expect(reasons(done)).toEqual(['RolloutCompleted', 'ScalingReplicaSet']);
    expect(done.events[0]?.message).toBe(`Revision ${revB} is stable (was ${revA}); old set scaled down after scaleDownDelaySeconds 300`);
    expect(world.status).toMatchObject({ phase: 'Healthy', stableRevision: revB, stableHistory: [revB, revA], blueGreen: { active: revB, preview: revB } });
    expect([world.size(revA), world.size(revB)]).toEqual([0, 4]);
    expect(world.serviceRevision()).toBe(revB);
    world.settle();
    expect(world.after(minute).events).toEqual([]);
  });
});

describe('blue-green: restart safety', () => {
  it('announces nothing twice when deciding again from the status just written', () => {
    const { world } = preview();
    world.canaryLatency = p99(500);
    for (let i = 0; i < 100; i++) {
      if (world.status.currentStepIndex === 1) world.canaryLatency = p99(1_000);
      const before = world.observed();
      const done = world.reconcile();
      const replay = world.planFrom({ ...before, engine: { ...before.engine, status: structuredClone(done.plan.status) } });
      expect(replay.events.filter((event) => event.reason !== 'ScalingReplicaSet' && event.reason !== 'RevisionCreated')).toEqual([]);
      expect(replay.controlled).toEqual([]);
      expect(replay.measured).toEqual([]);
      world.settle();
      world.advance(5 * second);
    }
    expect(world.status).toMatchObject({ phase: 'Aborted', abortReason: 'LatencyBreach' });
    expect(world.eventsSince(0, 'RolloutAborted')).toHaveLength(1);
  });
});
