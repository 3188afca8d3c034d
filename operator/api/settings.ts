/**
 * What the operator itself is configured with that shapes its decisions (flags, from the Helm chart's values):
 * the network isolation it renders for engines and the Prometheus servers a spec may send queries to. Part of
 * what decide observes, so a decision stays a pure function of its inputs.
 */
export interface OperatorSettings {
  /** Render a NetworkPolicy per TradingEngine; undefined renders none (e.g. a cluster whose CNI enforces none). */
  readonly networkPolicy?: NetworkPolicySettings;
  /**
   * Prometheus base URLs (scheme, host, port, optional path) a spec's `analysis.latency.source.prometheus.address`
   * may name, compared after normalising a trailing slash; undefined allows any (the chart always sets a list).
   */
  readonly prometheusAddresses?: readonly string[];
  /**
   * A confirm-promotion webhook is configured (Helm value notifications.confirmPromotion): every promotion of a new
   * revision to stable waits until it confirms (operator/rollout/confirm.ts). Absent or false: promotions never wait.
   */
  readonly confirmPromotion?: boolean;
}

/** Pods selected by labels, in namespaces selected by labels (a NetworkPolicy peer; matchLabels only). */
export interface PeerSelector {
  readonly namespaceLabels?: Readonly<Record<string, string>>;
  readonly podLabels?: Readonly<Record<string, string>>;
}

export interface NetworkPolicySettings {
  /** The operator's own pods: the only peers of an engine's control port (and peers of its metrics port). */
  readonly operatorNamespace: string;
  readonly operatorPodLabels: Readonly<Record<string, string>>;
  /** The Prometheus that scrapes engines: peers of the metrics port besides the operator; undefined: none. */
  readonly prometheus?: PeerSelector;
}
