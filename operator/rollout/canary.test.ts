import { describe, expect, it } from 'vitest';
import type { CanaryStep } from '../api/types.ts';
import { canaryReplicas, describeStep, weightAt } from './canary.ts';
import { DistributionBuilder } from '../analysis/distribution.ts';
import { readAnalysisRecord } from '../render/analysis-record.ts';
import { needsWrite } from '../plan/plan.ts';
import { failing, gpuCanary, images, iso, minute, noSamples, p99, release, second, World, type LatencyAnswer, type Reconciled, type SpecEdit } from '../../test/support/rollout-world.ts';

/** Measure every 5 s from the moment an analysis step starts. */
const fastGate: SpecEdit = (s) => {
  s.analysis.latency.interval = '5s';
  s.analysis.latency.initialDelay = '0s';
};

function steps(list: CanaryStep[]): SpecEdit {
  return (s) => { s.strategy.canary.steps = list; };
}

/** examples/gpu-canary.yaml Healthy on v1 (revision A) at T0, then v2 (revision B) applied. */
function rollout(...edits: SpecEdit[]): { world: World; revA: string; revB: string } {
  const world = World.healthy(gpuCanary(...edits));
  world.control = () => ({ ok: true, micros: 1_200 });
  const revA = world.revision;
  world.edit(release(images.v2));
  return { world, revA, revB: world.revision };
}

/**
 * Rolls B out to its first canary pod and into the analysis step (step 1): the returned reconcile entered it
 * (AnalysisStarted) and, with initialDelay 0s, took the first measurement at its time t0.
 */
function atAnalysis(canary: LatencyAnswer = p99(500), ...edits: SpecEdit[]): { world: World; revA: string; revB: string; entered: Reconciled; t0: number } {
  const { world, revA, revB } = rollout(fastGate, ...edits);
  world.canaryLatency = canary;
  world.after(second);
  world.settle();
  const entered = world.after(second);
  return { world, revA, revB, entered, t0: entered.atMs };
}

function reasons(reconciled: { events: readonly { reason: string }[] }): string[] {
  return reconciled.events.map((event) => event.reason);
}

describe('canary arithmetic', () => {
  it.each([
    [4, 25, 1],
    [4, 50, 2],
    [4, 30, 2],
    [4, 75, 3],
    [4, 100, 4],
    [4, 0, 0],
    [10, 1, 1],
    [3, 33, 1],
    [3, 34, 2],
  ])('replicas %i at weight %i -> %i canary pods (exact ratio, rounded up)', (replicas, weight, pods) => {
    expect(canaryReplicas(replicas, weight)).toBe(pods);
  });

  const list: CanaryStep[] = [{ setWeight: 25 }, { analysis: {} }, { pause: { durationSeconds: 300 } }, { setWeight: 50 }, { pause: {} }];
  it.each([
    [0, 25],
    [1, 25],
    [2, 25],
    [3, 50],
    [4, 50],
    [5, 100],
  ])('the weight at step %i is %i', (index, weight) => {
    expect(weightAt(list, index)).toBe(weight);
  });

  it('is 0 before any setWeight', () => {
    expect(weightAt([{ pause: {} }, { setWeight: 10 }], 0)).toBe(0);
  });

  it.each<[CanaryStep | undefined, string]>([
    [{ setWeight: 25 }, 'setWeight 25'],
    [{ pause: { durationSeconds: 300 } }, 'pause 300s'],
    [{ pause: {} }, 'pause (until promoted)'],
    [{ analysis: {} }, 'analysis'],
    [undefined, 'promotion'],
  ])('describes %j as %s', (step, text) => {
    expect(describeStep(step)).toBe(text);
  });
});

describe('canary: a sustained breach aborts within consecutiveBreaches x interval + one reconcile', () => {
  // interval 5s, consecutiveBreaches 3: breaches measured at t0, t0+5s, t0+10s. The canary is over the 800 µs
  // budget while stable is within it (and within stable + 20% = 840 µs, so the absolute threshold decides).
  const { world, revA, revB, entered: first, t0 } = atAnalysis(p99(820));
  world.stableLatency = p99(700);
  const canaryPod = world.podNames(revB)[0] ?? '';

  it('enters the analysis step at t0 and measures the canary against stable at once', () => {
    expect(reasons(first)).toEqual(['StepCompleted', 'AnalysisStarted']);
    expect(first.events[1]?.message).toBe(
      `Latency gate on revision ${revB} (step 1): p99 <= 800 µs over 60s, every 5s after 0s; 4 passes in a row pass, 3 breaches in a row abort`,
    );
    expect(first.measured).toHaveLength(1);
    expect(first.measured[0]?.canary).toMatchObject({ revision: revB, pods: [{ name: canaryPod, ip: world.podIP(canaryPod) }], quantile: '0.99', windowSeconds: 60, metricsPort: 9100 });
    expect(first.measured[0]?.stable?.revision).toBe(revA);
    expect(first.measured[0]?.stable?.pods).toHaveLength(4);
  });

  const secondBreach = world.after(5 * second);
  const third = world.after(5 * second);

  it('counts the breaches without aborting before the third', () => {
    expect(first.plan.status.analysis).toMatchObject({ consecutiveBreaches: 1, phase: 'Running' });
    expect(secondBreach.plan.status.analysis).toMatchObject({ consecutiveBreaches: 2, phase: 'Running' });
    expect(first.controlled).toEqual([]);
    expect(secondBreach.controlled).toEqual([]);
    expect(secondBreach.plan.status.abort).toBe(false);
    expect(third.atMs - first.atMs).toBe(10 * second);
    expect(first.atMs).toBe(t0);
  });

  it('at the third breach needs orders-off for exactly the canary pods, before anything else', () => {
    const needs = third.passes.map((plan) => Object.keys(plan.needs ?? {}).join());
    expect(needs.slice(0, 3)).toEqual(['measure', 'control', 'shards']);
    // Orders off first; only then is the canary's shard handed back to the stable revision (reconciled again at once).
    expect(third.handedOver[0]).toMatchObject({ pod: canaryPod, shards: [], releasing: [0] });
    expect(third.controlled).toEqual([{ command: 'cut', targets: [{ pod: canaryPod, address: `tcp://${world.podIP(canaryPod) ?? ''}:5560` }] }]);
    expect(third.passes[1]?.applies).toEqual([]);
    expect(third.passes[1]?.events).toEqual([]);
  });

  it('then emits one RolloutAborted Warning carrying the measured p99 and the threshold, and an OrdersOff event', () => {
    expect(third.events).toEqual([
      {
        type: 'Warning', reason: 'RolloutAborted',
        message: `Aborted revision ${revB} (LatencyBreach): p99 820 µs > threshold 800 µs while stable is 700 µs (5000 samples); 3 breaches in a row at step 1 (consecutiveBreaches 3); canary scaled down in 30 s, stable ${revA} keeps 4 pods`,
      },
      { type: 'Normal', reason: 'OrdersOff', message: `Orders off on 1/1 canary pods of revision ${revB} (${canaryPod}); slowest control round trip 1.2 ms` },
    ]);
  });

  it('records the abort in status: abort, LatencyBreach, orders off, weight 0', () => {
    const status = third.plan.status;
    expect(status).toMatchObject({
      phase: 'Aborted', abort: true, abortedAt: iso(t0 + 10 * second), abortReason: 'LatencyBreach', currentStepIndex: 1,
      canary: { weight: 0, ordersEnabled: false, ordersOffPods: [canaryPod], ordersOffAt: iso(t0 + 10 * second) },
      analysis: { phase: 'Failed', consecutiveBreaches: 3, lastMeasurement: { p99Micros: 820, stableP99Micros: 700, thresholdMicros: 800, result: 'Breach' } },
    });
    expect(status.conditions?.find((c) => c.type === 'Progressing')).toMatchObject({
      status: 'False', reason: 'RolloutAborted', message: 'Aborted (LatencyBreach): p99 820 µs > threshold 800 µs while stable is 700 µs (5000 samples); 3 breaches in a row at step 1 (consecutiveBreaches 3)',
    });
    expect(status.conditions?.find((c) => c.type === 'LatencyHealthy')).toMatchObject({ status: 'False', reason: 'LatencyBreach' });
  });

  it('pins the engine Service to stable, which was never below spec.replicas', () => {
    expect(world.serviceRevision()).toBe(revA);
    expect(world.minSize(revA)).toBe(4);
  });

  const held = world.after(29 * second);
  const scaledDown = world.after(second);
  const after = world.after(minute);

  it('keeps the canary pod (orders off) until abortScaleDownDelaySeconds, then scales it to 0', () => {
    expect(third.plan.requeueAfterMs).toBe(30 * second);
    expect(held.plan.requeueAfterMs).toBe(second);
    expect(world.timeline.find((entry) => entry.atMs === held.atMs)?.sizes[revB]).toBe(1);
    expect(reasons(scaledDown)).toEqual(['ScalingReplicaSet']);
    expect(world.size(revB)).toBe(0);
    expect(world.size(revA)).toBe(4);
    expect(after.plan.requeueAfterMs).toBeUndefined();
  });

  it('announces the abort once and cuts orders once', () => {
    expect(world.eventsSince(0, 'RolloutAborted')).toHaveLength(1);
    expect(world.eventsSince(0, 'OrdersOff')).toHaveLength(1);
    expect(world.reconciles.filter((r) => r.controlled.length > 0)).toHaveLength(1);
    expect(after.events).toEqual([]);
    expect(after.plan.status.phase).toBe('Aborted');
    expect(world.minSize(revA)).toBe(4);
    expect(world.serviceRevision()).toBe(revA);
  });
});

