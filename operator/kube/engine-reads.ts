import type { KubeConfig, V1ConfigMap, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { readAnalysisRecord, recordLabel, type AnalysisRecord } from '../render/analysis-record.ts';
import { engineAppName, labelKeys } from '../render/labels.ts';
import { apiRequest } from './api-request.ts';
import { collectionPath, configMaps, pods, replicaSets } from './resources.ts';

/**
 * Reads of one TradingEngine's children for people's tools (`nexus rollout history`, `nexus dashboard`): by the
 * labels the operator puts on them, straight from the API server with the caller's own credentials, so each shows
 * exactly what the caller may read.
 */

/** The analysis records of one TradingEngine (its ConfigMaps labelled as records), as the operator wrote them. */
export async function readAnalysisRecords(kubeConfig: KubeConfig, namespace: string, name: string): Promise<AnalysisRecord[]> {
  const list = await apiRequest<{ items: V1ConfigMap[] }>(kubeConfig, {
    method: 'GET',
    path: collectionPath(configMaps, namespace),
    query: { labelSelector: `${labelKeys.instance}=${name},${recordLabel.key}=${recordLabel.value}` },
  });
  return list.items.map(readAnalysisRecord).filter((record): record is AnalysisRecord => record !== undefined);
}

/** The engine's ReplicaSets (one per revision) and its engine pods. */
export async function readEngineWorkloads(kubeConfig: KubeConfig, namespace: string, name: string): Promise<{ readonly replicaSets: V1ReplicaSet[]; readonly pods: V1Pod[] }> {
  const labelSelector = `${labelKeys.name}=${engineAppName},${labelKeys.instance}=${name}`;
  const [sets, podList] = await Promise.all([
    apiRequest<{ items: V1ReplicaSet[] }>(kubeConfig, { method: 'GET', path: collectionPath(replicaSets, namespace), query: { labelSelector } }),
    apiRequest<{ items: V1Pod[] }>(kubeConfig, { method: 'GET', path: collectionPath(pods, namespace), query: { labelSelector } }),
  ]);
  return { replicaSets: sets.items, pods: podList.items };
}
