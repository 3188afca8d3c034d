import type { KubeConfig } from '@kubernetes/client-node';
import { ApiError, apiRequest } from './api-request.ts';
import { reviewAccess } from './access-review.ts';

/**
 * API discovery: which resources a group version serves. The operator asks before it watches an optional kind
 * (the gate definitions): a cluster upgraded with `helm upgrade` keeps its old CRDs (Helm never upgrades what is
 * in crds/), and an informer on a kind that is not served would never sync and hold every reconcile back.
 */

/**
 * The plural names `apiVersion` serves (e.g. trading.nexus.dev/v1alpha1 -> tradingengines, latencygates, ...);
 * empty when the group version is not served at all (404). Any other failure is retried with backoff (1 s
 * doubling to 30 s) until it answers or `isStopped()`, which gives up with an empty set.
 */
export async function servedResources(
  kubeConfig: KubeConfig, apiVersion: string, log: (line: string) => void, isStopped: () => boolean = () => false,
): Promise<ReadonlySet<string>> {
  const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  for (let attempt = 0; !isStopped(); attempt++) {
    try {
      const list = await apiRequest<{ resources?: Array<{ name?: string }> }>(kubeConfig, { method: 'GET', path });
      return new Set((list.resources ?? []).flatMap((resource) => (resource.name === undefined ? [] : [resource.name])));
    } catch (error) {
      if (error instanceof ApiError && error.code === 404) return new Set();
      const delayMs = Math.min(30_000, 1_000 * 2 ** attempt);
      log(`Discovery failed apiVersion=${apiVersion} error=${String(error)}; retrying in ${delayMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
  return new Set();
}

/**
 * Whether this operator may list `plural` of `group` in `namespace` (all namespaces when undefined): a
 * SelfSubjectAccessReview, which every authenticated identity may create. An informer on a kind it may not list
 * would never sync. Errors count as not allowed, with the reason.
 */
export function mayList(kubeConfig: KubeConfig, group: string, plural: string, namespace: string | undefined): Promise<{ readonly allowed: boolean; readonly reason?: string }> {
  return reviewAccess(kubeConfig, { group, resource: plural, verb: 'list', ...(namespace === undefined ? {} : { namespace }) });
}
