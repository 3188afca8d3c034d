import type { V1Pod } from '@kubernetes/client-node';
import type { CanaryStatus, CutPod } from '../api/types.ts';
import { findCondition, type DesiredCondition } from '../plan/conditions.ts';
import type { EventIntent } from '../plan/plan.ts';
import { controlTargets, reachablePods, specReplicas } from './pods.ts';
import { latencyCondition, requestFields } from './status-fields.ts';
import type { AbortReason, RolloutInput, RolloutPlan, RolloutStatus } from './types.ts';
import type { PodControlRequest } from '../plan/needs.ts';

/** The most pods kept in status.canary.cutPods and ordersOffPods (the CRD's maxItems). */
const ordersOffPodsLimit = 1000;

export interface OrdersCut {
  readonly canary: CanaryStatus;
  /** Pods whose orders could not be cut: they are scaled down at once. */
  readonly failedPods: readonly string[];
  readonly events: readonly EventIntent[];
  readonly needs?: PodControlRequest;
}

/** A pod's engine container as it is now: the pod's UID and the engine container's restart count. */
export function incarnationOf(pod: V1Pod): CutPod {
  const restarts = pod.status?.containerStatuses?.find((container) => container.name === 'engine')?.restartCount ?? 0;
  return { pod: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '', restarts };
}

/**
 * Cuts the order flow of every reachable pod of `revision` not yet cut, through its control socket (the latched
 * `cut`): the first thing an abort does, because it bounds the financial blast radius at once, before any pod is
 * stopped. First pass: a control request. Second pass (results in the input): the pods cut are recorded in
 * status.canary.cutPods, each with its UID and restart count, and by name in ordersOffPods; pods that could not
 * be cut (unreachable, refused, no control endpoint) are reported and must be scaled down at once.
 *
 * A cut is kept per container incarnation, not per name: on every reconcile while aborted, a pod whose engine
 * container restarted since its cut (or a new pod under the same name) is cut again once ready, with a Warning. The engine
 * latches the cut in its state emptyDir, so a restarted container comes back cut anyway; this re-check is how the
 * operator knows, and what covers a lost emptyDir. Pods that started after the cut are cut on a later
 * reconcile. Pure.
 */
export function cutOrders(input: RolloutInput, revision: string, canary: CanaryStatus, role: string): OrdersCut {
  const podsByName = new Map(input.pods.map((pod) => [pod.metadata?.name ?? '', pod]));
  const isCurrent = (cut: CutPod): boolean => {
    const pod = podsByName.get(cut.pod);
    if (pod === undefined) return false;
    const now = incarnationOf(pod);
    return now.uid === cut.uid && now.restarts === cut.restarts;
  };
  const recorded = canary.cutPods ?? [];
  // A container restarted since its cut is cut again once it is ready (before, its control socket may not answer,
  // and it comes back cut from its latch anyway); until then its last confirmed cut stays on record.
  const engineReady = (name: string): boolean => podsByName.get(name)?.status?.containerStatuses?.find((container) => container.name === 'engine')?.ready === true;
  const stillCut = recorded.filter((cut) => isCurrent(cut) || (podsByName.has(cut.pod) && !engineReady(cut.pod)));
  const pending = reachablePods(input.pods, revision).filter((pod) => !stillCut.some((cut) => cut.pod === pod.name));
  const ordersOffAt = canary.ordersOffAt ?? new Date(input.nowMs).toISOString();
  const withCut = (cut: readonly CutPod[]): CanaryStatus => {
    const all = [...stillCut, ...cut].slice(0, ordersOffPodsLimit);
    return { ...canary, weight: 0, ordersEnabled: false, cutPods: all, ordersOffPods: all.map((pod) => pod.pod), ordersOffAt };
  };
  if (pending.length === 0) return { canary: withCut([]), failedPods: [], events: [] };
  const targets = controlTargets(input.engine, pending);
  if (targets === undefined) {
    const names = pending.map((pod) => pod.name);
    return {
      canary: withCut([]),
      failedPods: names,
      events: [{ type: 'Warning', reason: 'OrdersOffFailed', message: `No control endpoint (role control, bindPort) to cut orders on ${role} pods ${names.join(', ')}: scaling them down now` }],
    };
  }
  if (input.control === undefined) return { canary: withCut([]), failedPods: [], events: [], needs: { command: 'cut', targets } };
  const results = new Map(input.control.map((result) => [result.pod, result]));
  const cut = pending.filter((pod) => results.get(pod.name)?.ok === true).map((pod) => pod.name);
  const failed = pending.filter((pod) => results.get(pod.name)?.ok !== true);
  const events: EventIntent[] = [];
  const restarted = pending.flatMap((pod) => {
    const before = recorded.find((cutPod) => cutPod.pod === pod.name);
    const now = incarnationOf(podsByName.get(pod.name) ?? {});
    return before === undefined ? [] : [`${pod.name} (${before.uid === now.uid ? `restarts ${before.restarts} -> ${now.restarts}` : 'a new pod under the same name'})`];
  });
  if (restarted.length > 0) {
    events.push({ type: 'Warning', reason: 'CutPodRestarted', message: `${role} pods ${restarted.join(', ')} of aborted revision ${revision} restarted after their cut: cutting them again` });
  }
  if (cut.length > 0) {
    const slowest = Math.max(...cut.map((pod) => results.get(pod)?.micros ?? 0));
    events.push({
      type: 'Normal', reason: 'OrdersOff',
      message: `Orders off on ${cut.length}/${pending.length} ${role} pods of revision ${revision} (${cut.join(', ')}); slowest control round trip ${(slowest / 1000).toFixed(1)} ms`,
    });
  }
  if (failed.length > 0) {
    const detail = failed.map((pod) => `${pod.name} (${results.get(pod.name)?.error ?? 'not attempted'})`).join(', ');
    events.push({ type: 'Warning', reason: 'OrdersOffFailed', message: `Could not cut orders on ${role} pods ${detail}: scaling them down now` });
  }
  return { canary: withCut(cut.map((name) => incarnationOf(podsByName.get(name) ?? {}))), failedPods: failed.map((pod) => pod.name), events };
}

