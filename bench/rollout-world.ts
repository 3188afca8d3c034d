/**
 * The simulated cluster of bench/rollout.ts: what the API server, the ReplicaSet controller and the kubelet would
 * do with the operator's plans, on a manual clock, for one TradingEngine. It keeps the children the operator
 * applied, runs each ReplicaSet's pods through Pending -> Running (pod IP) -> Ready (orders on, latency samples)
 * -> available after minReadySeconds, deletes pods on scale-down (not-ready first, then newest; 2 s drain), and
 * feeds every ready pod's latency model second by second. `observe` returns exactly what reconcile reads from its
 * informer caches (Observed without measurement and control).
 *
 *   plan --apply--> stored children --RS controller (20 ms)--> pods --kubelet--> Running, Ready, available
 *                                                                  '--> PodLatency windows (per second)
 */
import type { V1ConfigMap, V1Pod, V1ReplicaSet, V1Service } from '@kubernetes/client-node';
import type { TradingEngine } from '../operator/api/types.ts';
import type { PodWindow } from '../operator/analysis/pod-scrape.ts';
import type { Observed, Plan } from '../operator/plan/plan.ts';
import { needsWrite } from '../operator/plan/plan.ts';
import { configMaps, replicaSets, services } from '../operator/kube/resources.ts';
import { labelKeys, revisionLabels } from '../operator/render/labels.ts';
import { latencyModel, PodLatency, type Market, type Regression, type Rng } from './rollout-model.ts';

/** How long the ReplicaSet controller takes to act on a changed ReplicaSet. */
const replicaSetSyncMs = 20;
/** A deleted engine pod drains (SIGTERM: every accepted order published) and is gone after this long. */
const drainMs = 2_000;

export interface SimPod {
  readonly name: string;
  readonly revision: string;
  readonly createdMs: number;
  readonly runningMs: number;
  readonly readyMs: number;
  readonly ip: string;
  deletingMs?: number;
  ordersOffMs?: number;
  readonly latency: PodLatency;
}

interface SimReplicaSet {
  object: V1ReplicaSet;
  readonly revision: string;
  readonly uid: string;
  readonly createdMs: number;
  generation: number;
  observedGeneration: number;
  syncAtMs: number | undefined;
  deleted: boolean;
}

interface Stored<T> {
  readonly object: T;
  readonly uid: string;
  readonly createdMs: number;
}

export interface WorldOptions {
  /** Absolute ms of relative time 0 (when the new revision is applied): the latency model runs on relative ms. */
  readonly t0Ms: number;
  readonly minReadySeconds: number;
  /** Pod lifecycle and latency samples. */
  readonly rng: Rng;
  readonly market: Market;
  /** Absolute ms from which latency samples are generated (the stable windows fill before the rollout). */
  readonly samplingFromMs: number;
  /** Regressions by revision. */
  readonly regressions: ReadonlyMap<string, Regression>;
  /** Called after every simulated second's samples, with the absolute ms at its end. */
  readonly onSecond?: (endMs: number) => void;
}

export class World {
  readonly pods: SimPod[] = [];
  private readonly replicaSets = new Map<string, SimReplicaSet>();
  private readonly configMaps = new Map<string, Stored<V1ConfigMap>>();
  private readonly services = new Map<string, Stored<V1Service>>();
  private sampledUntilMs: number;
  private nextUid = 1;
  private nextIp = 1;

  constructor(private readonly options: WorldOptions) {
    this.sampledUntilMs = Math.floor(options.samplingFromMs / 1000) * 1000;
  }

  /** Runs the ReplicaSet controller and the latency samples up to `nowMs`. */
  advanceTo(nowMs: number): void {
    for (;;) {
      let due: SimReplicaSet | undefined;
      for (const rs of this.replicaSets.values()) {
        if (rs.syncAtMs !== undefined && rs.syncAtMs <= nowMs && (due === undefined || rs.syncAtMs < (due.syncAtMs ?? 0))) due = rs;
      }
      if (due === undefined) break;
      this.syncReplicaSet(due, due.syncAtMs ?? nowMs);
    }
    const { t0Ms, rng, market, regressions } = this.options;
    while (this.sampledUntilMs + 1000 <= nowMs) {
      const secondMs = this.sampledUntilMs;
      for (const pod of this.pods) {
        if (pod.readyMs > secondMs || (pod.deletingMs !== undefined && pod.deletingMs <= secondMs) || (pod.ordersOffMs !== undefined && pod.ordersOffMs <= secondMs)) continue;
        pod.latency.recordSecond(rng, market, secondMs - t0Ms, regressions.get(pod.revision));
      }
      this.sampledUntilMs += 1000;
      this.options.onSecond?.(this.sampledUntilMs);
    }
  }

