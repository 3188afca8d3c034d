import { describe, expect, it } from 'vitest';
import type { ShardCommand, ShardOutcome } from '../plan/needs.ts';
import { planShards, type EnginePod, type ShardPlanInput, type ShardRecord } from './shard-plan.ts';

/**
 * The shard planner against simulated engines that follow the engine's set-ownership rules (release what the body
 * leaves out and acknowledge positions, refuse an older epoch, take positions on acquire). Every reconcile runs
 * the planner as decide does (commands, then the records from their answers), and after every command the test
 * checks the invariant the whole design exists for: no symbol is owned by two engines at once.
 */

const SYMBOLS = ['AAPL', 'AMZN', 'GOOG', 'META', 'MSFT', 'NFLX', 'NVDA', 'TSLA'];
const T0 = Date.parse('2026-12-06T12:00:00Z');

class SimEngine {
  readonly owned = new Map<number, { epoch: number; symbols: readonly string[] }>();
  readonly positions = new Map<string, number>();
  answering = true;
  /** Acts on the next command but its answer is lost on the way back. */
  loseNextAnswer = false;

  apply(command: ShardCommand): ShardOutcome {
    if (!this.answering) return { pod: command.pod, ok: false, error: 'no answer within 5000 ms', micros: 5_000_000 };
    if (this.loseNextAnswer) {
      this.loseNextAnswer = false;
      this.apply(command);
      return { pod: command.pod, ok: false, error: 'no answer within 7000 ms', micros: 7_000_000 };
    }
    for (const grant of command.shards) {
      const held = this.owned.get(grant.shard);
      if (held !== undefined && grant.epoch < held.epoch) return { pod: command.pod, ok: false, error: 'older epoch', micros: 100 };
    }
    const released = [];
    for (const [shard, held] of [...this.owned]) {
      const grant = command.shards.find((entry) => entry.shard === shard);
      if (grant === undefined || grant.epoch !== held.epoch) {
        released.push({ shard, epoch: held.epoch, positions: Object.fromEntries(held.symbols.map((symbol) => [symbol, this.positions.get(symbol) ?? 0])) });
        this.owned.delete(shard);
      }
    }
    for (const grant of command.shards) {
      if (this.owned.has(grant.shard)) continue;
      for (const symbol of grant.symbols) this.positions.set(symbol, grant.positions?.[symbol] ?? Number.NaN);
      this.owned.set(grant.shard, { epoch: grant.epoch, symbols: grant.symbols });
    }
    const owned = new Set(this.symbols());
    const positions = Object.fromEntries([...this.positions].filter(([symbol]) => !owned.has(symbol)));
    return { pod: command.pod, ok: true, released, positions, micros: 100 };
  }

  symbols(): string[] {
    return [...this.owned.values()].flatMap((shard) => shard.symbols);
  }
}

class World {
  records: ShardRecord[] = [];
  readonly engines = new Map<string, SimEngine>();
  pods: EnginePod[] = [];
  events: Array<{ type: string; reason: string; message: string }> = [];
  nowMs = T0;
  readonly epochsIssued = new Map<number, number[]>();
  /** Partitioned pods that still hold a shard at an older epoch: the gateway fences them, the owner check skips them. */
  readonly zombies = new Set<string>();
  /** Options of every reconcile beyond the shards and revisions (pins, a cap, the release timeout). */
  options: Partial<Pick<ShardPlanInput, 'pins' | 'podsWanted' | 'releaseTimeoutMs'>> = {};
  /** Pods the planner evicted (deleted), and the pods sent orders-off after a failed command. */
  readonly evicted: string[] = [];
  readonly cut: string[] = [];

  addPod(name: string, revision: string): void {
    this.pods.push({ name, uid: `uid-${name}`, restarts: 0, revision, address: `tcp://${name}:5560`, eligible: true });
    this.engines.set(name, new SimEngine());
  }