describe('canary: a broken breach streak does not abort', () => {
  it('keeps running through breach, breach, pass, breach, breach; a third breach in a row then aborts', () => {
    const { world, revB, entered } = atAnalysis(p99(900));
    const runs = [entered, ...[900, 500, 900, 900].map((micros) => {
      world.canaryLatency = p99(micros);
      return world.after(5 * second);
    })];
    expect(runs.map((r) => r.plan.status.analysis?.consecutiveBreaches)).toEqual([1, 2, 0, 1, 2]);
    expect(runs.every((r) => r.controlled.length === 0 && r.plan.status.phase === 'Progressing')).toBe(true);
    expect(world.status).toMatchObject({ abort: false, currentStepIndex: 1, canary: { weight: 25, ordersEnabled: true } });
    expect(world.eventsSince(0, 'RolloutAborted')).toEqual([]);
    expect(world.size(revB)).toBe(1);

    world.canaryLatency = p99(900);
    const third = world.after(5 * second);
    expect(reasons(third)).toEqual(['RolloutAborted', 'OrdersOff']);
  });

  it('aborts through errors and inconclusive measurements between breaches (they neither count nor break the streak)', () => {
    const { world, entered } = atAnalysis(p99(900));
    const runs = [entered, ...[p99(900), failing(), noSamples(40), p99(900)].map((answer) => {
      world.canaryLatency = answer;
      return world.after(5 * second);
    })];
    expect(runs.map((r) => r.plan.status.analysis?.consecutiveBreaches)).toEqual([1, 2, 2, 2, 3]);
    expect(world.status.abortReason).toBe('LatencyBreach');
  });
});

