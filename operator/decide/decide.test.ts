import type { V1ConfigMap, V1ContainerStatus, V1Pod, V1ReplicaSet, V1Service } from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { Condition, LatencyGate, TradingEngine, TradingEngineStatus } from '../api/types.ts';
import { configMaps, networkPolicies, replicaSets, secrets, services } from '../kube/resources.ts';
import { generateControlKeys } from '../../engine/control/control-keys.ts';
import { controlKeysOf, renderControlSecret } from '../render/control-secret.ts';
import type { OperatorSettings } from '../api/settings.ts';
import { renderConfigMap, renderReplicaSet, renderService } from '../render/children.ts';
import { appliedHash } from '../render/owned.ts';
import { annotationKeys } from '../render/labels.ts';
import { revisionOf } from '../render/revision.ts';
import { exampleEngine, withSpec } from '../../test/support/engines.ts';
import { metaTime } from '../plan/conditions.ts';
import { decide } from './decide.ts';
import type { ApplyIntent, Observed, Plan } from '../plan/plan.ts';
import { needsWrite } from '../plan/plan.ts';

type SpecEdit = (spec: Record<string, any>) => void; // eslint-disable-line @typescript-eslint/no-explicit-any

const T0 = Date.parse('2026-01-02T03:04:05.678Z');
const second = 1_000;
const minute = 60 * second;
const hour = 60 * minute;

const minimal = exampleEngine('minimal');
const revA = revisionOf(minimal);
const imageV2 = 'ghcr.io/nexus-trading/nexus-engine:0.2.0';
const minimalV2 = atGeneration(withSpec(minimal, (s) => { s.template.image = imageV2; }), 2);
const revB = revisionOf(minimalV2);
const selector = 'app.kubernetes.io/name=nexus-engine,app.kubernetes.io/instance=minimal';

function atGeneration(engine: TradingEngine, generation: number): TradingEngine {
  return { ...engine, metadata: { ...engine.metadata, generation } };
}

function edited(engine: TradingEngine, generation: number, edit: SpecEdit): TradingEngine {
  return atGeneration(withSpec(engine, edit), generation);
}

function withStatus(engine: TradingEngine, status: TradingEngineStatus | undefined): TradingEngine {
  return status === undefined ? { ...engine, status: undefined } : { ...engine, status };
}

interface PodCounts {
  readonly replicas?: number;
  readonly ready?: number;
  readonly available?: number;
  readonly observedGeneration?: number;
}

/** The revision's ReplicaSet as the API server returns it: rendered, plus uid, creationTimestamp, generation and status. */
function liveReplicaSet(engine: TradingEngine, revision: string, size: number, createdMs: number, counts: PodCounts = {}): V1ReplicaSet {
  const rs = renderReplicaSet(engine, revision, size);
  return {
    ...rs,
    metadata: { ...rs.metadata, uid: `uid-rs-${revision}`, creationTimestamp: new Date(createdMs), generation: 1 },
    status: {
      replicas: counts.replicas ?? size,
      readyReplicas: counts.ready ?? 0,
      availableReplicas: counts.available ?? 0,
      observedGeneration: counts.observedGeneration ?? 1,
    },
  };
}

/** A ReplicaSet whose every pod is ready and available. */
function availableReplicaSet(engine: TradingEngine, revision: string, size: number, createdMs: number): V1ReplicaSet {
  return liveReplicaSet(engine, revision, size, createdMs, { ready: size, available: size });
}

function liveConfigMap(engine: TradingEngine, revision: string, createdMs: number): V1ConfigMap {
  const cm = renderConfigMap(engine, revision);
  return { ...cm, metadata: { ...cm.metadata, uid: `uid-cm-${revision}`, creationTimestamp: new Date(createdMs) } };
}

function liveService(engine: TradingEngine): V1Service {
  const svc = renderService(engine);
  return { ...svc, metadata: { ...svc.metadata, uid: 'uid-svc', creationTimestamp: new Date(T0 - hour) } };
}

/**
 * What a reconcile sees. Unless a test says otherwise, the names of children to create have been checked and no
 * foreign object holds them (`foreign: []`); the ownership check itself is tested on its own below.
 */
function observe(engine: TradingEngine, children: Partial<Omit<Observed, 'engine'>> = {}): Observed {
  return { engine, replicaSets: [], configMaps: [], services: [], pods: [], foreign: [], newControlKeys: freshKeys, ...children };
}

/** The executor's fresh control key set in these tests. */
const freshKeys = generateControlKeys();

/** What the next reconcile sees: the same children, and the status this plan wrote. */
function fedBack(observed: Observed, plan: Plan): Observed {
  return { ...observed, engine: withStatus(observed.engine, plan.status) };
}

function condition(status: TradingEngineStatus, type: string): Condition | undefined {
  return status.conditions?.find((c) => c.type === type);
}

function conditionSummary(status: TradingEngineStatus): Array<[string, string, string]> {
  return (status.conditions ?? []).map((c) => [c.type, c.status, c.reason]);
}

function replicasOf(intent: ApplyIntent): number | undefined {
  return (intent.object as V1ReplicaSet).spec?.replicas;
}

/** minimal, fully rolled out on revision A at T0 (Healthy): the observed children and the status decide wrote. */
function healthyOnA(nowMs = T0): Observed {
  const observed = observe(minimal, {
    replicaSets: [availableReplicaSet(minimal, revA, 1, T0 - 5 * minute)],
    configMaps: [liveConfigMap(minimal, revA, T0 - 5 * minute)],
    services: [liveService(minimal)],
  });
  return fedBack(observed, decide(observed, nowMs));
}

describe('decide: first reconcile', () => {
  const plan = decide(observe(minimal), T0);

  it('applies the Service, the revision ConfigMap and the revision ReplicaSet, all new', () => {
    expect(plan.applies.map((a) => a.resource)).toEqual([services, configMaps, replicaSets]);
    expect(plan.applies.map((a) => a.object)).toEqual([renderService(minimal), renderConfigMap(minimal, revA), renderReplicaSet(minimal, revA, 1)]);
    expect(plan.applies.map((a) => a.observed)).toEqual([undefined, undefined, undefined]);
    expect(plan.deletes).toEqual([]);
  });

  it('emits one RevisionCreated event', () => {
    expect(plan.events).toEqual([{
      type: 'Normal',
      reason: 'RevisionCreated',
      message: `Created revision ${revA} (generation 1, image ghcr.io/nexus-trading/nexus-engine:0.1.0) with 1 replicas`,
    }]);
  });

  it('reports the whole status as Progressing, transition times truncated to seconds', () => {
    const at = '2026-01-02T03:04:05Z';
    expect(plan.status).toEqual({
      observedGeneration: 1,
      replicas: 0,
      updatedReplicas: 0,
      readyReplicas: 0,
      availableReplicas: 0,
      readyText: '0/1',
      selector,
      updateRevision: revA,
      progressStartedAt: at,
      phase: 'Progressing',
      message: `Revision ${revA}: 0/1 pods available`,
      conditions: [
        { type: 'Ready', status: 'False', reason: 'ReplicasNotReady', message: `0/1 pods of revision ${revA} are ready`, observedGeneration: 1, lastTransitionTime: at },
        { type: 'Available', status: 'False', reason: 'ReplicasUnavailable', message: '0 pods available, 1 wanted', observedGeneration: 1, lastTransitionTime: at },
        { type: 'Progressing', status: 'True', reason: 'RevisionProgressing', message: `Revision ${revA}: 0/1 pods available`, observedGeneration: 1, lastTransitionTime: at },
        { type: 'Paused', status: 'False', reason: 'NotPaused', message: 'Rollouts proceed', observedGeneration: 1, lastTransitionTime: at },
      ],
    });
    expect(plan.status.stableRevision).toBeUndefined();
  });

  it('requeues at the progress deadline', () => {
    expect(plan.requeueAfterMs).toBe(600 * second);
  });

  it.each([
    ['replicas 3, default deadline', (s: Record<string, any>) => { s.replicas = 3; }, 3, 600_000], // eslint-disable-line @typescript-eslint/no-explicit-any
    ['replicas 0', (s: Record<string, any>) => { s.replicas = 0; }, 0, 600_000], // eslint-disable-line @typescript-eslint/no-explicit-any
    ['progressDeadlineSeconds 90', (s: Record<string, any>) => { s.progressDeadlineSeconds = 90; }, 1, 90_000], // eslint-disable-line @typescript-eslint/no-explicit-any
  ])('sizes the ReplicaSet from spec.replicas and requeues from spec.progressDeadlineSeconds (%s)', (_what, edit, replicas, requeue) => {
    const engine = edited(minimal, 1, edit);
    const first = decide(observe(engine), T0);
    expect(replicasOf(first.applies[2])).toBe(replicas);
    expect(first.status.readyText).toBe(`0/${replicas}`);
    expect(first.requeueAfterMs).toBe(requeue);
  });

  it('reports the generation it observed', () => {
    const engine = atGeneration(minimal, 7);
    const first = decide(observe(engine), T0);
    expect(first.status.observedGeneration).toBe(7);
    expect(first.status.conditions?.every((c) => c.observedGeneration === 7)).toBe(true);
    expect(first.events[0]?.message).toContain('(generation 7,');
  });
});

