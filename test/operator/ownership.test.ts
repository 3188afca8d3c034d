import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TradingEngine } from '../../operator/api/types.ts';
import { startRolloutLab, type MutableSpec, type RolloutLab } from '../../cli/commands/rollout-lab.ts';
import { apiRequest } from '../../operator/kube/api-request.ts';
import { createRolloutEffects, type RolloutEffects } from '../../operator/controller/rollout-effects.ts';
import { requestRollout } from '../../operator/kube/rollout-requests.ts';
import { engineMetric } from '../support/engines.ts';
import { eventually } from '../support/eventually.ts';
import type { PodJson } from '../support/kube.ts';

/**
 * Symbol ownership end to end: a real API server, the operator's controller, real engine processes (node agent),
 * the market-data feed and the fencing gateway. The engines run the probe strategy, one order per trade, so every
 * trade is accounted for: in a steady state the gateway receives one order per trade (not one per replica), and
 * through re-sharding (4 -> 6 -> 3 shards), a SIGKILLed engine, an operator restart in the middle of a move, a
 * frozen (partitioned) engine that comes back, a canary, and a Ready engine whose control replies stop (cut and
 * deleted after releaseTimeoutSeconds), it counts no tick answered twice and accepts no order of a superseded epoch.
 */
let lab: RolloutLab | undefined;
const lines: string[] = [];
const name = 'shards';
const tail = (): string => lines.slice(-30).join('\n');

/**
 * The operator's control effects, with grants that can be held back: while `held`, a grant (a set-ownership that
 * hands a pod a shard with positions) waits 1.5 s, and is dropped, never sent, if the operator was stopped
 * meanwhile (`operator` moved on), as it would be if the process had died between the status write and the grant.
 */
const grants = { held: false, operator: 0 };
/** Control addresses whose set-ownership gets no answer (its control replies stopped), the pod staying Ready. */
const silenced = new Set<string>();
const realEffects = createRolloutEffects();
const effects: RolloutEffects = {
  ...realEffects,
  async setOwnership(address, keys, shards, timeoutMs) {
    if (silenced.has(address)) return { ok: false, error: 'no answer (the test stopped this pod\'s control replies)' };
    if (grants.held && shards.some((shard) => shard.positions !== undefined)) {
      const operator = grants.operator;
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      if (operator !== grants.operator) return { ok: false, error: 'the operator stopped before sending it' };
    }
    return realEffects.setOwnership(address, keys, shards, timeoutMs);
  },
};

beforeAll(async () => {
  lab = await startRolloutLab({ log: (line) => lines.push(line), rollout: effects });
}, 180_000);

afterAll(async () => {
  await lab?.stop();
}, 60_000);

function manifest(replicas: number, edit?: (spec: MutableSpec) => void): TradingEngine {
  if (lab === undefined) throw new Error('no lab');
  return lab.manifest(name, (spec: MutableSpec) => {
    spec.replicas = replicas;
    spec.engine.strategies = [{ name: 'probe', type: 'probe', indicators: [], params: { orderQuantity: 1 } }] as MutableSpec['engine']['strategies'];
    delete spec.strategy;
    edit?.(spec);
  });
}

/** Shards owned (granted) by pods of `revision`. */
async function shardsOf(revision: string): Promise<number> {
  const names = new Set((await pods()).filter((pod) => pod.metadata.labels?.['trading.nexus.dev/revision'] === revision).map((pod) => pod.metadata.name));
  return ((await engine())?.status?.shards ?? []).filter((record) => record.granted === true && names.has(record.owner ?? '')).length;
}

const engine = async (): Promise<TradingEngine | undefined> => lab?.read(name);
const pods = async (): Promise<PodJson[]> => {
  const list = await apiRequest<{ items: PodJson[] }>(lab?.kubeConfig ?? (undefined as never), {
    method: 'GET', path: `/api/v1/namespaces/${lab?.namespace ?? ''}/pods`, query: { labelSelector: `app.kubernetes.io/instance=${name}` },
  });
  return list.items;
};