describe('canary: errors and empty data never abort', () => {
  it('holds through 20 errors in a row with one AnalysisErrors Warning only', () => {
    const { world, revB, entered } = atAnalysis(failing('connect ECONNREFUSED 10.1.0.9:9100'));
    const runs = [entered, ...Array.from({ length: 19 }, () => world.after(5 * second))];
    expect(runs.every((r) => r.controlled.length === 0)).toBe(true);
    expect(world.status).toMatchObject({ phase: 'Progressing', abort: false, currentStepIndex: 1, analysis: { phase: 'Error', consecutiveErrors: 20, consecutiveBreaches: 0 } });
    expect(world.status).not.toHaveProperty('abortedAt');
    const warnings = world.events.filter((event) => event.type === 'Warning');
    expect(warnings).toEqual([{
      type: 'Warning', reason: 'AnalysisErrors', atMs: runs[4]?.atMs,
      message: '5 measurement errors in a row at step 1 (maxConsecutiveErrors 5); holding, errors never abort: connect ECONNREFUSED 10.1.0.9:9100',
    }]);
    expect(world.status.conditions?.find((c) => c.type === 'LatencyHealthy')).toMatchObject({ status: 'Unknown', reason: 'MeasurementError' });
    expect(world.size(revB)).toBe(1);
  });

  /** 40 samples (minSamples 1000) every 5 s from t0; inconclusiveTimeoutSeconds 60. */
  function inconclusive(onInconclusive: 'Pause' | 'Abort' | 'Continue'): { world: World; revA: string; revB: string; t0: number; runs: Reconciled[] } {
    const setup = atAnalysis(noSamples(40), (s) => {
      s.analysis.latency.inconclusiveTimeoutSeconds = 60;
      s.analysis.latency.onInconclusive = onInconclusive;
    });
    const runs = [setup.entered, ...Array.from({ length: 12 }, () => setup.world.after(5 * second))]; // t0 .. t0+60s
    return { ...setup, runs };
  }

  it('judges too few samples Inconclusive and holds until inconclusiveTimeoutSeconds', () => {
    const { t0, runs } = inconclusive('Pause');
    const holding = runs.slice(0, 12);
    expect(holding.every((r) => r.plan.status.phase === 'Progressing' && r.plan.status.currentStepIndex === 1)).toBe(true);
    expect(holding.flatMap(reasons)).toEqual(['StepCompleted', 'AnalysisStarted']);
    expect(holding[11]?.plan.status.analysis).toMatchObject({
      phase: 'Inconclusive', inconclusiveSince: iso(t0), consecutiveBreaches: 0, consecutiveSuccesses: 0,
      lastMeasurement: { result: 'Inconclusive', samples: 40, message: '40 samples in the window, fewer than minSamples 1000' },
    });
  });

  it('onInconclusive Pause: adds one Inconclusive pause condition once, then keeps holding', () => {
    const { world, t0, runs } = inconclusive('Pause');
    const timedOut = runs[12] as Reconciled;
    expect(timedOut.atMs).toBe(t0 + 60 * second);
    expect(timedOut.events).toEqual([{
      type: 'Warning', reason: 'RolloutPaused',
      message: 'Latency gate inconclusive for 60 s at step 1 (40 samples in the window, fewer than minSamples 1000); onInconclusive Pause: promote to skip the analysis, or abort',
    }]);
    expect(timedOut.plan.status).toMatchObject({ phase: 'Paused', currentStepIndex: 1, pauseConditions: [{ reason: 'Inconclusive', startTime: iso(t0 + 60 * second) }] });
    const later = Array.from({ length: 12 }, () => world.after(5 * second));
    expect(later.flatMap(reasons)).toEqual([]);
    expect(world.status).toMatchObject({ phase: 'Paused', currentStepIndex: 1, abort: false, pauseConditions: [{ reason: 'Inconclusive', startTime: iso(t0 + 60 * second) }] });
    expect(world.eventsSince(0, 'RolloutPaused')).toHaveLength(1);
  });

  it('onInconclusive Pause: holds the step until promoted, even when data returns and the gate passes', () => {
    const { world, t0 } = inconclusive('Pause');
    world.canaryLatency = p99(500);
    const back = Array.from({ length: 6 }, () => world.after(5 * second));
    expect(back.flatMap(reasons)).toEqual(['AnalysisPassed']);
    const later = world.after(10 * minute);
    expect(later.events).toEqual([]);
    expect(later.measured).toEqual([]);
    expect(world.status).toMatchObject({
      phase: 'Paused', currentStepIndex: 1, canary: { weight: 25 }, analysis: { phase: 'Successful' },
      pauseConditions: [{ reason: 'Inconclusive', startTime: iso(t0 + 60 * second) }],
      message: `Canary ${world.revision} at step 1/6, weight 25 (1 pods): step 1: paused after an inconclusive latency gate; promote to continue, or abort`,
    });
    world.patchStatus({ promotedStep: 1 });
    const promoted = world.after(second);
    expect(reasons(promoted)).toEqual(['StepPromoted', 'RolloutPaused']);
    expect(world.status).toMatchObject({ currentStepIndex: 2, pauseConditions: [{ reason: 'PauseStep' }] });
  });

  it('onInconclusive Abort: aborts with reason Inconclusive (orders off first)', () => {
    const { world, revA, revB, runs } = inconclusive('Abort');
    const timedOut = runs[12] as Reconciled;
    expect(timedOut.controlled).toHaveLength(1);
    expect(timedOut.events[0]).toEqual({
      type: 'Warning', reason: 'RolloutAborted',
      message: `Aborted revision ${revB} (Inconclusive): inconclusive for 60 s at step 1 (40 samples in the window, fewer than minSamples 1000); onInconclusive Abort; canary scaled down in 30 s, stable ${revA} keeps 4 pods`,
    });
    expect(world.status).toMatchObject({ phase: 'Aborted', abort: true, abortReason: 'Inconclusive', canary: { ordersEnabled: false, weight: 0 } });
    expect(world.eventsSince(0, 'RolloutAborted')).toHaveLength(1);
  });

  it('onInconclusive Continue: completes the step without a verdict and advances', () => {
    const { world, runs } = inconclusive('Continue');
    const timedOut = runs[12] as Reconciled;
    expect(reasons(timedOut)).toEqual(['InconclusiveContinued', 'StepCompleted', 'RolloutPaused']);
    expect(timedOut.events[0]).toMatchObject({ type: 'Warning', message: 'Latency gate inconclusive for 60 s at step 1 (40 samples in the window, fewer than minSamples 1000); onInconclusive Continue: passed without a verdict' });
    expect(world.status).toMatchObject({ currentStepIndex: 2, abort: false, pauseConditions: [{ reason: 'PauseStep' }] });
    expect(world.eventsSince(0, 'InconclusiveContinued')).toHaveLength(1);
  });
});

describe('canary: exact replica weights (replicas 4)', () => {
  it.each([
    [25, 1],
    [50, 2],
    [30, 2],
    [75, 3],
  ])('weight %i runs %i canary pods beside the 4 stable ones', (weight, pods) => {
    const { world, revA, revB } = rollout(steps([{ setWeight: weight }, { pause: {} }]));
    const started = world.after(second);
    expect(started.plan.status.canary).toEqual({ weight, replicas: pods, ordersEnabled: true });
    expect([world.size(revA), world.size(revB)]).toEqual([4, pods]);
    world.settle();
    const reached = world.after(second);
    expect(reasons(reached)).toEqual(['StepCompleted', 'RolloutPaused']);
    expect(world.podNames(revB)).toHaveLength(pods);
    expect(world.size(revA)).toBe(4);
    expect(world.serviceRevision()).toBe('all');
  });

  it('with dynamicStableScale and maxSurge 1 shrinks the stable set only by canary pods already available', () => {
    const { world, revA, revB } = rollout(steps([{ setWeight: 50 }, { pause: {} }]), (s) => {
      s.strategy.canary.dynamicStableScale = true;
      s.strategy.canary.maxSurge = 1;
    });
    const seen: Array<[number, number, number]> = [];
    for (let i = 0; i < 6; i++) {
      world.after(second);
      const available = world.replicaSet(revB)?.status?.availableReplicas ?? 0;
      seen.push([world.size(revA), world.size(revB), available]);
      // Stable shrinks by the available canary pods only; the surge is at most one pod.
      expect(world.size(revA)).toBe(4 - Math.min(available, 2));
      expect(world.size(revA) + world.size(revB)).toBeLessThanOrEqual(5);
      world.settle();
      const stableAvailable = world.replicaSet(revA)?.status?.availableReplicas ?? 0;
      expect(stableAvailable + (world.replicaSet(revB)?.status?.availableReplicas ?? 0)).toBeGreaterThanOrEqual(4);
    }
    // [stable size, canary size, canary available when decided]. A canary pod that becomes available takes its share
    // of shards, and that hand-over reconciles again at once, so the next size is decided in the same second.
    expect(seen).toEqual([[4, 1, 0], [3, 2, 1], [2, 2, 2], [2, 2, 2], [2, 2, 2], [2, 2, 2]]);
    expect(world.status).toMatchObject({ currentStepIndex: 1, canary: { weight: 50, replicas: 2 } });
  });

  it('with dynamicStableScale keeps the stable size while a canary scale-up is not yet observed by its controller', () => {
    const { world, revA, revB } = rollout(steps([{ setWeight: 50 }, { pause: {} }]), (s) => {
      s.strategy.canary.dynamicStableScale = true;
      s.strategy.canary.maxSurge = 1;
    });
    const stableSizes: number[] = [];
    world.after(second);
    world.settle();
    world.after(second); // one canary pod available: stable 4 -> 3 (the surge allows no second canary pod yet)
    stableSizes.push(world.size(revA));
    world.after(second); // canary 1 -> 2, a size its ReplicaSet controller has not observed yet
    stableSizes.push(world.size(revA));
    world.after(second); // still not observed: its one available pod still counts, stable does not grow back
    stableSizes.push(world.size(revA));
    world.settle();
    world.after(second);
    stableSizes.push(world.size(revA));
    expect(stableSizes).toEqual([3, 3, 3, 2]);
    expect(world.size(revB)).toBe(2);
  });

  it('with dynamicStableScale scales the stable set back to spec.replicas on abort', () => {
    const { world, revA } = rollout(fastGate, steps([{ setWeight: 50 }, { analysis: {} }]), (s) => {
      s.strategy.canary.dynamicStableScale = true;
    });
    world.canaryLatency = p99(900);
    world.run(minute, { until: (w) => w.status.phase === 'Aborted' });
    expect(world.status.abortReason).toBe('LatencyBreach');
    expect(world.size(revA)).toBe(4);
  });
});

