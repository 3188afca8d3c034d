import type { TradingEngine } from '../api/types.ts';

/**
 * Label and annotation keys the operator puts on its children, following the Kubernetes recommended labels
 * (app.kubernetes.io/*). `selectorLabels` select every engine pod of one TradingEngine (the scale subresource's
 * selector and the engine Service); `revisionLabels` add the revision, which selects one ReplicaSet's pods.
 */
export const labelKeys = {
  name: 'app.kubernetes.io/name',
  instance: 'app.kubernetes.io/instance',
  component: 'app.kubernetes.io/component',
  partOf: 'app.kubernetes.io/part-of',
  managedBy: 'app.kubernetes.io/managed-by',
  version: 'app.kubernetes.io/version',
  revision: 'trading.nexus.dev/revision',
} as const;

export const annotationKeys = {
  /** Hash of the object as the operator last applied it: equal hash -> nothing to apply. */
  appliedHash: 'trading.nexus.dev/applied-hash',
  /** The TradingEngine generation a revision was created from. */
  generation: 'trading.nexus.dev/generation',
  /**
   * What makes the revision (spec.template and spec.engine, canonical JSON) on its ReplicaSet, so
   * `nexus rollout undo` can put an earlier revision back into the spec.
   */
  revisionSpec: 'trading.nexus.dev/revision-spec',
} as const;

export const engineAppName = 'nexus-engine';
export const managerName = 'nexus-operator';

export function selectorLabels(engine: TradingEngine): Record<string, string> {
  return { [labelKeys.name]: engineAppName, [labelKeys.instance]: engine.metadata.name ?? '' };
}

export function selectorString(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}

export function commonLabels(engine: TradingEngine): Record<string, string> {
  return {
    ...selectorLabels(engine),
    [labelKeys.component]: 'engine',
    [labelKeys.partOf]: 'nexus',
    [labelKeys.managedBy]: managerName,
  };
}

export function revisionLabels(engine: TradingEngine, revision: string): Record<string, string> {
  return { ...selectorLabels(engine), [labelKeys.revision]: revision };
}

/**
 * The image tag as a label value (`app.kubernetes.io/version`), or undefined when the image has no tag or the
 * tag is not a valid label value. Examples: `ghcr.io/x/nexus-engine:0.1.0` -> `0.1.0`; `nexus@sha256:ab..` ->
 * undefined; `localhost:5000/nexus` -> undefined (the colon belongs to the registry port).
 */
/** The revision an object (ReplicaSet, ConfigMap, Pod) carries in its revision label; '' when it has none. */
export function revisionLabelOf(object: { metadata?: { labels?: Record<string, string> } } | undefined): string {
  return object?.metadata?.labels?.[labelKeys.revision] ?? '';
}

export function imageVersion(image: string): string | undefined {
  const withoutDigest = image.split('@')[0] ?? image;
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.indexOf(':', lastSlash + 1);
  if (colon < 0) return undefined;
  const tag = withoutDigest.slice(colon + 1);
  return /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/.test(tag) ? tag : undefined;
}