  removePod(name: string): void {
    this.pods = this.pods.filter((pod) => pod.name !== name);
    this.engines.delete(name);
  }

  restart(name: string): void {
    this.pods = this.pods.map((pod) => (pod.name === name ? { ...pod, restarts: pod.restarts + 1 } : pod));
    this.engines.set(name, new SimEngine());
  }

  /** One reconcile, as decide runs it: commands, their answers, then the records. */
  reconcile(shardCount: number, revisionsFor: (shard: number) => readonly string[], stepMs = 20): { commands: readonly ShardCommand[]; moving: boolean } {
    this.nowMs += stepMs;
    const input: ShardPlanInput = { symbols: SYMBOLS, shardCount, revisionsFor, pods: this.pods, records: this.records, nowMs: this.nowMs, releaseTimeoutMs: 30_000, ...this.options };
    let plan = planShards(input);
    let commands: readonly ShardCommand[] = [];
    if (plan.kind === 'commands') {
      commands = plan.commands;
      const outcomes = commands.map((command) => {
        const engine = this.engines.get(command.pod);
        const outcome = engine === undefined ? { pod: command.pod, ok: false, error: 'connection refused', micros: 0 } : engine.apply(command);
        this.expectNoSymbolOwnedTwice();
        if (outcome.ok || command.cutIfUnanswered !== true) return outcome;
        // As the executor does: orders-off after a failed command past its deadline (the silent pod hears it).
        this.cut.push(command.pod);
        return { ...outcome, cut: { ok: true } };
      });
      plan = planShards({ ...input, outcomes });
    }
    if (plan.kind !== 'settled') throw new Error('a pass with outcomes must settle');
    for (const record of plan.records) {
      const issued = this.epochsIssued.get(record.shard) ?? [0];
      if (record.epoch !== issued[issued.length - 1]) {
        expect(record.epoch, `shard ${record.shard}'s epoch only grows`).toBeGreaterThan(issued[issued.length - 1]);
        this.epochsIssued.set(record.shard, [...issued, record.epoch]);
      }
    }
    this.records = [...plan.records];
    this.events.push(...plan.events);
    this.evicted.push(...plan.evictions.map((eviction) => eviction.pod));
    return { commands, moving: plan.moving };
  }

  /** Reconciles until nothing is moving; returns how many reconciles that took. */
  settle(shardCount: number, revisionsFor: (shard: number) => readonly string[], limit = 12): number {
    for (let n = 1; n <= limit; n++) if (!this.reconcile(shardCount, revisionsFor).moving) return n;
    throw new Error(`still moving after ${limit} reconciles: ${JSON.stringify(this.records)}`);
  }

  expectNoSymbolOwnedTwice(): void {
    const owners = new Map<string, string>();
    for (const [pod, engine] of this.engines) {
      if (this.zombies.has(pod)) continue;
      for (const symbol of engine.symbols()) {
        expect(owners.get(symbol), `${symbol} owned by ${owners.get(symbol)} and ${pod}`).toBeUndefined();
        owners.set(symbol, pod);
      }
    }
  }

  /** Each engine's owned symbols, by pod. */
  ownership(): Record<string, string[]> {
    return Object.fromEntries([...this.engines].map(([pod, engine]) => [pod, engine.symbols().sort()]));
  }

  ownerOf(symbol: string): string | undefined {
    return [...this.engines].find(([, engine]) => engine.symbols().includes(symbol))?.[0];
  }
}

const only = (...revisions: string[]) => () => revisions;

