import type { V1ConfigMap, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import type { TradingEngine, TradingEngineStatus } from '../api/types.ts';
import { configMaps, type ResourceKind } from '../kube/resources.ts';
import { configMapName, replicaSetName } from '../render/children.ts';
import { labelKeys } from '../render/labels.ts';
import { findCondition, type DesiredCondition } from './conditions.ts';
import type { DeleteIntent, EventIntent } from './observed.ts';

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

/** A delete of one observed child, with its uid as the precondition. */
export function deletionOf(resource: ResourceKind, object: { metadata?: { namespace?: string; name?: string; uid?: string } }): DeleteIntent {
  return { resource, namespace: object.metadata?.namespace ?? '', name: object.metadata?.name ?? '', uid: object.metadata?.uid ?? '' };
}

/** The RevisionPruned Event of a ReplicaSet deleted beyond revisionHistoryLimit. */
export function prunedEvent(rs: V1ReplicaSet, revision: string, historyLimit: number): EventIntent {
  return { type: 'Normal', reason: 'RevisionPruned', message: `Deleted ReplicaSet ${rs.metadata?.name ?? ''} of revision ${revision} (revisionHistoryLimit ${historyLimit})` };
}

/** Deletes for the ConfigMaps of revisions no longer kept (never the current revision's). */
export function orphanedConfigMaps(engine: TradingEngine, observed: readonly V1ConfigMap[], keptRevisions: ReadonlySet<string>, revision: string): DeleteIntent[] {
  return observed
    .filter((cm) => !keptRevisions.has(cm.metadata?.labels?.[labelKeys.revision] ?? '') && cm.metadata?.name !== configMapName(engine, revision))
    .map((cm) => deletionOf(configMaps, cm));
}

/** The ScalingReplicaSet Event of a revision's ReplicaSet resized from `from` to `to` pods. */
export function scalingEvent(engine: TradingEngine, revision: string, from: number, to: number): EventIntent {
  return { type: 'Normal', reason: 'ScalingReplicaSet', message: `Scaled ReplicaSet ${replicaSetName(engine, revision)} from ${from} to ${to}` };
}
