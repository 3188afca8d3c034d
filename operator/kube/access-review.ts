import type { KubeConfig } from '@kubernetes/client-node';
import { apiRequest } from './api-request.ts';

/** What a SelfSubjectAccessReview asks: may I `verb` this resource (and subresource), here? */
export interface AccessAttributes {
  readonly group: string;
  readonly resource: string;
  readonly verb: string;
  readonly subresource?: string;
  /** Undefined: every namespace (or a cluster-scoped resource). */
  readonly namespace?: string;
  readonly name?: string;
}

/**
 * Whether the kubeconfig's identity may do what `attributes` say: a SelfSubjectAccessReview, which every
 * authenticated identity may create. An error counts as not allowed, with the reason.
 */
export async function reviewAccess(kubeConfig: KubeConfig, attributes: AccessAttributes): Promise<{ readonly allowed: boolean; readonly reason?: string }> {
  try {
    const review = await apiRequest<{ status?: { allowed?: boolean; reason?: string } }>(kubeConfig, {
      method: 'POST', path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { ...attributes } } },
    });
    return review.status?.allowed === true ? { allowed: true } : { allowed: false, reason: review.status?.reason || 'not allowed' };
  } catch (error) {
    return { allowed: false, reason: `the access review failed: ${String(error)}` };
  }
}
