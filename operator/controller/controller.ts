import type { KubeConfig, V1ConfigMap, V1NetworkPolicy, V1Pod, V1ReplicaSet, V1Secret, V1Service } from '@kubernetes/client-node';
import type { OperatorSettings } from '../api/settings.ts';
import type { LatencyGate, TradingEngine } from '../api/types.ts';
import type { ClusterWriter } from '../kube/cluster-writer.ts';
import { startInformer, type Informer, type InformerEventType, type Lister, type ObjectWithMeta } from '../kube/informer.ts';
import { strategyModuleLabel } from '../render/module-sources.ts';
import { clusterLatencyGates, configMaps, latencyGates, networkPolicies, pods, replicaSets, secrets, services, tradingEngines, type ResourceKind } from '../kube/resources.ts';
import { gateKeyOf } from '../api/gate-ref.ts';
import { mayList, servedResources } from '../kube/discovery.ts';
import type { EventWebhook, WebhookEvent } from '../notify/event-webhook.ts';
import type { PromotionConfirmer } from '../notify/confirm-promotion.ts';
import type { OperatorMetrics } from '../metrics/operator-metrics.ts';
import { engineAppName, labelKeys, managerName } from '../render/labels.ts';
import { StatusExpectations } from './expectations.ts';
import { reconcile } from './reconciler.ts';
import { createRolloutEffects, type RolloutEffects } from './rollout-effects.ts';
import { WorkQueue } from '../runtime/work-queue.ts';

export interface ControllerOptions {
  readonly kubeConfig: KubeConfig;
  readonly writer: ClusterWriter;
  readonly metrics: OperatorMetrics;
  /** Namespaces to watch; empty = all namespaces. */
  readonly namespaces: readonly string[];
  /** Concurrent reconciles (never two on one key); default 4. */
  readonly workers?: number;
  /** Every TradingEngine is re-queued this often even without events; default 10 min, 0 = never. */
  readonly resyncMs?: number;
  /** Watch silence watchdog; default 60 s. */
  readonly watchSilenceMs?: number;
  readonly nowMs?: () => number;
  readonly log: (line: string) => void;
  /** Latency measurements and cuts for rollouts; default: pod scrape / Prometheus and the engine control client. */
  readonly rollout?: RolloutEffects;
  /** NetworkPolicy peers and the Prometheus allow-list; default: no NetworkPolicy, any Prometheus address. */
  readonly settings?: OperatorSettings;
  /** Where every recorded Event is POSTed (operator/notify/event-webhook.ts); absent: nowhere. */
  readonly eventWebhook?: EventWebhook;
  /**
   * Asks the confirm-promotion webhook (operator/notify/confirm-promotion.ts); needed exactly when
   * settings.confirmPromotion is set, which makes every promotion wait for it.
   */
  readonly confirmPromotion?: PromotionConfirmer;
  /** Observes every finished reconcile (benchmarks): its key, duration in ms and writes (-1 for an error). */
  readonly onReconcile?: (key: string, ms: number, writes: number) => void;
}

export interface Controller {
  /** Resolves once every cache has listed. */
  readonly synced: Promise<void>;
  isSynced(): boolean;
  /** Queues every TradingEngine now (what the periodic resync does). */
  resyncAll(): void;
  /** Reconciles finished so far, with the writes they made (tests and benchmarks read these). */
  stats(): { reconciles: number; writes: number; errors: number };
  /** Drops every watch as a network failure would; the informers re-list. */
  dropWatches(): void;
  /** Resumes every watch from an expired resourceVersion; the server answers 410 Gone and the informers re-list. */
  expireWatches(): void;
  readonly engines: Lister<TradingEngine>;
  /** Stops taking keys, lets running reconciles finish, stops the informers. */
  stop(): Promise<void>;
}

/**
 * The TradingEngine controller: list-watch caches for TradingEngines and the kinds they own, a keyed work queue,
 * and workers that run `reconcile(key)`. Any change to an engine or a child queues the engine's key (children
 * map to it through their controller ownerReference, pods through their instance label), so reconcile always
 * sees the latest state. A failed reconcile is retried with per-key exponential backoff; a requested requeue is
 * honoured with `addAfter`; success forgets the key's failures.
 */
/** A lister with nothing in it: the gate kinds before (or without) their informers. */
function emptyLister<T>(): Lister<T> {
  return { get: () => undefined, list: () => [], ownedBy: () => [] };
}

/** A lister that reads whichever lister `current` returns at the time of the call. */
function delegate<T>(current: () => Lister<T>): Lister<T> {
  return { get: (key) => current().get(key), list: () => current().list(), ownedBy: (uid) => current().ownedBy(uid) };
}

