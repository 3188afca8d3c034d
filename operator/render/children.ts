import type { V1ConfigMap, V1ReplicaSet, V1Service } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import type { TradingEngine } from '../api/types.ts';
import { canonicalJson } from './canonical-json.ts';
import { renderEngineConfig, orderBookOf } from './engine-config.ts';
import { annotationKeys, commonLabels, labelKeys, revisionLabels, selectorLabels } from './labels.ts';
import { configFileName, renderPodTemplate } from './pod-template.ts';
import { isWasmKey, moduleFileName, moduleSourceKey, noModuleSources, type ModuleSources } from './module-sources.ts';
import { ownerReference, withAppliedHash } from './owned.ts';

/**
 * Children of a TradingEngine, each a pure function of (TradingEngine, revision[, replicas]): no clock, no
 * randomness, no environment. Every child carries an ownerReference to the TradingEngine (controller: true,
 * blockOwnerDeletion: true), so deleting the engine garbage-collects them, and an `applied-hash` annotation
 * over its own content, so the controller applies only what changed.
 */

export function replicaSetName(engine: TradingEngine, revision: string): string {
  return `${engine.metadata.name ?? ''}-${revision}`;
}

export function configMapName(engine: TradingEngine, revision: string): string {
  return `${engine.metadata.name ?? ''}-${revision}-config`;
}

/** The engine Service: one per TradingEngine, same name. */
export function serviceName(engine: TradingEngine): string {
  return engine.metadata.name ?? '';
}

/** The blue-green preview Service (`<name>-preview`): it selects the preview revision's pods. */
export function previewServiceName(engine: TradingEngine): string {
  return `${engine.metadata.name ?? ''}-preview`;
}

/**
 * The revision's engine configuration, immutable: a new revision gets a new ConfigMap, so pods of older
 * revisions keep exactly the configuration they started with (rollback restores it byte for byte), and the
 * sources of strategy modules kept in ConfigMaps beside it (module-sources.ts).
 */
export function renderConfigMap(engine: TradingEngine, revision: string, sources: ModuleSources = noModuleSources): V1ConfigMap {
  // The ConfigMap is a function of the engine's identity and the revision alone (the revision hashes the engine
  // configuration), and rendering its YAML was half of a reconcile's CPU: remember recent ones. Never mutate
  // the object returned.
  const key = `${engine.apiVersion}|${engine.metadata.namespace ?? ''}|${engine.metadata.name ?? ''}|${engine.metadata.uid ?? ''}|${revision}`;
  const remembered = renderedConfigMaps.get(key);
  if (remembered !== undefined) return remembered;
  const rendered = renderConfigMapUncached(engine, revision, sources);
  if (renderedConfigMaps.size >= renderedConfigMapLimit) renderedConfigMaps.delete(renderedConfigMaps.keys().next().value ?? '');
  renderedConfigMaps.set(key, rendered);
  return rendered;
}

/** Recently rendered ConfigMaps by engine identity and revision, oldest first; bounded. */
const renderedConfigMaps = new Map<string, V1ConfigMap>();
const renderedConfigMapLimit = 4096;

function renderConfigMapUncached(engine: TradingEngine, revision: string, sources: ModuleSources): V1ConfigMap {
  const book = orderBookOf(engine.metadata.namespace ?? '', engine.metadata.name ?? '');
  const document = JSON.parse(canonicalJson(renderEngineConfig(engine.spec, book, sources))) as unknown;
  // Strategy modules from ConfigMaps, copied beside the configuration under the names it gives them.
  // Text sources in data, WebAssembly modules (base64, as read) in binaryData: both are files in the mounted volume.
  const modules: Record<string, string> = {};
  const binaryModules: Record<string, string> = {};
  for (const strategy of engine.spec.engine.strategies ?? []) {
    const ref = strategy.moduleConfigMap;
    const source = ref === undefined ? undefined : sources.get(moduleSourceKey(ref));
    if (ref === undefined || source === undefined) continue;
    const file = moduleFileName(strategy.name, ref, source);
    if (isWasmKey(file)) binaryModules[file] = source;
    else modules[file] = source;
  }
  return withAppliedHash<V1ConfigMap>({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: configMapName(engine, revision),
      namespace: engine.metadata.namespace,
      labels: { ...commonLabels(engine), [labelKeys.revision]: revision },
      ownerReferences: [ownerReference(engine)],
    },
    immutable: true,
    data: { [configFileName]: stringify(document, { lineWidth: 0 }), ...modules },
    ...(Object.keys(binaryModules).length === 0 ? {} : { binaryData: binaryModules }),
  });
}

/** The ReplicaSet of one revision at the given size; the controller (and, later, the rollout) decides the size. */
export function renderReplicaSet(engine: TradingEngine, revision: string, replicas: number): V1ReplicaSet {
  return withAppliedHash<V1ReplicaSet>({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: replicaSetName(engine, revision),
      namespace: engine.metadata.namespace,
      labels: { ...commonLabels(engine), [labelKeys.revision]: revision },
      annotations: {
        [annotationKeys.generation]: String(engine.metadata.generation ?? 0),
        [annotationKeys.revisionSpec]: canonicalJson({ template: engine.spec.template, engine: engine.spec.engine }),
      },
      ownerReferences: [ownerReference(engine)],
    },
    spec: {
      replicas,
      minReadySeconds: engine.spec.minReadySeconds,
      selector: { matchLabels: revisionLabels(engine, revision) },
      template: renderPodTemplate(engine, revision, configMapName(engine, revision)),
    },
  });
}

/**
 * The engine Service: the metrics port plus every bound ZeroMQ endpoint but the control socket (signals), selecting
 * the pods of `revision` when given (blue-green switches it), else every engine pod of the TradingEngine. The
 * control port is not published: only the operator talks to it, pod by pod, at each pod's own address.
 */
export function renderService(engine: TradingEngine, revision?: string, role: 'active' | 'preview' = 'active'): V1Service {
  const endpoints = engine.spec.engine.zeromq.endpoints.filter((endpoint) => endpoint.bindPort !== undefined && endpoint.role !== 'control');
  return withAppliedHash<V1Service>({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: role === 'active' ? serviceName(engine) : previewServiceName(engine),
      namespace: engine.metadata.namespace,
      labels: commonLabels(engine),
      ownerReferences: [ownerReference(engine)],
    },
    spec: {
      type: 'ClusterIP',
      selector: revision === undefined ? selectorLabels(engine) : revisionLabels(engine, revision),
      ports: [
        { name: 'metrics', port: engine.spec.engine.metrics.port, targetPort: 'metrics', protocol: 'TCP' },
        ...endpoints.map((endpoint) => ({
          name: endpoint.name,
          port: endpoint.bindPort ?? 0,
          targetPort: endpoint.name,
          protocol: 'TCP',
        })),
      ],
    },
  });
}
