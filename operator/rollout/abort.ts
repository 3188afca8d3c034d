import type { CanaryStatus } from '../api/types.ts';
import { findCondition, type DesiredCondition } from '../plan/conditions.ts';
import type { EventIntent } from '../plan/plan.ts';
import { controlTargets, reachablePods, specReplicas } from './pods.ts';
import { latencyCondition, requestFields } from './status-fields.ts';
import type { AbortReason, RolloutInput, RolloutPlan, RolloutStatus } from './types.ts';
import type { PodControlRequest } from '../plan/needs.ts';

/** The most pod names kept in status.canary.ordersOffPods (the CRD's maxItems). */
const ordersOffPodsLimit = 1000;

export interface OrdersCut {
  readonly canary: CanaryStatus;
  /** Pods whose orders could not be cut: they are scaled down at once. */
  readonly failedPods: readonly string[];
  readonly events: readonly EventIntent[];
  readonly needs?: PodControlRequest;
}

/**
 * Cuts the order flow of every reachable pod of `revision` not yet cut, through its control socket (orders-off):
 * the first thing an abort does, because it bounds the financial blast radius at once, before any pod is
 * stopped. First pass: a control request. Second pass (results in the input): the pods cut are recorded in
 * status.canary.ordersOffPods; pods that could not be cut (unreachable, refused, no control endpoint) are
 * reported and must be scaled down at once. Pods that started after the cut are cut on a later reconcile. Pure.
 */
export function cutOrders(input: RolloutInput, revision: string, canary: CanaryStatus, role: string): OrdersCut {
  const livePods = new Set(input.pods.map((pod) => pod.metadata?.name ?? ''));
  const alreadyCut = (canary.ordersOffPods ?? []).filter((pod) => livePods.has(pod));
  const pending = reachablePods(input.pods, revision).filter((pod) => !alreadyCut.includes(pod.name));
  const ordersOffAt = canary.ordersOffAt ?? new Date(input.nowMs).toISOString();
  const recorded = (cut: readonly string[]): CanaryStatus => ({
    ...canary,
    weight: 0,
    ordersEnabled: false,
    ordersOffPods: [...alreadyCut, ...cut].slice(0, ordersOffPodsLimit),
    ordersOffAt,
  });
  if (pending.length === 0) return { canary: recorded([]), failedPods: [], events: [] };
  const targets = controlTargets(input.engine, pending);
  if (targets === undefined) {
    const names = pending.map((pod) => pod.name);
    return {
      canary: recorded([]),
      failedPods: names,
      events: [{ type: 'Warning', reason: 'OrdersOffFailed', message: `No control endpoint (role control, bindPort) to cut orders on ${role} pods ${names.join(', ')}: scaling them down now` }],
    };
  }
  if (input.control === undefined) return { canary: recorded([]), failedPods: [], events: [], needs: { command: 'orders-off', targets } };
  const results = new Map(input.control.map((result) => [result.pod, result]));
  const cut = pending.filter((pod) => results.get(pod.name)?.ok === true).map((pod) => pod.name);
  const failed = pending.filter((pod) => results.get(pod.name)?.ok !== true);
  const events: EventIntent[] = [];
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
  return { canary: recorded(cut), failedPods: failed.map((pod) => pod.name), events };
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
