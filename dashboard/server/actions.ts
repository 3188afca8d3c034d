import type { KubeConfig } from '@kubernetes/client-node';
import { ApiError } from '../../operator/kube/api-request.ts';
import { reviewAccess } from '../../operator/kube/access-review.ts';
import { readTradingEngine, requestRollout, setPaused, undoRollout } from '../../operator/kube/rollout-requests.ts';
import { group as engineApiGroup, plural as enginePlural } from '../../operator/api/generated.ts';
import type { ActionResult, EngineAction } from '../view-types.ts';

/**
 * The page's actions, each the request `nexus rollout` makes with the same functions (operator/kube/
 * rollout-requests.ts), under the caller's own identity: promote, promote-full, abort and retry patch the status
 * subresource; pause and resume patch spec.paused; undo puts an earlier revision's spec back. So the dashboard can
 * do exactly what the caller's RBAC allows: a refusal is the API server's own message, passed on with its code.
 */
export interface ActionOutcome {
  /** The HTTP status the page gets: 200 done, 409 refused by the rollout's state, else the API server's code. */
  readonly httpStatus: number;
  readonly result: ActionResult;
}

export async function runAction(
  kubeConfig: KubeConfig, namespace: string, name: string, action: EngineAction, expected: { readonly revision?: string; readonly step?: number } = {},
): Promise<ActionOutcome> {
  try {
    // What the page showed must still hold: an action on a rollout that moved since is refused, not applied to a
    // state nobody saw (a promote past a step that began after the click, an undo of a revision never shown).
    if (expected.revision !== undefined || expected.step !== undefined) {
      const status = (await readTradingEngine(kubeConfig, namespace, name)).status ?? {};
      const moved = (expected.revision !== undefined && (status.updateRevision ?? '') !== expected.revision)
        || (expected.step !== undefined && status.currentStepIndex !== expected.step);
      if (moved) return refused(`${action} refused: the rollout moved since the page showed it (now revision ${status.updateRevision ?? '-'} at step ${status.currentStepIndex ?? '-'}); look again`);
    }
    switch (action) {
      case 'promote':
      case 'promote-full':
      case 'abort':
      case 'retry': {
        const result = await requestRollout(kubeConfig, namespace, name, action);
        return result.outcome === 'requested'
          ? done(`${action} requested for ${namespace}/${name}: the operator acts on it at its next reconcile`)
          : refused(`${action} refused: ${result.reason}`);
      }
      case 'pause':
      case 'resume': {
        const { changed } = await setPaused(kubeConfig, namespace, name, action === 'pause');
        return done(changed ? `${namespace}/${name} ${action === 'pause' ? 'paused (spec.paused true)' : 'resumed (spec.paused false)'}` : `${namespace}/${name} was already ${action === 'pause' ? 'paused' : 'running'}`);
      }
      case 'undo': {
        const result = await undoRollout(kubeConfig, namespace, name);
        return result.outcome === 'undone' ? done(`${namespace}/${name} undone: revision ${result.to} put back (was ${result.from})`) : refused(`undo refused: ${result.reason}`);
      }
    }
  } catch (error) {
    if (error instanceof ApiError) return { httpStatus: error.code === 0 ? 502 : error.code, result: { ok: false, message: error.message } };
    throw error;
  }
}

function done(message: string): ActionOutcome {
  return { httpStatus: 200, result: { ok: true, message } };
}

function refused(message: string): ActionOutcome {
  return { httpStatus: 409, result: { ok: false, message } };
}

/**
 * The actions the caller's RBAC allows on TradingEngines of `namespace` (SelfSubjectAccessReviews): the status
 * requests need `patch` on tradingengines/status, pause, resume and undo `patch` on tradingengines. The page shows
 * only these; the API server still decides each request.
 */
export async function allowedActions(kubeConfig: KubeConfig, namespace: string): Promise<{ readonly actions: EngineAction[]; readonly answered: boolean }> {
  const [status, spec] = await Promise.all([
    reviewAccess(kubeConfig, { group: engineApiGroup, resource: enginePlural, subresource: 'status', verb: 'patch', namespace }),
    reviewAccess(kubeConfig, { group: engineApiGroup, resource: enginePlural, verb: 'patch', namespace }),
  ]);
  const failed = [status, spec].some((review) => review.reason?.startsWith('the access review failed') === true);
  return {
    actions: [
      ...(status.allowed ? (['promote', 'promote-full', 'abort', 'retry'] as const) : []),
      ...(spec.allowed ? (['pause', 'resume', 'undo'] as const) : []),
    ],
    // A review that could not be made (the API server unreachable) is no answer: not to be kept.
    answered: !failed,
  };
}