describe('canary: healthy promotion through examples/gpu-canary.yaml', () => {
  // setWeight 25, analysis, pause 300s, setWeight 50, analysis, setWeight 100; interval 15s, initialDelay 30s,
  // 4 passes in a row pass; canary 500 µs against stable 500 µs (limit 600 µs).
  const { world, revA, revB } = rollout();
  const start = world.nowMs;
  const earlier = world.events.length;
  const runs = world.run(2 * 3_600 * second, { until: (w) => w.status.stableRevision === revB });
  const rollEvents = world.events.slice(earlier).filter((event) => !['ScalingReplicaSet', 'RevisionCreated'].includes(event.reason));
  const timeOf = (reason: string, nth = 0): number => (rollEvents.filter((event) => event.reason === reason)[nth]?.atMs ?? Number.NaN) - start;

  it('runs every step in order and completes', () => {
    expect(rollEvents.map((event) => event.reason)).toEqual([
      'RolloutStarted',
      'StepCompleted', 'AnalysisStarted',
      'AnalysisPassed', 'StepCompleted', 'RolloutPaused',
      'StepCompleted',
      'StepCompleted', 'AnalysisStarted',
      'AnalysisPassed', 'StepCompleted',
      'StepCompleted', 'RolloutCompleted',
    ]);
    expect(rollEvents.filter((event) => event.reason === 'StepCompleted').map((event) => event.message)).toEqual([
      'Step 0/6 (setWeight 25) completed; next: analysis',
      'Step 1/6 (analysis) completed; next: pause 300s',
      'Step 2/6 (pause 300s) completed; next: setWeight 50',
      'Step 3/6 (setWeight 50) completed; next: analysis',
      'Step 4/6 (analysis) completed; next: setWeight 100',
      'Step 5/6 (setWeight 100) completed; next: promotion',
    ]);
  });

  it('measures after initialDelay, every interval, and pauses exactly 300 s', () => {
    const gate1 = timeOf('AnalysisStarted');
    expect(timeOf('AnalysisPassed') - gate1).toBe(30 * second + 3 * 15 * second);
    const measuredAt = runs.filter((r) => r.measured.length > 0).map((r) => r.atMs - start - gate1);
    expect(measuredAt.slice(0, 4)).toEqual([30_000, 45_000, 60_000, 75_000]);
    expect(timeOf('StepCompleted', 2) - timeOf('RolloutPaused')).toBe(300 * second);
    expect(timeOf('AnalysisPassed', 1) - timeOf('AnalysisStarted', 1)).toBe(75 * second);
    expect(runs.flatMap((r) => r.measured).every((m) => m.canary.revision === revB && m.stable?.revision === revA)).toBe(true);
    expect(rollEvents.find((event) => event.reason === 'AnalysisPassed')?.message).toBe(
      'Latency gate passed at step 1: p99 500 µs <= threshold 800 µs and stable 500 µs + 20% (5000 samples); 4 passes in a row',
    );
  });

  it('sizes the canary 1, 2 then 4 while stable stays at 4', () => {
    const canarySizes = [...new Set(world.timeline.filter((entry) => entry.sizes[revB] !== undefined).map((entry) => entry.sizes[revB]))];
    expect(canarySizes).toEqual([1, 2, 4]);
    const completedAt = world.eventsSince(start, 'RolloutCompleted')[0]?.atMs ?? 0;
    expect(Math.min(...world.timeline.filter((entry) => entry.atMs >= start && entry.atMs < completedAt).map((entry) => entry.sizes[revA] ?? 0))).toBe(4);
  });

  it('makes the new revision stable: RolloutCompleted, old ReplicaSet to 0, stableHistory starting with it', () => {
    expect(rollEvents.at(-1)).toMatchObject({
      type: 'Normal', reason: 'RolloutCompleted',
      message: `Revision ${revB} promoted to stable (was ${revA}) after 6 steps; last gate measurement: p99 500 µs <= threshold 800 µs and stable 500 µs + 20% (5000 samples)`,
    });
    expect(world.status).toMatchObject({ phase: 'Healthy', stableRevision: revB, updateRevision: revB, stableHistory: [revB, revA], currentStepIndex: 6 });
    expect(world.size(revA)).toBe(0);
    expect(world.size(revB)).toBe(4);
    expect(world.serviceRevision()).toBe('all');
  });

  it('is then steady: no event, no measurement', () => {
    const later = world.after(minute);
    expect(later.events).toEqual([]);
    expect(later.measured).toEqual([]);
    expect(later.plan.status.stableHistory).toEqual([revB, revA]);
  });
});