  /** The next time something changes on its own (a pod starts, turns ready or available, or is gone; an RS syncs). */
  nextEventMs(nowMs: number): number {
    let next = Number.POSITIVE_INFINITY;
    const consider = (ms: number | undefined): void => {
      if (ms !== undefined && ms > nowMs && ms < next) next = ms;
    };
    for (const rs of this.replicaSets.values()) consider(rs.syncAtMs);
    const minReadyMs = this.options.minReadySeconds * 1000;
    for (const pod of this.pods) {
      if (pod.deletingMs !== undefined) {
        consider(pod.deletingMs + drainMs);
        continue;
      }
      consider(pod.runningMs);
      consider(pod.readyMs);
      consider(pod.readyMs + minReadyMs);
    }
    return next;
  }

  /** What reconcile reads from its caches at `nowMs`. */
  observe(engine: TradingEngine, nowMs: number): Observed {
    const minReadyMs = this.options.minReadySeconds * 1000;
    const replicaSetObjects: V1ReplicaSet[] = [];
    for (const rs of this.replicaSets.values()) {
      if (rs.deleted) continue;
      const active = this.pods.filter((pod) => pod.revision === rs.revision && pod.createdMs <= nowMs && pod.deletingMs === undefined);
      replicaSetObjects.push({
        ...rs.object,
        metadata: { ...rs.object.metadata, uid: rs.uid, creationTimestamp: new Date(rs.createdMs), generation: rs.generation },
        status: rs.observedGeneration === 0 ? { replicas: 0 } : {
          replicas: active.length,
          readyReplicas: active.filter((pod) => pod.readyMs <= nowMs).length,
          availableReplicas: active.filter((pod) => pod.readyMs + minReadyMs <= nowMs).length,
          observedGeneration: rs.observedGeneration,
        },
      });
    }
    const stored = <T extends { metadata?: object }>(map: Map<string, Stored<T>>): T[] =>
      [...map.values()].map((entry) => ({ ...entry.object, metadata: { ...entry.object.metadata, uid: entry.uid, creationTimestamp: new Date(entry.createdMs) } }));
    return {
      engine,
      replicaSets: replicaSetObjects,
      configMaps: stored(this.configMaps),
      services: stored(this.services),
      pods: this.livePods(nowMs).map((pod) => this.podObject(engine, pod, nowMs)),
    };
  }

  /**
   * Carries out a final plan's applies (those the reconciler would write: `needsWrite`) and deletes, as the API
   * server would take them. Returns the number of API writes (the status write is the caller's).
   */
  apply(plan: Plan, nowMs: number): number {
    let writes = 0;
    for (const intent of plan.applies) {
      if (!needsWrite(intent)) continue;
      writes++;
      const name = intent.object.metadata?.name ?? '';
      if (intent.resource === replicaSets) this.applyReplicaSet(intent.object as V1ReplicaSet, nowMs);
      else if (intent.resource === configMaps) this.configMaps.set(name, { object: intent.object as V1ConfigMap, uid: this.configMaps.get(name)?.uid ?? this.uid(), createdMs: this.configMaps.get(name)?.createdMs ?? nowMs });
      else if (intent.resource === services) this.services.set(name, { object: intent.object as V1Service, uid: this.services.get(name)?.uid ?? this.uid(), createdMs: this.services.get(name)?.createdMs ?? nowMs });
    }
    for (const removal of plan.deletes) {
      writes++;
      if (removal.resource === replicaSets) {
        const rs = this.replicaSets.get(removal.name);
        if (rs !== undefined) {
          rs.deleted = true;
          rs.object = { ...rs.object, spec: { ...rs.object.spec, replicas: 0, selector: rs.object.spec?.selector ?? {} } };
          rs.syncAtMs = nowMs + replicaSetSyncMs;
        }
      } else if (removal.resource === configMaps) {
        this.configMaps.delete(removal.name);
      } else if (removal.resource === services) {
        this.services.delete(removal.name);
      }
    }
    return writes;
  }

  /** The control socket answered orders-off: the pod stops sending orders (and producing latency samples). */
  ordersOff(podName: string, nowMs: number): void {
    const pod = this.pods.find((candidate) => candidate.name === podName);
    if (pod !== undefined) pod.ordersOffMs ??= nowMs;
  }

  /** One pod's window as its /metrics gauges report it at `nowMs`, or undefined for an unknown pod. */
  podWindow(podName: string, nowMs: number): PodWindow | undefined {
    const pod = this.pods.find((candidate) => candidate.name === podName);
    if (pod === undefined) return undefined;
    const read = pod.latency.read(nowMs - this.options.t0Ms);
    return { pod: podName, quantileMicros: read.quantileMicros, samples: read.samples };
  }

