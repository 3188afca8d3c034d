import type { KubeConfig } from '@kubernetes/client-node';
import type { OperatorConfig } from './config.ts';
import { LeaderElector, type LeaderCallbacks } from './runtime/leader-elector.ts';
import { KubeLeaseStore } from './kube/lease-store.ts';

export interface Leadership {
  isLeader(): boolean;
  /** Steps down (onStoppedLeading runs first) and releases the lease so a standby takes over at once. */
  stop(): Promise<void>;
}

/**
 * Wiring: campaigns for the configured Lease when leader election is on; with it off, this replica leads at
 * once and alone (one replica only, which the chart enforces).
 */
export function startLeadership(
  config: OperatorConfig,
  kubeConfig: KubeConfig,
  callbacks: Required<Pick<LeaderCallbacks, 'onStartedLeading' | 'onStoppedLeading' | 'onNewLeader'>>,
  log: (line: string) => void,
): Leadership {
  if (!config.leaderElect) {
    callbacks.onStartedLeading();
    return { isLeader: () => true, stop: async () => undefined };
  }
  const elector = new LeaderElector({
    identity: config.identity,
    store: new KubeLeaseStore(kubeConfig, config.leaseNamespace, config.leaseName),
    leaseDurationMs: config.leaseDurationMs,
    renewDeadlineMs: config.renewDeadlineMs,
    retryPeriodMs: config.retryPeriodMs,
    callbacks,
    log,
  });
  void elector.run();
  return { isLeader: () => elector.isLeader(), stop: () => elector.stop() };
}