/** Waits until `shards` shards are granted, each to a live pod, at most one shard's symbols per pod beyond the quota. */
async function settled(shards: number, what: string): Promise<TradingEngine | undefined> {
  return eventually(async () => ({ te: await engine(), live: new Set((await pods()).filter((pod) => pod.metadata.deletionTimestamp === undefined).map((pod) => pod.metadata.name)) }), {
    until: ({ te, live }) => {
      const records = te?.status?.shards ?? [];
      const active = records.slice(0, shards);
      return active.length === shards && active.every((record) => record.granted === true && live.has(record.owner ?? ''))
        && records.slice(shards).every((record) => record.owner === undefined) && (te?.status?.readyReplicas ?? 0) >= shards;
    },
    timeoutMs: 90_000, intervalMs: 200, what, context: tail,
  }).then(({ te }) => te);
}

/** After a second for orders in flight to arrive: the gateway has seen no tick answered twice. */
async function expectClean(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  expect(lab?.sink.counts.duplicates, 'ticks answered twice').toBe(0);
}

/** The process of the engine container of pod `pod` (the node agent's), for a test to kill or freeze. */
function enginePid(pod: string | undefined): number {
  const pid = [...(lab?.containerPids() ?? new Map<string, number>())].find(([key]) => key.endsWith(`/${pod ?? ''}`))?.[1];
  expect(pid, `the engine process of pod ${pod ?? ''}`).toBeGreaterThan(0);
  return pid ?? 0;
}