describe('decide: the revision becomes available', () => {
  const created = T0 - 42_500;
  const observed = observe(withStatus(minimal, decide(observe(minimal), created).status), {
    replicaSets: [availableReplicaSet(minimal, revA, 1, created)],
    configMaps: [liveConfigMap(minimal, revA, created)],
    services: [liveService(minimal)],
  });
  const plan = decide(observed, T0);

  it('turns Healthy with the revision as stable and Ready=True', () => {
    expect(plan.status).toMatchObject({
      phase: 'Healthy',
      stableRevision: revA,
      updateRevision: revA,
      replicas: 1,
      updatedReplicas: 1,
      readyReplicas: 1,
      availableReplicas: 1,
      readyText: '1/1',
      message: `1/1 pods of revision ${revA} are ready`,
    });
    expect(conditionSummary(plan.status)).toEqual([
      ['Ready', 'True', 'AllReplicasReady'],
      ['Available', 'True', 'MinimumReplicasAvailable'],
      ['Progressing', 'True', 'NewRevisionAvailable'],
      ['Paused', 'False', 'NotPaused'],
    ]);
    expect(plan.requeueAfterMs).toBeUndefined();
  });

  it('moves the transition time of the flipped conditions only', () => {
    const before = observed.engine.status;
    expect(condition(plan.status, 'Ready')?.lastTransitionTime).toBe(metaTime(T0));
    expect(condition(plan.status, 'Available')?.lastTransitionTime).toBe(metaTime(T0));
    expect(condition(plan.status, 'Progressing')?.lastTransitionTime).toBe(before?.conditions?.find((c) => c.type === 'Progressing')?.lastTransitionTime);
    expect(condition(plan.status, 'Paused')?.lastTransitionTime).toBe(metaTime(created));
  });

  it('emits RevisionAvailable once, with the time since the ReplicaSet was created', () => {
    expect(plan.events).toEqual([{
      type: 'Normal',
      reason: 'RevisionAvailable',
      message: `Revision ${revA} is stable: 1/1 pods available 42.5 s after its ReplicaSet was created`,
    }]);
    expect(decide(fedBack(observed, plan), T0 + minute).events).toEqual([]);
  });

  it('changes no child that already matches', () => {
    expect(plan.applies.map(needsWrite)).toEqual([false, false, false]);
    expect(plan.deletes).toEqual([]);
  });

  it.each([
    ['not every pod is available', { ready: 1, available: 0 }],
    ['not every pod is ready', { ready: 0, available: 0 }],
    ['the ReplicaSet controller has not observed its generation', { ready: 1, available: 1, observedGeneration: 0 }],
  ])('is not rolled out while %s', (_what, counts) => {
    const waiting = decide({ ...observed, replicaSets: [liveReplicaSet(minimal, revA, 1, created, counts)] }, T0);
    expect(waiting.status.phase).toBe('Progressing');
    expect(waiting.status.stableRevision).toBeUndefined();
    expect(condition(waiting.status, 'Ready')?.status).toBe('False');
    expect(waiting.events).toEqual([]);
  });
});

describe('decide: a new revision while an old one runs', () => {
  const healthy = healthyOnA(T0);
  const rsA = healthy.replicaSets[0] as V1ReplicaSet;
  const engine = withStatus(minimalV2, healthy.engine.status);
  const cmA = healthy.configMaps[0] as V1ConfigMap;

  it('creates the new revision at full size and keeps the old at its size', () => {
    const plan = decide(observe(engine, { replicaSets: [rsA], configMaps: [cmA], services: healthy.services }), T0 + minute);
    expect(plan.applies.map((a) => [a.resource.kind, a.object.metadata?.name])).toEqual([
      ['Service', 'minimal'],
      ['ConfigMap', `minimal-${revB}-config`],
      ['ReplicaSet', `minimal-${revB}`],
    ]);
    expect(replicasOf(plan.applies[2])).toBe(1);
    expect(plan.deletes).toEqual([]);
    expect(plan.events).toEqual([{
      type: 'Normal', reason: 'RevisionCreated', message: `Created revision ${revB} (generation 2, image ${imageV2}) with 1 replicas`,
    }]);
    expect(plan.status).toMatchObject({ phase: 'Progressing', stableRevision: revA, updateRevision: revB, availableReplicas: 1, updatedReplicas: 0, observedGeneration: 2 });
  });

  it('holds the old revision while the new one has too few available pods', () => {
    const rsB = liveReplicaSet(minimalV2, revB, 1, T0 + minute, { ready: 1, available: 0 });
    const plan = decide(observe(engine, { replicaSets: [rsA, rsB], configMaps: [cmA], services: healthy.services }), T0 + 2 * minute);
    expect(plan.applies.filter((a) => a.resource === replicaSets).map((a) => a.object.metadata?.name)).toEqual([`minimal-${revB}`]);
    expect(plan.events).toEqual([]);
    expect(plan.status).toMatchObject({ phase: 'Progressing', stableRevision: revA, replicas: 2, readyReplicas: 2, availableReplicas: 1 });
  });

  it('scales the old revision to 0 once the new one is available', () => {
    const rsB = availableReplicaSet(minimalV2, revB, 1, T0 + minute);
    const cmB = liveConfigMap(minimalV2, revB, T0 + minute);
    const plan = decide(observe(engine, { replicaSets: [rsA, rsB], configMaps: [cmA, cmB], services: healthy.services }), T0 + 2 * minute);
    const scaleDown = plan.applies.find((a) => a.object.metadata?.name === `minimal-${revA}`);
    expect(scaleDown?.resource).toBe(replicaSets);
    expect(scaleDown?.observed).toBe(rsA);
    expect(replicasOf(scaleDown as ApplyIntent)).toBe(0);
    expect(needsWrite(scaleDown as ApplyIntent)).toBe(true);
    expect(plan.events).toEqual([
      // The planner's Events first, then those of the children it resizes (the same order for every planner).
      { type: 'Normal', reason: 'RevisionAvailable', message: `Revision ${revB} is stable: 1/1 pods available 60.0 s after its ReplicaSet was created` },
      { type: 'Normal', reason: 'ScalingReplicaSet', message: `Scaled ReplicaSet minimal-${revA} from 1 to 0` },
    ]);
    expect(plan.deletes).toEqual([]);
    expect(plan.status).toMatchObject({ phase: 'Healthy', stableRevision: revB, updateRevision: revB });
  });

  it('keeps the scaled-down revision and its ConfigMap as history', () => {
    const rsA0 = { ...liveReplicaSet(minimal, revA, 0, T0 - 5 * minute), status: { replicas: 0, observedGeneration: 1 } };
    const rsB = availableReplicaSet(minimalV2, revB, 1, T0 + minute);
    const cmB = liveConfigMap(minimalV2, revB, T0 + minute);
    const plan = decide(observe(engine, { replicaSets: [rsA0, rsB], configMaps: [cmA, cmB], services: healthy.services }), T0 + 3 * minute);
    expect(plan.deletes).toEqual([]);
    expect(plan.applies.map((a) => a.object.metadata?.name)).toEqual(['minimal', `minimal-${revB}-config`, `minimal-${revB}`]);
  });

  it('scales a ReplicaSet that already runs the wanted revision to spec.replicas', () => {
    const scaled = edited(minimal, 2, (s) => { s.replicas = 3; });
    const plan = decide(observe(withStatus(scaled, healthy.engine.status), { replicaSets: [rsA], configMaps: [cmA], services: healthy.services }), T0 + minute);
    expect(replicasOf(plan.applies[2])).toBe(3);
    expect(needsWrite(plan.applies[2])).toBe(true);
    expect(plan.events).toEqual([{ type: 'Normal', reason: 'ScalingReplicaSet', message: `Scaled ReplicaSet minimal-${revA} from 1 to 3` }]);
  });
});

