import type { V1ConfigMap, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import type { TradingEngine, TradingEngineStatus } from '../api/types.ts';
import { configMaps, networkPolicies, replicaSets, secrets, services, type ResourceKind } from '../kube/resources.ts';
import { findCondition, mergeConditions, type DesiredCondition } from '../plan/conditions.ts';
import type { ApplyIntent, DeleteIntent, EventIntent, Observed, Plan } from '../plan/plan.ts';
import { configMapName, previewServiceName, renderConfigMap, renderReplicaSet, renderService, replicaSetName } from '../render/children.ts';
import { noModuleSources, type ModuleSources } from '../render/module-sources.ts';
import { analysisRecordName, endedAnalysisRecord, nextAnalysisRecord, readAnalysisRecord, recordLabel } from '../render/analysis-record.ts';
import { controlKeysOf, controlSecretName, hasControlSocket, renderControlSecret } from '../render/control-secret.ts';
import { revisionLabelOf, selectorLabels, selectorString } from '../render/labels.ts';
import { networkPolicyName, renderNetworkPolicy } from '../render/network-policy.ts';
import { creationMs } from '../rollout/pods.ts';
import type { RolloutPlan } from '../rollout/types.ts';

/**
 * decide's one shared assembly: turns a planner's RolloutPlan (whichever planner made it) into the reconcile plan.
 *
 * Children: the control Secret (with a control socket) and the NetworkPolicy (when the operator's settings ask
 * for one), the record of the gate's current analysis (every measurement, then the verdict), the engine Service (selecting `serviceRevision`, or every engine pod), the preview Service while a
 * planner names a preview revision (deleted otherwise), the update revision's ConfigMap and ReplicaSet at its
 * planned size (when the planner lists it), and every other revision's ReplicaSet at its planned size (0 when not
 * listed). History: ReplicaSets at 0 beyond `revisionHistoryLimit` are deleted, newest kept first, never the
 * stable revision nor one that still has pods or a size; ConfigMaps of revisions no longer kept go with them.
 * Status: computed whole from the previous one less the rollout-owned fields, the planner's rollout fields, the
 * replica counts over every ReplicaSet, and the conditions (Ready, Available, Progressing, LatencyHealthy,
 * GPUSchedulable, Paused, and ReplicaFailure while a ReplicaSet cannot create pods). Pure.
 */
export function assemble(engine: TradingEngine, observed: Observed, revision: string, rollout: RolloutPlan, nowMs: number, sources: ModuleSources = noModuleSources): Plan {
  const previous = engine.status ?? {};
  const generation = engine.metadata.generation ?? 0;
  const applies: ApplyIntent[] = [];
  const deletes: DeleteIntent[] = [];
  const events: EventIntent[] = [...rollout.events];

  const engineWide = engineWideChildren(engine, observed);
  applies.push(...engineWide.applies);
  deletes.push(...engineWide.deletes);
  events.push(...engineWide.events);

  const activeService = observed.services.find((service) => service.metadata?.name === engine.metadata.name);
  applies.push({ resource: services, object: renderService(engine, rollout.serviceRevision), observed: activeService });
  const previewService = observed.services.find((service) => service.metadata?.name === previewServiceName(engine));
  if (rollout.previewRevision !== undefined) {
    applies.push({ resource: services, object: renderService(engine, rollout.previewRevision, 'preview'), observed: previewService });
  } else if (previewService !== undefined) {
    deletes.push(deletionOf(services, previewService));
  }

  const current = observed.replicaSets.find((rs) => revisionLabelOf(rs) === revision);
  const currentWanted = rollout.replicas.get(revision);
  if (currentWanted !== undefined) {
    const configMap = renderConfigMap(engine, revision, sources);
    applies.push({ resource: configMaps, object: configMap, observed: observed.configMaps.find((cm) => cm.metadata?.name === configMap.metadata?.name) });
    applies.push({ resource: replicaSets, object: renderReplicaSet(engine, revision, currentWanted), observed: current });
    if (current === undefined) {
      events.push({ type: 'Normal', reason: 'RevisionCreated', message: `Created revision ${revision} (generation ${generation}, image ${engine.spec.template.image}) with ${currentWanted} replicas` });
    } else if ((current.spec?.replicas ?? 0) !== currentWanted) {
      events.push(scalingEvent(engine, revision, current.spec?.replicas ?? 0, currentWanted));
    }
  }

  const history = resizeAndPrune(engine, observed, revision, rollout);
  applies.push(...history.applies);
  deletes.push(...history.deletes);
  events.push(...history.events);

  const sum = (pick: (rs: V1ReplicaSet) => number | undefined): number => observed.replicaSets.reduce((total, rs) => total + (pick(rs) ?? 0), 0);
  const readyReplicas = sum((rs) => rs.status?.readyReplicas);
  const availableReplicas = sum((rs) => rs.status?.availableReplicas);
  const desired = engine.spec.replicas;
  const conditions: DesiredCondition[] = [
    rollout.ready ?? (readyReplicas >= desired
      ? { type: 'Ready', status: 'True', reason: 'AllReplicasReady', message: `${readyReplicas} engine pods ready (${desired} wanted) while rolling out ${revision}` }
      : { type: 'Ready', status: 'False', reason: 'ReplicasNotReady', message: `${readyReplicas} engine pods ready, ${desired} wanted` }),
    availableReplicas >= desired
      ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: `${availableReplicas} pods available, ${desired} wanted` }
      : { type: 'Available', status: 'False', reason: 'ReplicasUnavailable', message: `${availableReplicas} pods available, ${desired} wanted` },
    rollout.progressing,
  ];
  if (rollout.latencyHealthy !== undefined) conditions.push(rollout.latencyHealthy);
  const failure = replicaFailure(observed.replicaSets, previous);
  if (failure !== undefined) {
    conditions.push(failure.condition);
    if (failure.event !== undefined) events.push(failure.event);
  }
  const crash = engineFailure(observed.pods, previous, nowMs);
  if (crash !== undefined) {
    conditions.push(crash.condition);
    if (crash.event !== undefined) events.push(crash.event);
  }
  const gpu = gpuCondition(engine, observed.pods, previous);
  if (gpu !== undefined) {
    conditions.push(gpu.condition);
    if (gpu.event !== undefined) events.push(gpu.event);
  }
  conditions.push(pausedCondition(engine));
  if (findCondition(previous.conditions, 'Ready')?.reason === 'InvalidSpec') {
    events.push({ type: 'Normal', reason: 'SpecValid', message: `The spec of generation ${generation} is valid again` });
  }

  const status: TradingEngineStatus = {
    ...withoutRolloutFields(previous),
    ...rollout.status,
    observedGeneration: generation,
    replicas: sum((rs) => rs.status?.replicas),
    updatedReplicas: current?.status?.replicas ?? 0,
    readyReplicas,
    availableReplicas,
    readyText: `${readyReplicas}/${desired}`,
    selector: selectorString(selectorLabels(engine)),
    ...(rollout.stableRevision === undefined ? {} : { stableRevision: rollout.stableRevision }),
    updateRevision: revision,
    phase: rollout.phase,
    // Why no pod can exist says more than how far the rollout got.
    message: failure?.condition.message ?? crash?.condition.message ?? rollout.message ?? rollout.progressing.message,
    conditions: mergeConditions(previous.conditions, conditions, generation, nowMs),
  };
  applies.push(...analysisRecords(engine, observed, status, deletes, nowMs));
  return { applies, deletes, events, status, ...(rollout.requeueAfterMs === undefined ? {} : { requeueAfterMs: rollout.requeueAfterMs }) };
}

