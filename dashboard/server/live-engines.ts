import type { CoreV1Event, KubeConfig, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import type { TradingEngine } from '../../operator/api/types.ts';
import { startInformer, type Informer, type ObjectWithMeta } from '../../operator/kube/informer.ts';
import { pods, replicaSets, tradingEngines, type ResourceKind } from '../../operator/kube/resources.ts';
import { engineAppName, labelKeys } from '../../operator/render/labels.ts';
import { kind as engineKind } from '../../operator/api/generated.ts';
import type { EngineSummary } from '../view-types.ts';
import { summarize } from './engine-view.ts';

/** A change the page should hear of: the list, or one engine (its object, pods, ReplicaSets or Events). */
export type EngineChange = { readonly kind: 'engines' } | { readonly kind: 'engine'; readonly namespace: string; readonly name: string };

/**
 * The TradingEngines the caller can see, kept current by watches (the operator's own informer: list, then watch
 * with bookmarks, re-listed on expiry), with the engine pods, their ReplicaSets and the engines' Events watched
 * too, so a page hears of every change the moment the API server has it, never by polling.
 *
 * `namespaces` undefined watches every namespace (the caller may list TradingEngines cluster-wide); otherwise one
 * set of watches per namespace. Changes are coalesced per engine over `coalesceMs` (default 100 ms): a rollout
 * step that touches the status, two ReplicaSets and four pods is one change, not seven.
 */
export interface LiveEngines {
  /** Resolves once every watch has listed. */
  readonly synced: Promise<void>;
  list(): EngineSummary[];
  get(namespace: string, name: string): TradingEngine | undefined;
  /** Calls `listener` with each (coalesced) change until the returned function is called. */
  subscribe(listener: (change: EngineChange) => void): () => void;
  stop(): void;
}

export function watchEngines(kubeConfig: KubeConfig, namespaces: readonly string[] | undefined, log: (line: string) => void, coalesceMs = 100): LiveEngines {
  const listeners = new Set<(change: EngineChange) => void>();
  const pending = new Map<string, EngineChange>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = (): void => {
    timer = undefined;
    const changes = [...pending.values()];
    pending.clear();
    for (const change of changes) for (const listener of listeners) listener(change);
  };
  const changed = (namespace: string | undefined, name: string | undefined, listChanged: boolean): void => {
    if (namespace === undefined || name === undefined || name === '') return;
    pending.set(`${namespace}/${name}`, { kind: 'engine', namespace, name });
    if (listChanged) pending.set('', { kind: 'engines' });
    timer ??= setTimeout(flush, coalesceMs);
  };
  const scopes: ReadonlyArray<string | undefined> = namespaces === undefined ? [undefined] : namespaces;
  const engines: Array<Informer<TradingEngine>> = [];
  const informers: Array<Informer<ObjectWithMeta>> = [];
  const start = <T extends ObjectWithMeta>(
    resource: ResourceKind, namespace: string | undefined, selectors: { readonly labelSelector?: string; readonly fieldSelector?: string }, onEvent: (object: T) => void,
  ): Informer<T> => {
    const informer = startInformer<T>({
      kubeConfig, resource, ...(namespace === undefined ? {} : { namespace }), ...selectors,
      onEvent: (_type, object) => onEvent(object), log,
    });
    informers.push(informer as unknown as Informer<ObjectWithMeta>);
    return informer;
  };
  const engineLabel = `${labelKeys.name}=${engineAppName}`;
  for (const namespace of scopes) {
    engines.push(start<TradingEngine>(tradingEngines, namespace, {}, (engine) => changed(engine.metadata.namespace, engine.metadata.name, true)));
    start<V1Pod & ObjectWithMeta>(pods, namespace, { labelSelector: engineLabel }, (pod) => changed(pod.metadata?.namespace, pod.metadata?.labels?.[labelKeys.instance], false));
    start<V1ReplicaSet & ObjectWithMeta>(replicaSets, namespace, { labelSelector: engineLabel }, (set) => changed(set.metadata?.namespace, set.metadata?.labels?.[labelKeys.instance], false));
    // Only the Events about TradingEngines, selected by the API server: a cluster's other Events are never listed.
    start<CoreV1Event & ObjectWithMeta>({ apiVersion: 'v1', kind: 'Event', plural: 'events' }, namespace, { fieldSelector: `involvedObject.kind=${engineKind}` }, (event) => {
      changed(event.involvedObject.namespace, event.involvedObject.name, false);
    });
  }
  return {
    synced: Promise.all(informers.map((informer) => informer.synced)).then(() => undefined),
    list: () => engines.flatMap((informer) => informer.list()).map(summarize)
      .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name)),
    get: (namespace, name) => {
      for (const informer of engines) {
        const engine = informer.get(`${namespace}/${name}`);
        if (engine !== undefined) return engine;
      }
      return undefined;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stop() {
      if (timer !== undefined) clearTimeout(timer);
      for (const informer of informers) informer.stop();
      listeners.clear();
    },
  };
}
