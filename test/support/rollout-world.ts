import type { V1ContainerStatus, V1Pod, V1ReplicaSet, V1ReplicaSetStatus } from '@kubernetes/client-node';
import type { TradingEngine, TradingEngineStatus } from '../../operator/api/types.ts';
import type { MeasureResult, MeasureTarget } from '../../operator/analysis/provider.ts';
import { settleSync } from '../../operator/decide/settle.ts';
import { hasReservedShard } from '../../operator/ownership/shard-plan.ts';
import type { EventIntent, Observed, Plan } from '../../operator/plan/plan.ts';
import { labelKeys, revisionLabels } from '../../operator/render/labels.ts';
import { revisionOf } from '../../operator/render/revision.ts';
import { generateControlKeys } from '../../engine/control/control-keys.ts';
import { exampleEngine, withSpec } from './engines.ts';
import { SimulatedApiServer, type StoredReplicaSet } from './simulated-api-server.ts';
import type {
  PodControlRequest, ControlOutcome, ControlTarget, MeasureRequest, PromotionConfirmOutcome, PromotionConfirmRequest, ShardCommand, ShardGrant, ShardOutcome, TakenMeasurement,
} from '../../operator/plan/needs.ts';

/**
 * Test support only: a simulated cluster around the pure `decide`, driven by a manual clock.
 *
 * `reconcile()` does what operator/controller/reconciler.ts does, without the API server: `settleSync` decides
 * until the plan is final, with effects fulfilled from this world (a measurement from `canaryLatency`/
 * `stableLatency`, orders-off results from `control`); then the final plan is applied to the world:
 * the status becomes engine.status, ReplicaSets and Services take what was applied, deletes remove, Events are
 * logged with the time. Pods follow their ReplicaSet's size at once (new pods Pending, extra pods terminating),
 * and start running (Ready, with an IP) or go away only when the test says so (`settle`), as kubelets would.
 * A ReplicaSet whose size changed gets a new generation and counts no available pod until `settle` (its
 * controller has not observed it yet), which is how the planners read it (pods.ts `availableReplicas`).
 * Nothing of the operator lives in memory between reconciles: what it knows is engine.status; `restart()` reads
 * everything back as JSON, as an API server would hand it to a fresh operator.
 */

/** The control keys every simulated engine gets (the executor's fresh set; the world never talks CURVE). */
const worldControlKeys = generateControlKeys();

export const second = 1_000;
export const minute = 60 * second;
/** A whole second, so status times and metav1 condition times agree. */
export const T0 = Date.parse('2026-03-02T14:30:00Z');

export type SpecEdit = (spec: Record<string, any>) => void; // eslint-disable-line @typescript-eslint/no-explicit-any

export const images = {
  v1: 'ghcr.io/nexus-trading/nexus-engine:0.1.0',
  v2: 'ghcr.io/nexus-trading/nexus-engine:0.2.0',
  v3: 'ghcr.io/nexus-trading/nexus-engine:0.3.0',
} as const;

/** examples/gpu-canary.yaml (replicas 4, the canary steps, the latency gate at 800 µs) with `edits` applied. */
export function gpuCanary(...edits: SpecEdit[]): TradingEngine {
  return withSpec(exampleEngine('gpu-canary'), (spec) => { for (const edit of edits) edit(spec); });
}

