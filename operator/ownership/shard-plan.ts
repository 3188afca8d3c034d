import type { ShardStatus } from '../api/types.ts';
import type { ShardCommand, ShardGrant, ShardOutcome } from '../plan/needs.ts';
import type { EventIntent } from '../plan/plan.ts';
import { assignShards } from './assignment.ts';

/**
 * The operator's side of symbol ownership (docs/ownership.md), pure: from the shards as status records them, the
 * engine pods as they are and the revisions allowed to trade each shard, what to tell which pod over its control
 * socket (`set-ownership`) and the new status.shards.
 *
 * A shard record is in one of three states:
 *
 *     free        no owner; `epoch` is the last one issued (0: never); `positions` as its last owner released them
 *     reserved    `owner` set, not `granted`: the epoch is issued and committed to status, the pod may not know yet
 *     owned       `owner` set and `granted`: the pod acknowledged it at `epoch`
 *
 * The moves, across reconciles (every epoch is in status before any pod sees it, so an operator restart or a new
 * leader never issues the same epoch twice, and a record that holds a symbol blocks every other shard from it):
 *
 *     1. release   a holder whose (owner, symbols) is no longer the desired one is told its new set without the
 *                  shard; its answer acknowledges the positions; the record becomes free. A holder whose pod is gone
 *                  or whose engine container restarted holds nothing any more: free at once, with a Warning (its
 *                  positions went with it: the next owner starts flat). A pod that refuses or does not answer keeps the shard
 *                  (retried, `releasePendingSince` set) while it is Ready, for at most `releaseTimeoutMs`: then the
 *                  release is tried once more, orders-off follows if it fails, and the pod is evicted (deleted, so its
 *                  ReplicaSet replaces it). Once it is not Ready (or deleted), the shard is taken from it (fencing
 *                  stops any order it still sends once the next owner's first order reaches the gateway) and the pod
 *                  is listed in the record's `unreleasedBy`: as soon as it is Ready again it is told what it owns
 *                  now, so a partitioned pod that comes back stops trading the shard instead of being fenced for ever.
 *     2. reserve   a free shard with a desired owner, every one of whose symbols no other record holds, gets
 *                  epoch + 1 and the positions of its symbols; written to status (the commit point) ...
 *     3. acquire   ... and granted to the pod once that status is written (the reconciler decides again from it at
 *                  once); its answer makes the record owned.
 *
 * Decide runs this twice per pass that sends commands: first without outcomes (the commands to send), then with
 * them (the records that result). Commands are declarative: each names every shard the pod is to own.
 */

/** One entry of status.shards (the CRD's ShardStatus: see its field descriptions). */
export type ShardRecord = ShardStatus;

/** An engine pod as the planner sees it. */
export interface EnginePod {
  readonly name: string;
  readonly uid: string;
  /** The engine container's restart count. */
  readonly restarts: number;
  readonly revision: string;
  /** The pod's control socket; undefined while the pod has no IP or the engine has no control endpoint. */
  readonly address?: string;
  /** Ready and not terminating: it may be given shards. */
  readonly eligible: boolean;
  /**
   * The pod runs a configuration without ownership (`ownership.mode: all`, rendered before ownership existed): it
   * trades every symbol, unfenced. While such a pod exists no shard is granted to anyone, so an operator upgrade
   * never adds a copy of the order flow; the shards are granted once those pods are gone.
   */
  readonly tradesAll?: boolean;
  /** The symbols its configuration knows; a pod owns only shards whose every symbol it knows. Undefined: all. */
  readonly symbols?: ReadonlySet<string>;
}

