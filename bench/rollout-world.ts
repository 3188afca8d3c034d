/**
 * The simulated cluster of bench/rollout.ts: what the API server, the ReplicaSet controller and the kubelet would
 * do with the operator's plans, on a manual clock, for one TradingEngine. The API server's half (the children the
 * operator applied) is test support's SimulatedApiServer, the same as the rollout test world's; what differs is the
 * pods: here they start on sampled timings and carry a latency model. It runs each ReplicaSet's pods through Pending -> Running (pod IP) -> Ready (orders on, latency samples)
 * -> available after minReadySeconds, deletes pods on scale-down (not-ready first, then newest; 2 s drain), and
 * feeds every ready pod's latency model second by second. `observe` returns exactly what reconcile reads from its
 * informer caches (Observed without measurement and control).
 *
 *   plan --apply--> stored children --RS controller (20 ms)--> pods --kubelet--> Running, Ready, available
 *                                                                  '--> PodLatency windows (per second)
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { TradingEngine } from '../operator/api/types.ts';
import type { GateWindowReport } from '../engine/metrics/gate-window.ts';
import type { PodWindow } from '../operator/analysis/pod-scrape.ts';
import type { Observed, Plan } from '../operator/plan/plan.ts';
import { revisionLabels } from '../operator/render/labels.ts';
import { SimulatedApiServer, type StoredReplicaSet } from '../test/support/simulated-api-server.ts';
import { latencyModel, PodLatency, type Market, type Regression, type Rng } from './rollout-model.ts';
import { generateControlKeys } from '../engine/control/control-keys.ts';

/** The control keys of the simulated engine (the executor's fresh set; the simulation never talks CURVE). */
const benchControlKeys = generateControlKeys();

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

/** What the ReplicaSet controller has done with one ReplicaSet: the generation it last acted on, and when it acts next. */
interface ControllerState {
  observedGeneration: number;
  syncAtMs: number | undefined;
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

export class TimedWorld {
  readonly pods: SimPod[] = [];
  /** The children the operator applied, as the API server keeps them (shared with the rollout test world). */
  private readonly server = new SimulatedApiServer();
  private readonly controller = new Map<StoredReplicaSet, ControllerState>();
  private sampledUntilMs: number;
  private nextIp = 1;

  constructor(private readonly options: WorldOptions) {
    this.sampledUntilMs = Math.floor(options.samplingFromMs / 1000) * 1000;
  }

  /** Runs the ReplicaSet controller and the latency samples up to `nowMs`. */
  advanceTo(nowMs: number): void {
    for (;;) {
      let due: [StoredReplicaSet, ControllerState] | undefined;
      for (const entry of this.controller) {
        const syncAtMs = entry[1].syncAtMs;
        if (syncAtMs !== undefined && syncAtMs <= nowMs && (due === undefined || syncAtMs < (due[1].syncAtMs ?? 0))) due = entry;
      }
      if (due === undefined) break;
      this.syncReplicaSet(due[0], due[1], due[1].syncAtMs ?? nowMs);
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
    for (const state of this.controller.values()) consider(state.syncAtMs);
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
    const replicaSets = this.server.replicaSetObjects((rs) => {
      const observedGeneration = this.controller.get(rs)?.observedGeneration ?? 0;
      if (observedGeneration === 0) return { replicas: 0 };
      const active = this.pods.filter((pod) => pod.revision === rs.revision && pod.createdMs <= nowMs && pod.deletingMs === undefined);
      return {
        replicas: active.length,
        readyReplicas: active.filter((pod) => pod.readyMs <= nowMs).length,
        availableReplicas: active.filter((pod) => pod.readyMs + minReadyMs <= nowMs).length,
        observedGeneration,
      };
    });
    return {
      engine,
      replicaSets,
      configMaps: this.server.configMapObjects(),
      services: this.server.serviceObjects(),
      secrets: this.server.secretObjects(),
      networkPolicies: this.server.networkPolicyObjects(),
      pods: this.livePods(nowMs).map((pod) => this.podObject(engine, pod, nowMs)),
      newControlKeys: benchControlKeys,
    };
  }

  /**
   * Carries out a final plan's applies (those the reconciler would write) and deletes, as the API server would
   * take them; the ReplicaSet controller acts on each created, resized or deleted ReplicaSet 20 ms later. Returns
   * the number of API writes (the status write is the caller's).
   */
  apply(plan: Plan, nowMs: number): number {
    const { writes, changed } = this.server.apply(plan, nowMs);
    for (const rs of changed) {
      const state = this.controller.get(rs);
      if (state === undefined) this.controller.set(rs, { observedGeneration: 0, syncAtMs: nowMs + replicaSetSyncMs });
      else state.syncAtMs = nowMs + replicaSetSyncMs;
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

  /** The named pod's window report at `nowMs` (absolute), or undefined when the pod is gone. */
  podReport(podName: string, nowMs: number, maxAgeMs: number): GateWindowReport | undefined {
    return this.pods.find((candidate) => candidate.name === podName)?.latency.report(nowMs - this.options.t0Ms, maxAgeMs);
  }

  /** Pods of a revision that the gate could scrape at `nowMs` (Running, not terminating). */
  scrapeablePods(revision: string, nowMs: number): SimPod[] {
    return this.pods.filter((pod) => pod.revision === revision && pod.runningMs <= nowMs && pod.deletingMs === undefined && pod.createdMs <= nowMs);
  }

  /** The revision the named Service selects, or undefined when it selects every engine pod (or does not exist). */
  serviceRevision(name: string): string | undefined {
    const selection = this.server.serviceSelection(name);
    return selection === 'all' ? undefined : selection;
  }

  /** The ReplicaSet size the operator last applied for `revision` (0 when none). */
  specReplicas(revision: string): number {
    return this.server.specReplicas(revision);
  }

  /** Pods of a revision not yet gone at `nowMs` (terminating ones included). */
  livePodsOf(revision: string, nowMs: number): SimPod[] {
    return this.livePods(nowMs).filter((pod) => pod.revision === revision);
  }

  private livePods(nowMs: number): SimPod[] {
    return this.pods.filter((pod) => pod.createdMs <= nowMs && (pod.deletingMs === undefined || pod.deletingMs + drainMs > nowMs));
  }

  /** The ReplicaSet controller: observe the spec, then create or delete pods to match its size. */
  private syncReplicaSet(rs: StoredReplicaSet, state: ControllerState, atMs: number): void {
    state.syncAtMs = undefined;
    state.observedGeneration = rs.generation;
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

}