describe('canary: pauses and promotion requests', () => {
  const pauses = steps([{ setWeight: 25 }, { pause: {} }, { setWeight: 50 }, { pause: { durationSeconds: 300 } }, { setWeight: 100 }]);

  /** B rolled out to the indefinite pause at step 1. */
  function atIndefinitePause(): { world: World; revA: string; revB: string } {
    const setup = rollout(pauses);
    setup.world.after(second);
    setup.world.settle();
    const reached = setup.world.after(second);
    expect(reasons(reached)).toEqual(['StepCompleted', 'RolloutPaused']);
    expect(reached.events[1]?.message).toBe('Paused at step 1 (pause (until promoted)): run nexus rollout promote to continue');
    return setup;
  }

  it('holds an indefinite pause for ever', () => {
    const { world } = atIndefinitePause();
    const muchLater = world.after(30 * 24 * 3_600 * second);
    expect(muchLater.events).toEqual([]);
    expect(muchLater.plan.requeueAfterMs).toBeUndefined();
    expect(world.status).toMatchObject({ phase: 'Paused', currentStepIndex: 1, canary: { weight: 25 } });
    expect(world.status.conditions?.find((c) => c.type === 'Progressing')).toMatchObject({ status: 'Unknown', reason: 'RolloutPaused' });
  });

  it('advances one step on promote (promotedStep = currentStepIndex), consuming the request', () => {
    const { world, revB } = atIndefinitePause();
    world.patchStatus({ promotedStep: 1 });
    const promoted = world.after(second);
    expect(reasons(promoted)).toEqual(['StepPromoted', 'ScalingReplicaSet']);
    expect(promoted.events[0]?.message).toBe('Step 1 (pause (until promoted)) promoted by request');
    expect(world.status).toMatchObject({ currentStepIndex: 2, promotedStep: -1, pauseConditions: [], canary: { weight: 50, replicas: 2 } });
    expect(world.size(revB)).toBe(2);
  });

  it('ignores a stale promotedStep (not the current step) and consumes it', () => {
    const { world } = atIndefinitePause();
    world.patchStatus({ promotedStep: 0 });
    const ignored = world.after(second);
    expect(ignored.events).toEqual([]);
    expect(world.status).toMatchObject({ currentStepIndex: 1, promotedStep: -1, phase: 'Paused' });
  });

  it('skips to the end on promoteFull', () => {
    const { world, revA, revB } = atIndefinitePause();
    world.patchStatus({ promoteFull: true });
    const full = world.after(second);
    expect(reasons(full)).toEqual(['PromotedFull', 'ScalingReplicaSet']);
    expect(full.events[0]?.message).toBe('Full promotion requested at step 1/5 (pause (until promoted)): remaining steps and analysis skipped');
    expect(world.status).toMatchObject({ currentStepIndex: 5, promoteFull: false, canary: { weight: 100, replicas: 4 } });
    world.settle();
    const done = world.after(second);
    expect(reasons(done)).toContain('RolloutCompleted');
    expect(world.status).toMatchObject({ phase: 'Healthy', stableRevision: revB });
    expect(world.size(revA)).toBe(0);
  });

  it('resumes a timed pause after its duration across operator restarts (status only)', () => {
    const { world, revB } = atIndefinitePause();
    world.patchStatus({ promotedStep: 1 });
    world.after(second);
    world.settle();
    const paused = world.after(second);
    expect(reasons(paused)).toEqual(['StepCompleted', 'RolloutPaused']);
    const pausedAt = paused.atMs;
    expect(paused.plan.requeueAfterMs).toBe(300 * second);
    world.restart();
    const middle = world.after(200 * second);
    expect(middle.events).toEqual([]);
    expect(middle.plan.requeueAfterMs).toBe(100 * second);
    world.restart();
    const almost = world.after(99 * second);
    expect(almost.events).toEqual([]);
    expect(world.status).toMatchObject({ currentStepIndex: 3, pauseConditions: [{ reason: 'PauseStep', startTime: iso(pausedAt) }] });
    world.restart();
    const resumed = world.after(second);
    expect(resumed.atMs - pausedAt).toBe(300 * second);
    expect(reasons(resumed)).toEqual(['StepCompleted', 'ScalingReplicaSet']);
    expect(world.status).toMatchObject({ currentStepIndex: 4, pauseConditions: [], canary: { weight: 100 } });
    expect(world.size(revB)).toBe(4);
  });

  it('freezes step advances under spec.paused, and advances once unpaused', () => {
    const { world } = atAnalysis();
    world.edit((s) => { s.paused = true; });
    // The gate passes (4 in a row from the first at entry) but the step does not advance.
    const runs = Array.from({ length: 5 }, () => world.after(5 * second));
    expect(runs.flatMap(reasons)).toEqual(['AnalysisPassed']);
    expect(world.status).toMatchObject({ phase: 'Paused', currentStepIndex: 1, analysis: { phase: 'Successful' } });
    expect(world.status.message).toContain('spec.paused: step 1 (analysis) is done but the rollout does not advance');
    world.edit((s) => { s.paused = false; });
    const unpaused = world.after(second);
    expect(reasons(unpaused)).toEqual(['StepCompleted', 'RolloutPaused']);
    expect(world.status.currentStepIndex).toBe(2);
  });

  it('still aborts a sustained breach under spec.paused', () => {
    const { world, revA, revB } = atAnalysis();
    world.edit((s) => { s.paused = true; });
    world.canaryLatency = p99(1_250);
    const runs = [world.after(5 * second), world.after(5 * second), world.after(5 * second)];
    expect(runs[2]?.controlled[0]?.targets.map((target) => target.pod)).toEqual(world.podNames(revB));
    expect(runs[2]?.events[0]?.message).toBe(
      `Aborted revision ${revB} (LatencyBreach): p99 1250 µs > stable 500 µs + 20% = 600 µs (5000 samples); 3 breaches in a row at step 1 (consecutiveBreaches 3); canary scaled down in 30 s, stable ${revA} keeps 4 pods`,
    );
    expect(world.status).toMatchObject({ phase: 'Aborted', abort: true, abortReason: 'LatencyBreach' });
  });
});

describe('canary: retry after an abort', () => {
  it('restarts at step 0 with zeroed counters once the aborted attempt\'s pods are gone', () => {
    const { world, revA, revB } = atAnalysis(p99(900));
    world.after(5 * second);
    world.after(5 * second);
    expect(world.status.abort).toBe(true);
    const abortedPods = world.podNames(revB);
    expect(abortedPods).toHaveLength(1);

    // nexus rollout retry, within the abort scale-down delay (the aborted pod still runs, orders off).
    world.patchStatus({ abort: false });
    world.canaryLatency = p99(500);
    const retried = world.after(5 * second);
    expect(retried.events.map((event) => [event.reason, event.message])).toEqual([
      ['RolloutRetried', `Retry of revision ${revB} requested: restarting at step 0 with zeroed counters`],
      ['ScalingReplicaSet', `Scaled ReplicaSet equities-momentum-${revB} from 1 to 0`],
    ]);
    expect(retried.controlled).toEqual([]);
    expect(world.status).toMatchObject({ phase: 'Progressing', abort: false, currentStepIndex: 0, canary: { weight: 0, replicas: 0, ordersEnabled: false } });
    expect(world.status).not.toHaveProperty('abortedAt');
    expect(world.status).not.toHaveProperty('abortReason');
    expect(world.status.message).toContain('waiting for the 1 pods of the aborted attempt to stop');
    expect(world.serviceRevision()).toBe('all');

    world.settle();
    const restarted = world.after(second);
    expect(reasons(restarted)).toEqual(['ScalingReplicaSet']);
    expect(world.status).toMatchObject({ currentStepIndex: 0, canary: { weight: 25, replicas: 1, ordersEnabled: true } });
    expect(world.status.analysis).toEqual({ phase: 'Pending', history: expect.any(Array), lastMeasurement: expect.any(Object) });
    const fresh = world.podNames(revB);
    expect(fresh).toHaveLength(1);
    expect(fresh).not.toEqual(abortedPods);

    world.settle();
    const gate = world.after(second);
    expect(reasons(gate)).toEqual(['StepCompleted', 'AnalysisStarted']);
    expect(world.status.analysis).toMatchObject({ phase: 'Running', consecutiveBreaches: 0, consecutiveSuccesses: 1, consecutiveErrors: 0 });
    expect(world.eventsSince(0, 'RolloutRetried')).toHaveLength(1);
    expect(world.minSize(revA)).toBe(4);
  });
});

