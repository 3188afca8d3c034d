import { KubeConfig, Watch } from '@kubernetes/client-node';
import { apiRequest } from './api-request.ts';
import { collectionPath, type ResourceKind } from './resources.ts';

/** The part of every Kubernetes object an informer needs. */
export interface ObjectWithMeta {
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly uid?: string;
    readonly resourceVersion?: string;
    readonly ownerReferences?: ReadonlyArray<{ readonly uid: string; readonly controller?: boolean }>;
  };
}

export type InformerEventType = 'added' | 'updated' | 'deleted';

/** Read access to an informer's cache; what reconcile uses instead of API reads. */
export interface Lister<T> {
  get(key: string): T | undefined;
  list(): T[];
  /** Objects whose controller ownerReference points at `uid`. */
  ownedBy(uid: string): T[];
}

export interface InformerOptions<T> {
  readonly kubeConfig: KubeConfig;
  readonly resource: ResourceKind;
  /** One namespace, or all when undefined. */
  readonly namespace?: string;
  readonly labelSelector?: string;
  /** A field selector the API server applies to the list and the watch (`involvedObject.kind=TradingEngine`). */
  readonly fieldSelector?: string;
  readonly onEvent: (type: InformerEventType, object: T) => void;
  /** Restart the watch when nothing (not even a bookmark) arrived for this long; default 60 s. */
  readonly silenceMs?: number;
  /** Server-side watch timeout, below the client's 30 s request timeout; default 25 s. */
  readonly watchTimeoutSeconds?: number;
  /** Delay before re-listing after a failure: doubles per consecutive failure from this, capped at 30 s. */
  readonly relistBaseMs?: number;
  readonly log?: (line: string) => void;
  /** Called for each restart with its cause: 'expired' (410 Gone), 'error', 'silence' or 'timeout'. */
  readonly onRestart?: (reason: 'expired' | 'error' | 'silence' | 'timeout') => void;
}

export interface Informer<T> extends Lister<T> {
  /** Resolves after the first complete list. */
  readonly synced: Promise<void>;
  hasSynced(): boolean;
  /** The resourceVersion of the last event or list seen. */
  lastResourceVersion(): string | undefined;
  /** Test and fault hook: drops the current watch as a network failure would. */
  dropWatch(): void;
  /** Test and fault hook: resumes watching from `resourceVersion` (an old one makes the server answer 410 Gone). */
  resumeWatchFrom(resourceVersion: string): void;
  stop(): void;
}