describe('planShards', () => {
  it('assigns one shard per pod in two reconciles (reserve, then acquire), and then stays put', () => {
    const world = new World();
    for (const name of ['a-0', 'a-1', 'a-2', 'a-3']) world.addPod(name, 'A');
    const first = world.reconcile(4, only('A'));
    expect(first.commands).toEqual([]); // reservations only: every epoch is in status before a pod sees it
    expect(world.records.map((record) => [record.owner, record.epoch, record.granted])).toEqual([
      ['a-0', 1, false], ['a-1', 1, false], ['a-2', 1, false], ['a-3', 1, false],
    ]);
    world.reconcile(4, only('A'));
    expect(Object.values(world.ownership()).map((symbols) => symbols.length)).toEqual([2, 2, 2, 2]);
    expect(world.records.every((record) => record.granted === true && record.positions === undefined)).toBe(true);
    expect(world.events.map((event) => event.reason)).toEqual(['ShardAssigned', 'ShardAssigned', 'ShardAssigned', 'ShardAssigned']);
    const steady = world.reconcile(4, only('A'));
    expect(steady).toEqual({ commands: [], moving: false });
  });

  it('moves a canary share of shards break-before-make, hands the positions over, and moves them back on abort', () => {
    const world = new World();
    for (const name of ['a-0', 'a-1', 'a-2', 'a-3']) world.addPod(name, 'A');
    world.settle(4, only('A'));
    const shard0 = world.records[0];
    const stableOwner = shard0.owner ?? '';
    for (const symbol of shard0.symbols) world.engines.get(stableOwner)?.positions.set(symbol, 500);
    world.addPod('b-0', 'B');

    const canary = (shard: number) => (shard === 0 ? ['B'] : ['A']);
    const release = world.reconcile(4, canary);
    expect(release.commands).toEqual([{ pod: stableOwner, address: `tcp://${stableOwner}:5560`, shards: [], releasing: [0], acquiring: [] }]);
    expect(world.records[0]).toMatchObject({ owner: 'b-0', epoch: 2, granted: false, positions: Object.fromEntries(shard0.symbols.map((s) => [s, 500])) });
    world.reconcile(4, canary);
    expect(world.ownership()['b-0']).toEqual([...shard0.symbols]);
    for (const symbol of shard0.symbols) expect(world.engines.get('b-0')?.positions.get(symbol)).toBe(500);
    expect(world.events.at(-1)).toMatchObject({ reason: 'ShardMoved', message: `Shard 0 (${shard0.symbols.join(', ')}) owned by pod b-0 at epoch 2 after 20 ms without an owner` });

    world.settle(4, only('A')); // abort: the canary's shard goes back to the stable revision
    expect(world.ownership()['b-0']).toEqual([]);
    expect(world.records[0]).toMatchObject({ epoch: 3, granted: true });
    expect(world.records[0].owner?.startsWith('a-')).toBe(true);
  });

  it('gives a dead pod\'s shard to a live pod of the same revision at the next epoch, with a Warning', () => {
    const world = new World();
    for (const name of ['a-0', 'a-1']) world.addPod(name, 'A');
    world.addPod('b-0', 'B');
    world.settle(2, only('A'));
    expect(world.ownership()['b-0']).toEqual([]);
    world.removePod('a-1');
    world.settle(2, only('A'));
    expect(world.ownership()['a-0']).toEqual([...SYMBOLS].sort());
    expect(world.records.map((record) => [record.owner, record.epoch])).toEqual([['a-0', 1], ['a-0', 2]]);
    expect(world.events.filter((event) => event.type === 'Warning').map((event) => event.reason)).toEqual(['ShardOwnerLost']);
  });

  it('grants a restarted engine container its shard again at a new epoch (it lost what it owned)', () => {
    const world = new World();
    world.addPod('a-0', 'A');
    world.settle(1, only('A'));
    world.restart('a-0');
    expect(world.ownership()['a-0']).toEqual([]);
    world.settle(1, only('A'));
    expect(world.ownership()['a-0']).toEqual([...SYMBOLS].sort());
    expect(world.records[0]).toMatchObject({ epoch: 2, ownerRestarts: 1, granted: true });
  });

  it('re-shards 4 -> 6 -> 3 without a symbol ever owned twice, keeping the epochs of retired shards', () => {
    const world = new World();
    for (let i = 0; i < 6; i++) world.addPod(`a-${i}`, 'A');
    world.settle(4, only('A'));
    world.settle(6, only('A'));
    expect(Object.values(world.ownership()).flat().sort()).toEqual([...SYMBOLS].sort());
    expect(world.records.filter((record) => record.granted === true)).toHaveLength(6);
    world.settle(3, only('A'));
    expect(Object.values(world.ownership()).flat().sort()).toEqual([...SYMBOLS].sort());
    expect(world.records).toHaveLength(6);
    expect(world.records.slice(3).every((record) => record.owner === undefined && record.epoch >= 1)).toBe(true);
  });

  it('keeps a shard on a Ready pod that does not answer its release (retried), and takes it from one that is not Ready', () => {
    const world = new World();
    world.addPod('a-0', 'A');
    world.addPod('b-0', 'B');
    world.settle(1, only('A'));
    const stuck = world.engines.get('a-0');
    if (stuck === undefined) throw new Error('no engine');
    stuck.answering = false;
    world.reconcile(1, only('B'));
    expect(world.records[0]).toMatchObject({ owner: 'a-0', epoch: 1, granted: true });
    expect(world.events.at(-1)?.reason).toBe('ShardReleaseFailed');

    world.pods = world.pods.map((pod) => (pod.name === 'a-0' ? { ...pod, eligible: false } : pod));
    world.engines.delete('a-0'); // partitioned: whatever it still holds is fenced by the epoch, not by this test
    world.settle(1, only('B'));
    expect(world.ownership()['b-0']).toEqual([...SYMBOLS].sort());
    expect(world.records[0]).toMatchObject({ owner: 'b-0', epoch: 2, granted: true });
    expect(world.events.map((event) => event.reason)).toContain('ShardOwnerLost');
  });

  it('evicts a Ready pod that has not released its shard for releaseTimeoutMs: orders-off, delete, then the shard moves once it is deleting', () => {
    const world = new World();
    world.options = { releaseTimeoutMs: 10_000 };
    world.addPod('a-0', 'A');
    world.addPod('b-0', 'B');
    world.settle(1, only('A'));
    const stuck = world.engines.get('a-0');
    if (stuck === undefined) throw new Error('no engine');
    stuck.answering = false;
    world.reconcile(1, only('B'));
    const since = world.records[0].releasePendingSince;
    expect(since).toBe(new Date(world.nowMs).toISOString());
    // Retried within the deadline: still its shard, the first failure's time kept, nobody evicted.
    world.reconcile(1, only('B'), 5_000);
    expect(world.records[0]).toMatchObject({ owner: 'a-0', granted: true, releasePendingSince: since });
    expect(world.evicted).toEqual([]);
    // Past it: one last try, then orders-off and eviction; the shard is not granted elsewhere while the pod may trade.
    world.reconcile(1, only('B'), 5_000);
    expect(world.cut).toEqual(['a-0']);
    expect(world.evicted).toEqual(['a-0']);
    expect(world.records[0]).toMatchObject({ owner: 'a-0', epoch: 1 });
    const evicted = world.events.find((event) => event.reason === 'ShardOwnerEvicted');
    expect(evicted?.message).toContain('Pod a-0 did not release shard 0 for 10000 ms (releaseTimeoutSeconds 10): no answer within 5000 ms; orders-off acknowledged');
    // The API server marks it deleting (no longer eligible): the shard moves to B at the next epoch, a-0 listed as a holder that never confirmed.
    world.pods = world.pods.map((pod) => (pod.name === 'a-0' ? { ...pod, eligible: false } : pod));
    world.engines.delete('a-0');
    world.settle(1, only('B'));
    expect(world.records[0]).toMatchObject({ owner: 'b-0', epoch: 2, granted: true, unreleasedBy: ['a-0'] });
    expect(world.records[0].releasePendingSince).toBeUndefined();
  });

  it('forgets a pending release when the shard is wanted where it is after all (the move was aborted)', () => {
    const world = new World();
    world.addPod('a-0', 'A');
    world.addPod('b-0', 'B');
    world.settle(1, only('A'));
    const stuck = world.engines.get('a-0');
    if (stuck === undefined) throw new Error('no engine');
    stuck.answering = false;
    world.reconcile(1, only('B'));
    expect(world.records[0].releasePendingSince).toBeDefined();
    world.reconcile(1, only('A'), 60_000);
    expect(world.records[0].releasePendingSince).toBeUndefined();
    expect(world.evicted).toEqual([]);
  });

  it('places pinned symbols on their shard and hashes the rest', () => {
    const world = new World();
    world.options = { pins: { AAPL: 1, MSFT: 1, NVDA: 1 } };
    for (const name of ['a-0', 'a-1']) world.addPod(name, 'A');
    world.settle(2, only('A'));
    expect(world.records[1].symbols).toEqual(expect.arrayContaining(['AAPL', 'MSFT', 'NVDA']));
    expect(world.records[0].symbols).not.toContain('AAPL');
    expect(world.records.flatMap((record) => record.symbols).sort()).toEqual([...SYMBOLS].sort());
  });

  it('WaitForReplacement: a dead pod\'s shard waits, unowned, for its replacement instead of doubling a survivor', () => {
    const world = new World();
    world.options = { podsWanted: () => 2 };
    for (const name of ['a-0', 'a-1']) world.addPod(name, 'A');
    world.settle(2, only('A'));
    const lost = world.records.find((record) => record.owner === 'a-1')?.shard ?? -1;
    world.removePod('a-1');
    world.settle(2, only('A'));
    expect(world.records[lost].owner).toBeUndefined();
    expect(world.ownership()['a-0']).toEqual(world.records[1 - lost].symbols);
    world.addPod('a-2', 'A');
    world.settle(2, only('A'));
    expect(world.records[lost]).toMatchObject({ owner: 'a-2', epoch: 2, granted: true });
    expect(world.records[1 - lost]).toMatchObject({ owner: 'a-0', epoch: 1 });
  });

  it('WaitForReplacement in a rollout: while the new revision has too few Ready pods, the old holders keep their shards (none goes dark)', () => {
    const world = new World();
    world.options = { podsWanted: () => 2 };
    for (const name of ['a-0', 'a-1']) world.addPod(name, 'A');
    world.settle(2, only('A'));
    world.addPod('b-0', 'B');
    world.settle(2, only('B', 'A'));
    const byOwner = world.records.map((record) => record.owner?.slice(0, 1));
    expect(byOwner.sort()).toEqual(['a', 'b']);
    expect(world.records.every((record) => record.granted === true)).toBe(true);
    world.addPod('b-1', 'B');
    world.settle(2, only('B', 'A'));
    expect(world.records.map((record) => record.owner?.slice(0, 1))).toEqual(['b', 'b']);
  });

  it('tells a partitioned pod that comes back what it owns now, once it is Ready: it stops trading the shard it lost', () => {
    const world = new World();
    world.addPod('a-0', 'A');
    world.addPod('b-0', 'B');
    world.settle(1, only('A'));
    const zombie = world.engines.get('a-0');
    if (zombie === undefined) throw new Error('no engine');
    // Partitioned: not Ready, no answers; its engine keeps the shard at epoch 1.
    zombie.answering = false;
    world.zombies.add('a-0');
    world.pods = world.pods.map((pod) => (pod.name === 'a-0' ? { ...pod, eligible: false } : pod));
    world.settle(1, only('B'));
    expect(world.records[0]).toMatchObject({ owner: 'b-0', epoch: 2, granted: true, unreleasedBy: ['a-0'] });
    expect(zombie.symbols()).toHaveLength(SYMBOLS.length);

    // Back: Ready and answering. The next reconcile sends it its set (nothing) and forgets it.
    zombie.answering = true;
    world.pods = world.pods.map((pod) => (pod.name === 'a-0' ? { ...pod, eligible: true } : pod));
    const back = world.reconcile(1, only('B'));
    expect(back.commands).toEqual([{ pod: 'a-0', address: 'tcp://a-0:5560', shards: [], releasing: [], acquiring: [] }]);
    expect(zombie.symbols()).toEqual([]);
    world.zombies.delete('a-0');
    world.expectNoSymbolOwnedTwice();
    expect(world.records[0].unreleasedBy).toBeUndefined();
    expect(world.records[0]).toMatchObject({ owner: 'b-0', epoch: 2, granted: true });
  });

  it('keeps the positions of a release whose answer was lost: the retry finds the shard released and reads them', () => {
    const world = new World();
    world.addPod('a-0', 'A');
    world.addPod('b-0', 'B');
    world.settle(1, only('A'));
    const engine = world.engines.get('a-0');
    if (engine === undefined) throw new Error('no engine');
    for (const symbol of SYMBOLS) engine.positions.set(symbol, 500);
    engine.loseNextAnswer = true;
    world.reconcile(1, only('B'));
    expect(world.events.at(-1)?.reason).toBe('ShardReleaseFailed');
    expect(engine.symbols()).toEqual([]); // it did release
    world.settle(1, only('B'));
    for (const symbol of SYMBOLS) expect(world.engines.get('b-0')?.positions.get(symbol)).toBe(500);
  });

  it('releases every shard at replicas 0 and grants nothing, keeping the epochs', () => {
    const world = new World();
    world.addPod('a-0', 'A');
    world.settle(2, only('A'));
    expect(world.reconcile(0, only('A')).moving).toBe(false);
    expect(world.ownership()['a-0']).toEqual([]);
    expect(world.records.map((record) => [record.shard, record.epoch, record.owner])).toEqual([[0, 1, undefined], [1, 1, undefined]]);
  });

  it('grants nothing while a pod trades every symbol (a configuration from before ownership), then grants once it is gone', () => {
    const world = new World();
    world.addPod('old-0', 'A');
    world.pods = world.pods.map((pod) => ({ ...pod, tradesAll: true }));
    world.addPod('b-0', 'B');
    expect(world.reconcile(1, only('A', 'B'))).toEqual({ commands: [], moving: true });
    expect(world.records).toEqual([{ shard: 0, epoch: 0, symbols: [] }]);
    expect(world.ownership()['b-0']).toEqual([]);
    world.removePod('old-0');
    world.settle(1, only('A', 'B'));
    expect(world.ownership()['b-0']).toEqual([...SYMBOLS].sort());
  });

  it('gives a shard only to a pod whose configuration knows every one of its symbols', () => {
    const world = new World();
    world.addPod('a-0', 'A');
    world.addPod('b-0', 'B');
    // Revision A predates a symbol the spec added: it cannot trade the shard that holds it.
    world.pods = world.pods.map((pod) => (pod.revision === 'A' ? { ...pod, symbols: new Set(SYMBOLS.slice(1)) } : pod));
    world.settle(2, only('A', 'B'));
    const withNew = world.records.find((record) => record.symbols.includes(SYMBOLS[0]));
    expect(withNew?.owner).toBe('b-0');
    expect(world.ownerOf(SYMBOLS[0])).toBe('b-0');
  });

  it('leaves a shard unowned while no allowed revision has a Ready pod, and assigns it when one is', () => {
    const world = new World();
    world.addPod('a-0', 'A');
    world.pods = world.pods.map((pod) => ({ ...pod, eligible: false }));
    expect(world.reconcile(1, only('A'))).toEqual({ commands: [], moving: false });
    expect(world.records).toEqual([{ shard: 0, epoch: 0, symbols: [] }]);
    world.pods = world.pods.map((pod) => ({ ...pod, eligible: true }));
    world.settle(1, only('A'));
    expect(world.records[0]).toMatchObject({ owner: 'a-0', epoch: 1, granted: true });
  });
});