describe('decide: pruning old revisions', () => {
  // Five old revisions at 0 (images 0.0.1 oldest .. 0.0.5 newest), and the current one running.
  const olds = [1, 2, 3, 4, 5].map((n) => {
    const engine = withSpec(minimal, (s) => { s.template.image = `ghcr.io/nexus-trading/nexus-engine:0.0.${n}`; });
    const revision = revisionOf(engine);
    const created = T0 - (10 - n) * hour;
    const rs = { ...liveReplicaSet(engine, revision, 0, created), status: { replicas: 0, observedGeneration: 1 } };
    return { revision, rs, cm: liveConfigMap(engine, revision, created) };
  });
  const current = availableReplicaSet(minimal, revA, 1, T0 - hour);
  const currentCm = liveConfigMap(minimal, revA, T0 - hour);

  function pruneWith(limit: number): Plan {
    const engine = edited(minimal, 1, (s) => { s.revisionHistoryLimit = limit; });
    const base = observe(engine, {
      // Listed oldest first and shuffled against creation order, as a cache may list them.
      replicaSets: [olds[2].rs, current, olds[0].rs, olds[4].rs, olds[1].rs, olds[3].rs],
      configMaps: [...olds.map((o) => o.cm), currentCm],
      services: [liveService(engine)],
    });
    return decide(fedBack(base, decide(base, T0)), T0);
  }

  it.each([
    [0, [5, 4, 3, 2, 1]],
    [1, [4, 3, 2, 1]],
    [3, [2, 1]],
    [5, []],
    [10, []],
  ])('with revisionHistoryLimit %i deletes the old revisions %j (newest first), keeping the newest', (limit, pruned) => {
    const plan = pruneWith(limit);
    const gone = pruned.map((n) => olds[n - 1]);
    expect(plan.deletes.filter((d) => d.resource === replicaSets)).toEqual(gone.map((o) => ({
      resource: replicaSets, namespace: 'trading', name: `minimal-${o.revision}`, uid: `uid-rs-${o.revision}`,
    })));
    expect(plan.events).toEqual(gone.map((o) => ({
      type: 'Normal', reason: 'RevisionPruned', message: `Deleted ReplicaSet minimal-${o.revision} of revision ${o.revision} (revisionHistoryLimit ${limit})`,
    })));
  });

  it('deletes the ConfigMaps of the pruned revisions only', () => {
    const plan = pruneWith(3);
    expect(plan.deletes.filter((d) => d.resource === configMaps)).toEqual([olds[0], olds[1]].map((o) => ({
      resource: configMaps, namespace: 'trading', name: `minimal-${o.revision}-config`, uid: `uid-cm-${o.revision}`,
    })));
    expect(plan.applies.some((a) => a.resource === replicaSets && replicasOf(a) === 0)).toBe(false);
  });

  it('keeps an old ReplicaSet at 0 whose pods are still terminating', () => {
    const engine = edited(minimal, 1, (s) => { s.revisionHistoryLimit = 0; });
    const terminating = { ...olds[0].rs, status: { replicas: 1, observedGeneration: 1 } };
    const plan = decide(observe(engine, { replicaSets: [terminating, current], configMaps: [olds[0].cm, currentCm], services: [liveService(engine)] }), T0);
    expect(plan.deletes).toEqual([]);
  });

  it('deletes a ConfigMap left without a ReplicaSet', () => {
    const plan = decide(observe(minimal, { replicaSets: [current], configMaps: [olds[2].cm, currentCm], services: [liveService(minimal)] }), T0);
    expect(plan.deletes).toEqual([{ resource: configMaps, namespace: 'trading', name: `minimal-${olds[2].revision}-config`, uid: `uid-cm-${olds[2].revision}` }]);
  });
});

describe('decide: spec.paused', () => {
  const healthy = healthyOnA(T0);
  const rsA = healthy.replicaSets[0] as V1ReplicaSet;
  const pausedV2 = withStatus(edited(minimalV2, 2, (s) => { s.paused = true; }), healthy.engine.status);
  const observed = observe(pausedV2, { replicaSets: [rsA], configMaps: healthy.configMaps, services: healthy.services });
  const plan = decide(observed, T0 + minute);

  it('starts no new revision while a stable one runs', () => {
    expect(plan.applies.map((a) => a.resource)).toEqual([services]);
    expect(plan.deletes).toEqual([]);
    expect(plan.events).toEqual([]);
    expect(plan.requeueAfterMs).toBeUndefined();
  });

  it('reports phase Paused and Paused=True, keeping the stable revision', () => {
    expect(plan.status).toMatchObject({ phase: 'Paused', stableRevision: revA, updateRevision: revB, availableReplicas: 1, message: `Revision ${revB} waits: spec.paused is true` });
    expect(condition(plan.status, 'Paused')).toMatchObject({ status: 'True', reason: 'SpecPaused', lastTransitionTime: metaTime(T0 + minute) });
    expect(condition(plan.status, 'Progressing')).toMatchObject({ status: 'Unknown', reason: 'RolloutPaused' });
  });

  it('is steady while paused', () => {
    const again = decide(fedBack(observed, plan), T0 + hour);
    expect(again.status).toEqual(plan.status);
    expect(again.events).toEqual([]);
  });

  it('starts the revision when unpaused', () => {
    const resumed = decide(observe(withStatus(minimalV2, plan.status), { replicaSets: [rsA], configMaps: healthy.configMaps, services: healthy.services }), T0 + 2 * minute);
    expect(resumed.applies.map((a) => a.object.metadata?.name)).toEqual(['minimal', `minimal-${revB}-config`, `minimal-${revB}`]);
    expect(resumed.events.map((e) => e.reason)).toEqual(['RevisionCreated']);
    expect(condition(resumed.status, 'Paused')).toMatchObject({ status: 'False', reason: 'NotPaused' });
  });

  it('creates the first revision even when paused (nothing stable to keep)', () => {
    const first = decide(observe(edited(minimal, 1, (s) => { s.paused = true; })), T0);
    expect(first.applies.map((a) => a.resource)).toEqual([services, configMaps, replicaSets]);
    expect(first.status.phase).toBe('Progressing');
    expect(condition(first.status, 'Paused')?.status).toBe('True');
  });
});