export interface ShardPlanInput {
  readonly symbols: readonly string[];
  /** spec.replicas: the number of trading shards. */
  readonly shardCount: number;
  /** spec.ownership.pins as symbol -> shard (validated: listed symbols, shards below shardCount). */
  readonly pins?: Readonly<Record<string, number>>;
  /**
   * Under spec.ownership.onOwnerLoss WaitForReplacement: the pods a revision's ReplicaSet wants. No pod then owns
   * more than its share (the revision's shards over that count), so a dead pod's shards wait for its replacement
   * rather than double a surviving pod's load and risk. Undefined (Reassign): no cap.
   */
  readonly podsWanted?: (revision: string) => number;
  /** spec.ownership.releaseTimeoutSeconds in ms: how long a Ready pod may fail to release before it is evicted. */
  readonly releaseTimeoutMs: number;
  /** The revisions allowed to own each shard, preferred first (a canary's shards, the stable ones, ...). */
  readonly revisionsFor: (shard: number) => readonly string[];
  readonly pods: readonly EnginePod[];
  readonly records: readonly ShardRecord[];
  /** The answers to this pass's commands; undefined on the first pass. */
  readonly outcomes?: readonly ShardOutcome[];
  readonly nowMs: number;
}

export type ShardPlan =
  | { readonly kind: 'commands'; readonly commands: readonly ShardCommand[] }
  | {
      readonly kind: 'settled';
      readonly records: readonly ShardRecord[];
      readonly events: readonly EventIntent[];
      /** Shards not yet owned by their desired owner: look again soon (the next step of a move). */
      readonly moving: boolean;
      /** A command of this pass was refused or not answered: look again after a pause, not at once. */
      readonly failed: boolean;
      /** Pods to delete: Ready, yet they did not release a shard within releaseTimeoutMs (orders-off was tried). */
      readonly evictions: readonly Eviction[];
    };

/** A pod the planner evicts, by name and UID (the deletion's precondition, so a new pod of the same name is spared). */
export interface Eviction {
  readonly pod: string;
  readonly uid: string;
}

type Holder = 'intact' | 'lost' | 'gone';

/** Whether a shard is reserved for a pod and not yet granted to it: the next step of a move is due at once. */
export function hasReservedShard(records: readonly ShardRecord[] | undefined): boolean {
  return (records ?? []).some((record) => record.owner !== undefined && record.granted !== true);
}