function keyOf(object: ObjectWithMeta): string {
  return `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;
}

function statusCode(object: unknown): number | undefined {
  const code = (object as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/**
 * A list-watch cache of one resource kind, the operator's only view of the cluster (reconcile never reads the
 * API directly). Lists, then watches from the list's resourceVersion with bookmarks.
 *
 * Guarantees:
 * - Every change reaches `onEvent` at least once; after a re-list, objects that vanished during the gap are
 *   reported as deleted and every current object as added or updated, so no deletion is missed.
 * - A watch that expires (410 Gone) re-lists; one that ends cleanly (server timeout) resumes from the last
 *   resourceVersion; one that fails or goes silent for `silenceMs` re-lists after a backoff. Failures are
 *   logged and retried forever; none throws.
 * - `stop()` aborts the watch and all timers.
 */
export function startInformer<T extends ObjectWithMeta>(options: InformerOptions<T>): Informer<T> {
  const { kubeConfig, resource, namespace, labelSelector, fieldSelector } = options;
  const log = options.log ?? (() => undefined);
  const silenceMs = options.silenceMs ?? 60_000;
  const watchTimeoutSeconds = options.watchTimeoutSeconds ?? 25;
  const relistBaseMs = options.relistBaseMs ?? 500;
  const path = collectionPath(resource, namespace);
  const store = new Map<string, T>();
  const byOwner = new Map<string, Set<string>>();
  let resourceVersion: string | undefined;
  let stopped = false;
  let synced = false;
  let failures = 0;
  let abort: AbortController | undefined;
  let watchGeneration = 0;
  let lastActivity = Date.now();
  let relistTimer: NodeJS.Timeout | undefined;
  let resolveSynced: () => void = () => undefined;
  const syncedPromise = new Promise<void>((resolve) => {
    resolveSynced = resolve;
  });

  const ownerOf = (object: T): string | undefined => object.metadata?.ownerReferences?.find((ref) => ref.controller === true)?.uid;
  const index = (key: string, object: T | undefined, previous: T | undefined): void => {
    const before = previous === undefined ? undefined : ownerOf(previous);
    const after = object === undefined ? undefined : ownerOf(object);
    if (before === after) return;
    if (before !== undefined) byOwner.get(before)?.delete(key);
    if (after !== undefined) {
      let keys = byOwner.get(after);
      if (keys === undefined) byOwner.set(after, (keys = new Set()));
      keys.add(key);
    }
  };
  const upsert = (object: T): void => {
    const key = keyOf(object);
    const previous = store.get(key);
    store.set(key, object);
    index(key, object, previous);
    options.onEvent(previous === undefined ? 'added' : 'updated', object);
  };
  const remove = (object: T): void => {
    const key = keyOf(object);
    const previous = store.get(key);
    store.delete(key);
    index(key, undefined, previous);
    options.onEvent('deleted', previous ?? object);
  };

  /** Lists in pages of 500 (one consistent snapshot: later pages are read at the first page's resourceVersion). */
  const list = async (): Promise<void> => {
    const items: T[] = [];
    let continueToken: string | undefined;
    let listVersion: string | undefined;
    do {
      const page = await apiRequest<{ metadata?: { resourceVersion?: string; continue?: string }; items?: T[] }>(kubeConfig, {
        method: 'GET', path, query: { labelSelector, fieldSelector, limit: 500, continue: continueToken },
      });
      // List items carry no apiVersion/kind; watch events do. Fill them in so both look the same.
      for (const item of page.items ?? []) items.push({ ...item, apiVersion: resource.apiVersion, kind: resource.kind });
      listVersion = page.metadata?.resourceVersion ?? listVersion;
      continueToken = page.metadata?.continue;
    } while (continueToken !== undefined && continueToken !== '');
    const seen = new Set<string>();
    for (const item of items) {
      seen.add(keyOf(item));
      upsert(item);
    }
    for (const [key, object] of [...store]) if (!seen.has(key)) remove(object);
    resourceVersion = listVersion;
  };

  const scheduleRelist = (reason: 'expired' | 'error' | 'silence'): void => {
    if (stopped) return;
    options.onRestart?.(reason);
    abort?.abort();
    abort = undefined;
    watchGeneration++;
    const delay = reason === 'expired' ? 0 : Math.min(30_000, relistBaseMs * 2 ** Math.min(failures, 10));
    failures++;
    clearTimeout(relistTimer);
    relistTimer = setTimeout(() => void listAndWatch(), delay);
  };

  const watch = async (): Promise<void> => {
    if (stopped) return;
    const generation = ++watchGeneration;
    lastActivity = Date.now();
    let ended = false;
    const controller = await new Watch(kubeConfig).watch(
      path,
      { resourceVersion, allowWatchBookmarks: true, timeoutSeconds: watchTimeoutSeconds, labelSelector, fieldSelector },
      (type: string, object: T) => {
        if (generation !== watchGeneration) return;
        lastActivity = Date.now();
        if (type === 'ERROR') {
          ended = true;
          const code = statusCode(object);
          log(`Watch failed kind=${resource.kind} code=${code ?? 'none'} resourceVersion=${resourceVersion ?? ''}; re-listing`);
          scheduleRelist(code === 410 ? 'expired' : 'error');
          return;
        }
        resourceVersion = object.metadata?.resourceVersion ?? resourceVersion;
        failures = 0;
        if (type === 'ADDED' || type === 'MODIFIED') upsert(object);
        else if (type === 'DELETED') remove(object);
      },
      (error: unknown) => {
        if (stopped || ended || generation !== watchGeneration) return;
        ended = true;
        if (error !== null && error !== undefined && !(error instanceof Error && error.name === 'AbortError')) {
          log(`Watch ended kind=${resource.kind} error=${String(error)}; re-listing`);
          scheduleRelist('error');
        } else {
          options.onRestart?.('timeout');
          void watch().catch(() => scheduleRelist('error'));
        }
      },
    );
    if (stopped || generation !== watchGeneration) controller.abort();
    else abort = controller;
  };

  const listAndWatch = async (): Promise<void> => {
    if (stopped) return;
    try {
      await list();
      if (!synced) {
        synced = true;
        resolveSynced();
      }
      await watch();
    } catch (error) {
      log(`List failed kind=${resource.kind} error=${String(error)}; retrying`);
      scheduleRelist('error');
    }
  };

  const watchdog = setInterval(() => {
    if (!stopped && synced && abort !== undefined && Date.now() - lastActivity > silenceMs) {
      log(`Watch silent kind=${resource.kind} ms=${Date.now() - lastActivity}; re-listing`);
      scheduleRelist('silence');
    }
  }, Math.max(100, Math.min(5_000, silenceMs / 4)));
  watchdog.unref();

  void listAndWatch();

  return {
    synced: syncedPromise,
    hasSynced: () => synced,
    lastResourceVersion: () => resourceVersion,
    get: (key) => store.get(key),
    list: () => [...store.values()],
    ownedBy: (uid) => [...(byOwner.get(uid) ?? [])].flatMap((key) => {
      const object = store.get(key);
      return object === undefined ? [] : [object];
    }),
    dropWatch: () => scheduleRelist('error'),
    resumeWatchFrom: (version) => {
      abort?.abort();
      abort = undefined;
      watchGeneration++;
      resourceVersion = version;
      void watch().catch(() => scheduleRelist('error'));
    },
    stop: () => {
      stopped = true;
      abort?.abort();
      clearTimeout(relistTimer);
      clearInterval(watchdog);
    },
  };
}