describe('decide: an invalid spec', () => {
  const text = '1 invalid field: spec.engine.indicators[0].params.period: must be an integer >= 1, got 0';
  const healthy = healthyOnA(T0);
  const invalid = withStatus(edited(minimal, 2, (s) => { s.engine.indicators[0].params.period = 0; }), healthy.engine.status);
  const observed = { ...healthy, engine: invalid };
  const plan = decide(observed, T0 + minute);

  it('changes no child', () => {
    expect(plan.applies).toEqual([]);
    expect(plan.deletes).toEqual([]);
    expect(plan.requeueAfterMs).toBeUndefined();
  });

  it('reports Ready=False InvalidSpec with the field path, keeping the rest of the status', () => {
    expect(condition(plan.status, 'Ready')).toEqual({
      type: 'Ready', status: 'False', reason: 'InvalidSpec', message: text, observedGeneration: 2, lastTransitionTime: metaTime(T0 + minute),
    });
    expect(plan.status).toMatchObject({ phase: 'InvalidSpec', message: text, observedGeneration: 2, stableRevision: revA, updateRevision: revA, selector });
    expect(condition(plan.status, 'Available')).toEqual(condition(healthy.engine.status ?? {}, 'Available'));
  });

  it('emits one Warning InvalidSpec event, and none on the next run', () => {
    expect(plan.events).toEqual([{ type: 'Warning', reason: 'InvalidSpec', message: `Generation 2 not rolled out: ${text}` }]);
    const again = decide(fedBack(observed, plan), T0 + 2 * minute);
    expect(again.events).toEqual([]);
    expect(again.status).toEqual(plan.status);
  });

  it('warns again when the problem changes', () => {
    const other = withStatus(edited(minimal, 3, (s) => { s.engine.indicators[0].params.period = -2; }), plan.status);
    const next = decide({ ...observed, engine: other }, T0 + 2 * minute);
    expect(next.events.map((e) => [e.type, e.reason])).toEqual([['Warning', 'InvalidSpec']]);
    expect(next.events[0]?.message).toContain('spec.engine.indicators[0].params.period');
  });

  it('counts every invalid field', () => {
    const two = edited(minimal, 1, (s) => { s.engine.indicators[0].params.period = 0; s.template.resources.cpu = '0'; });
    const first = decide(observe(two), T0);
    expect(first.status.message).toMatch(/^2 invalid fields: spec\.engine\.indicators\[0\]\.params\.period: .*; spec\.template\.resources\.cpu: must be greater than zero, got 0$/);
    expect(first.applies).toEqual([]);
  });

  it('reports SpecValid when the spec is fixed', () => {
    const fixed = withStatus(atGeneration(minimal, 3), plan.status);
    const next = decide({ ...observed, engine: fixed }, T0 + 3 * minute);
    expect(next.events).toContainEqual({ type: 'Normal', reason: 'SpecValid', message: 'The spec of generation 3 is valid again' });
    expect(next.status.phase).toBe('Healthy');
    expect(condition(next.status, 'Ready')).toMatchObject({ status: 'True', reason: 'AllReplicasReady' });
  });
});

describe('decide: progress deadline', () => {
  const started = Date.parse('2026-01-02T03:00:00Z');
  const rsA = liveReplicaSet(minimal, revA, 1, started, { ready: 0, available: 0 });
  /** minimal, revision A progressing since `started`: the status of the first reconcile then. */
  const progressing = decide(observe(minimal), started).status;
  const observedAt = observe(withStatus(minimal, progressing), { replicaSets: [rsA], configMaps: [liveConfigMap(minimal, revA, started)], services: [liveService(minimal)] });

  it.each([
    [599, 'Progressing', 1_000],
    [600, 'Degraded', undefined],
    [700, 'Degraded', undefined],
  ])('after %i s of 600 the phase is %s', (seconds, phase, requeue) => {
    const plan = decide(observedAt, started + seconds * second);
    expect(plan.status.phase).toBe(phase);
    expect(plan.requeueAfterMs).toBe(requeue);
  });

  it('reports Progressing=False ProgressDeadlineExceeded with one Warning carrying the seconds waited', () => {
    const plan = decide(observedAt, started + 700 * second);
    const message = `Revision ${revA} did not become available within progressDeadlineSeconds 600: 0/1 pods available`;
    expect(condition(plan.status, 'Progressing')).toEqual({
      type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message, observedGeneration: 1, lastTransitionTime: metaTime(started + 700 * second),
    });
    expect(plan.status.message).toBe(message);
    expect(plan.events).toEqual([{
      type: 'Warning', reason: 'ProgressDeadlineExceeded', message: `Revision ${revA} has 0/1 available pods after 700 s (progressDeadlineSeconds 600)`,
    }]);
  });

  it('stays Degraded without another event on the next run', () => {
    const plan = decide(observedAt, started + 700 * second);
    const again = decide(fedBack(observedAt, plan), started + 760 * second);
    expect(again.status.phase).toBe('Degraded');
    expect(condition(again.status, 'Progressing')?.reason).toBe('ProgressDeadlineExceeded');
    expect(again.events).toEqual([]);
  });

  // The condition's message carries no running clock, so an exceeded deadline is a steady state (no writes).
  it('keeps the seconds waited in the message on the next run', () => {
    const plan = decide(observedAt, started + 700 * second);
    const again = decide(fedBack(observedAt, plan), started + 700 * second);
    expect(again.status).toEqual(plan.status);
  });

  it('recovers when the revision becomes available after the deadline', () => {
    const late = decide(observedAt, started + 700 * second);
    const available = { ...observedAt, engine: withStatus(minimal, late.status), replicaSets: [availableReplicaSet(minimal, revA, 1, started)] };
    const plan = decide(available, started + 800 * second);
    expect(plan.status.phase).toBe('Healthy');
    expect(condition(plan.status, 'Progressing')).toMatchObject({ status: 'True', reason: 'NewRevisionAvailable' });
  });

  it('restarts the clock for a newer revision', () => {
    const newer = withStatus(minimalV2, progressing);
    const plan = decide(observe(newer, { replicaSets: [rsA], services: [liveService(minimal)] }), started + 700 * second);
    expect(plan.status.phase).toBe('Progressing');
    expect(condition(plan.status, 'Progressing')).toMatchObject({ status: 'True', reason: 'RevisionProgressing' });
    expect(plan.requeueAfterMs).toBe(600 * second);
    expect(plan.events.map((e) => e.reason)).toEqual(['RevisionCreated']);
  });

  // The progress clock lives in status.progressStartedAt and restarts with each new revision.
  it('keeps the newer revision progressing on its second run within its own deadline', () => {
    const newer = observe(withStatus(minimalV2, progressing), { replicaSets: [rsA], services: [liveService(minimal)] });
    const first = decide(newer, started + 500 * second);
    const rsB = liveReplicaSet(minimalV2, revB, 1, started + 500 * second);
    const second_ = decide({ ...fedBack(newer, first), replicaSets: [rsA, rsB] }, started + 700 * second);
    expect(second_.status.phase).toBe('Progressing');
    expect(second_.events).toEqual([]);
  });

  it('gives a rollout from a long-Healthy state its full deadline on the second run', () => {
    const healthy = healthyOnA(T0 - 24 * hour);
    const engine = withStatus(minimalV2, healthy.engine.status);
    const first = decide({ ...healthy, engine }, T0);
    const rsB = liveReplicaSet(minimalV2, revB, 1, T0);
    const next = decide({ ...healthy, engine: withStatus(minimalV2, first.status), replicaSets: [...healthy.replicaSets, rsB] }, T0 + 5 * second);
    expect(next.status.phase).toBe('Progressing');
  });
});