/** Plans the next step of every shard's ownership (see the file comment). */
export function planShards(input: ShardPlanInput): ShardPlan {
  const { nowMs } = input;
  // No shard at all (replicas 0): every record is released and nothing is granted.
  const target = input.shardCount === 0 ? [] : assignShards(input.symbols, input.shardCount, input.pins).shards;
  const podByName = new Map(input.pods.map((pod) => [pod.name, pod]));
  // A pod gone for good holds nothing: it leaves every unreleasedBy list.
  const records = normalise(input.records, input.shardCount).map((record) => withoutGone(record, podByName));
  const desired = desiredOwners(input, records, target, podByName);
  const events: EventIntent[] = [];

  // 1. Release: every holder that must give its shard up, or has already lost it.
  const releasing = new Map<string, number[]>();
  for (const record of records) {
    if (record.owner === undefined) continue;
    const wanted = desired[record.shard];
    const matches = wanted === record.owner && sameSymbols(record.symbols, target[record.shard] ?? []);
    const holder = holderState(record, podByName);
    if (record.granted === true && holder !== 'intact') {
      events.push({ type: 'Warning', reason: 'ShardOwnerLost', message: `Shard ${record.shard} lost its owner ${record.owner} at epoch ${record.epoch} (${holder === 'gone' ? 'pod gone' : 'engine container restarted'}); its positions went with it: the next owner starts flat` });
      records[record.shard] = freed(record, record.positions, nowMs);
      continue;
    }
    if (matches) {
      // Wanted where it is after all (an aborted move): no release is pending any more.
      records[record.shard] = withoutPendingRelease(record);
      continue;
    }
    const pod = podByName.get(record.owner);
    if (pod?.address === undefined || holder === 'gone') {
      // A pod that exists but cannot be reached may still hold the shard: it is told its set once it is Ready.
      records[record.shard] = freed(record, record.positions, nowMs, holder === 'gone' ? undefined : record.owner);
      continue;
    }
    releasing.set(pod.name, [...(releasing.get(pod.name) ?? []), record.shard]);
  }

  // Acquire: reserved shards still meant for their pod.
  const acquiring = new Map<string, number[]>();
  for (const record of records) {
    if (record.owner === undefined || record.granted === true) continue;
    const pod = podByName.get(record.owner);
    if (desired[record.shard] !== record.owner || pod?.address === undefined || (releasing.get(pod.name) ?? []).includes(record.shard)) continue;
    acquiring.set(pod.name, [...(acquiring.get(pod.name) ?? []), record.shard]);
  }

  // Pods a shard was taken from without an answer: once Ready (reachable again) each is told what it owns now.
  const confirming = new Set<string>();
  for (const record of records) {
    for (const name of record.unreleasedBy ?? []) {
      const pod = podByName.get(name);
      if (pod?.eligible === true && pod.address !== undefined && pod.tradesAll !== true) confirming.add(name);
    }
  }

  const commands: ShardCommand[] = [];
  for (const name of [...new Set([...releasing.keys(), ...acquiring.keys(), ...confirming])].sort()) {
    const pod = podByName.get(name);
    if (pod?.address === undefined) continue;
    const releases = releasing.get(name) ?? [];
    // A Ready pod that has not released a shard for releaseTimeoutMs: one last try, orders-off if it fails.
    const overdue = pod.eligible && releases.some((shard) => releaseOverdue(records[shard], nowMs, input.releaseTimeoutMs));
    const acquires = acquiring.get(name) ?? [];
    const shards = records
      .filter((record) => record.owner === name && !releases.includes(record.shard) && (record.granted === true || acquires.includes(record.shard)))
      .map((record): ShardGrant => ({
        shard: record.shard,
        epoch: record.epoch,
        symbols: record.symbols,
        ...(record.granted === true ? {} : { positions: positionsFor(record.symbols, record.positions) }),
      }));
    commands.push({ pod: name, address: pod.address, shards, releasing: releases, acquiring: acquires, ...(overdue ? { cutIfUnanswered: true } : {}) });
  }
  if (input.outcomes === undefined && commands.length > 0) return { kind: 'commands', commands };

  // 2. The answers: released shards become free with the positions the pod acknowledged; granted ones owned.
  const evictions: Eviction[] = [];
  for (const command of commands) {
    const outcome = input.outcomes?.find((answer) => answer.pod === command.pod);
    const pod = podByName.get(command.pod);
    if (outcome?.ok !== true) {
      const error = outcome?.error ?? 'no answer';
      if (command.cutIfUnanswered === true && pod !== undefined) {
        // Still Ready, still silent: it is taken out; the shard stays recorded as its own until the pod is deleting
        // (then taken, fenced), so no second pod is granted it while this one may still trade.
        const since = Math.min(...command.releasing.map((shard) => Date.parse(records[shard].releasePendingSince ?? new Date(nowMs).toISOString())));
        const cut = outcome?.cut === undefined ? 'orders-off not sent' : outcome.cut.ok ? 'orders-off acknowledged' : `orders-off failed: ${outcome.cut.error ?? 'no answer'}`;
        events.push({ type: 'Warning', reason: 'ShardOwnerEvicted', message: `Pod ${command.pod} did not release shard${command.releasing.length === 1 ? '' : 's'} ${command.releasing.join(', ')} for ${nowMs - since} ms (releaseTimeoutSeconds ${Math.round(input.releaseTimeoutMs / 1000)}): ${error}; ${cut}; the pod is deleted and its shards move once it is gone or not Ready` });
        evictions.push({ pod: pod.name, uid: pod.uid });
      }
      for (const shard of command.releasing) {
        const record = records[shard];
        if (pod?.eligible === true) {
          if (command.cutIfUnanswered !== true) {
            events.push({ type: 'Warning', reason: 'ShardReleaseFailed', message: `Pod ${command.pod} did not release shard ${shard} (epoch ${record.epoch}): ${error}; retried while the pod is Ready, for at most releaseTimeoutSeconds ${Math.round(input.releaseTimeoutMs / 1000)}` });
          }
          if (record.releasePendingSince === undefined) records[shard] = { ...record, releasePendingSince: new Date(nowMs).toISOString() };
        } else {
          events.push({ type: 'Warning', reason: 'ShardOwnerLost', message: `Shard ${shard} taken from pod ${command.pod}, which is not Ready and did not release it (${error}); its orders at epoch ${record.epoch} are fenced once the next owner trades` });
          records[shard] = freed(record, record.positions, nowMs, command.pod);
        }
      }
      if (command.acquiring.length > 0) {
        events.push({ type: 'Warning', reason: 'ShardAcquireFailed', message: `Pod ${command.pod} did not take shard${command.acquiring.length === 1 ? '' : 's'} ${command.acquiring.join(', ')}: ${error}; retried` });
      }
      continue;
    }
    // It answered: it holds exactly what the command listed, nothing it was not told about.
    for (let shard = 0; shard < records.length; shard++) records[shard] = withoutUnreleased(records[shard], command.pod);
    for (const shard of command.releasing) {
      const record = records[shard];
      // Not among `released`: the pod had already let it go (an earlier answer lost). An owner's own last count is
      // then the position; a reservation never granted keeps the positions it was to hand over.
      const acknowledged = outcome.released?.find((entry) => entry.shard === shard)?.positions
        ?? (record.granted === true ? pick(outcome.positions, record.symbols) : record.positions);
      records[shard] = freed(record, acknowledged, nowMs);
    }
    for (const shard of command.acquiring) {
      const record = records[shard];
      const gap = record.releasedAt === undefined ? undefined : nowMs - Date.parse(record.releasedAt);
      events.push({
        type: 'Normal',
        reason: gap === undefined ? 'ShardAssigned' : 'ShardMoved',
        message: `Shard ${shard} (${describeSymbols(record.symbols)}) owned by pod ${command.pod} at epoch ${record.epoch}` +
          (gap === undefined ? '' : ` after ${gap} ms without an owner`),
      });
      records[shard] = {
        shard, epoch: record.epoch, symbols: record.symbols, owner: command.pod, granted: true,
        ...(pod === undefined ? {} : { ownerUid: pod.uid, ownerRestarts: pod.restarts }),
        ...(record.unreleasedBy === undefined ? {} : { unreleasedBy: record.unreleasedBy }),
      };
    }
  }

  // 3. Reserve: free shards with a desired owner, once no other record holds any of their symbols (and no pod
  // trades every symbol: then they all are held).
  const held = new Set<string>();
  for (const record of records) if (record.owner !== undefined) for (const symbol of record.symbols) held.add(symbol);
  if (input.pods.some((pod) => pod.tradesAll === true)) for (const symbol of input.symbols) held.add(symbol);
  const released = new Map<string, number>();
  for (const record of records) {
    if (record.owner === undefined) for (const [symbol, position] of Object.entries(record.positions ?? {})) released.set(symbol, position);
  }
  for (const record of records) {
    const owner = desired[record.shard];
    const symbols = target[record.shard] ?? [];
    if (record.owner !== undefined || owner === undefined || symbols.some((symbol) => held.has(symbol))) continue;
    const positions = positionsFor(symbols, Object.fromEntries(symbols.map((symbol) => [symbol, released.get(symbol) ?? 0])));
    records[record.shard] = {
      shard: record.shard, epoch: record.epoch + 1, symbols, owner, granted: false, positions,
      ...(record.releasedAt === undefined ? {} : { releasedAt: record.releasedAt }),
      ...(record.unreleasedBy === undefined ? {} : { unreleasedBy: record.unreleasedBy }),
    };
    for (const symbol of symbols) held.add(symbol);
  }
  // A symbol's released position is handed with the reservation that took it, and kept nowhere else.
  const taken = new Set(records.filter((record) => record.owner !== undefined).flatMap((record) => record.symbols));
  const final = records.map((record) => (record.owner !== undefined || record.positions === undefined ? record : withoutPositions(record, taken)));
  const moving = final.some((record, shard) => desired[shard] !== undefined && (record.owner !== desired[shard] || record.granted !== true));
  const failed = commands.some((command) => input.outcomes?.find((outcome) => outcome.pod === command.pod)?.ok !== true);
  return { kind: 'settled', records: final, events, moving, failed, evictions };
}