/**
 * The records of the gate's analyses (analysis-record.ts): the current analysis's, created at its first measurement,
 * extended by each later one and closed with the verdict (or as Aborted); and every other open record, whose
 * analysis was superseded, closed as Ended. Records being deleted in this plan (pruned with their revision) are
 * left alone.
 */
function analysisRecords(engine: TradingEngine, observed: Observed, status: TradingEngineStatus, deletes: readonly DeleteIntent[], nowMs: number): ApplyIntent[] {
  const intents: ApplyIntent[] = [];
  const analysis = status.analysis;
  const currentName = analysis?.revision === undefined || analysis.startedAt === undefined ? undefined : analysisRecordName(engine, analysis.revision, analysis.startedAt);
  const deleting = new Set(deletes.filter((removal) => removal.resource === configMaps).map((removal) => removal.name));
  for (const configMap of observed.configMaps) {
    const name = configMap.metadata?.name ?? '';
    // Closed records are immutable and revision ConfigMaps are no records: only open records are parsed, not the
    // whole history on every decide pass.
    if (configMap.immutable === true || configMap.metadata?.labels?.[recordLabel.key] !== recordLabel.value) continue;
    const record = readAnalysisRecord(configMap);
    if (record === undefined || record.outcome !== undefined || name === currentName || deleting.has(name)) continue;
    intents.push({ resource: configMaps, object: endedAnalysisRecord(engine, record), observed: configMap });
  }
  if (currentName !== undefined && !deleting.has(currentName)) {
    const current = observed.configMaps.find((cm) => cm.metadata?.name === currentName);
    const next = nextAnalysisRecord(engine, analysis, current, nowMs, status.abort === true);
    if (next !== undefined) intents.push({ resource: configMaps, object: next, observed: current });
  }
  return intents;
}