describe('decide: an engine that exits', () => {
  const engine = exampleEngine('minimal');
  const rev = revisionOf(engine);
  const module = '/app/strategies/pairs.ts';
  function crashing(restarts: number, exitCode: number, message: string, finishedMs = T0 + minute - 5 * second): V1Pod {
    return {
      apiVersion: 'v1', kind: 'Pod',
      metadata: { name: `minimal-${rev}-abcde`, namespace: 'trading', labels: { 'app.kubernetes.io/instance': 'minimal', 'trading.nexus.dev/revision': rev } },
      status: {
        phase: 'Running',
        containerStatuses: [{
          name: 'engine', ready: false, restartCount: restarts, image: 'x', imageID: 'x',
          state: { waiting: { reason: 'CrashLoopBackOff' } },
          lastState: { terminated: { exitCode, reason: 'Error', message, finishedAt: new Date(finishedMs) } },
        }],
      },
    };
  }
  const base = observe(engine, { replicaSets: [liveReplicaSet(engine, rev, 1, T0, { ready: 0, available: 0 })], configMaps: [liveConfigMap(engine, rev, T0)], services: [liveService(engine)] });
  const why = `strategy module ${module}: no such file`;

  it('reports EngineFailing with the container\'s termination message, once as an Event however often it restarts', () => {
    const observed = { ...base, pods: [crashing(1, 2, why)] };
    const plan = decide(observed, T0 + minute);
    const text = `Pod minimal-${rev}-abcde: the engine exited with code 2 (its configuration or a strategy module was rejected; 1 restarts): ${why}`;
    expect(condition(plan.status, 'EngineFailing')).toMatchObject({ status: 'True', reason: 'ConfigurationRejected', message: text });
    expect(plan.events.filter((event) => event.reason === 'EngineExited')).toEqual([{ type: 'Warning', reason: 'EngineExited', message: text }]);
    expect(plan.status.message).toBe(text);
    const again = decide({ ...fedBack(observed, plan), pods: [crashing(4, 2, why)] }, T0 + 2 * minute);
    expect(condition(again.status, 'EngineFailing')?.message).toContain('4 restarts');
    expect(again.events.filter((event) => event.reason === 'EngineExited')).toEqual([]);
  });

  it('names a strategy the watchdog stopped, and says nothing once the engine runs', () => {
    const hung = decide({ ...base, pods: [crashing(1, 137, 'Strategy looper (module /app/loops.wasm) has not returned for 2050 ms')] }, T0 + minute);
    expect(condition(hung.status, 'EngineFailing')).toMatchObject({ reason: 'EngineExited', message: expect.stringContaining('code 137 (killed; 1 restarts): Strategy looper (module /app/loops.wasm) has not returned') });
    const running = crashing(1, 2, why);
    running.status = { ...running.status, containerStatuses: [{ ...(running.status?.containerStatuses?.[0] as V1ContainerStatus), ready: true, state: { running: {} } }] };
    expect(condition(decide({ ...base, pods: [running] }, T0 + minute).status, 'EngineFailing')).toBeUndefined();
    // Not ready now (draining, warming up) after a crash long ago: not a failing engine.
    const old = crashing(1, 2, why, T0 - 10 * minute);
    old.status = { ...old.status, containerStatuses: [{ ...(old.status?.containerStatuses?.[0] as V1ContainerStatus), state: { running: {} } }] };
    expect(condition(decide({ ...base, pods: [old] }, T0 + minute).status, 'EngineFailing')).toBeUndefined();
  });
});

describe('decide: strategies disabled at run time', () => {
  const engine = withSpec(exampleEngine('minimal'), (spec) => {
    spec.engine.strategies = [{ name: 'mine', module: '/app/strategies/mine.ts' }, { name: 'rsi', type: 'rsiReversion', indicators: ['rsi-14'] }];
    spec.engine.zeromq.endpoints.push({ name: 'control', role: 'control', bindPort: 5560 });
  });
  const rev = revisionOf(engine);
  const readyPod: V1Pod = {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: `minimal-${rev}-abcde`, namespace: 'trading', labels: { 'app.kubernetes.io/instance': 'minimal', 'trading.nexus.dev/revision': rev } },
    status: { phase: 'Running', podIP: '10.0.0.7', conditions: [{ type: 'Ready', status: 'True' }] },
  };
  const observed = observe(engine, { pods: [readyPod] });
  const disabled = { pod: readyPod.metadata?.name ?? '', ok: true, strategies: [
    { name: 'mine', origin: 'module /app/strategies/mine.ts', enabled: false, faults: 1, reason: 'TypeError: x is undefined' },
    { name: 'rsi', origin: 'rsiReversion', enabled: true, faults: 0 },
  ] };

  it('asks each Ready pod for its strategies, then shows a disabled one in status with one StrategyDisabled Warning', () => {
    expect(decide(observed, T0).needs?.probe?.targets).toEqual([{ pod: readyPod.metadata?.name, address: 'tcp://10.0.0.7:5560' }]);
    const plan = decide({ ...observed, strategyProbe: [disabled] }, T0);
    expect(plan.status.strategyHealth).toEqual({ disabled: [{ pod: readyPod.metadata?.name, strategy: 'mine', origin: 'module /app/strategies/mine.ts', faults: 1, reason: 'TypeError: x is undefined' }] });
    expect(plan.events.filter((event) => event.reason === 'StrategyDisabled')).toEqual([{
      type: 'Warning', reason: 'StrategyDisabled',
      message: `Strategy mine (module /app/strategies/mine.ts) disabled on pod ${readyPod.metadata?.name ?? ''} after 1 fault: TypeError: x is undefined; the pod's other strategies keep trading, this one stays off until the pod restarts`,
    }]);
    expect(plan.requeueAfterMs).toBeLessThanOrEqual(15_000);
    const again = decide({ ...fedBack(observed, plan), strategyProbe: [disabled] }, T0 + minute);
    expect(again.events.filter((event) => event.reason === 'StrategyDisabled')).toEqual([]);
    const skipped = decide({ ...fedBack(observed, plan), strategyProbe: 'skipped' }, T0 + minute);
    expect(skipped.status.strategyHealth).toEqual(plan.status.strategyHealth);
  });

  it('does not probe an engine that runs only built-in strategies, and drops what it showed before', () => {
    const builtIns = withSpec(engine, (spec) => { spec.engine.strategies = [{ name: 'rsi', type: 'rsiReversion', indicators: ['rsi-14'] }]; });
    const plan = decide(observe(builtIns, { pods: [readyPod] }), T0);
    expect(plan.needs?.probe).toBeUndefined();
    const before = decide({ ...observed, strategyProbe: [disabled] }, T0);
    const after = decide(observe(withStatus(builtIns, before.status), { pods: [readyPod] }), T0 + minute);
    expect(after.status.strategyHealth).toBeUndefined();
  });

  it('announces a strategy again when its reason arrives after a first answer without one, and forgets pods that are gone', () => {
    const noReason = { ...disabled, strategies: [{ name: 'mine', origin: 'module /app/strategies/mine.ts', enabled: false, faults: 1 }] };
    const first = decide({ ...observed, strategyProbe: [noReason] }, T0);
    expect(first.events.filter((event) => event.reason === 'StrategyDisabled')).toHaveLength(1);
    const second = decide({ ...fedBack(observed, first), strategyProbe: [disabled] }, T0 + minute);
    expect(second.events.filter((event) => event.reason === 'StrategyDisabled').map((event) => event.message)).toEqual([expect.stringContaining(': TypeError: x is undefined;')]);
    const gone = decide({ ...fedBack(observed, second), pods: [], strategyProbe: 'skipped' }, T0 + 2 * minute);
    expect(gone.status.strategyHealth).toEqual({ disabled: [] });
  });

  it('does not probe in a reconcile that hands shards over', () => {
    expect(decide({ ...observed, shards: [] }, T0).needs?.probe).toBeUndefined();
  });
});