/**
 * The pod each shard should be owned by: per shard the first allowed revision that has an eligible pod; within a
 * revision the shards spread evenly over its eligible pods (at most ceil(shards / pods) each), the current holder
 * kept where it may stay, the rest to the least loaded pod (ties by name). When no allowed revision has an eligible
 * pod, an eligible holder keeps the shard. Undefined: nobody can own it.
 */
function desiredOwners(input: ShardPlanInput, records: readonly ShardRecord[], target: readonly (readonly string[])[], pods: ReadonlyMap<string, EnginePod>): (string | undefined)[] {
  const eligible = input.pods.filter((pod) => pod.eligible && pod.address !== undefined && pod.tradesAll !== true).sort((a, b) => a.name.localeCompare(b.name));
  const knows = (pod: EnginePod, shard: number): boolean => pod.symbols === undefined || target[shard].every((symbol) => pod.symbols?.has(symbol) === true);
  const owners = new Array<string | undefined>(records.length).fill(undefined);
  const byRevision = new Map<string, number[]>();
  for (let shard = 0; shard < target.length; shard++) {
    const revision = input.revisionsFor(shard).find((candidate) => eligible.some((pod) => pod.revision === candidate && knows(pod, shard)));
    if (revision !== undefined) byRevision.set(revision, [...(byRevision.get(revision) ?? []), shard]);
    else {
      // No allowed revision has a pod to take it: an eligible holder keeps it rather than leave its symbols unowned.
      const holder = records[shard].owner;
      const holderPod = holder === undefined ? undefined : pods.get(holder);
      if (holderPod?.eligible === true && knows(holderPod, shard) && holderState(records[shard], pods) === 'intact') owners[shard] = holder;
    }
  }
  for (const [revision, shards] of byRevision) {
    // Every pod of one revision runs the same configuration, so one that knows a shard's symbols all do.
    const candidates = eligible.filter((pod) => pod.revision === revision && knows(pod, shards[0]));
    // Under a cap (WaitForReplacement) a shard no pod has room for stays unowned until a replacement is Ready.
    const wanted = input.podsWanted?.(revision);
    const cap = wanted === undefined ? Number.POSITIVE_INFINITY : Math.ceil(shards.length / Math.max(1, wanted));
    const quota = Math.min(Math.ceil(shards.length / candidates.length), cap);
    const load = new Map(candidates.map((pod) => [pod.name, 0]));
    const unplaced: number[] = [];
    for (const shard of shards) {
      const holder = records[shard].owner;
      const stays = holder !== undefined && load.has(holder) && (load.get(holder) ?? 0) < quota && holderState(records[shard], pods) !== 'gone';
      if (stays) {
        owners[shard] = holder;
        load.set(holder, (load.get(holder) ?? 0) + 1);
      } else unplaced.push(shard);
    }
    for (const shard of unplaced) {
      const pod = candidates.reduce((best, next) => ((load.get(next.name) ?? 0) < (load.get(best.name) ?? 0) ? next : best));
      if ((load.get(pod.name) ?? 0) >= cap) {
        // No room under the cap (the revision's pods are not all Ready yet, or one died): an intact, Ready holder
        // keeps the shard until there is room, so a rollout never darkens a traded shard; a dead holder's waits.
        const holder = records[shard].owner;
        const holderPod = holder === undefined ? undefined : pods.get(holder);
        if (holderPod?.eligible === true && knows(holderPod, shard) && holderState(records[shard], pods) === 'intact') owners[shard] = holder;
        continue;
      }
      owners[shard] = pod.name;
      load.set(pod.name, (load.get(pod.name) ?? 0) + 1);
    }
  }
  return owners;
}