export function startController(options: ControllerOptions): Controller {
  const { kubeConfig, writer, metrics, log } = options;
  const nowMs = options.nowMs ?? Date.now;
  const queue = new WorkQueue({ observer: metrics.queueObserver });
  const namespaces: ReadonlyArray<string | undefined> = options.namespaces.length === 0 ? [undefined] : options.namespaces;
  const informers: Array<Informer<ObjectWithMeta>> = [];
  let reconciles = 0;
  let writes = 0;
  let errors = 0;

  const ownerKey = (object: ObjectWithMeta): string | undefined => {
    const owner = object.metadata?.ownerReferences?.find((ref) => ref.controller === true) as { kind?: string; name?: string } | undefined;
    return owner?.kind === tradingEngines.kind ? `${object.metadata?.namespace ?? ''}/${owner.name ?? ''}` : undefined;
  };
  const watch = <T extends ObjectWithMeta>(
    resource: ResourceKind, labelSelector: string | undefined, toKeys: (object: T) => string | readonly string[] | undefined,
    scope: ReadonlyArray<string | undefined> = namespaces,
  ): Lister<T> => {
    const perNamespace = scope.map((namespace) => {
      const informer = startInformer<T>({
        kubeConfig, resource, namespace, labelSelector, log, silenceMs: options.watchSilenceMs,
        onEvent: (_type: InformerEventType, object: T) => {
          const keys = toKeys(object);
          for (const key of typeof keys === 'string' ? [keys] : keys ?? []) queue.add(key);
        },
        onRestart: (reason) => metrics.watchRestarts.inc({ kind: resource.kind, reason }),
      });
      informers.push(informer as unknown as Informer<ObjectWithMeta>);
      return informer;
    });
    return {
      get: (key) => {
        for (const informer of perNamespace) {
          const found = informer.get(key);
          if (found !== undefined) return found;
        }
        return undefined;
      },
      list: () => perNamespace.flatMap((informer) => informer.list()),
      ownedBy: (uid) => perNamespace.flatMap((informer) => informer.ownedBy(uid)),
    };
  };

  const managed = `${labelKeys.managedBy}=${managerName}`;
  /** The keys of the engines whose spec.analysis.gateRef names `gate` (a LatencyGate only from its own namespace). */
  const namingEngines = (gate: LatencyGate): string[] => engines.list().flatMap((engine) => {
    const where = gateKeyOf(engine);
    const names = where?.kind === gate.kind && where.key === `${gate.metadata.namespace ?? ''}/${gate.metadata.name ?? ''}`;
    return names ? [`${engine.metadata.namespace ?? ''}/${engine.metadata.name ?? ''}`] : [];
  });
  const engines = watch<TradingEngine & ObjectWithMeta>(tradingEngines, undefined, (engine) => `${engine.metadata.namespace ?? ''}/${engine.metadata.name ?? ''}`);
  /** The keys of the engines of the ConfigMap's namespace whose strategies read a module from it. */
  const readingEngines = (configMap: V1ConfigMap): string[] => engines.list().flatMap((engine) => {
    const reads = engine.metadata.namespace === configMap.metadata?.namespace
      && (engine.spec.engine.strategies ?? []).some((strategy) => strategy.moduleConfigMap?.name === configMap.metadata?.name);
    return reads ? [`${engine.metadata.namespace ?? ''}/${engine.metadata.name ?? ''}`] : [];
  });
  const deps = {
    engines,
    replicaSets: watch<V1ReplicaSet & ObjectWithMeta>(replicaSets, managed, ownerKey),
    configMaps: watch<V1ConfigMap & ObjectWithMeta>(configMaps, managed, ownerKey),
    // The users' strategy modules: only ConfigMaps labelled for it (module-sources.ts); an edit rolls out a revision.
    moduleConfigMaps: watch<V1ConfigMap & ObjectWithMeta>(configMaps, `${strategyModuleLabel}=true`, readingEngines),
    services: watch<V1Service & ObjectWithMeta>(services, managed, ownerKey),
    secrets: watch<V1Secret & ObjectWithMeta>(secrets, managed, ownerKey),
    networkPolicies: watch<V1NetworkPolicy & ObjectWithMeta>(networkPolicies, managed, ownerKey),
    settings: options.settings ?? {},
    pods: watch<V1Pod & ObjectWithMeta>(pods, `${labelKeys.name}=${engineAppName}`, (pod) => {
      const instance = pod.metadata?.labels?.[labelKeys.instance];
      return instance === undefined ? undefined : `${pod.metadata?.namespace ?? ''}/${instance}`;
    }),
    latencyGates: delegate(() => gateListers.latencyGates),
    clusterLatencyGates: delegate(() => gateListers.clusterLatencyGates),
    writer,
    rollout: options.rollout ?? createRolloutEffects(),
    expectations: new StatusExpectations(),
    strategyProbes: new Map<string, number>(),
    rolloutMetrics: metrics.rollout,
    ...(options.eventWebhook === undefined ? {} : { notify: (event: WebhookEvent) => options.eventWebhook?.send(event) }),
    ...(options.confirmPromotion === undefined ? {} : { confirmPromotion: options.confirmPromotion, confirmedPromotions: new Map<string, string>() }),
    nowMs,
    log,
  };

  // The gate definitions are watched only where their CRDs are served (discovery.ts): a cluster upgraded by
  // `helm upgrade` keeps its old CRDs, and an informer on a missing kind would never sync. A gate event queues
  // every engine that names the gate (found by a scan of the engine cache).
  let stopping = false;
  const gateListers: { latencyGates: Lister<LatencyGate>; clusterLatencyGates: Lister<LatencyGate> } = { latencyGates: emptyLister(), clusterLatencyGates: emptyLister() };
  const coreInformers = [...informers];
  const gatesSynced = servedResources(kubeConfig, latencyGates.apiVersion, log, () => stopping).then(async (served) => {
    if (stopping) return;
    for (const [resource, field, scope] of [[latencyGates, 'latencyGates', namespaces], [clusterLatencyGates, 'clusterLatencyGates', [undefined]]] as const) {
      const group = resource.apiVersion.split('/')[0] ?? '';
      if (!served.has(resource.plural)) {
        log(`Not watching ${resource.kind}: ${resource.plural}.${group} is not served (apply crds/); engines that name one wait with GateNotFound`);
        continue;
      }
      // Served but forbidden (RBAC not granted, e.g. rbac.create=false): an informer would never sync and hold back
      // every reconcile, so the kind is left unwatched, said once.
      const access = await Promise.all(scope.map((namespace) => mayList(kubeConfig, group, resource.plural, namespace)));
      const denied = access.find((review) => !review.allowed);
      if (denied !== undefined) {
        log(`Not watching ${resource.kind}: this operator may not list ${resource.plural}.${group} (${denied.reason ?? 'not allowed'}); engines that name one wait with GateNotFound`);
        continue;
      }
      if (stopping) return;
      gateListers[field] = watch<LatencyGate & ObjectWithMeta>(resource, undefined, (gate) => namingEngines(gate), scope);
    }
    await Promise.all(informers.filter((informer) => !coreInformers.includes(informer)).map((informer) => informer.synced));
  });

  let synced = false;
  const syncedPromise = Promise.all([...coreInformers.map((informer) => informer.synced), gatesSynced]).then(() => {
    synced = true;
    log(`Caches synced engines=${engines.list().length}`);
  });

  const countPhases = (): void => {
    const counts = new Map<string, number>();
    for (const engine of engines.list()) {
      const phase = engine.status?.phase ?? 'Pending';
      counts.set(phase, (counts.get(phase) ?? 0) + 1);
    }
    metrics.enginesByPhase.reset();
    for (const [phase, count] of counts) metrics.enginesByPhase.set({ phase }, count);
  };

  const worker = async (): Promise<void> => {
    await syncedPromise;
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      const stopTimer = metrics.reconcileSeconds.startTimer();
      const started = performance.now();
      try {
        const result = await reconcile(key, deps);
        options.onReconcile?.(key, performance.now() - started, result.writes);
        reconciles++;
        writes += result.writes;
        metrics.apiWrites.inc(result.writes);
        queue.forget(key);
        if (result.requeueAfterMs !== undefined) {
          queue.addAfter(key, Math.max(0, result.requeueAfterMs));
          metrics.reconciles.inc({ result: 'requeue' });
        } else {
          metrics.reconciles.inc({ result: 'success' });
        }
      } catch (error) {
        errors++;
        options.onReconcile?.(key, performance.now() - started, -1);
        metrics.reconciles.inc({ result: 'error' });
        const failure = error as { code?: number; message?: string };
        log(`Reconcile failed engine=${key} code=${failure.code ?? 'none'} retries=${queue.numRequeues(key)} error=${failure.message ?? String(error)}`);
        queue.addRateLimited(key);
      } finally {
        stopTimer();
        queue.done(key);
      }
    }
  };
  const workers = Array.from({ length: options.workers ?? 4 }, () => worker());

  const resyncMs = options.resyncMs ?? 600_000;
  const resyncAll = (): void => {
    for (const engine of engines.list()) queue.add(`${engine.metadata.namespace ?? ''}/${engine.metadata.name ?? ''}`);
  };
  const resyncTimer = resyncMs > 0 ? setInterval(resyncAll, resyncMs) : undefined;
  resyncTimer?.unref();
  const phaseTimer = setInterval(countPhases, 5_000);
  phaseTimer.unref();

  return {
    synced: syncedPromise,
    isSynced: () => synced,
    resyncAll,
    stats: () => ({ reconciles, writes, errors }),
    dropWatches: () => {
      for (const informer of informers) informer.dropWatch();
    },
    expireWatches: () => {
      for (const informer of informers) informer.resumeWatchFrom('1');
    },
    engines,
    stop: async () => {
      stopping = true;
      clearInterval(resyncTimer);
      clearInterval(phaseTimer);
      await queue.shutDownWithDrain();
      await Promise.all(workers);
      for (const informer of informers) informer.stop();
    },
  };
}