/**
 * The children one per TradingEngine that every revision shares, other than Services: the control Secret while the
 * engine has a control socket (its own keys kept; a fresh set from the executor when it has none, or none valid),
 * and the NetworkPolicy while the operator's settings ask for one. Each is deleted when no longer wanted.
 */
function engineWideChildren(engine: TradingEngine, observed: Observed): Pick<Plan, 'applies' | 'deletes' | 'events'> {
  const applies: ApplyIntent[] = [];
  const deletes: DeleteIntent[] = [];
  const events: EventIntent[] = [];
  const secret = observed.secrets?.find((candidate) => candidate.metadata?.name === controlSecretName(engine));
  if (hasControlSocket(engine)) {
    const own = controlKeysOf(secret);
    const keys = own ?? observed.newControlKeys;
    if (keys === undefined) throw new Error(`TradingEngine ${engine.metadata.name ?? ''} needs control keys and the executor gave none (Observed.newControlKeys)`);
    applies.push({ resource: secrets, object: renderControlSecret(engine, keys), observed: secret });
    if (secret !== undefined && own === undefined) {
      events.push({
        type: 'Warning', reason: 'ControlKeysReplaced',
        message: `Secret ${controlSecretName(engine)} did not hold four valid control keys: replaced with new ones; pods started with the old keys cannot be reached through their control socket until they restart`,
      });
    }
  } else if (secret !== undefined) {
    deletes.push(deletionOf(secrets, secret));
  }
  const policy = observed.networkPolicies?.find((candidate) => candidate.metadata?.name === networkPolicyName(engine));
  const settings = observed.settings?.networkPolicy;
  if (settings !== undefined) applies.push({ resource: networkPolicies, object: renderNetworkPolicy(engine, settings), observed: policy });
  else if (policy !== undefined) deletes.push(deletionOf(networkPolicies, policy));
  return { applies, deletes, events };
}

/**
 * Every ReplicaSet but the update revision's at its planned size, and the history beyond revisionHistoryLimit
 * deleted: walking from the newest, a revision is kept while it is planned above 0, has a size or pods, is the
 * stable one, or fits in the limit of idle (planned 0) revisions. A ReplicaSet resized in this pass is kept in it.
 */
