import type { V1NetworkPolicy, V1NetworkPolicyPeer, V1NetworkPolicyPort } from '@kubernetes/client-node';
import type { NetworkPolicySettings, PeerSelector } from '../api/settings.ts';
import type { TradingEngine } from '../api/types.ts';
import { ownerReference, withAppliedHash } from './owned.ts';
import { commonLabels, selectorLabels } from './labels.ts';

/** The namespace label every namespace carries (Kubernetes 1.22+), by which a policy names one namespace. */
const namespaceNameLabel = 'kubernetes.io/metadata.name';

/** The engine NetworkPolicy: one per TradingEngine, `<name>-engine` (a team's own policy is often named after the app). */
export function networkPolicyName(engine: TradingEngine): string {
  return `${engine.metadata.name ?? ''}-engine`;
}

/**
 * Ingress isolation of every engine pod of a TradingEngine (egress is left open: an engine connects out to its
 * feeds and gateways). Pure. What it allows, and nothing else:
 * - the control port only from the operator's pods (the operator cuts and drains through it);
 * - the metrics port from the operator's pods (the latency gate scrapes it) and from the configured Prometheus;
 * - a bound signals port from anywhere: its consumers are the user's own, and a SUB takes nothing from the engine;
 * - a bound market-data or orders port only from pods of the engine's own namespace: a stranger that connected a
 *   PULL to a bound orders PUSH would take a share of the orders, and one that connected a PUB to a bound SUB could
 *   inject ticks. A feed or gateway elsewhere needs a policy of the user's that admits it.
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
  const portsOf = (roles: readonly string[]): V1NetworkPolicyPort[] => endpoints.filter((endpoint) => roles.includes(endpoint.role)).map((endpoint) => tcp(endpoint.bindPort ?? 0));
  const control = portsOf(['control']);
  const open = portsOf(['signals']);
  const sameNamespace = portsOf(['marketData', 'orders']);
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
      ingress: [
        ...ingress,
        ...(open.length === 0 ? [] : [{ ports: open }]),
        // A podSelector alone (no namespaceSelector) selects pods of the policy's own namespace.
        ...(sameNamespace.length === 0 ? [] : [{ from: [{ podSelector: {} }], ports: sameNamespace }]),
      ],
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