describe('decide: strategy modules kept in ConfigMaps', () => {
  const source = 'export default { onTrade() {} };\n';
  const engine = withSpec(exampleEngine('minimal'), (spec) => {
    spec.engine.strategies = [{ name: 'mine', moduleConfigMap: { name: 'desk', key: 'mine.mjs' } }];
  });
  const labelled = (data: Record<string, string>): V1ConfigMap => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'desk', namespace: 'trading', labels: { 'trading.nexus.dev/strategy-module': 'true' } }, data });

  it('copies the source into the revision\'s ConfigMap under a content-hashed name, and a new source is a new revision', () => {
    const plan = decide(observe(engine, { moduleConfigMaps: [labelled({ 'mine.mjs': source })] }), T0);
    const revision = plan.status.updateRevision ?? '';
    const configMap = plan.applies.find((intent) => intent.resource.kind === 'ConfigMap')?.object as V1ConfigMap;
    const file = Object.keys(configMap.data ?? {}).find((key) => key.startsWith('strategy-mine-')) ?? '';
    expect(file).toMatch(/^strategy-mine-[0-9a-f]{12}\.mjs$/);
    expect(configMap.data?.[file]).toBe(source);
    expect(configMap.data?.['engine.yaml']).toContain(`module: ./${file}`);
    const changed = decide(observe(engine, { moduleConfigMaps: [labelled({ 'mine.mjs': `${source}// v2\n` })] }), T0);
    expect(changed.status.updateRevision).not.toBe(revision);
  });

  it('keeps running the current revision\'s copy when the ConfigMap is gone, but names a changed reference that does not exist', () => {
    const first = decide(observe(engine, { moduleConfigMaps: [labelled({ 'mine.mjs': source })] }), T0);
    const revisionConfig = first.applies.find((intent) => intent.resource.kind === 'ConfigMap')?.object as V1ConfigMap;
    const running = withStatus(engine, first.status);
    const gone = decide(observe(running, { configMaps: [revisionConfig] }), T0 + minute);
    expect(gone.status.updateRevision).toBe(first.status.updateRevision);
    expect(condition(gone.status, 'Ready')?.reason).not.toBe('InvalidSpec');
    const renamed = withSpec(running, (spec) => { spec.engine.strategies[0].moduleConfigMap.key = 'other.mjs'; });
    const missing = decide(observe({ ...renamed, status: first.status }, { configMaps: [revisionConfig], moduleConfigMaps: [labelled({ 'mine.mjs': source })] }), T0 + minute);
    expect(condition(missing.status, 'Ready')).toMatchObject({ reason: 'InvalidSpec', message: expect.stringContaining('spec.engine.strategies[0].moduleConfigMap.key: ConfigMap trading/desk has no key "other.mjs"') });
    const noConfigMap = decide(observe(renamed, {}), T0);
    expect(condition(noConfigMap.status, 'Ready')?.message).toContain('spec.engine.strategies[0].moduleConfigMap.name: no ConfigMap trading/desk labelled trading.nexus.dev/strategy-module=true');
  });

  it('copies a WebAssembly module from binaryData to the revision\'s binaryData, byte for byte, and names one left in data', () => {
    const wasm = Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]).toString('base64');
    const wasmEngine = withSpec(engine, (spec) => { spec.engine.strategies[0].moduleConfigMap.key = 'mine.wasm'; });
    const binary: V1ConfigMap = { ...labelled({}), binaryData: { 'mine.wasm': wasm } };
    const plan = decide(observe(wasmEngine, { moduleConfigMaps: [binary] }), T0);
    const configMap = plan.applies.find((intent) => intent.resource.kind === 'ConfigMap')?.object as V1ConfigMap;
    const file = Object.keys(configMap.binaryData ?? {}).find((key) => key.startsWith('strategy-mine-')) ?? '';
    expect(file).toMatch(/^strategy-mine-[0-9a-f]{12}\.wasm$/);
    expect(configMap.binaryData?.[file]).toBe(wasm);
    expect(Object.keys(configMap.data ?? {})).toEqual(['engine.yaml']);
    expect(configMap.data?.['engine.yaml']).toContain(`module: ./${file}`);
    // A new module is a new revision; the running revision's copy is kept when the ConfigMap goes.
    const changed = decide(observe(wasmEngine, { moduleConfigMaps: [{ ...binary, binaryData: { 'mine.wasm': Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 0]).toString('base64') } }] }), T0);
    expect(changed.status.updateRevision).not.toBe(plan.status.updateRevision);
    const gone = decide(observe(withStatus(wasmEngine, plan.status), { configMaps: [configMap] }), T0 + minute);
    expect(gone.status.updateRevision).toBe(plan.status.updateRevision);
    // A .wasm key in data (text) is not a module: it is named with where it must be.
    const inData = decide(observe(wasmEngine, { moduleConfigMaps: [labelled({ 'mine.wasm': 'not binary' })] }), T0);
    expect(condition(inData.status, 'Ready')?.message).toContain('ConfigMap trading/desk has no key "mine.wasm" in binaryData (a WebAssembly module is binary: kubectl create configmap --from-file puts it there)');
  });
});

describe('decide: GPU scheduling', () => {
  const gpu = exampleEngine('gpu-canary');
  const rev = revisionOf(gpu);
  const schedulerMessage = '0/1 nodes are available: 1 Insufficient nvidia.com/gpu.';

  function pod(name: string, scheduled: { status: string; reason?: string; message?: string }): V1Pod {
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'trading', labels: { 'app.kubernetes.io/instance': 'equities-momentum', 'trading.nexus.dev/revision': rev } },
      status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', ...scheduled }] },
    };
  }
  const starved = pod(`equities-momentum-${rev}-abcde`, { status: 'False', reason: 'Unschedulable', message: schedulerMessage });
  const observed = observe(gpu, {
    replicaSets: [liveReplicaSet(gpu, rev, 4, T0, { ready: 3, available: 3 })],
    configMaps: [liveConfigMap(gpu, rev, T0)],
    services: [liveService(gpu)],
    pods: [pod('running-1', { status: 'True' }), starved],
  });
  const plan = decide(observed, T0 + minute);

  it('reports GPUSchedulable=False InsufficientGPU with the scheduler message', () => {
    expect(condition(plan.status, 'GPUSchedulable')).toEqual({
      type: 'GPUSchedulable', status: 'False', reason: 'InsufficientGPU',
      message: `Pod equities-momentum-${rev}-abcde cannot be scheduled: ${schedulerMessage}`,
      observedGeneration: 1, lastTransitionTime: metaTime(T0 + minute),
    });
  });

  it('emits one Warning InsufficientGPU event, and none on the next run', () => {
    expect(plan.events).toEqual([{ type: 'Warning', reason: 'InsufficientGPU', message: `Pod equities-momentum-${rev}-abcde cannot be scheduled: ${schedulerMessage}` }]);
    expect(decide(fedBack(observed, plan), T0 + 2 * minute).events).toEqual([]);
  });

  it.each([
    ['every pod is scheduled', [pod('a', { status: 'True' })]],
    ['a pod lacks cpu, not GPUs', [pod('a', { status: 'False', reason: 'Unschedulable', message: '0/1 nodes are available: 1 Insufficient cpu.' })]],
    ['a pod is unscheduled for another reason', [pod('a', { status: 'False', reason: 'SchedulingGated', message: 'nvidia.com/gpu gate' })]],
  ])('reports GPUSchedulable=True GPUsAllocated when %s', (_what, pods) => {
    const ok = decide({ ...observed, pods }, T0 + minute);
    expect(condition(ok.status, 'GPUSchedulable')).toMatchObject({ status: 'True', reason: 'GPUsAllocated', message: 'Every scheduled pod has 1 nvidia.com/gpu' });
    expect(ok.events.filter((e) => e.reason === 'InsufficientGPU')).toEqual([]);
  });

  it('says nothing about GPUs of pods that do not exist: GPUSchedulable Unknown NoPods', () => {
    const none = decide({ ...observed, pods: [] }, T0 + minute);
    expect(condition(none.status, 'GPUSchedulable')).toMatchObject({ status: 'Unknown', reason: 'NoPods', message: 'No engine pod exists yet' });
  });

  it('says why a ReplicaSet creates no pods: ReplicaFailure with its message, in the status message, and one Warning', () => {
    const failedCreate = 'pods "equities-momentum-x" is forbidden: pod rejected: RuntimeClass "nvidia" not found';
    const replicaSetsSeen = observed.replicaSets.map((rs) => ({
      ...rs, status: { ...rs.status, replicas: 0, conditions: [{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: failedCreate }] },
    }));
    const failing = decide({ ...observed, pods: [], replicaSets: replicaSetsSeen }, T0 + minute);
    const text = `ReplicaSet ${replicaSetsSeen[0]?.metadata?.name ?? ''} cannot create pods: ${failedCreate}`;
    expect(condition(failing.status, 'ReplicaFailure')).toMatchObject({ status: 'True', reason: 'FailedCreate', message: text });
    expect(failing.status.message).toBe(text);
    expect(failing.events.filter((e) => e.reason === 'FailedCreate')).toEqual([{ type: 'Warning', reason: 'FailedCreate', message: text }]);
    const again = decide({ ...observed, pods: [], replicaSets: replicaSetsSeen, engine: withStatus(observed.engine, failing.status) }, T0 + 2 * minute);
    expect(again.events.filter((e) => e.reason === 'FailedCreate')).toEqual([]);
    // Fixed: the condition goes away.
    expect(condition(decide(observed, T0 + 3 * minute).status, 'ReplicaFailure')).toBeUndefined();
  });

  it('has no GPUSchedulable condition for an engine without GPUs', () => {
    const none = decide(observe(minimal, { pods: [starved] }), T0);
    expect(condition(none.status, 'GPUSchedulable')).toBeUndefined();
    expect(none.events.map((e) => e.reason)).toEqual(['RevisionCreated']);
  });
});