function resizeAndPrune(engine: TradingEngine, observed: Observed, revision: string, rollout: RolloutPlan): Pick<Plan, 'applies' | 'deletes' | 'events'> {
  const applies: ApplyIntent[] = [];
  const deletes: DeleteIntent[] = [];
  const events: EventIntent[] = [];
  const historyLimit = engine.spec.revisionHistoryLimit;
  const stable = rollout.stableRevision;
  const kept = new Set<string>([revision]);
  if (stable !== undefined) kept.add(stable);
  let keptIdle = 0;
  const others = observed.replicaSets
    .filter((rs) => revisionLabelOf(rs) !== revision)
    .sort((a, b) => creationMs(b) - creationMs(a));
  for (const rs of others) {
    const rsRevision = revisionLabelOf(rs);
    const size = rs.spec?.replicas ?? 0;
    const wanted = rollout.replicas.get(rsRevision) ?? 0;
    if (size !== wanted) {
      applies.push({ resource: replicaSets, object: scaledCopy(rs, wanted), observed: rs });
      events.push(scalingEvent(engine, rsRevision, size, wanted));
    }
    if (wanted > 0 || size > 0 || rsRevision === stable || (rs.status?.replicas ?? 0) > 0 || keptIdle < historyLimit) {
      kept.add(rsRevision);
      if (wanted === 0 && rsRevision !== stable) keptIdle++;
      continue;
    }
    deletes.push(deletionOf(replicaSets, rs));
    events.push({ type: 'Normal', reason: 'RevisionPruned', message: `Deleted ReplicaSet ${rs.metadata?.name ?? ''} of revision ${rsRevision} (revisionHistoryLimit ${historyLimit})` });
  }
  deletes.push(...orphanedConfigMaps(engine, observed.configMaps, kept, revision));
  return { applies, deletes, events };
}

/** The status without the rollout-owned fields, which the planner's status replaces whole. */
function withoutRolloutFields(status: TradingEngineStatus): TradingEngineStatus {
  const {
    currentStepIndex: _step, canary: _canary, blueGreen: _blueGreen, abort: _abort, promoteFull: _full, promotedStep: _promoted,
    pauseConditions: _pause, analysis: _analysis, stableHistory: _history, progressStartedAt: _deadline, abortedAt: _abortedAt,
    abortReason: _abortReason, promotionConfirmation: _confirmation, rolloutStartedAt: _started, ...rest
  } = status;
  return rest;
}

/** A ReplicaSet resized, applying only the fields the operator owns (the template and selector were applied at creation). */
function scaledCopy(rs: V1ReplicaSet, replicas: number): V1ReplicaSet {
  return {
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
}

/**
 * ReplicaFailure when a ReplicaSet of the engine cannot create its pods (its own ReplicaFailure condition: a
 * missing RuntimeClass, a quota, an admission webhook), so the engine says why no pod exists instead of only
 * "0/4 available" until the progress deadline; a Warning with the same reason (FailedCreate) when it first appears
 * or its message changes. Absent when every ReplicaSet creates its pods.
 */
function replicaFailure(replicaSetsSeen: readonly V1ReplicaSet[], previous: TradingEngineStatus): { condition: DesiredCondition; event?: EventIntent } | undefined {
  for (const rs of replicaSetsSeen) {
    const failed = rs.status?.conditions?.find((condition) => condition.type === 'ReplicaFailure' && condition.status === 'True');
    if (failed === undefined) continue;
    const condition: DesiredCondition = {
      type: 'ReplicaFailure', status: 'True', reason: failed.reason ?? 'FailedCreate',
      message: `ReplicaSet ${rs.metadata?.name ?? ''} cannot create pods: ${failed.message ?? 'no message'}`,
    };
    const before = findCondition(previous.conditions, 'ReplicaFailure');
    const event: EventIntent | undefined = before?.message === condition.message ? undefined : { type: 'Warning', reason: condition.reason, message: condition.message };
    return event === undefined ? { condition } : { condition, event };
  }
  return undefined;
}

/** How long a container's last failed run counts after it ended. */
const engineFailureMemoryMs = 5 * 60_000;

/**
 * EngineFailing: an engine container that is not ready, not being deleted, and has ended, or restarted after a run
 * that ended in the last five minutes, with a non-zero exit, with the
 * container's termination message (the engine writes why it stopped: a configuration or strategy module it
 * rejects exits 2 naming the module and the reason; a strategy that never returns is named by the watchdog), and
 * an EngineExited Warning each time that message changes. Undefined while no engine container is failing.
 */
function engineFailure(pods: readonly V1Pod[], previous: TradingEngineStatus, nowMs: number): { condition: DesiredCondition; event?: EventIntent } | undefined {
  for (const pod of [...pods].sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''))) {
    const container = pod.status?.containerStatuses?.find((status) => status.name === 'engine');
    if (container === undefined || container.ready || pod.metadata?.deletionTimestamp !== undefined) continue;
    // Ended now, or restarted after a run that ended within the last five minutes (a crash loop keeps it fresh):
    // not an old crash of a pod that is merely not ready at the moment (draining, warming up).
    const last = container.lastState?.terminated;
    const recent = last?.finishedAt !== undefined && new Date(last.finishedAt as unknown as string).getTime() >= nowMs - engineFailureMemoryMs;
    const ended = container.state?.terminated ?? (recent ? last : undefined);
    if (ended === undefined || ended.exitCode === 0) continue;
    const meaning = ended.exitCode === 2 ? 'its configuration or a strategy module was rejected' : ended.exitCode === 137 ? 'killed' : ended.reason ?? 'failed';
    const why = (ended.message ?? '').trim().split('\n').slice(-3).join(' ').slice(0, 1_024);
    const condition: DesiredCondition = {
      type: 'EngineFailing', status: 'True', reason: ended.exitCode === 2 ? 'ConfigurationRejected' : 'EngineExited',
      message: `Pod ${pod.metadata?.name ?? ''}: the engine exited with code ${ended.exitCode} (${meaning}; ${container.restartCount} restarts)${why === '' ? '' : `: ${why}`}`,
    };
    const before = findCondition(previous.conditions, 'EngineFailing');
    const sameCause = before?.reason === condition.reason && before.message.replace(/; \d+ restarts\)/, '') === condition.message.replace(/; \d+ restarts\)/, '');
    return sameCause ? { condition } : { condition, event: { type: 'Warning', reason: 'EngineExited', message: condition.message } };
  }
  return undefined;
}