describe('canary: manual abort', () => {
  it('cuts orders on the canary pods, then aborts with reason Manual', () => {
    const { world, revA, revB } = atAnalysis();
    world.patchStatus({ abort: true });
    const aborted = world.after(second);
    expect(aborted.measured).toEqual([]);
    expect(aborted.controlled.map((request) => request.targets.map((target) => target.pod))).toEqual([world.podNames(revB)]);
    expect(reasons(aborted)).toEqual(['RolloutAborted', 'OrdersOff']);
    expect(aborted.events[0]?.message).toBe(`Aborted revision ${revB} (Manual): abort requested (nexus rollout abort); canary scaled down in 30 s, stable ${revA} keeps 4 pods`);
    expect(world.status).toMatchObject({ phase: 'Aborted', abort: true, abortReason: 'Manual', canary: { ordersEnabled: false, weight: 0 } });
    expect(world.serviceRevision()).toBe(revA);
    expect(world.after(second).events).toEqual([]);
  });
});

describe('canary: fast rollback', () => {
  /** A stable on v1, then B (v2) promoted in full: stableHistory [B, A]. */
  function promotedToB(...edits: SpecEdit[]): { world: World; revA: string; revB: string } {
    const setup = rollout(...edits);
    const { world, revB } = setup;
    world.after(second);
    world.patchStatus({ promoteFull: true });
    world.after(second);
    world.settle();
    world.after(second);
    expect(world.status).toMatchObject({ phase: 'Healthy', stableRevision: revB });
    return setup;
  }

  it('re-applying a revision in stableHistory within rollbackWindow skips steps and analysis', () => {
    const { world, revA, revB } = promotedToB();
    expect(world.status.stableHistory).toEqual([revB, revA]);
    const since = world.nowMs;
    world.edit(release(images.v1));
    expect(world.revision).toBe(revA);
    const back = world.after(second);
    expect(back.events[0]).toEqual({
      type: 'Normal', reason: 'FastRollback',
      message: `Revision ${revA} was stable within the last 2 stable revisions: rolling back to it at once, without steps or analysis`,
    });
    expect(world.size(revA)).toBe(4);
    world.settle();
    const done = world.after(second);
    expect(reasons(done)).toContain('RevisionAvailable');
    expect(world.status).toMatchObject({ phase: 'Healthy', stableRevision: revA, stableHistory: [revA, revB] });
    expect(world.size(revB)).toBe(0);
    const during = world.eventsSince(since).map((event) => event.reason);
    expect(during).not.toContain('AnalysisStarted');
    expect(during).not.toContain('RolloutStarted');
    expect(world.reconciles.filter((r) => r.atMs > since).flatMap((r) => r.measured)).toEqual([]);
    expect(world.eventsSince(since, 'FastRollback')).toHaveLength(1);
  });

  it('rolls a revision outside the window out with steps', () => {
    const { world, revA } = promotedToB((s) => { s.rollbackWindow.revisions = 0; });
    world.edit(release(images.v1));
    const back = world.after(second);
    expect(reasons(back)[0]).toBe('RolloutStarted');
    expect(world.status).toMatchObject({ currentStepIndex: 0, canary: { weight: 25 } });
    expect(world.size(revA)).toBe(1);
  });
});

describe('canary: progress deadline', () => {
  it('aborts with ProgressDeadlineExceeded when canary pods stay unschedulable, stable untouched', () => {
    const scheduler = '0/6 nodes are available: 6 Insufficient nvidia.com/gpu.';
    const { world, revA, revB } = rollout();
    world.unschedulable.set(revB, scheduler);
    const started = world.after(second);
    expect(started.plan.requeueAfterMs).toBe(900 * second);
    world.settle();
    const starved = world.after(second);
    const pod = world.podNames(revB)[0] ?? '';
    expect(starved.events).toEqual([{ type: 'Warning', reason: 'InsufficientGPU', message: `Pod ${pod} cannot be scheduled: ${scheduler}` }]);
    const before = world.after(898 * second);
    expect(before.events).toEqual([]);
    expect(before.plan.requeueAfterMs).toBe(second);
    const deadline = world.after(second);
    expect(deadline.atMs - started.atMs).toBe(900 * second);
    expect(deadline.controlled).toEqual([]);
    expect(deadline.events.map((event) => [event.type, event.reason])).toEqual([['Warning', 'RolloutAborted'], ['Normal', 'ScalingReplicaSet']]);
    expect(deadline.events[0]?.message).toBe(
      `Aborted revision ${revB} (ProgressDeadlineExceeded): step 0 (setWeight 25): 0/1 canary pods available after 900 s (progressDeadlineSeconds 900): pod ${pod}: ${scheduler}; canary scaled down now, stable ${revA} keeps 4 pods`,
    );
    expect(world.status).toMatchObject({ phase: 'Aborted', abort: true, abortReason: 'ProgressDeadlineExceeded' });
    expect(world.size(revB)).toBe(0);
    expect(world.size(revA)).toBe(4);
    expect(world.minSize(revA)).toBe(4);
    expect(world.serviceRevision()).toBe(revA);
  });

  it('keeps its clock across an operator restart', () => {
    const { world, revB } = rollout();
    world.unschedulable.set(revB, '0/6 nodes are available: 6 Insufficient nvidia.com/gpu.');
    world.after(second);
    world.settle();
    world.after(500 * second);
    world.restart();
    const late = world.after(400 * second);
    expect(reasons(late)[0]).toBe('RolloutAborted');
  });
});

describe('canary: a new revision mid-analysis', () => {
  it('restarts the rollout at step 0 and scales the superseded canary to 0', () => {
    const { world, revA, revB } = atAnalysis();
    world.after(5 * second);
    expect(world.status.analysis).toMatchObject({ consecutiveSuccesses: 2 });
    world.edit(release(images.v3));
    const revC = world.revision;
    const restarted = world.after(second);
    expect(restarted.events.map((event) => [event.reason, event.message])).toEqual([
      ['RolloutRestarted', `Revision ${revB} superseded by ${revC} at step 1; rollout restarts at step 0 of 6`],
      ['RevisionCreated', `Created revision ${revC} (generation 3, image ${images.v3}) with 1 replicas`],
      ['ScalingReplicaSet', `Scaled ReplicaSet equities-momentum-${revB} from 1 to 0`],
    ]);
    expect(world.status).toMatchObject({ updateRevision: revC, stableRevision: revA, currentStepIndex: 0, canary: { weight: 25, replicas: 1, ordersEnabled: true }, analysis: { phase: 'Pending' } });
    expect([world.size(revA), world.size(revB), world.size(revC)]).toEqual([4, 0, 1]);
    world.settle();
    const gate = world.after(second);
    expect(reasons(gate)).toEqual(['StepCompleted', 'AnalysisStarted']);
    expect(gate.measured[0]?.canary.revision).toBe(revC);
    expect(world.status.analysis).toMatchObject({ revision: revC, consecutiveSuccesses: 1 });
  });
});

