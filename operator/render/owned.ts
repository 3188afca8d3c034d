import type { V1OwnerReference } from '@kubernetes/client-node';
import type { TradingEngine } from '../api/types.ts';
import { shortHash } from './canonical-json.ts';
import { annotationKeys } from './labels.ts';

/**
 * What every child of a TradingEngine carries: an ownerReference to it (controller: true, blockOwnerDeletion:
 * true), so deleting the engine garbage-collects the child, and an `applied-hash` annotation over the child's own
 * content, so the executor applies only what changed.
 */

export function ownerReference(engine: TradingEngine): V1OwnerReference {
  return {
    apiVersion: engine.apiVersion,
    kind: engine.kind,
    name: engine.metadata.name ?? '',
    uid: engine.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Stamps the applied-hash annotation: a hash of the object as rendered (before the annotation is added). */
export function withAppliedHash<T extends { metadata?: { annotations?: { [key: string]: string } } }>(object: T): T {
  const hash = shortHash(object);
  const metadata = object.metadata ?? {};
  return { ...object, metadata: { ...metadata, annotations: { ...metadata.annotations, [annotationKeys.appliedHash]: hash } } };
}

export function appliedHash(object: { metadata?: { annotations?: Record<string, string> } } | undefined): string | undefined {
  return object?.metadata?.annotations?.[annotationKeys.appliedHash];
}