/** The scheduler's message when `pod` is unschedulable for lack of `resourceName`, else undefined. */
function unschedulableFor(pod: V1Pod, resourceName: string): string | undefined {
  const scheduled = pod.status?.conditions?.find((condition) => condition.type === 'PodScheduled');
  if (scheduled?.status !== 'False' || scheduled.reason !== 'Unschedulable') return undefined;
  return scheduled.message?.includes(resourceName) === true ? scheduled.message : undefined;
}

/** GPUSchedulable for a GPU engine (undefined otherwise), with an InsufficientGPU Warning when it turns False. */
function gpuCondition(
  engine: TradingEngine,
  pods: readonly V1Pod[],
  previous: TradingEngineStatus,
): { condition: DesiredCondition; event?: EventIntent } | undefined {
  const gpu = engine.spec.template.gpu;
  if (gpu === undefined) return undefined;
  if (pods.length === 0) {
    // Nothing to say about pods that do not exist (ReplicaFailure says why, when a ReplicaSet knows).
    return { condition: { type: 'GPUSchedulable', status: 'Unknown', reason: 'NoPods', message: 'No engine pod exists yet' } };
  }
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

function pausedCondition(engine: TradingEngine): DesiredCondition {
  return engine.spec.paused
    ? { type: 'Paused', status: 'True', reason: 'SpecPaused', message: 'spec.paused is true: no new revision starts and rollout steps do not advance' }
    : { type: 'Paused', status: 'False', reason: 'NotPaused', message: 'Rollouts proceed' };
}

/** A delete of one observed child, with its uid as the precondition. */
function deletionOf(resource: ResourceKind, object: { metadata?: { namespace?: string; name?: string; uid?: string } }): DeleteIntent {
  return { resource, namespace: object.metadata?.namespace ?? '', name: object.metadata?.name ?? '', uid: object.metadata?.uid ?? '' };
}

/** Deletes for the ConfigMaps of revisions no longer kept (never the current revision's). */
function orphanedConfigMaps(engine: TradingEngine, observed: readonly V1ConfigMap[], keptRevisions: ReadonlySet<string>, revision: string): DeleteIntent[] {
  return observed
    .filter((cm) => !keptRevisions.has(revisionLabelOf(cm)) && cm.metadata?.name !== configMapName(engine, revision))
    .map((cm) => deletionOf(configMaps, cm));
}

/** The ScalingReplicaSet Event of a revision's ReplicaSet resized from `from` to `to` pods. */
function scalingEvent(engine: TradingEngine, revision: string, from: number, to: number): EventIntent {
  return { type: 'Normal', reason: 'ScalingReplicaSet', message: `Scaled ReplicaSet ${replicaSetName(engine, revision)} from ${from} to ${to}` };
}
