import type { KubeConfig } from '@kubernetes/client-node';
import type { TradingEngine, TradingEngineStatus } from '../api/types.ts';
import { apiRequest } from './api-request.ts';
import { collectionPath, tradingEngines, type ResourceKind } from './resources.ts';

export const fieldManager = 'nexus-operator';

export type EventType = 'Normal' | 'Warning';

/** Every write the controller makes to the cluster; the one interface reconcile depends on for effects. */
export interface ClusterWriter {
  /** Server-side apply of a whole child object with the operator's field manager (conflicts forced). */
  apply<T extends { metadata?: { name?: string; namespace?: string } }>(resource: ResourceKind, object: T): Promise<T>;
  /**
   * Server-side apply of a TradingEngine's whole status through the status subresource, with the engine's
   * resourceVersion as a precondition (409 Conflict when the object changed since it was read). Resolves with
   * the resourceVersion the write produced.
   */
  applyStatus(engine: TradingEngine, status: TradingEngineStatus): Promise<string | undefined>;
  /** Deletes one object, only if it still has `uid` (a precondition), with background propagation; 404 is success. */
  delete(resource: ResourceKind, namespace: string, name: string, uid: string): Promise<void>;
  /** A core/v1 Event on the TradingEngine. */
  event(engine: TradingEngine, type: EventType, reason: string, message: string): Promise<void>;
  /** Who controls the object of this name (its controller ownerReference), or undefined when there is none by that name. */
  controllerOf(resource: ResourceKind, namespace: string, name: string): Promise<ObjectController | undefined>;
  /** The object of this name as the API server has it now (not a cache), or undefined when there is none. */
  read<T>(resource: ResourceKind, namespace: string, name: string): Promise<T | undefined>;
}

/** The controller ownerReference of an existing object; both fields undefined when nothing controls it. */
export interface ObjectController {
  readonly uid?: string;
  /** `Kind/name`. */
  readonly name?: string;
}

/**
 * The ClusterWriter over a real API server. Server-side apply makes every write idempotent and declarative:
 * applying the same object twice changes nothing (resourceVersion unchanged), and fields the operator stops
 * setting are removed. Errors propagate as ApiError; the controller retries them with backoff.
 */
export function createClusterWriter(
  kubeConfig: KubeConfig,
  options: { readonly instance?: string; readonly now?: () => Date } = {},
): ClusterWriter {
  const now = options.now ?? (() => new Date());
  const instance = options.instance ?? fieldManager;
  let eventSequence = 0;
  const read = async <T>(resource: ResourceKind, namespace: string, name: string): Promise<T | undefined> => {
    try {
      return await apiRequest<T>(kubeConfig, { method: 'GET', path: `${collectionPath(resource, namespace)}/${encodeURIComponent(name)}` });
    } catch (error) {
      if ((error as { code?: number }).code === 404) return undefined;
      throw error;
    }
  };
  return {
    async apply(resource, object) {
      const namespace = object.metadata?.namespace ?? '';
      const name = object.metadata?.name ?? '';
      return apiRequest(kubeConfig, {
        method: 'PATCH',
        path: `${collectionPath(resource, namespace)}/${encodeURIComponent(name)}`,
        query: { fieldManager, force: true },
        body: object,
        contentType: 'application/apply-patch+yaml',
      });
    },

    async applyStatus(engine, status) {
      const namespace = engine.metadata.namespace ?? '';
      const name = engine.metadata.name ?? '';
      const resourceVersion = engine.metadata.resourceVersion;
      const written = await apiRequest<TradingEngine>(kubeConfig, {
        method: 'PATCH',
        path: `${collectionPath(tradingEngines, namespace)}/${encodeURIComponent(name)}/status`,
        query: { fieldManager, force: true },
        body: {
          apiVersion: tradingEngines.apiVersion, kind: tradingEngines.kind,
          metadata: { name, namespace, ...(resourceVersion === undefined ? {} : { resourceVersion }) },
          status,
        },
        contentType: 'application/apply-patch+yaml',
      });
      return written.metadata.resourceVersion;
    },

    async controllerOf(resource, namespace, name) {
      const object = await read<{ metadata?: { ownerReferences?: Array<{ controller?: boolean; uid?: string; kind?: string; name?: string }> } }>(resource, namespace, name);
      if (object === undefined) return undefined;
      const controller = object.metadata?.ownerReferences?.find((reference) => reference.controller === true);
      return controller === undefined ? {} : { uid: controller.uid, name: `${controller.kind ?? ''}/${controller.name ?? ''}` };
    },

    read,

    async delete(resource, namespace, name, uid) {
      try {
        await apiRequest(kubeConfig, {
          method: 'DELETE',
          path: `${collectionPath(resource, namespace)}/${encodeURIComponent(name)}`,
          body: { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background', preconditions: { uid } },
        });
      } catch (error) {
        if ((error as { code?: number }).code !== 404) throw error;
      }
    },

    async event(engine, type, reason, message) {
      const namespace = engine.metadata.namespace ?? '';
      const time = now();
      const micro = time.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
      eventSequence = (eventSequence + 1) % 1_000_000;
      await apiRequest(kubeConfig, {
        method: 'POST',
        path: `/api/v1/namespaces/${namespace}/events`,
        body: {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { name: `${engine.metadata.name ?? ''}.${time.getTime().toString(16)}${eventSequence.toString(16)}`, namespace },
          involvedObject: {
            apiVersion: engine.apiVersion, kind: engine.kind, name: engine.metadata.name, namespace,
            uid: engine.metadata.uid, resourceVersion: engine.metadata.resourceVersion,
          },
          type,
          reason,
          message: message.slice(0, 1024),
          source: { component: fieldManager },
          reportingComponent: `trading.nexus.dev/${fieldManager}`,
          reportingInstance: instance,
          action: reason,
          firstTimestamp: time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
          lastTimestamp: time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
          eventTime: micro,
          count: 1,
        },
      });
    },
  };
}
