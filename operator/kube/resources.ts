import { apiVersion as engineApiVersion, kind as engineKind, plural as enginePlural } from '../api/generated.ts';

/** A resource the operator reads or writes: enough to build its REST paths. */
export interface ResourceKind {
  readonly apiVersion: string;
  readonly kind: string;
  readonly plural: string;
}

export const tradingEngines: ResourceKind = { apiVersion: engineApiVersion, kind: engineKind, plural: enginePlural };
export const replicaSets: ResourceKind = { apiVersion: 'apps/v1', kind: 'ReplicaSet', plural: 'replicasets' };
export const configMaps: ResourceKind = { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps' };
export const services: ResourceKind = { apiVersion: 'v1', kind: 'Service', plural: 'services' };
export const pods: ResourceKind = { apiVersion: 'v1', kind: 'Pod', plural: 'pods' };
export const secrets: ResourceKind = { apiVersion: 'v1', kind: 'Secret', plural: 'secrets' };
/** The reusable gate definitions TradingEngines name in spec.analysis.gateRef (crds/latencygate.yaml, clusterlatencygate.yaml). */
export const latencyGates: ResourceKind = { apiVersion: engineApiVersion, kind: 'LatencyGate', plural: 'latencygates' };
export const clusterLatencyGates: ResourceKind = { apiVersion: engineApiVersion, kind: 'ClusterLatencyGate', plural: 'clusterlatencygates' };
export const networkPolicies: ResourceKind = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', plural: 'networkpolicies' };

/**
 * The collection path of a resource, cluster-wide or in one namespace. Examples: pods, all namespaces ->
 * `/api/v1/pods`; replicasets in `trading` -> `/apis/apps/v1/namespaces/trading/replicasets`.
 */
export function collectionPath(resource: ResourceKind, namespace?: string): string {
  const prefix = resource.apiVersion.includes('/') ? `/apis/${resource.apiVersion}` : `/api/${resource.apiVersion}`;
  return namespace === undefined ? `${prefix}/${resource.plural}` : `${prefix}/namespaces/${namespace}/${resource.plural}`;
}
