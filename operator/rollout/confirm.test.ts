import { describe, expect, it } from 'vitest';
import type { PromotionConfirmOutcome } from '../plan/needs.ts';
import { canaryReplicas } from './canary.ts';
import { confirmRetryMs } from './confirm.ts';
import { gpuCanary, images, minute, p99, release, second, World, type SpecEdit } from '../../test/support/rollout-world.ts';

/** A canary of 4 pods: 50 %, then a manual pause to be promoted, then done (no gate, so nothing else can hold). */
const twoSteps: SpecEdit = (s) => {
  s.replicas = 4;
  s.strategy.canary.steps = [{ setWeight: 50 }, { pause: { durationSeconds: 10 } }];
};

/** Healthy on v1 (revision A), the webhook answering `answer`, then v2 (revision B) applied. */
function rollout(answer: (asked: number) => PromotionConfirmOutcome, ...edits: SpecEdit[]): { world: World; revA: string; revB: string } {
  const world = World.healthy(gpuCanary(twoSteps, ...edits));
  world.confirmPromotion = () => answer(world.confirmRequests.length);
  const revA = world.revision;
  world.edit(release(images.v2));
  return { world, revA, revB: world.revision };
}

const refused: PromotionConfirmOutcome = { confirmed: false, message: 'HTTP 409: change freeze until 18:00' };
const down: PromotionConfirmOutcome = { confirmed: false, message: 'no answer: fetch failed: connect ECONNREFUSED 127.0.0.1:9' };
const approved: PromotionConfirmOutcome = { confirmed: true, message: 'HTTP 200: CHG-1042 approved' };