describe('decide: never adopting an object it does not own', () => {
  const name = minimal.metadata.name ?? '';
  const namespace = minimal.metadata.namespace ?? '';

  it('asks to look at the name of every child it would create before creating any', () => {
    const { foreign: _unchecked, ...unchecked } = observe(minimal);
    const plan = decide(unchecked, T0);
    expect(plan.applies).toEqual([]);
    expect(plan.events).toEqual([]);
    expect(plan.needs?.ownership?.targets.map((target) => `${target.resource.kind} ${target.namespace}/${target.name}`)).toEqual([
      `Service ${namespace}/${name}`,
      `ConfigMap ${namespace}/${name}-${revA}-config`,
      `ReplicaSet ${namespace}/${name}-${revA}`,
    ]);
  });

  it('asks nothing when every child exists already as its own (steady state)', () => {
    const created = T0 - minute;
    const stable = withStatus(minimal, decide(observe(minimal), created).status);
    const { foreign: _unchecked, ...unchecked } = observe(stable, {
      replicaSets: [availableReplicaSet(minimal, revA, 1, created)],
      configMaps: [liveConfigMap(minimal, revA, created)],
      services: [liveService(minimal)],
    });
    expect(decide(unchecked, T0).needs).toBeUndefined();
  });

  it('writes no child when a name is taken, and reports it as Ready=False ResourceExists with one Warning', () => {
    const foreign = [{ resource: services, namespace, name, controller: 'Deployment/web' }];
    const plan = decide(observe(minimal, { foreign }), T0);
    const text = `Service ${namespace}/${name} (controlled by Deployment/web) already exists and is not owned by this TradingEngine: not overwritten; delete or rename it`;
    expect(plan.applies).toEqual([]);
    expect(plan.deletes).toEqual([]);
    expect(plan.needs).toBeUndefined();
    expect(plan.requeueAfterMs).toBe(30_000);
    expect(plan.status.phase).toBe('Degraded');
    expect(plan.status.message).toBe(text);
    expect(condition(plan.status, 'Ready')).toMatchObject({ status: 'False', reason: 'ResourceExists', message: text });
    expect(plan.events).toEqual([{ type: 'Warning', reason: 'ResourceExists', message: `Generation 1 not rolled out: ${text}` }]);
    // Reported once: the next reconcile that finds the same object writes the same status and no Event.
    const again = decide(fedBack(observe(minimal, { foreign }), plan), T0 + minute);
    expect(again.events).toEqual([]);
    expect(again.status.conditions).toEqual(plan.status.conditions);
  });

  it('names every taken name, including one nothing controls', () => {
    const foreign = [
      { resource: services, namespace, name },
      { resource: configMaps, namespace, name: `${name}-${revA}`, controller: 'HelmRelease/other' },
    ];
    const plan = decide(observe(minimal, { foreign }), T0);
    expect(plan.status.message).toBe(
      `Service ${namespace}/${name} (no controller), ConfigMap ${namespace}/${name}-${revA} (controlled by HelmRelease/other) ` +
        'already exist and are not owned by this TradingEngine: not overwritten; delete or rename them',
    );
  });
});

describe('decide: the children every revision shares (control Secret, NetworkPolicy)', () => {
  const gpu = exampleEngine('gpu-canary');
  const settings: OperatorSettings = {
    networkPolicy: { operatorNamespace: 'nexus-system', operatorPodLabels: { 'app.kubernetes.io/name': 'trading-operator' } },
  };
  const stored = <T extends { metadata?: object }>(object: T): T => ({ ...object, metadata: { ...object.metadata, uid: 'uid-x', creationTimestamp: new Date(T0) } });

  it('creates the control Secret from the fresh keys for an engine with a control socket, and none without one', () => {
    const plan = decide(observe(gpu), T0);
    const secret = plan.applies.find((intent) => intent.resource === secrets);
    expect(secret?.observed).toBeUndefined();
    expect(controlKeysOf(secret?.object)).toEqual(freshKeys);
    expect(decide(observe(minimal), T0).applies.map((intent) => intent.resource)).not.toContain(secrets);
  });

  it('keeps the keys it has: a later reconcile with other fresh keys writes nothing to the Secret', () => {
    const existing = stored(renderControlSecret(gpu, freshKeys));
    const plan = decide(observe(gpu, { secrets: [existing], newControlKeys: generateControlKeys() }), T0);
    const intent = plan.applies.find((candidate) => candidate.resource === secrets);
    expect(intent !== undefined && needsWrite(intent)).toBe(false);
    expect(plan.events.map((event) => event.reason)).not.toContain('ControlKeysReplaced');
  });

  it('replaces a Secret that lost a key, with a Warning', () => {
    const broken = stored(renderControlSecret(gpu, { ...freshKeys, 'client.pub': 'not a key' }));
    const replacement = generateControlKeys();
    const plan = decide(observe(gpu, { secrets: [broken], newControlKeys: replacement }), T0);
    const intent = plan.applies.find((candidate) => candidate.resource === secrets);
    expect(controlKeysOf(intent?.object)).toEqual(replacement);
    expect(plan.events).toContainEqual(expect.objectContaining({ type: 'Warning', reason: 'ControlKeysReplaced' }));
  });

  it('fails loudly, writing nothing, when it needs keys and the executor gave none', () => {
    expect(() => decide({ ...observe(gpu), newControlKeys: undefined }, T0)).toThrow(/needs control keys and the executor gave none/);
  });

  it('renders the NetworkPolicy only when the operator is configured for it, and deletes it when no longer', () => {
    const withPolicy = decide(observe(gpu, { settings }), T0);
    const policy = withPolicy.applies.find((intent) => intent.resource === networkPolicies);
    expect(policy?.object.metadata?.name).toBe(`${gpu.metadata.name ?? ''}-engine`);
    expect(decide(observe(gpu), T0).applies.map((intent) => intent.resource)).not.toContain(networkPolicies);
    const leftOver = stored(policy?.object ?? {});
    expect(decide(observe(gpu, { networkPolicies: [leftOver as never] }), T0).deletes).toContainEqual(
      { resource: networkPolicies, namespace: gpu.metadata.namespace, name: `${gpu.metadata.name ?? ''}-engine`, uid: 'uid-x' },
    );
  });

  it('checks the Secret and NetworkPolicy names before creating them, and never takes over a foreign Secret', () => {
    const { foreign: _unchecked, ...unchecked } = observe(gpu, { settings });
    const targets = decide(unchecked, T0).needs?.ownership?.targets.map((target) => `${target.resource.kind} ${target.name}`);
    expect(targets).toEqual(expect.arrayContaining([`Secret ${gpu.metadata.name ?? ''}-control`, `NetworkPolicy ${gpu.metadata.name ?? ''}-engine`]));
    const foreign = [{ resource: secrets, namespace: gpu.metadata.namespace ?? '', name: `${gpu.metadata.name ?? ''}-control` }];
    const blocked = decide(observe(gpu, { settings, foreign }), T0);
    expect(blocked.applies).toEqual([]);
    expect(condition(blocked.status, 'Ready')).toMatchObject({ status: 'False', reason: 'ResourceExists' });
  });
});