describe('canary: restart safety', () => {
  it('gives an identical plan for the same status, children and time (rollout start)', () => {
    const { world } = rollout();
    expect(world.plan()).toEqual(world.plan());
    const started = world.reconcile();
    expect(reasons(started)).toEqual(['RolloutStarted', 'RevisionCreated']);
    const again = world.plan();
    expect(again.events).toEqual([]);
    expect(again.plan.status).toEqual(started.plan.status);
  });

  it('gives an identical plan at the abort, and after the status was written no second RolloutAborted', () => {
    const { world } = atAnalysis(p99(900));
    world.after(5 * second);
    world.advance(5 * second);
    const first = world.plan();
    expect(world.plan()).toEqual(first);
    expect(reasons(first)).toEqual(['RolloutAborted', 'OrdersOff']);
    const applied = world.reconcile();
    // The same decision, then (reconciled again at once) the canary's shard handed back to the stable revision.
    expect(applied.passes.slice(0, first.passes.length)).toEqual(first.passes);
    expect(applied.events).toEqual(first.events);
    const again = world.plan();
    expect(again.events).toEqual([]);
    expect(again.controlled).toEqual([]);
    expect(again.measured).toEqual([]);
    expect(again.plan.status).toEqual(applied.plan.status);
    world.restart();
    const afterRestart = world.plan();
    expect(afterRestart.events).toEqual([]);
    expect(afterRestart.plan.status).toEqual(applied.plan.status);
  });

  // The reconciler writes the status first: an operator that stops right after sees the new status beside the
  // children as they were. Deciding again then must announce nothing twice and write the same status.
  it.each<[string, LatencyAnswer, string]>([
    ['a healthy rollout', p99(500), 'Healthy'],
    ['an aborted rollout', p99(900), 'Aborted'],
  ])('decides the same status, without repeating an event or an effect, from the status just written (%s)', (_what, latency, phase) => {
    const { world } = rollout(fastGate);
    world.canaryLatency = latency;
    const replayed: string[] = [];
    for (let i = 0; i < 120; i++) {
      const first = world.observed();
      const done = world.reconcile();
      // A reconcile that hands a shard over reconciles again at once; the children as they were are those before the last one.
      const before = done.observed;
      const replay = world.planFrom({ ...before, engine: { ...before.engine, status: structuredClone(done.plan.status) } });
      replayed.push(...reasons(replay).filter((reason) => reason !== 'ScalingReplicaSet' && reason !== 'RevisionCreated'));
      expect(replay.measured).toEqual([]);
      expect(replay.controlled).toEqual([]);
      if (done.plan.status.stableRevision === first.engine.status?.stableRevision) {
        expect(replay.plan.status).toEqual(done.plan.status);
      } else {
        // The promotion itself: the replay is already outside the rollout (decide's own status form).
        const { phase, stableRevision, updateRevision, stableHistory, currentStepIndex } = done.plan.status;
        expect(replay.plan.status).toMatchObject({ phase, stableRevision, updateRevision, stableHistory, currentStepIndex });
      }
      world.settle();
      world.advance(5 * second);
    }
    expect(replayed).toEqual([]);
    expect(world.status.phase).toBe(phase);
  });
});

describe('canary: a record of every analysis', () => {
  it('keeps every measurement of an analysis that breached, with its verdict, in a record the API server holds', () => {
    const { world, revB } = atAnalysis(p99(900));
    world.run(20 * second, { stepMs: 5 * second, until: (w) => w.status.abort === true });
    const records = world.server.configMapObjects().map(readAnalysisRecord).filter((record) => record !== undefined);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ revision: revB, outcome: 'Failed' });
    expect(records[0]?.measurements.map((m) => m.result)).toEqual(['Breach', 'Breach', 'Breach']);
    expect(records[0]?.measurements.map((m) => m.p99Micros)).toEqual([900, 900, 900]);
  });

  it('closes the record of an aborted analysis, and never re-creates it once pruned with its revision', () => {
    const { world, revA, revB } = atAnalysis(p99(900), (s) => { s.revisionHistoryLimit = 0; s.strategy.canary.abortScaleDownDelaySeconds = 0; });
    world.run(20 * second, { stepMs: 5 * second, until: (w) => w.status.abort === true });
    expect(world.server.configMapObjects().map(readAnalysisRecord).filter((r) => r !== undefined).map((r) => [r?.revision, r?.outcome])).toEqual([[revB, 'Failed']]);
    world.edit(release(images.v1));
    world.run(2 * minute, { stepMs: 5 * second });
    expect(world.revision).toBe(revA);
    // revB's ReplicaSet and its record are pruned (revisionHistoryLimit 0); status still shows its last analysis.
    expect(world.server.configMapObjects().map(readAnalysisRecord).filter((r) => r !== undefined)).toEqual([]);
    const quiet = world.run(30 * second, { stepMs: 5 * second });
    expect(quiet.flatMap((r) => [...r.plan.applies.filter(needsWrite), ...r.plan.deletes])).toEqual([]);
  });

  it('keeps more measurements than status does (status keeps the last 20), and writes nothing more once settled', () => {
    const { world, revB } = atAnalysis(p99(500), (s) => { s.analysis.latency.successfulIntervals = 30; });
    world.run(10 * minute, { stepMs: 5 * second, until: (w) => w.status.phase === 'Healthy' });
    const record = world.server.configMapObjects().map(readAnalysisRecord).find((r) => r?.revision === revB);
    expect(record?.outcome).toBe('Successful');
    expect(record?.measurements.length).toBeGreaterThanOrEqual(30);
    expect(world.status.analysis?.history?.length).toBe(20);
    world.settle();
    expect(world.after(5 * second).plan.applies.filter(needsWrite)).toEqual([]);
  });
});