describe('the confirm-promotion webhook', () => {
  it('holds a canary at its last weight until the webhook confirms, asking again every 5 s, one Event per distinct answer', () => {
    const answers = [refused, refused, down, down, approved];
    const { world, revA, revB } = rollout((asked) => answers[Math.min(asked - 1, answers.length - 1)] ?? approved);
    world.run(30 * second, { until: (w) => w.confirmRequests.length === 1 });
    // Asked once the steps are done, with the engine, both revisions and the strategy.
    expect(world.confirmRequests[0]).toEqual({ engine: { namespace: world.engine.metadata.namespace, name: world.engine.metadata.name }, revision: revB, stableRevision: revA, strategy: 'Canary' });
    expect(world.status).toMatchObject({ phase: 'Progressing', stableRevision: revA, promotionConfirmation: { revision: revB, confirmed: false, message: refused.message } });
    expect(world.status.message).toContain(`promotion of ${revB} awaits the confirm-promotion webhook (last answer: ${refused.message})`);
    // The canary keeps its last step's weight: 2 of 4 pods, not all 4.
    expect(world.status.canary).toMatchObject({ weight: 50, replicas: canaryReplicas(4, 50) });
    // The rollout's start stays what it was while it waits (time to promotion runs from it).
    const startedAt = world.status.rolloutStartedAt;
    expect(Date.parse(startedAt ?? '')).toBeLessThan(world.nowMs);
    const heldAt = world.nowMs;
    const made = world.run(2 * minute, { stepMs: second, until: (w) => w.status.stableRevision === revB });
    expect(world.status).toMatchObject({ phase: 'Healthy', stableRevision: revB });
    // The confirmation was recorded while the canary scaled up to take over; once the rollout is over it goes with it.
    const recorded = made.map((reconciled) => reconciled.plan.status.promotionConfirmation).filter((record) => record?.confirmed === true);
    expect(recorded.length).toBeGreaterThan(0);
    expect(recorded[0]).toMatchObject({ revision: revB, confirmed: true, message: approved.message });
    expect(world.status.promotionConfirmation).toBeUndefined();
    expect(world.reconciles.map((reconciled) => reconciled.plan.status.rolloutStartedAt).filter((at) => at !== undefined && at !== startedAt)).toEqual([]);
    // Four more questions, each confirmRetryMs after the last answer, none in between.
    expect(world.confirmRequests).toHaveLength(5);
    expect(world.nowMs - heldAt).toBeGreaterThanOrEqual(4 * confirmRetryMs);
    expect(world.nowMs - heldAt).toBeLessThan(5 * confirmRetryMs + 10 * second);
    // One Event per distinct answer: the two refusals are one, the down receiver's two answers one; then the confirmation.
    const events = world.events.filter((event) => event.reason.startsWith('Promotion'));
    expect(events.map((event) => event.reason)).toEqual(['PromotionNotConfirmed', 'PromotionNotConfirmed', 'PromotionConfirmed']);
    expect(events[0]?.message).toContain('change freeze');
    expect(events[1]?.message).toContain('ECONNREFUSED');
    expect(events[2]?.message).toBe(`Promotion of revision ${revB} confirmed by the confirm-promotion webhook: ${approved.message}`);
    // Never a full-size canary before the confirmation.
    const confirmedAt = made.findIndex((reconciled) => reconciled.events.some((event) => event.reason === 'PromotionConfirmed'));
    expect(made.slice(0, confirmedAt).every((reconciled) => (reconciled.plan.status.canary?.weight ?? 0) <= 50)).toBe(true);
  });

  it('asks once per revision: the promotion scaling up over several reconciles is not asked again', () => {
    const { world, revB } = rollout(() => approved);
    world.run(2 * minute, { stepMs: second, until: (w) => w.status.stableRevision === revB });
    expect(world.confirmRequests).toHaveLength(1);
  });

  it('never asks without a webhook configured, and then promotes as before', () => {
    const world = World.healthy(gpuCanary(twoSteps));
    world.edit(release(images.v2));
    const revB = world.revision;
    world.run(2 * minute, { stepMs: second, until: (w) => w.status.stableRevision === revB });
    expect(world.status).toMatchObject({ phase: 'Healthy', stableRevision: revB });
    expect(world.status.promotionConfirmation).toBeUndefined();
    expect(world.confirmRequests).toEqual([]);
  });

  it('holds a requested promotion (nexus rollout promote --full) too, and lets an abort through while it waits', () => {
    const { world, revA, revB } = rollout(() => refused);
    world.run(20 * second, { until: (w) => w.status.currentStepIndex === 1 });
    world.patchStatus({ promoteFull: true });
    world.run(30 * second, { stepMs: second });
    expect(world.status).toMatchObject({ phase: 'Progressing', stableRevision: revA });
    expect(world.status.canary?.weight).toBe(50);
    world.patchStatus({ abort: true });
    world.run(10 * second, { stepMs: second, until: (w) => w.status.phase === 'Aborted' });
    expect(world.status).toMatchObject({ phase: 'Aborted', abortReason: 'Manual', stableRevision: revA });
    expect(world.status.stableRevision).not.toBe(revB);
  });

  it('holds a blue-green switch: the active Service stays on the old revision until the webhook confirms', () => {
    const blueGreen: SpecEdit = (s) => {
      s.strategy = { type: 'BlueGreen', blueGreen: { autoPromotionEnabled: true, autoPromotionSeconds: 5, scaleDownDelaySeconds: 30, prePromotionAnalysis: false, postPromotionAnalysis: false } } as typeof s.strategy;
    };
    let open = false;
    const { world, revA, revB } = rollout(() => (open ? approved : refused), blueGreen);
    world.run(40 * second, { stepMs: second });
    expect(world.confirmRequests.length).toBeGreaterThan(1);
    expect(world.confirmRequests[0]?.strategy).toBe('BlueGreen');
    expect(world.status.blueGreen).toMatchObject({ active: revA, preview: revB });
    expect(world.status.message).toContain('awaits the confirm-promotion webhook');
    open = true;
    world.run(2 * minute, { stepMs: second, until: (w) => w.status.blueGreen?.active === revB });
    expect(world.status.blueGreen?.active).toBe(revB);
    expect(world.status.promotionConfirmation).toMatchObject({ revision: revB, confirmed: true });
  });

  it('trusts no confirmation it did not see: a status record written by someone else, or one from before a restart', () => {
    const { world, revA, revB } = rollout(() => refused);
    world.run(30 * second, { until: (w) => w.confirmRequests.length === 1 });
    // A user with status rights forges the record: the operator asks again and keeps waiting.
    world.patchStatus({ promotionConfirmation: { revision: revB, confirmed: true, checkedAt: new Date(world.nowMs).toISOString(), message: 'HTTP 200' } });
    world.run(20 * second, { stepMs: second });
    expect(world.status.stableRevision).toBe(revA);
    expect(world.confirmRequests.length).toBeGreaterThan(1);
    expect(world.status.promotionConfirmation).toMatchObject({ revision: revB, confirmed: false, message: refused.message });
  });

  it('asks again after an operator restart mid-promotion, and after an abort and retry', () => {
    let answer = approved;
    const { world, revB } = rollout(() => answer, (s) => { s.strategy.canary.steps = [{ setWeight: 50 }]; });
    world.run(30 * second, { until: (w) => w.confirmRequests.length === 1 });
    expect(world.status.promotionConfirmation?.confirmed).toBe(true);
    // Restarted before the promotion finished: its memory is gone, so the record alone does not promote.
    world.restart();
    answer = refused;
    world.run(20 * second, { stepMs: second });
    expect(world.confirmRequests.length).toBeGreaterThan(1);
    expect(world.status.stableRevision).not.toBe(revB);
    // Aborted and retried: the confirmation is forgotten with the attempt.
    world.patchStatus({ abort: true });
    world.run(20 * second, { stepMs: second, until: (w) => w.status.phase === 'Aborted' });
    expect(world.status.promotionConfirmation).toBeUndefined();
  });

  it('keeps the latency gate watching a waiting canary: a breach still aborts it, orders cut first', () => {
    const gated: SpecEdit = (s) => {
      s.strategy.canary.steps = [{ setWeight: 50 }, { analysis: {} }];
      s.analysis.latency.interval = '5s';
      s.analysis.latency.initialDelay = '0s';
    };
    const { world, revA, revB } = rollout(() => refused, gated);
    world.canaryLatency = p99(500);
    world.run(2 * minute, { stepMs: second, until: (w) => w.confirmRequests.length === 1 });
    expect(world.status.phase).toBe('Progressing');
    // The canary slows down while it waits for the change freeze to end.
    world.canaryLatency = p99(50_000);
    world.run(2 * minute, { stepMs: second, until: (w) => w.status.phase === 'Aborted' });
    expect(world.status).toMatchObject({ phase: 'Aborted', abortReason: 'LatencyBreach', stableRevision: revA, canary: { ordersEnabled: false } });
    expect(world.status.updateRevision).toBe(revB);
    expect(world.events.some((event) => event.reason === 'AnalysisStarted' && event.message.includes('awaiting confirmation'))).toBe(true);
  });

  it('does not ask while spec.paused, and a promote --full from an early step keeps the canary\'s weight', () => {
    const { world, revA } = rollout(() => refused, (s) => { s.strategy.canary.steps = [{ setWeight: 25 }, { pause: {} }, { setWeight: 75 }]; });
    world.run(30 * second, { until: (w) => w.status.currentStepIndex === 1 });
    expect(world.status.canary?.weight).toBe(25);
    world.patchStatus({ promoteFull: true });
    world.run(20 * second, { stepMs: second });
    expect(world.confirmRequests.length).toBeGreaterThan(0);
    expect(world.status.canary?.weight).toBe(25);
    const asked = world.confirmRequests.length;
    world.edit((s) => { s.paused = true; });
    world.run(30 * second, { stepMs: second });
    expect(world.confirmRequests).toHaveLength(asked);
    expect(world.status.stableRevision).toBe(revA);
  });
});
