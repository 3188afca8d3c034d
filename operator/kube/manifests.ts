import type { CoreV1Event, KubeConfig } from '@kubernetes/client-node';
import { ApiError, apiRequest } from './api-request.ts';

/** A Kubernetes object as read from a manifest: enough to build its REST path. */
export interface ManifestObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string };
}

/** Plural resource names of the kinds the local tooling applies (demo, lab, tests). */
const plurals: Readonly<Record<string, string>> = {
  CustomResourceDefinition: 'customresourcedefinitions',
  Namespace: 'namespaces',
  TradingEngine: 'tradingengines',
  ConfigMap: 'configmaps',
  Service: 'services',
  ServiceAccount: 'serviceaccounts',
  ClusterRole: 'clusterroles',
  RoleBinding: 'rolebindings',
};

/** The REST path of one object; cluster-scoped kinds (no namespace) have none in the path. */
export function objectPath(object: ManifestObject): string {
  const plural = plurals[object.kind];
  if (plural === undefined) throw new Error(`objectPath: no plural known for kind ${object.kind}`);
  const prefix = object.apiVersion.includes('/') ? `/apis/${object.apiVersion}` : `/api/${object.apiVersion}`;
  const scope = object.metadata.namespace === undefined ? '' : `/namespaces/${encodeURIComponent(object.metadata.namespace)}`;
  return `${prefix}${scope}/${plural}/${encodeURIComponent(object.metadata.name)}`;
}

/** Server-side apply of one object under `fieldManager` (conflicts forced): what `kubectl apply --server-side` does. */
export async function applyManifest<T>(kubeConfig: KubeConfig, object: ManifestObject, fieldManager: string): Promise<T> {
  return apiRequest<T>(kubeConfig, {
    method: 'PATCH',
    path: objectPath(object),
    query: { fieldManager, force: true },
    body: object,
    contentType: 'application/apply-patch+yaml',
  });
}

/** Reads one object, or undefined when it does not exist. */
export async function readObject<T>(kubeConfig: KubeConfig, object: ManifestObject): Promise<T | undefined> {
  try {
    return await apiRequest<T>(kubeConfig, { method: 'GET', path: objectPath(object) });
  } catch (error) {
    if (error instanceof ApiError && error.code === 404) return undefined;
    throw error;
  }
}

/** Waits until a CustomResourceDefinition reports Established=True. */
export async function waitForEstablished(kubeConfig: KubeConfig, name: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const crd: ManifestObject = { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name } };
  for (;;) {
    const found = await readObject<{ status?: { conditions?: Array<{ type: string; status: string }> } }>(kubeConfig, crd);
    if (found?.status?.conditions?.some((condition) => condition.type === 'Established' && condition.status === 'True') === true) return;
    if (Date.now() > deadline) throw new Error(`CRD ${name} not Established within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Events about one object (by kind and name) in a namespace, oldest first. */
export async function eventsFor(kubeConfig: KubeConfig, namespace: string, kind: string, name: string): Promise<CoreV1Event[]> {
  const list = await apiRequest<{ items: CoreV1Event[] }>(kubeConfig, {
    method: 'GET',
    path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`,
    query: { fieldSelector: `involvedObject.kind=${kind},involvedObject.name=${name}` },
  });
  const at = (event: CoreV1Event): number => Date.parse(String(event.eventTime ?? event.lastTimestamp ?? event.firstTimestamp ?? ''));
  return list.items.sort((a, b) => at(a) - at(b));
}
