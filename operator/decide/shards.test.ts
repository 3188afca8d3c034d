import { describe, expect, it } from 'vitest';
import { labelKeys } from '../render/labels.ts';
import { applySpecDefaults } from '../api/defaults.ts';
import type { RolloutPlan } from '../rollout/types.ts';
import { decideShards } from './shards.ts';
import { gpuCanary, images, minute, p99, release, second, World, type SpecEdit } from '../../test/support/rollout-world.ts';

/**
 * Rollouts move symbols, not copies: examples/gpu-canary.yaml (4 replicas: 4 shards over 8 symbols) rolled out in
 * the simulated world, whose engines own exactly what the operator's last set-ownership told them. After every
 * reconcile each symbol is owned by exactly one pod, and the canary's weight is its share of the shards.
 */

const fastGate: SpecEdit = (s) => {
  s.analysis.latency.interval = '5s';
  s.analysis.latency.initialDelay = '0s';
};

/** Shards owned per revision, by the simulated engines. */
function shardsByRevision(world: World): Record<string, number> {
  const revisionOf = new Map(world.pods.map((pod) => [pod.metadata?.name ?? '', pod.metadata?.labels?.[labelKeys.revision] ?? '']));
  const counts: Record<string, number> = {};
  for (const [pod, shards] of world.shardsOwned) {
    const revision = revisionOf.get(pod);
    if (revision !== undefined && shards.length > 0) counts[revision] = (counts[revision] ?? 0) + shards.length;
  }
  return counts;
}

/** Every symbol of the engine is owned by exactly one live pod (pods gone from the world own nothing). */
function expectEachSymbolOwnedOnce(world: World): void {
  const live = new Set(world.pods.map((pod) => pod.metadata?.name ?? ''));
  const owners = new Map<string, string>();
  for (const [pod, shards] of world.shardsOwned) {
    if (!live.has(pod)) continue;
    for (const symbol of shards.flatMap((shard) => shard.symbols)) {
      expect(owners.get(symbol), `${symbol} owned by ${owners.get(symbol) ?? ''} and ${pod}`).toBeUndefined();
      owners.set(symbol, pod);
    }
  }
  expect([...owners.keys()].sort()).toEqual(['AAPL', 'AMZN', 'AVGO', 'GOOGL', 'META', 'MSFT', 'NVDA', 'TSLA']);
}

describe('shards through a canary rollout', () => {
  it('gives the canary 1, then 2, then all 4 shards as its weight goes 25, 50, 100, never a symbol to two pods', () => {
    const world = World.healthy(gpuCanary(fastGate));
    world.control = () => ({ ok: true, micros: 1_000 });
    const revA = world.revision;
    expect(shardsByRevision(world)).toEqual({ [revA]: 4 });
    expect(world.status.shards?.map((shard) => [shard.shard, shard.epoch, shard.granted])).toEqual([[0, 1, true], [1, 1, true], [2, 1, true], [3, 1, true]]);
    world.edit(release(images.v2));
    const revB = world.revision;
    world.canaryLatency = p99(500);
    const seen = new Set<string>();
    world.run(20 * minute, {
      stepMs: second,
      until: (w) => {
        w.settle();
        expectEachSymbolOwnedOnce(w);
        const byRevision = shardsByRevision(w);
        seen.add(`${w.status.canary?.weight ?? 'done'}:${byRevision[revB] ?? 0}`);
        return w.status.stableRevision === revB;
      },
    });
    world.after(second);
    world.settle();
    expect(shardsByRevision(world)).toEqual({ [revB]: 4 });
    // The weight in force beside the canary's shards once its pods were ready: 25% -> 1, 50% -> 2, 100% -> 4.
    expect(seen).toContain('25:1');
    expect(seen).toContain('50:2');
    expect(seen).toContain('100:4');
    expect([...seen].filter((entry) => entry.startsWith('25:')).every((entry) => entry === '25:0' || entry === '25:1')).toBe(true);
    expect(world.shardEvents.some((event) => event.reason === 'ShardMoved')).toBe(true);
  });

  it('moves the canary\'s shard back to the stable revision on abort, after its orders are cut', () => {
    const world = World.healthy(gpuCanary(fastGate));
    world.control = () => ({ ok: true, micros: 1_000 });
    const revA = world.revision;
    world.edit(release(images.v2));
    const revB = world.revision;
    world.canaryLatency = p99(900);
    world.run(5 * minute, { stepMs: second, until: (w) => w.status.abort === true });
    world.settle();
    world.after(second);
    expectEachSymbolOwnedOnce(world);
    expect(shardsByRevision(world)).toEqual({ [revA]: 4 });
    expect(shardsByRevision(world)[revB]).toBeUndefined();
  });
});

describe('shards through a blue-green rollout', () => {
  it('keeps the preview in shadow (no shard) until the switch, then moves every shard to it', () => {
    const world = World.healthy(gpuCanary((s) => {
      s.strategy = { type: 'BlueGreen', blueGreen: { autoPromotionEnabled: true, autoPromotionSeconds: 30, scaleDownDelaySeconds: 300, prePromotionAnalysis: false, postPromotionAnalysis: false } };
    }));
    world.control = () => ({ ok: true, micros: 1_000 });
    const revA = world.revision;
    world.edit(release(images.v2));
    const revB = world.revision;
    world.run(10 * minute, {
      stepMs: second,
      until: (w) => {
        w.settle();
        expectEachSymbolOwnedOnce(w);
        if (w.status.blueGreen?.active === revA) expect(shardsByRevision(w)[revB]).toBeUndefined();
        return w.status.blueGreen?.active === revB || w.status.stableRevision === revB;
      },
    });
    world.after(second);
    world.settle();
    expectEachSymbolOwnedOnce(world);
    expect(shardsByRevision(world)).toEqual({ [revB]: 4 });
  });
});

describe('shards across an operator upgrade', () => {
  it('grants nothing while pods run a configuration from before ownership (every symbol, unfenced), and grants once none does', () => {
    const world = World.healthy(gpuCanary());
    const observed = world.observed();
    const engine = { ...observed.engine, spec: applySpecDefaults(observed.engine.spec), status: { ...observed.engine.status, shards: [] } };
    const rollout = { stableRevision: world.revision, status: {} } as unknown as RolloutPlan;
    // The ConfigMaps as an operator before ownership rendered them: no ownership section.
    const legacy = observed.configMaps.map((configMap) => ({
      ...configMap,
      data: { 'engine.yaml': (configMap.data?.['engine.yaml'] ?? '').split('\n').filter((line) => !line.startsWith('ownership') && !line.startsWith('  mode') && !line.startsWith('  book')).join('\n') },
    }));
    const before = decideShards(engine, { ...observed, engine, configMaps: legacy }, world.revision, rollout, 'replace', world.nowMs);
    expect(before?.kind).toBe('settled');
    expect(before?.kind === 'settled' && before.records.every((record) => record.owner === undefined)).toBe(true);
    const after = decideShards(engine, { ...observed, engine }, world.revision, rollout, 'replace', world.nowMs);
    expect(after?.kind === 'settled' && after.records.every((record) => record.owner !== undefined && record.epoch === 1)).toBe(true);
  });
});