describe('decide: determinism and steady state', () => {
  const healthy = healthyOnA(T0);

  it.each([
    ['nothing observed', observe(minimal)],
    ['a healthy engine', healthy],
    ['a rollout in progress', observe(withStatus(minimalV2, healthy.engine.status), { replicaSets: [...healthy.replicaSets, liveReplicaSet(minimalV2, revB, 1, T0)], services: healthy.services })],
  ])('gives a deep-equal plan for the same input and leaves the input unchanged (%s)', (_what, observed) => {
    const snapshot = structuredClone(observed);
    expect(decide(observed, T0 + minute)).toEqual(decide(observed, T0 + minute));
    expect(observed).toEqual(snapshot);
  });

  it('writes nothing when a healthy status is fed back, even an hour later', () => {
    const plan = decide(healthy, T0 + hour);
    expect(plan.status).toEqual(healthy.engine.status);
    expect(plan.events).toEqual([]);
    expect(plan.deletes).toEqual([]);
    expect(plan.applies.filter(needsWrite)).toEqual([]);
    expect(plan.requeueAfterMs).toBeUndefined();
  });

  it('keeps a progressing status and its transition times when fed back later', () => {
    const observed = observe(minimal, {
      replicaSets: [liveReplicaSet(minimal, revA, 1, T0, { ready: 0, available: 0 })],
      configMaps: [liveConfigMap(minimal, revA, T0)],
      services: [liveService(minimal)],
    });
    const first = decide(observed, T0);
    const again = decide(fedBack(observed, first), T0 + 2 * minute);
    expect(again.status).toEqual(first.status);
    expect(again.events).toEqual([]);
    expect(again.applies.filter(needsWrite)).toEqual([]);
    expect(again.requeueAfterMs).toBe(Date.parse(metaTime(T0)) + 600 * second - (T0 + 2 * minute));
  });

  it('keeps a GPU engine steady', () => {
    const gpu = exampleEngine('gpu-canary');
    const rev = revisionOf(gpu);
    const observed = observe(gpu, { replicaSets: [availableReplicaSet(gpu, rev, 4, T0)], configMaps: [liveConfigMap(gpu, rev, T0)], services: [liveService(gpu)] });
    const first = decide(observed, T0 + minute);
    expect(first.status.phase).toBe('Healthy');
    const again = decide(fedBack(observed, first), T0 + hour);
    expect(again.status).toEqual(first.status);
    expect(again.events).toEqual([]);
  });

  it('outside a strategy rollout clears step and abort state but keeps collisionCount, the gate history and the stable history', () => {
    const status: TradingEngineStatus = {
      ...healthy.engine.status, currentStepIndex: 2, abort: true, abortedAt: '2026-01-02T03:00:00Z', abortReason: 'Manual', collisionCount: 1,
      pauseConditions: [{ reason: 'Manual', startTime: '2026-01-02T03:00:00Z' }], stableHistory: [revA], analysis: { phase: 'Failed' },
    };
    const plan = decide({ ...healthy, engine: withStatus(minimal, status) }, T0 + minute);
    expect(plan.status).toMatchObject({ collisionCount: 1, stableHistory: [revA], analysis: { phase: 'Failed' } });
    for (const field of ['currentStepIndex', 'abort', 'abortedAt', 'abortReason', 'pauseConditions', 'canary', 'blueGreen']) {
      expect(plan.status, field).not.toHaveProperty(field);
    }
  });
});

describe('needsWrite', () => {
  const rs = renderReplicaSet(minimal, revA, 1);
  const hash = appliedHash(rs) ?? '';
  const withHash = (object: V1ReplicaSet, value: string, replicas?: number): V1ReplicaSet => ({
    ...object,
    metadata: { ...object.metadata, annotations: { ...object.metadata?.annotations, [annotationKeys.appliedHash]: value } },
    ...(replicas === undefined ? {} : { spec: { ...object.spec, selector: object.spec?.selector ?? {}, replicas } }),
  });
  const service = renderService(minimal);

  it.each<[string, ApplyIntent, boolean]>([
    ['a new object', { resource: replicaSets, object: rs }, true],
    ['an object with the same applied-hash and size', { resource: replicaSets, object: rs, observed: withHash(rs, hash) }, false],
    ['an object with a different applied-hash', { resource: replicaSets, object: rs, observed: withHash(rs, 'bcdfghjklm') }, true],
    ['an object without an applied-hash', { resource: replicaSets, object: rs, observed: { metadata: {} } }, true],
    ['a ReplicaSet with the same applied-hash but another size', { resource: replicaSets, object: rs, observed: withHash(rs, hash, 3) }, true],
    ['a Service with the same applied-hash (no size)', { resource: services, object: service, observed: { metadata: { annotations: { ...service.metadata?.annotations } } } }, false],
  ])('for %s is %s', (_what, intent, expected) => {
    expect(needsWrite(intent)).toBe(expected);
  });
});

describe('decide: a gate definition named by spec.analysis.gateRef', () => {
  const inline = exampleEngine('gpu-canary');
  const latency = inline.spec.analysis?.latency;
  const byRef = withSpec(inline, (s) => { s.analysis = { gateRef: { kind: 'ClusterLatencyGate', name: 'low-latency' } }; });
  const gate: LatencyGate = { apiVersion: 'trading.nexus.dev/v1alpha1', kind: 'ClusterLatencyGate', metadata: { name: 'low-latency', generation: 3 }, spec: { latency: latency ?? (undefined as never) } };

  it('decides exactly as with the same analysis written inline, and names the gate in status', () => {
    const resolved = decide(observe(byRef, { gate }), T0);
    const written = decide(observe(inline), T0);
    expect(resolved.applies).toEqual(written.applies);
    expect(resolved.status.gate).toEqual({ kind: 'ClusterLatencyGate', name: 'low-latency', generation: 3 });
    expect(written.status.gate).toBeUndefined();
    const { gate: _named, ...rest } = resolved.status;
    expect(rest).toEqual(written.status);
  });

  it('blocks the engine while the gate does not exist: no child changes, Ready=False GateNotFound, one Warning', () => {
    const text = 'spec.analysis.gateRef names ClusterLatencyGate "low-latency", which does not exist in the cluster: nothing rolls out until it does (or the analysis is written inline)';
    for (const found of [undefined, { ...gate, kind: 'LatencyGate' as const }, { ...gate, metadata: { name: 'other' } }]) {
      const plan = decide(observe(byRef, found === undefined ? {} : { gate: found }), T0);
      expect(plan.applies).toEqual([]);
      expect(plan.status).toMatchObject({ phase: 'InvalidSpec', message: text });
      expect(condition(plan.status, 'Ready')).toMatchObject({ status: 'False', reason: 'GateNotFound', message: text });
      expect(plan.events).toEqual([{ type: 'Warning', reason: 'GateNotFound', message: `Generation 1 not rolled out: ${text}` }]);
    }
  });

  it("reports an invalid gate on the gate's own fields", () => {
    const plan = decide(observe(byRef, { gate: { ...gate, spec: { latency: { ...gate.spec.latency, quantile: '0.95' } } } }), T0);
    expect(plan.status.message).toBe('1 invalid field: ClusterLatencyGate/low-latency spec.latency.quantile: the engine exports quantiles 0.5, 0.9, 0.99, 0.999 for pod scraping, got 0.95');
    expect(plan.applies).toEqual([]);
  });
});

describe('examples/latency-gates.yaml', () => {
  it('holds gates that resolve into a valid analysis for the minimal example', () => {
    const text = readFileSync(fileURLToPath(new URL('../../examples/latency-gates.yaml', import.meta.url)), 'utf8');
    const gates = parseAllDocuments(text).map((document) => document.toJS() as LatencyGate);
    expect(gates.map((gate) => `${gate.kind}/${gate.metadata.name ?? ''}`)).toEqual(['ClusterLatencyGate/low-latency', 'LatencyGate/equities-gate']);
    for (const gate of gates) {
      const engine = withSpec(minimal, (s) => { s.analysis = { gateRef: { kind: gate.kind, name: gate.metadata.name } }; });
      const plan = decide(observe(engine, { gate }), T0);
      expect(plan.status.phase, plan.status.message).not.toBe('InvalidSpec');
      expect(plan.status.gate).toMatchObject({ kind: gate.kind, name: gate.metadata.name });
    }
  });
});
