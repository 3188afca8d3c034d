import { hostname } from 'node:os';
import type { OperatorSettings } from './api/settings.ts';

/** Everything the operator process is configured with; built by `nexus operator` from flags and env. */
export interface OperatorConfig {
  /** Kubeconfig path; undefined = in-cluster service account, else $KUBECONFIG, else ~/.kube/config. */
  readonly kubeconfig?: string;
  readonly leaderElect: boolean;
  readonly leaseName: string;
  readonly leaseNamespace: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  /** This replica's identity in the lease (the pod name in a cluster). */
  readonly identity: string;
  readonly metricsPort: number;
  readonly healthPort: number;
  readonly bindHost: string;
  readonly watchNamespaces: readonly string[];
  readonly workers: number;
  readonly resyncMs: number;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** What shapes decisions: NetworkPolicy peers and the Prometheus allow-list. */
  readonly settings: OperatorSettings;
  /** Where every recorded Event is POSTed (NEXUS_EVENT_WEBHOOK_URL, NEXUS_EVENT_WEBHOOK_TOKEN); absent: nowhere. */
  readonly eventWebhook?: { readonly url: string; readonly token?: string };
  /**
   * Asked before every promotion (NEXUS_CONFIRM_PROMOTION_URL, NEXUS_CONFIRM_PROMOTION_TOKEN,
   * --confirm-promotion-timeout-seconds); absent: promotions never wait. settings.confirmPromotion says the same to decide.
   */
  readonly confirmPromotion?: { readonly url: string; readonly token?: string; readonly timeoutMs: number };
}

export class OperatorConfigError extends Error {
  override name = 'OperatorConfigError';
}

/**
 * Checks the cross-field rules of the leader-election timings (client-go's): the renew deadline must be below
 * the lease duration (else a leader that stopped renewing still looks alive to the others), and the retry
 * period below the renew deadline (else a leader gets no second renewal attempt before it must step down).
 */
export function checkOperatorConfig(config: OperatorConfig): OperatorConfig {
  if (config.leaderElect) {
    if (!(config.renewDeadlineMs < config.leaseDurationMs)) {
      throw new OperatorConfigError(`--renew-deadline-seconds (${config.renewDeadlineMs / 1000}) must be less than --lease-duration-seconds (${config.leaseDurationMs / 1000})`);
    }
    if (!(config.retryPeriodMs < config.renewDeadlineMs)) {
      throw new OperatorConfigError(`--retry-period-seconds (${config.retryPeriodMs / 1000}) must be less than --renew-deadline-seconds (${config.renewDeadlineMs / 1000})`);
    }
    if (config.leaseNamespace === '') throw new OperatorConfigError('--lease-namespace is required with --leader-elect (or set POD_NAMESPACE)');
  }
  if (config.metricsPort === config.healthPort && config.metricsPort !== 0) {
    throw new OperatorConfigError(`--metrics-port and --health-port must differ, both are ${config.metricsPort}`);
  }
  const webhookUrl = config.eventWebhook?.url;
  if (webhookUrl !== undefined && !/^https?:\/\/[^\s]+$/.test(webhookUrl)) {
    throw new OperatorConfigError('NEXUS_EVENT_WEBHOOK_URL must be an http:// or https:// URL (its value is not shown: it may hold a secret)');
  }
  const confirmUrl = config.confirmPromotion?.url;
  if (confirmUrl !== undefined && !/^https?:\/\/[^\s]+$/.test(confirmUrl)) {
    throw new OperatorConfigError('NEXUS_CONFIRM_PROMOTION_URL must be an http:// or https:// URL (its value is not shown: it may hold a secret)');
  }
  if ((config.confirmPromotion !== undefined) !== (config.settings.confirmPromotion === true)) {
    throw new OperatorConfigError('settings.confirmPromotion must be set exactly when a confirm-promotion webhook is configured');
  }
  for (const namespace of config.watchNamespaces) {
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(namespace)) throw new OperatorConfigError(`--watch-namespaces: ${JSON.stringify(namespace)} is not a namespace name`);
  }
  return config;
}

export function defaultIdentity(podName: string | undefined): string {
  return podName !== undefined && podName !== '' ? podName : `${hostname()}-${process.pid}`;
}