export interface AbortArgs {
  /** The revision being rolled back (canary or blue-green preview). */
  readonly revision: string;
  readonly reason: AbortReason;
  /** Why, with the measured value and the threshold when the gate decided it. */
  readonly message: string;
  readonly delaySeconds: number;
  readonly status: RolloutStatus;
  /** 'canary' or 'preview', for messages. */
  readonly role: string;
}

/**
 * An aborted rollout, from the moment of the abort until the spec changes or a retry: orders off on the failed
 * revision's pods (first), the Service back on stable, the stable set at spec.replicas, and the failed revision
 * scaled to zero `delaySeconds` after the abort (at once for pods whose orders could not be cut). Pure.
 */
export function abortedPlan(input: RolloutInput, args: AbortArgs): RolloutPlan {
  const { engine, nowMs, stableRevision } = input;
  const previous = engine.status ?? {};
  const firstTime = previous.abortedAt === undefined || previous.updateRevision !== input.revision;
  const abortedAt = firstTime ? new Date(nowMs).toISOString() : previous.abortedAt ?? new Date(nowMs).toISOString();
  const cut = cutOrders(input, args.revision, args.status.canary ?? {}, args.role);
  const scaleDownAtMs = Date.parse(abortedAt) + args.delaySeconds * 1000;
  const failedRs = input.replicaSets.get(args.revision);
  const running = reachablePods(input.pods, args.revision).length;
  const keep = cut.failedPods.length > 0 || nowMs >= scaleDownAtMs ? 0 : Math.min(specReplicas(failedRs), running);
  const events: EventIntent[] = [];
  if (firstTime && cut.needs === undefined) {
    const scaleDown = keep === 0 ? 'scaled down now' : `scaled down in ${args.delaySeconds} s`;
    events.push({ type: 'Warning', reason: 'RolloutAborted', message: `Aborted revision ${args.revision} (${args.reason}): ${args.message}; ${args.role} ${scaleDown}, stable ${stableRevision} keeps ${engine.spec.replicas} pods` });
  }
  events.push(...cut.events);
  const message = firstTime
    ? `Aborted (${args.reason}): ${args.message}`
    : findCondition(previous.conditions, 'Progressing')?.message ?? `Aborted (${args.reason}): ${args.message}`;
  const progressing: DesiredCondition = { type: 'Progressing', status: 'False', reason: 'RolloutAborted', message };
  const status: RolloutStatus = {
    ...args.status,
    ...requestFields(),
    abort: true,
    abortedAt,
    abortReason: firstTime ? args.reason : previous.abortReason ?? args.reason,
    canary: cut.canary,
    pauseConditions: [],
  };
  const latency = latencyCondition(engine, status.analysis);
  return {
    replicas: new Map([[stableRevision, engine.spec.replicas], [args.revision, keep]]),
    serviceRevision: stableRevision,
    stableRevision,
    status,
    phase: 'Aborted',
    progressing,
    ...(latency === undefined ? {} : { latencyHealthy: latency }),
    events,
    ...(cut.needs === undefined ? {} : { needs: { control: cut.needs } }),
    ...(keep > 0 ? { requeueAfterMs: Math.max(1, scaleDownAtMs - nowMs) } : {}),
  };
}