  /** Pods of a revision that the gate could scrape at `nowMs` (Running, not terminating). */
  scrapeablePods(revision: string, nowMs: number): SimPod[] {
    return this.pods.filter((pod) => pod.revision === revision && pod.runningMs <= nowMs && pod.deletingMs === undefined && pod.createdMs <= nowMs);
  }

  /** The revision the named Service selects, or undefined when it selects every engine pod (or does not exist). */
  serviceRevision(name: string): string | undefined {
    return this.services.get(name)?.object.spec?.selector?.[labelKeys.revision];
  }

  /** The ReplicaSet size the operator last applied for `revision` (0 when none). */
  specReplicas(revision: string): number {
    for (const rs of this.replicaSets.values()) if (rs.revision === revision && !rs.deleted) return rs.object.spec?.replicas ?? 0;
    return 0;
  }

  /** Pods of a revision not yet gone at `nowMs` (terminating ones included). */
  livePodsOf(revision: string, nowMs: number): SimPod[] {
    return this.livePods(nowMs).filter((pod) => pod.revision === revision);
  }

  private livePods(nowMs: number): SimPod[] {
    return this.pods.filter((pod) => pod.createdMs <= nowMs && (pod.deletingMs === undefined || pod.deletingMs + drainMs > nowMs));
  }

  private applyReplicaSet(object: V1ReplicaSet, nowMs: number): void {
    const name = object.metadata?.name ?? '';
    const existing = this.replicaSets.get(name);
    if (existing === undefined || existing.deleted) {
      this.replicaSets.set(name, {
        object, revision: object.metadata?.labels?.[labelKeys.revision] ?? '', uid: this.uid(), createdMs: nowMs,
        generation: 1, observedGeneration: 0, syncAtMs: nowMs + replicaSetSyncMs, deleted: false,
      });
      return;
    }
    if ((existing.object.spec?.replicas ?? 0) !== (object.spec?.replicas ?? 0)) {
      existing.generation++;
      existing.syncAtMs = nowMs + replicaSetSyncMs;
    }
    existing.object = object;
  }

  /** The ReplicaSet controller: observe the spec, then create or delete pods to match its size. */
  private syncReplicaSet(rs: SimReplicaSet, atMs: number): void {
    rs.syncAtMs = undefined;
    rs.observedGeneration = rs.generation;
    const wanted = rs.deleted ? 0 : rs.object.spec?.replicas ?? 0;
    const active = this.pods.filter((pod) => pod.revision === rs.revision && pod.deletingMs === undefined);
    const { rng } = this.options;
    const m = latencyModel;
    for (let i = active.length; i < wanted; i++) {
      const runningMs = atMs + Math.round(rng.between(m.containerStartSeconds) * 1000);
      const readyMs = runningMs + Math.round(rng.between(m.warmUpSeconds) * 1000);
      const suffix = (rng.uniform() * 36 ** 5).toString(36).replace('.', '').slice(0, 5).padStart(5, '0');
      this.pods.push({
        name: `${rs.object.metadata?.name ?? ''}-${suffix}`, revision: rs.revision, createdMs: atMs, runningMs, readyMs,
        ip: `10.42.${(this.nextIp >> 8) & 255}.${this.nextIp++ & 255}`,
        latency: new PodLatency(rng, runningMs - this.options.t0Ms),
      });
    }
    if (active.length > wanted) {
      // The ReplicaSet controller's order: not-ready pods first, then the newest.
      const victims = [...active].sort((a, b) => Number(a.readyMs <= atMs) - Number(b.readyMs <= atMs) || b.createdMs - a.createdMs);
      for (const pod of victims.slice(0, active.length - wanted)) pod.deletingMs = atMs;
    }
  }

  private podObject(engine: TradingEngine, pod: SimPod, nowMs: number): V1Pod {
    const running = pod.runningMs <= nowMs;
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: pod.name,
        namespace: engine.metadata.namespace,
        labels: revisionLabels(engine, pod.revision),
        creationTimestamp: new Date(pod.createdMs),
        ...(pod.deletingMs === undefined ? {} : { deletionTimestamp: new Date(pod.deletingMs) }),
      },
      status: {
        phase: running ? 'Running' : 'Pending',
        ...(running ? { podIP: pod.ip } : {}),
        conditions: [
          { type: 'PodScheduled', status: 'True' },
          { type: 'Ready', status: pod.readyMs <= nowMs && pod.deletingMs === undefined ? 'True' : 'False' },
        ],
      },
    };
  }

  private uid(): string {
    return `uid-${this.nextUid++}`;
  }
}