/** Whether a holder's pod still holds what it was granted: the same pod and engine container. */
function holderState(record: ShardRecord, pods: ReadonlyMap<string, EnginePod>): Holder {
  const pod = record.owner === undefined ? undefined : pods.get(record.owner);
  if (pod === undefined) return 'gone';
  if (record.granted === true && (pod.uid !== record.ownerUid || pod.restarts !== record.ownerRestarts)) return 'lost';
  return 'intact';
}

/** One record per shard number, 0 .. max(count, recorded) - 1: a shard beyond the count keeps its record and epoch once released. */
function normalise(recorded: readonly ShardRecord[], shardCount: number): ShardRecord[] {
  const length = Math.max(shardCount, ...recorded.map((record) => record.shard + 1));
  const records: ShardRecord[] = Array.from({ length }, (_, shard) => ({ shard, epoch: 0, symbols: [] }));
  for (const record of recorded) records[record.shard] = record;
  return records;
}

/** The record freed, keeping its epoch; `unreleasedBy`, when given, is a pod that may still hold it. */
function freed(record: ShardRecord, positions: Readonly<Record<string, number>> | undefined, nowMs: number, unreleasedBy?: string): ShardRecord {
  const holders = [...new Set([...(record.unreleasedBy ?? []), ...(unreleasedBy === undefined ? [] : [unreleasedBy])])];
  return {
    shard: record.shard, epoch: record.epoch, symbols: record.symbols, releasedAt: new Date(nowMs).toISOString(),
    ...(positions === undefined ? {} : { positions }),
    ...(holders.length === 0 ? {} : { unreleasedBy: holders.slice(-maxUnreleased) }),
  };
}