/** A spec edit that releases `image` (a new revision). */
export function release(image: string): SpecEdit {
  return (spec) => { spec.template.image = image; };
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** What the latency provider answers for one target. */
export type LatencyAnswer = (target: MeasureTarget) => MeasureResult;

/** A provider answer: `micros` at the quantile over `samples` samples, from every pod targeted. */
export function p99(micros: number, samples = 5_000): LatencyAnswer {
  return (target) => ({ ok: true, value: { quantileMicros: micros, samples, podsMeasured: target.pods.length } });
}

/** A provider failure (scrape refused, query error). */
export function failing(error = 'connect ECONNREFUSED 10.1.0.1:9100'): LatencyAnswer {
  return () => ({ ok: false, error });
}

/** An empty window: market closed. */
export function noSamples(samples = 0): LatencyAnswer {
  return (target) => ({ ok: true, value: { quantileMicros: samples === 0 ? undefined : 120, samples, podsMeasured: target.pods.length } });
}

export type ControlAnswer = (target: ControlTarget) => Omit<ControlOutcome, 'pod'>;

export interface Reconciled {
  readonly atMs: number;
  /** What the (last) decide of this reconcile started from: the status and children before its plan was applied. */
  readonly observed: Observed;
  /** Every decide of this reconcile, in order; only the last has no needs. */
  readonly passes: readonly Plan[];
  /** The measurements the plan asked for. */
  readonly measured: readonly MeasureRequest[];
  /** The control commands the plan asked for. */
  readonly controlled: readonly PodControlRequest[];
  /** The shard hand-overs (set-ownership) the plan asked for; the simulated engines take them when it is applied. */
  readonly handedOver: readonly ShardCommand[];
  /** The plan applied. */
  readonly plan: Plan;
  /** The rollout's Events: every Event but the shard hand-overs' (those are in `shardEvents`). */
  readonly events: readonly EventIntent[];
  readonly shardEvents: readonly EventIntent[];
}

/** Events of the shard hand-overs (operator/ownership/shard-plan.ts), kept apart from the rollout's. */
export function isShardEvent(event: EventIntent): boolean {
  return event.reason.startsWith('Shard');
}


export interface LoggedEvent extends EventIntent {
  readonly atMs: number;
}

export class World {
  nowMs: number;
  engine: TradingEngine;
  /** The children the operator applied, as the API server keeps them. */
  readonly server = new SimulatedApiServer();
  pods: V1Pod[] = [];
  /** Every Event emitted, in order. */
  readonly events: LoggedEvent[] = [];
  /** The shard hand-overs' Events, as logged. */
  readonly shardEvents: LoggedEvent[] = [];
  readonly reconciles: Reconciled[] = [];
  /** What each simulated engine owns, by pod: the shards of the last set-ownership it was sent. */
  readonly shardsOwned = new Map<string, readonly ShardGrant[]>();
  /** After every reconcile: each ReplicaSet's size by revision, and the revisions the Services select. */
  readonly timeline: Array<{ atMs: number; sizes: Record<string, number>; active?: string; preview?: string }> = [];
  /** Every pod ever created, with its revision and creation time. */
  readonly podsCreated: Array<{ name: string; revision: string; atMs: number }> = [];
  canaryLatency: LatencyAnswer = p99(500);
  stableLatency: LatencyAnswer = p99(500);
  control: ControlAnswer = () => ({ ok: true, micros: 850 });
  /**
   * The confirm-promotion webhook's answer; undefined: the operator has none configured (promotions never wait).
   * Set, the world's operator runs with OperatorSettings.confirmPromotion and asks it before every promotion.
   */
  confirmPromotion: ((request: PromotionConfirmRequest) => PromotionConfirmOutcome) | undefined;
  /** Every question the confirm-promotion webhook was asked, in order. */
  readonly confirmRequests: PromotionConfirmRequest[] = [];
  /** The operator's memory of the revision the webhook confirmed (the reconciler's; gone on `restart`). */
  confirmedRevision: string | undefined;
  /** Revisions whose pods the scheduler cannot place, with the scheduler's message. */
  readonly unschedulable = new Map<string, string>();
  private serial = 0;
  /** Each ReplicaSet's status as its controller last reported it (at `settle`). */
  private readonly replicaSetStatus = new Map<StoredReplicaSet, V1ReplicaSetStatus>();
  /** After `restart`, everything is read back as JSON, as an API server hands it to a fresh operator. */
  private readAsJson = false;

  constructor(engine: TradingEngine, nowMs = T0) {
    this.engine = engine;
    this.nowMs = nowMs;
  }

  /** A world where `engine` was created, its first revision became available and is stable (Healthy). */
  static healthy(engine: TradingEngine, nowMs = T0): World {
    const world = new World(engine, nowMs);
    world.reconcile();
    world.settle();
    const plan = world.reconcile().plan;
    if (plan.status.phase !== 'Healthy') throw new Error(`the first revision did not become Healthy: ${plan.status.message ?? ''}`);
    return world;
  }

  get revision(): string {
    return revisionOf(this.engine);
  }

  get status(): TradingEngineStatus {
    return this.engine.status ?? {};
  }

  advance(ms: number): this {
    this.nowMs += ms;
    return this;
  }

  /** Edits the spec as `kubectl apply` would: a new generation, the status unchanged. */
  edit(edit: SpecEdit): this {
    const edited = withSpec(this.engine, edit);
    this.engine = { ...edited, metadata: { ...edited.metadata, generation: (edited.metadata.generation ?? 0) + 1 } };
    return this;
  }

  /** A status-subresource patch (nexus rollout promote / abort / retry). */
  patchStatus(patch: Partial<TradingEngineStatus>): this {
    this.engine = { ...this.engine, status: { ...this.status, ...patch } };
    return this;
  }

  /** What an informer cache holds now, as the reconciler hands it to decide (a copy: decide must not reach the world). */
  observed(): Observed {
    const observed: Observed = {
      engine: this.engine,
      replicaSets: this.replicaSetObjects(),
      configMaps: this.server.configMapObjects(),
      services: this.server.serviceObjects(),
      secrets: this.server.secretObjects(),
      networkPolicies: this.server.networkPolicyObjects(),
      pods: this.pods,
      newControlKeys: worldControlKeys,
      ...(this.confirmPromotion === undefined ? {} : { settings: { confirmPromotion: true } }),
      ...(this.confirmedRevision === undefined ? {} : { confirmedRevision: this.confirmedRevision }),
    };
    return this.readAsJson ? (JSON.parse(JSON.stringify(observed)) as Observed) : structuredClone(observed);
  }

  /**
   * What one reconcile at the current time decides, without applying it: decide, and while the plan needs
   * effects, fulfil them and decide again with the results (the same now), as reconciler.ts does.
   */
  plan(): Reconciled {
    return this.planFrom(this.observed());
  }

  /** What one reconcile decides from `observed` at the current time (effects fulfilled from this world's answers). */
  planFrom(start: Observed): Reconciled {
    const measured: MeasureRequest[] = [];
    const controlled: PodControlRequest[] = [];
    const handedOver: ShardCommand[] = [];
    const { plan, passes } = settleSync(start, this.nowMs, (effect) => {
      if (effect.kind === 'measure') {
        measured.push(effect.request);
        return { kind: 'measure', measurement: this.measure(effect.request) };
      }
      // This world's API server holds only the engine's own children: no name is ever taken by a foreign object.
      if (effect.kind === 'ownership') return { kind: 'ownership', foreign: [] };
      if (effect.kind === 'shards') {
        handedOver.push(...effect.request.commands);
        return { kind: 'shards', outcomes: effect.request.commands.map((command) => this.handOver(command)) };
      }
      // This world's engines run built-in strategies only: none is ever disabled.
      if (effect.kind === 'probe') return { kind: 'probe', outcomes: effect.request.targets.map((target) => ({ pod: target.pod, ok: true, strategies: [] })) };
      if (effect.kind === 'confirm') {
        this.confirmRequests.push(effect.request);
        const outcome = this.confirmPromotion?.(effect.request) ?? { confirmed: false, message: 'no webhook in this world' };
        if (outcome.confirmed) this.confirmedRevision = effect.request.revision;
        return { kind: 'confirm', outcome };
      }
      controlled.push(effect.request);
      return { kind: 'control', outcomes: effect.request.targets.map((target) => ({ pod: target.pod, ...this.control(target) })) };
    });
    return { atMs: this.nowMs, observed: start, passes, measured, controlled, handedOver, plan, events: plan.events.filter((event) => !isShardEvent(event)), shardEvents: plan.events.filter(isShardEvent) };
  }

  /**
   * A simulated engine's answer to set-ownership (reachable pods always answer): it acknowledges what it releases
   * with the positions it was handed (none: flat). It owns what the command lists once the plan is applied.
   */
  handOver(command: ShardCommand): ShardOutcome {
    const before = this.shardsOwned.get(command.pod) ?? [];
    const released = before.filter((grant) => !command.shards.some((kept) => kept.shard === grant.shard && kept.epoch === grant.epoch));
    return { pod: command.pod, ok: true, micros: 250, released: released.map((grant) => ({ shard: grant.shard, epoch: grant.epoch, positions: { ...(grant.positions ?? {}) } })) };
  }

  /**
   * One reconcile at the current time: the plan (effects fulfilled), then applied to the world; while a shard is
   * reserved and not yet granted, the controller's immediate requeue reconciles again at the same time (its
   * measurements, commands and Events are merged into the one returned).
   */
  reconcile(): Reconciled {
    let reconciled = this.plan();
    this.apply(reconciled.plan, reconciled.handedOver);
    for (let again = 0; again < 3 && hasReservedShard(reconciled.plan.status.shards); again++) {
      const next = this.plan();
      this.apply(next.plan, next.handedOver);
      reconciled = {
        ...next,
        passes: [...reconciled.passes, ...next.passes],
        measured: [...reconciled.measured, ...next.measured],
        controlled: [...reconciled.controlled, ...next.controlled],
        handedOver: [...reconciled.handedOver, ...next.handedOver],
        events: [...reconciled.events, ...next.events],
        shardEvents: [...reconciled.shardEvents, ...next.shardEvents],
      };
    }
    this.reconciles.push(reconciled);
    return reconciled;
  }

  /**
   * Runs the operator and the cluster together for `forMs`: every `stepMs` a reconcile, then the pods settle;
   * stops early once `until` holds after a reconcile. Returns the reconciles made.
   */
  run(forMs: number, options: { stepMs?: number; until?: (world: World) => boolean } = {}): Reconciled[] {
    const stepMs = options.stepMs ?? second;
    const endMs = this.nowMs + forMs;
    const made: Reconciled[] = [];
    while (this.nowMs <= endMs) {
      made.push(this.reconcile());
      this.settle();
      if (options.until?.(this) === true) break;
      this.advance(stepMs);
    }
    return made;
  }

  /** Advances the clock by `ms`, then reconciles. */
  after(ms: number): Reconciled {
    return this.advance(ms).reconcile();
  }

  /**
   * Kubelets and the ReplicaSet controller catch up: terminating pods are gone, every other pod runs (Ready, with
   * an IP) unless its revision is unschedulable, and each ReplicaSet's status counts them.
   */
  settle(): this {
    this.pods = this.pods.filter((pod) => pod.metadata?.deletionTimestamp === undefined);
    this.pods = this.pods.map((pod) => {
      const revision = pod.metadata?.labels?.[labelKeys.revision] ?? '';
      const message = this.unschedulable.get(revision);
      if (message !== undefined) return pendingPod(pod, message);
      if (pod.status?.phase === 'Running') return pod;
      const ip = this.serial++;
      return runningPod(pod, `10.1.${Math.floor(ip / 250)}.${(ip % 250) + 1}`, this.nowMs);
    });
    for (const rs of this.server.replicaSetRecordList()) {
      const own = this.pods.filter((pod) => pod.metadata?.labels?.[labelKeys.revision] === rs.revision);
      const running = own.filter((pod) => pod.status?.phase === 'Running').length;
      this.replicaSetStatus.set(rs, { replicas: own.length, readyReplicas: running, availableReplicas: running, observedGeneration: rs.generation });
    }
    return this;
  }

  /**
   * An operator restart: nothing survives but what the API server holds, read back as JSON (dates become
   * strings). The world keeps its logs (they are the test's, not the operator's).
   */
  restart(): this {
    this.confirmedRevision = undefined;
    this.engine = JSON.parse(JSON.stringify(this.engine)) as TradingEngine;
    this.readAsJson = true;
    return this;
  }

  replicaSet(revision: string): V1ReplicaSet | undefined {
    return this.replicaSetObjects().find((rs) => rs.metadata?.labels?.[labelKeys.revision] === revision);
  }

  /** The size (spec.replicas) of a revision's ReplicaSet; 0 when it has none. */
  size(revision: string): number {
    return this.server.specReplicas(revision);
  }

  /** The smallest size a revision's ReplicaSet had after any reconcile since `sinceMs`. */
  minSize(revision: string, sinceMs = Number.NEGATIVE_INFINITY): number {
    return Math.min(...this.timeline.filter((entry) => entry.atMs >= sinceMs).map((entry) => entry.sizes[revision] ?? 0));
  }

  /**
   * The engine container of pod `name` restarted (a kubelet restarted it): its restart count goes up by one, and it is
   * ready again at once unless `ready` is false (then until `containerReady`).
   */
  restartContainer(name: string, ready = true): this {
    return this.mapContainer(name, (container) => ({ ...container, restartCount: container.restartCount + 1, ready }));
  }

  containerReady(name: string): this {
    return this.mapContainer(name, (container) => ({ ...container, ready: true }));
  }

  private mapContainer(name: string, change: (container: V1ContainerStatus) => V1ContainerStatus): this {
    this.pods = this.pods.map((pod) => pod.metadata?.name !== name ? pod : {
      ...pod,
      status: { ...pod.status, containerStatuses: (pod.status?.containerStatuses ?? []).map(change) },
    });
    return this;
  }

  /** Live (not terminating) pods of a revision, by name. */
  podNames(revision: string): string[] {
    return this.pods
      .filter((pod) => pod.metadata?.labels?.[labelKeys.revision] === revision && pod.metadata.deletionTimestamp === undefined)
      .map((pod) => pod.metadata?.name ?? '')
      .sort();
  }

  podIP(name: string): string | undefined {
    return this.pods.find((pod) => pod.metadata?.name === name)?.status?.podIP;
  }

  /** The revision the engine Service (or the preview Service) selects; 'all' when it selects every engine pod. */
  serviceRevision(role: 'active' | 'preview' = 'active'): string | undefined {
    const name = role === 'active' ? this.engine.metadata.name : `${this.engine.metadata.name ?? ''}-preview`;
    return this.server.serviceSelection(name ?? '');
  }

  /** Events since `sinceMs` (inclusive), optionally of one reason. */
  eventsSince(sinceMs: number, reason?: string): LoggedEvent[] {
    return this.events.filter((event) => event.atMs >= sinceMs && (reason === undefined || event.reason === reason));
  }

  private measure(request: MeasureRequest): TakenMeasurement {
    return {
      revision: request.canary.revision,
      canary: this.canaryLatency(request.canary),
      ...(request.stable === undefined ? {} : { stable: this.stableLatency(request.stable) }),
    };
  }

  private apply(plan: Plan, handedOver: readonly ShardCommand[]): void {
    for (const command of handedOver) this.shardsOwned.set(command.pod, command.shards);
    this.engine = { ...this.engine, status: structuredClone(plan.status) };
    this.server.apply(structuredClone(plan), this.nowMs);
    for (const event of plan.events) (isShardEvent(event) ? this.shardEvents : this.events).push({ ...event, atMs: this.nowMs });
    this.syncPods();
    const sizes: Record<string, number> = {};
    for (const rs of this.replicaSetObjects()) sizes[rs.metadata?.labels?.[labelKeys.revision] ?? ''] = rs.spec?.replicas ?? 0;
    this.timeline.push({ atMs: this.nowMs, sizes, active: this.serviceRevision('active'), preview: this.serviceRevision('preview') });
  }

  /** The ReplicaSets as listed now: zero counts until their controller first reports at `settle`. */
  private replicaSetObjects(): V1ReplicaSet[] {
    return this.server.replicaSetObjects((rs) => this.replicaSetStatus.get(rs) ?? { replicas: 0, readyReplicas: 0, availableReplicas: 0, observedGeneration: 0 });
  }

  /** The ReplicaSet controller: live pods follow each ReplicaSet's size (new ones Pending, the newest extra terminating). */
  private syncPods(): void {
    for (const rs of this.server.replicaSetRecordList()) {
      const revision = rs.revision;
      const wanted = rs.object.spec?.replicas ?? 0;
      const live = this.pods.filter((pod) => pod.metadata?.labels?.[labelKeys.revision] === revision && pod.metadata.deletionTimestamp === undefined);
      for (let i = live.length; i < wanted; i++) {
        const name = `${rs.name}-p${this.serial++}`;
        const message = this.unschedulable.get(revision);
        const pod: V1Pod = {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name, uid: `uid-${name}`, namespace: this.engine.metadata.namespace, labels: revisionLabels(this.engine, revision), creationTimestamp: new Date(this.nowMs) },
          status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }] },
        };
        this.pods.push(message === undefined ? pod : pendingPod(pod, message));
        this.podsCreated.push({ name, revision, atMs: this.nowMs });
      }
      const extra = live.slice(wanted).map((pod) => pod.metadata?.name);
      if (extra.length > 0) {
        this.pods = this.pods.map((pod) => (extra.includes(pod.metadata?.name)
          ? { ...pod, metadata: { ...pod.metadata, deletionTimestamp: new Date(this.nowMs) } }
          : pod));
      }
    }
  }
}

function runningPod(pod: V1Pod, ip: string, nowMs: number): V1Pod {
  return {
    ...pod,
    status: {
      phase: 'Running',
      podIP: ip,
      conditions: [
        { type: 'PodScheduled', status: 'True' },
        { type: 'Ready', status: 'True', lastTransitionTime: new Date(nowMs) },
      ],
      containerStatuses: [{ name: 'engine', image: '', imageID: '', ready: true, restartCount: 0 }],
    },
  };
}

function pendingPod(pod: V1Pod, message: string): V1Pod {
  return { ...pod, status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message }] } };
}