describe('symbol ownership against a real API server and real engines (probe: one order per trade)', () => {
  it('runs 4 shards on 4 pods: one order per trade reaches the gateway, not one per replica', async () => {
    await lab?.apply(manifest(4));
    const te = await settled(4, '4 shards granted on 4 pods');
    expect(new Set(te?.status?.shards?.map((record) => record.owner)).size).toBe(4);
    expect(te?.status?.shards?.flatMap((record) => record.symbols).sort()).toEqual(['AAPL', 'AMZN', 'MSFT', 'NVDA']);
    const ip = (await pods()).find((pod) => pod.status.podIP !== undefined)?.status.podIP ?? '';
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const ticks0 = (await engineMetric(ip, 'nexus_engine_ticks_received_total')) ?? Number.NaN;
    const orders0 = lab?.sink.counts.orders ?? 0;
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const ticks = ((await engineMetric(ip, 'nexus_engine_ticks_received_total')) ?? Number.NaN) - ticks0;
    const orders = (lab?.sink.counts.orders ?? 0) - orders0;
    // Every engine receives every trade; the gateway gets about one order per trade (a frame may straddle the reads).
    expect(ticks).toBeGreaterThan(500);
    expect(orders / ticks).toBeGreaterThan(0.9);
    expect(orders / ticks).toBeLessThan(1.1);
    await expectClean();
    expect(lab?.sink.counts.staleEpoch).toBe(0);
  }, 180_000);

  it('re-shards 4 -> 6 -> 3 with every symbol on one pod at a time', async () => {
    await lab?.apply(manifest(6));
    await settled(6, '6 shards granted');
    await lab?.apply(manifest(3));
    const te = await settled(3, '3 shards granted');
    expect(te?.status?.shards).toHaveLength(6); // retired shards keep their epochs
    expect(te?.status?.shards?.slice(0, 3).flatMap((record) => record.symbols).sort()).toEqual(['AAPL', 'AMZN', 'MSFT', 'NVDA']);
    await expectClean();
    expect(lab?.sink.counts.staleEpoch).toBe(0);
  }, 240_000);

  it('moves the shards of a SIGKILLed engine at a new epoch, and resumes a move after the operator stopped between its reservation and its grant', async () => {
    const before = await engine();
    const victim = before?.status?.shards?.[0];
    process.kill(enginePid(victim?.owner), 'SIGKILL');
    await eventually(engine, { until: (e) => (e?.status?.shards?.[0]?.epoch ?? 0) > (victim?.epoch ?? 0) && e?.status?.shards?.[0]?.granted === true, timeoutMs: 60_000, what: 'shard 0 granted again', context: tail });

    // A move (3 -> 4 shards) whose grant the operator never sends: stopped after the status write that reserved the
    // shard at its next epoch. A fresh operator resumes from status alone and grants it at that epoch.
    grants.held = true;
    try {
      await lab?.apply(manifest(4));
      const reserved = await eventually(engine, { until: (e) => (e?.status?.shards ?? []).some((record) => record.owner !== undefined && record.granted !== true), timeoutMs: 30_000, intervalMs: 50, what: 'a shard reserved, not yet granted', context: tail });
      grants.operator++;
      await lab?.restartOperator();
      grants.held = false;
      const pending = reserved?.status?.shards?.find((record) => record.owner !== undefined && record.granted !== true);
      const after = await settled(4, '4 shards granted after the restart');
      // Granted at the epoch reserved before the stop, or a later one: never an epoch issued twice.
      expect(after?.status?.shards?.[pending?.shard ?? 0]?.epoch).toBeGreaterThanOrEqual(pending?.epoch ?? 1);
    } finally {
      grants.held = false;
    }
    await expectClean();
    expect(lab?.sink.counts.staleEpoch).toBe(0);
  }, 240_000);

  it('takes the shard of a frozen (partitioned) engine, fences what it sends when it wakes, then tells it what it owns', async () => {
    const before = await engine();
    const frozen = before?.status?.shards?.[1];
    const pid = enginePid(frozen?.owner);
    process.kill(pid, 'SIGSTOP');
    try {
      const taken = await eventually(engine, {
        until: (e) => e?.status?.shards?.[1]?.owner !== frozen?.owner && e?.status?.shards?.[1]?.granted === true,
        timeoutMs: 60_000, what: 'shard 1 moved off the frozen pod', context: tail,
      });
      expect(taken?.status?.shards?.[1]?.unreleasedBy).toEqual([frozen?.owner]);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    // Awake, it decides on the trades it buffered while frozen at the old epoch: the gateway refuses every such order.
    await eventually(engine, { until: (e) => e?.status?.shards?.[1]?.unreleasedBy === undefined, timeoutMs: 60_000, what: 'the woken pod told what it owns', context: tail });
    await expectClean();
    // The woken pod did send at its old epoch (the trades it had buffered), and the gateway refused all of it.
    expect(lab?.sink.counts.staleEpoch, 'orders of the old epoch refused').toBeGreaterThan(0);
    const events = await lab?.events(name) ?? [];
    expect(events.some((event) => event.reason === 'ShardOwnerLost')).toBe(true);
  }, 240_000);

  it('moves 1, 2, then 4 of 4 shards to a canary at weights 25, 50 and 100, no tick answered twice', async () => {
    const before = await settled(4, '4 shards before the canary');
    const v1 = before?.status?.stableRevision ?? '';
    const duplicates = lab?.sink.counts.duplicates ?? 0;
    await lab?.apply(manifest(4, (spec) => {
      spec.template.image = 'nexus/engine:canary';
      spec.strategy = { type: 'Canary', canary: { steps: [{ setWeight: 25 }, { pause: {} }, { setWeight: 50 }, { pause: {} }, { setWeight: 100 }] } } as MutableSpec['strategy'];
    }));
    const atStep = async (step: number): Promise<string> => {
      const te = await eventually(engine, { until: (e) => e?.status?.phase === 'Paused' && e.status.currentStepIndex === step, timeoutMs: 90_000, what: `canary paused at step ${step}`, context: tail });
      return te?.status?.updateRevision ?? '';
    };
    const v2 = await atStep(1);
    expect(await eventually(() => shardsOf(v2), { until: (n) => n === 1, timeoutMs: 30_000, what: 'one shard on the canary at 25', context: tail })).toBe(1);
    expect(await shardsOf(v1)).toBe(3);
    await requestRollout(lab?.kubeConfig ?? (undefined as never), lab?.namespace ?? '', name, 'promote');
    await atStep(3);
    expect(await eventually(() => shardsOf(v2), { until: (n) => n === 2, timeoutMs: 30_000, what: 'two shards on the canary at 50', context: tail })).toBe(2);
    expect(await shardsOf(v1)).toBe(2);
    await requestRollout(lab?.kubeConfig ?? (undefined as never), lab?.namespace ?? '', name, 'promote');
    await eventually(engine, { until: (e) => e?.status?.phase === 'Healthy' && e.status.stableRevision === v2, timeoutMs: 120_000, what: 'the canary promoted', context: tail });
    expect(await eventually(() => shardsOf(v2), { until: (n) => n === 4, timeoutMs: 30_000, what: 'every shard on the new revision', context: tail })).toBe(4);
    await expectClean();
    expect(lab?.sink.counts.duplicates).toBe(duplicates);
  }, 300_000);

  it('cuts and deletes a Ready pod that does not release within releaseTimeoutSeconds; its replacement takes the shard, with a pinned symbol moved', async () => {
    const before = await settled(4, '4 shards before the pin');
    const shard0 = before?.status?.shards?.[0];
    const stuck = (await pods()).find((pod) => pod.metadata.name === shard0?.owner);
    const moved = shard0?.symbols[0] ?? '';
    expect(stuck?.status?.podIP, 'the owner of shard 0').toBeDefined();
    const duplicates = lab?.sink.counts.duplicates ?? 0;
    silenced.add(`tcp://${stuck?.status?.podIP ?? ''}:5560`);
    try {
      // Pinning shard 0's first symbol to shard 1 changes both shards: the silent owner of shard 0 must release it.
      await lab?.apply(manifest(4, (spec) => {
        spec.template.image = 'nexus/engine:canary';
        spec.ownership = { pins: [{ shard: 1, symbols: [moved] }], onOwnerLoss: 'Reassign', releaseTimeoutSeconds: 3 };
      }));
      const events = await eventually(async () => await lab?.events(name) ?? [], {
        until: (list) => list.some((event) => event.reason === 'ShardOwnerEvicted'), timeoutMs: 60_000, what: 'the silent pod evicted', context: tail,
      });
      const evicted = events.find((event) => event.reason === 'ShardOwnerEvicted');
      expect(evicted?.message).toContain(`Pod ${stuck?.metadata.name ?? ''} did not release shard 0 for`);
      expect(evicted?.message).toContain('orders-off acknowledged');
    } finally {
      silenced.clear();
    }
    const after = await settled(4, '4 shards after the eviction');
    expect(after?.status?.shards?.[1]?.symbols).toContain(moved);
    expect(after?.status?.shards?.[0]?.symbols).not.toContain(moved);
    expect(after?.status?.shards?.every((record) => record.releasePendingSince === undefined)).toBe(true);
    const live = await pods();
    expect(live.some((pod) => pod.metadata.uid === stuck?.metadata.uid && pod.metadata.deletionTimestamp === undefined), 'the silent pod deleted').toBe(false);
    await expectClean();
    expect(lab?.sink.counts.duplicates).toBe(duplicates);
  }, 240_000);

  it('shows a strategy module its engine disabled at run time in status.strategyHealth and a StrategyDisabled Warning', async () => {
    if (lab === undefined) throw new Error('no lab');
    const module = fileURLToPath(new URL('../../engine/strategy/fixtures/throws-at-once.mjs', import.meta.url));
    await lab.apply(lab.manifest('faulty', (spec: MutableSpec) => {
      spec.replicas = 1;
      // Another TradingEngine is another book: its probe orders are not duplicates of the shards engine's.
      spec.engine.strategies = [{ name: 'faulty', module }, { name: 'probe', type: 'probe', indicators: [], params: { orderQuantity: 1 } }] as MutableSpec['engine']['strategies'];
      delete spec.strategy;
    }));
    const events = await eventually(async () => await lab?.events('faulty') ?? [], {
      until: (list) => list.some((event) => event.reason === 'StrategyDisabled'), timeoutMs: 90_000, what: 'a StrategyDisabled Event', context: tail,
    });
    const message = events.find((event) => event.reason === 'StrategyDisabled')?.message ?? '';
    expect(message).toMatch(new RegExp(`^Strategy faulty \\(module ${module.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\) disabled on pod faulty-\\w+-\\w+ after 1 fault: Error: deliberate failure at the first trade`));
    const health = (await lab.read('faulty'))?.status?.strategyHealth;
    expect(health?.disabled).toEqual([expect.objectContaining({ strategy: 'faulty', faults: 1, reason: 'Error: deliberate failure at the first trade' })]);
  }, 120_000);
});
