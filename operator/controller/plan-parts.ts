import type { V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import type { TradingEngine, TradingEngineStatus } from '../api/types.ts';
import { findCondition, type DesiredCondition } from './conditions.ts';
import type { EventIntent } from './observed.ts';

/** Pieces shared by the reconcile decisions (decide.ts for replace, decide-rollout.ts for canary and blue-green). */

export function creationMs(object: { metadata?: { creationTimestamp?: Date | string } } | undefined): number {
  const stamp = object?.metadata?.creationTimestamp;
  return stamp === undefined ? 0 : new Date(stamp).getTime();
}

export function scaledCopy(rs: V1ReplicaSet, replicas: number): V1ReplicaSet {
  // Apply only the fields the operator owns; the template and selector were applied when it was created.
  const applied: V1ReplicaSet = {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: rs.metadata?.name,
      namespace: rs.metadata?.namespace,
      labels: rs.metadata?.labels,
      annotations: { ...rs.metadata?.annotations },
      ownerReferences: rs.metadata?.ownerReferences,
    },
    spec: { ...rs.spec, replicas, selector: rs.spec?.selector ?? {}, template: rs.spec?.template },
  };
  return applied;
}

/** The scheduler's message when `pod` is unschedulable for lack of `resourceName`, else undefined. */
export function unschedulableFor(pod: V1Pod, resourceName: string): string | undefined {
  const scheduled = pod.status?.conditions?.find((condition) => condition.type === 'PodScheduled');
  if (scheduled?.status !== 'False' || scheduled.reason !== 'Unschedulable') return undefined;
  return scheduled.message?.includes(resourceName) === true ? scheduled.message : undefined;
}


/** GPUSchedulable for a GPU engine (undefined otherwise), with an InsufficientGPU Warning when it turns False. */
export function gpuCondition(
  engine: TradingEngine,
  pods: readonly V1Pod[],
  previous: TradingEngineStatus,
): { condition: DesiredCondition; event?: EventIntent } | undefined {
  const gpu = engine.spec.template.gpu;
  if (gpu === undefined) return undefined;
  const starved = pods.find((pod) => unschedulableFor(pod, gpu.resourceName) !== undefined);
  const schedulerMessage = starved === undefined ? undefined : unschedulableFor(starved, gpu.resourceName);
  const condition: DesiredCondition = schedulerMessage === undefined
    ? { type: 'GPUSchedulable', status: 'True', reason: 'GPUsAllocated', message: `Every scheduled pod has ${gpu.count} ${gpu.resourceName}` }
    : { type: 'GPUSchedulable', status: 'False', reason: 'InsufficientGPU', message: `Pod ${starved?.metadata?.name ?? ''} cannot be scheduled: ${schedulerMessage}` };
  const before = findCondition(previous.conditions, 'GPUSchedulable');
  const event: EventIntent | undefined = schedulerMessage !== undefined && before?.reason !== 'InsufficientGPU'
    ? { type: 'Warning', reason: 'InsufficientGPU', message: condition.message }
    : undefined;
  return event === undefined ? { condition } : { condition, event };
}

export function pausedCondition(engine: TradingEngine): DesiredCondition {
  return engine.spec.paused
    ? { type: 'Paused', status: 'True', reason: 'SpecPaused', message: 'spec.paused is true: no new revision starts and rollout steps do not advance' }
    : { type: 'Paused', status: 'False', reason: 'NotPaused', message: 'Rollouts proceed' };
}
