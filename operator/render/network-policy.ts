import type { V1NetworkPolicy, V1NetworkPolicyPeer, V1NetworkPolicyPort } from '@kubernetes/client-node';
import type { NetworkPolicySettings, PeerSelector } from '../api/settings.ts';
import type { TradingEngine } from '../api/types.ts';
import { ownerReference, withAppliedHash } from './owned.ts';
import { commonLabels, selectorLabels } from './labels.ts';

/** The namespace label every namespace carries (Kubernetes 1.22+), by which a policy names one namespace. */
const namespaceNameLabel = 'kubernetes.io/metadata.name';

/** The engine NetworkPolicy: one per TradingEngine, same name as the engine. */
export function networkPolicyName(engine: TradingEngine): string {
  return engine.metadata.name ?? '';
}

/**
 * Ingress isolation of every engine pod of a TradingEngine (egress is left open: an engine connects out to its
 * feeds and gateways). Pure. What it allows, and nothing else:
 * - the control port only from the operator's pods (the operator cuts and drains through it);
 * - the metrics port from the operator's pods (the latency gate scrapes it) and from the configured Prometheus;
 * - every other port the engine binds (e.g. signals PUB) from anywhere, since its consumers are the user's own.
 * It needs a CNI that enforces NetworkPolicy (Calico, Cilium, ...); without one the API server stores it and
 * nothing is isolated (docs/security.md).
 */
export function renderNetworkPolicy(engine: TradingEngine, settings: NetworkPolicySettings): V1NetworkPolicy {
  const endpoints = engine.spec.engine.zeromq.endpoints.filter((endpoint) => endpoint.bindPort !== undefined);
  const tcp = (port: number): V1NetworkPolicyPort => ({ protocol: 'TCP', port });
  const operator: V1NetworkPolicyPeer = {
    namespaceSelector: { matchLabels: { [namespaceNameLabel]: settings.operatorNamespace } },
    podSelector: { matchLabels: { ...settings.operatorPodLabels } },
  };
  const control = endpoints.filter((endpoint) => endpoint.role === 'control').map((endpoint) => tcp(endpoint.bindPort ?? 0));
  const open = endpoints.filter((endpoint) => endpoint.role !== 'control').map((endpoint) => tcp(endpoint.bindPort ?? 0));
  const metrics = tcp(engine.spec.engine.metrics.port);
  const ingress = [{ from: [operator], ports: [...control, metrics] }];
  if (settings.prometheus !== undefined) ingress.push({ from: [peerOf(settings.prometheus)], ports: [metrics] });
  return withAppliedHash<V1NetworkPolicy>({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: {
      name: networkPolicyName(engine),
      namespace: engine.metadata.namespace,
      labels: commonLabels(engine),
      ownerReferences: [ownerReference(engine)],
    },
    spec: {
      podSelector: { matchLabels: selectorLabels(engine) },
      policyTypes: ['Ingress'],
      ingress: [...ingress, ...(open.length === 0 ? [] : [{ ports: open }])],
    },
  });
}

/** A peer from label selectors; an empty namespace selector means every namespace, an absent one this namespace. */
function peerOf(selector: PeerSelector): V1NetworkPolicyPeer {
  return {
    ...(selector.namespaceLabels === undefined ? {} : { namespaceSelector: { matchLabels: { ...selector.namespaceLabels } } }),
    ...(selector.podLabels === undefined ? {} : { podSelector: { matchLabels: { ...selector.podLabels } } }),
  };
}