describe('canary: checks on the engine error signals', () => {
  const signals = (rejected: number): LatencyAnswer => (target) => ({
    ok: true,
    value: {
      quantileMicros: 500, samples: 5000, podsMeasured: target.pods.length,
      signals: {
        TicksRejected: { events: rejected, total: 100_000 },
        FramesRejected: { events: 0, total: 10_000 },
        TicksLost: { events: 0, total: 100_000 },
        OrdersDenied: { events: 0, total: 1_000 },
        PoolExhausted: { events: 0, total: 100_000 },
      },
    },
  });
  const rejectionCheck: SpecEdit = (s) => { s.analysis.checks = [{ signal: 'TicksRejected', maxIncreasePercent: 50, maxRatio: 0.0001, minEvents: 1000, consecutiveFailures: 3 }]; };

  it('aborts a canary that rejects more ticks than stable, with CheckFailed naming the check and its values', () => {
    const { world, revB } = atAnalysis(signals(300), rejectionCheck);
    world.stableLatency = signals(100);
    world.run(30 * second, { stepMs: 5 * second, until: (w) => w.status.abort === true });
    expect(world.status).toMatchObject({ phase: 'Aborted', abortReason: 'CheckFailed', analysis: { phase: 'Failed' } });
    expect(world.status.analysis?.checks).toEqual([expect.objectContaining({ signal: 'TicksRejected', result: 'Fail', consecutiveFailures: 3, canaryRatio: 0.003, stableRatio: 0.001 })]);
    const aborted = world.eventsSince(0, 'RolloutAborted')[0];
    expect(aborted?.message).toContain(`Aborted revision ${revB} (CheckFailed): TicksRejected: 0.3 % ticks rejected (300 of 100000) > stable 0.1 % + 50% and maxRatio 0.01 %; 3 failures in a row at step 1 (consecutiveFailures 3)`);
    expect(world.status.canary?.ordersEnabled).toBe(false);
  });

  it('promotes a canary whose signals are as good as stable, and measures stable for a relative check', () => {
    const { world } = atAnalysis(signals(100), rejectionCheck);
    world.stableLatency = signals(100);
    world.run(10 * minute, { stepMs: 5 * second, until: (w) => w.status.phase === 'Healthy' });
    expect(world.status.phase).toBe('Healthy');
    expect(world.reconciles.some((r) => r.measured.some((request) => request.stable !== undefined))).toBe(true);
  });

  it('holds the step while a check fails on the measurement where latency passes', () => {
    const { world, entered } = atAnalysis(signals(300), (s) => {
      s.analysis.latency.successfulIntervals = 1;
      s.analysis.checks = [{ signal: 'TicksRejected', maxRatio: 0.0001, minEvents: 1000, consecutiveFailures: 10 }];
    });
    expect(entered.measured).toHaveLength(1);
    world.run(20 * second, { stepMs: 5 * second });
    expect(world.status.currentStepIndex).toBe(1);
    expect(world.status.analysis).toMatchObject({ phase: 'Running', checks: [{ signal: 'TicksRejected', result: 'Fail' }] });
    world.canaryLatency = signals(5);
    world.run(20 * second, { stepMs: 5 * second, until: (w) => (w.status.currentStepIndex ?? 0) > 1 });
    expect(world.status.currentStepIndex).toBeGreaterThan(1);
  });
});

describe('the Mann-Whitney gate on consecutive windows', () => {
  const compared: SpecEdit = (s) => {
    s.analysis.latency.method = 'MannWhitney';
    s.analysis.latency.relativeToStable = { maxIncreasePercent: 15 };
    s.analysis.latency.minSamples = 100;
    s.analysis.latency.successfulIntervals = 3;
    s.analysis.latency.consecutiveBreaches = 2;
  };
  /** `perSecond` samples of `micros` in every 1 s interval ending in (windowSinceMs, windowUntilMs], as an engine reports them. */
  const windowOf = (micros: number, perSecond: number): LatencyAnswer => (target) => {
    const since = target.windowSinceMs ?? Number.NaN;
    const until = target.windowUntilMs ?? Number.NaN;
    const seconds = Math.max(0, Math.floor(until / 1000) - Math.floor(since / 1000));
    const builder = new DistributionBuilder();
    builder.add(micros * 1000, seconds * perSecond);
    const window = seconds === 0 ? { distribution: builder.build(), fromMs: undefined, throughMs: undefined } : { distribution: builder.build(), fromMs: until - seconds * 1000, throughMs: until };
    return { ok: true, value: { quantileMicros: micros, samples: seconds * perSecond, podsMeasured: target.pods.length, window } };
  };

  it('judges each window once: a conclusive measurement moves the window start, an inconclusive one lets it grow', () => {
    const { world } = rollout(fastGate, compared);
    // 10 samples a second on the canary, 40 on stable.
    world.canaryLatency = windowOf(500, 10);
    world.stableLatency = windowOf(500, 40);
    world.after(second);
    world.settle();
    const entered = world.after(second);
    const t0 = entered.atMs;
    // The first measurement, at the gate's start (initialDelay 0s), asked for samples since then, cut for both
    // revisions at the last whole second at least 250 ms ago: none yet.
    const first = entered.measured[0];
    expect(first).toMatchObject({ canary: { windowSinceMs: t0 }, stable: { windowSinceMs: t0, windowUntilMs: first?.canary.windowUntilMs } });
    expect(first?.canary.windowUntilMs).toBe(Math.floor((t0 - 250) / 1000) * 1000);
    expect(world.status.analysis?.lastMeasurement).toMatchObject({ result: 'Inconclusive', samples: 0 });
    expect(world.status.analysis?.windowStart).toBeUndefined();
    // Under 100 canary samples in the next window: it stays open and grows.
    const thin = world.after(5 * second);
    expect(thin.measured[0]?.canary.windowSinceMs).toBe(t0);
    expect(world.status.analysis?.lastMeasurement).toMatchObject({ result: 'Inconclusive' });
    expect(world.status.analysis?.lastMeasurement?.samples).toBeLessThan(100);
    const grown = world.after(7 * second);
    const until = grown.measured[0]?.canary.windowUntilMs ?? Number.NaN;
    expect(world.status.analysis?.lastMeasurement).toMatchObject({ result: 'Pass' });
    expect(world.status.analysis?.lastMeasurement?.samples).toBeGreaterThanOrEqual(100);
    expect(world.status.analysis?.windowStart).toBe(iso(until));
    // The next window starts exactly there: it holds only the new seconds, each judged once.
    const next = world.after(10 * second);
    expect(next.measured[0]?.canary.windowSinceMs).toBe(until);
    expect(world.status.analysis?.lastMeasurement).toMatchObject({ result: 'Pass', samples: 10 * ((next.measured[0]?.canary.windowUntilMs ?? 0) - until) / 1000 });
  });

  it('aborts a canary slower than stable x tolerance after consecutiveBreaches windows, naming the ratio', () => {
    const { world } = rollout(fastGate, compared);
    world.canaryLatency = windowOf(700, 40);
    world.stableLatency = windowOf(500, 40);
    world.run(30 * second, { stepMs: 5 * second, until: (w) => w.status.abortedAt !== undefined });
    expect(world.status.abortReason).toBe('LatencyBreach');
    expect(world.status.message).toMatch(/canary 1\.40x stable \(99% bounds 1\.40x\.\.1\.40x, Mann-Whitney p < 1e-6\).*slower than stable x 1\.15; 2 breaches in a row at step 1 \(consecutiveBreaches 2\)/);
  });
});