/** The most pods kept in one record's unreleasedBy (the CRD's maxItems): the oldest is dropped beyond it. */
const maxUnreleased = 16;

/** Whether the record's owner has failed to release it for at least `timeoutMs`. */
function releaseOverdue(record: ShardRecord, nowMs: number, timeoutMs: number): boolean {
  return record.releasePendingSince !== undefined && nowMs - Date.parse(record.releasePendingSince) >= timeoutMs;
}

function withoutPendingRelease(record: ShardRecord): ShardRecord {
  if (record.releasePendingSince === undefined) return record;
  const { releasePendingSince: _done, ...rest } = record;
  return rest;
}

function withoutUnreleased(record: ShardRecord, pod: string): ShardRecord {
  if (record.unreleasedBy?.includes(pod) !== true) return record;
  const { unreleasedBy, ...rest } = record;
  const left = unreleasedBy.filter((name) => name !== pod);
  return left.length === 0 ? rest : { ...rest, unreleasedBy: left };
}

function withoutGone(record: ShardRecord, pods: ReadonlyMap<string, EnginePod>): ShardRecord {
  return (record.unreleasedBy ?? []).filter((name) => !pods.has(name)).reduce(withoutUnreleased, record);
}

function withoutPositions(record: ShardRecord, taken: ReadonlySet<string>): ShardRecord {
  const kept = Object.entries(record.positions ?? {}).filter(([symbol]) => !taken.has(symbol));
  const { positions: _dropped, ...rest } = record;
  return kept.length === 0 ? rest : { ...rest, positions: Object.fromEntries(kept) };
}

/** The positions of `symbols` in `positions`, or undefined when any is missing. */
function pick(positions: Readonly<Record<string, number>> | undefined, symbols: readonly string[]): Record<string, number> | undefined {
  if (positions === undefined || !symbols.every((symbol) => typeof positions[symbol] === 'number')) return undefined;
  return Object.fromEntries(symbols.map((symbol) => [symbol, positions[symbol]]));
}

/** The position of each symbol (0 for one nobody acknowledged). */
function positionsFor(symbols: readonly string[], known: Readonly<Record<string, number>> | undefined): Record<string, number> {
  return Object.fromEntries(symbols.map((symbol) => [symbol, known?.[symbol] ?? 0]));
}

function sameSymbols(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((symbol, i) => symbol === b[i]);
}

function describeSymbols(symbols: readonly string[]): string {
  return symbols.length <= 4 ? symbols.join(', ') : `${symbols.slice(0, 3).join(', ')} and ${symbols.length - 3} more`;
}
