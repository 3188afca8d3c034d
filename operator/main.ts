import { startMetricsServer, type MetricsServer } from '../engine/metrics/http-server.ts';
import type { OperatorConfig } from './config.ts';
import { startController, type Controller } from './controller/controller.ts';
import { EventWebhook } from './notify/event-webhook.ts';
import { createPromotionConfirmer } from './notify/confirm-promotion.ts';
import { createClusterWriter } from './kube/cluster-writer.ts';
import { loadKubeConfig } from './kube/kube-config.ts';
import { createOperatorMetrics } from './metrics/operator-metrics.ts';
import { startLeadership, type Leadership } from './leadership.ts';

export interface RunningOperator {
  readonly metricsPort: number;
  readonly healthPort: number;
  /** The controller while this replica leads, else undefined. */
  controller(): Controller | undefined;
  /** Resolves when the operator has stopped (lost leadership, or `stop()`); with the exit code to use. */
  readonly done: Promise<number>;
  stop(): Promise<void>;
}

/**
 * Wiring only: metrics and health servers, leader election, and the controller, which starts when this replica
 * becomes leader. Losing the lease stops the controller and ends the process with exit code 1 (the pod restarts
 * and campaigns again), so two replicas never reconcile at once for longer than the renew deadline.
 * `/readyz` is ready on a standby replica (it serves its purpose: waiting) and on the leader once its caches synced.
 */
export async function runOperator(config: OperatorConfig, log: (line: string) => void): Promise<RunningOperator> {
  const kubeConfig = loadKubeConfig(config.kubeconfig);
  const metrics = createOperatorMetrics();
  const writer = createClusterWriter(kubeConfig, { instance: config.identity });
  let controller: Controller | undefined;
  let finish: (code: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => {
    finish = resolve;
  });
  let stopping = false;

  const servers: MetricsServer[] = [];
  const isReady = (): boolean => !stopping && (controller === undefined || controller.isSynced());
  servers.push(await startMetricsServer({ port: config.metricsPort, host: config.bindHost, registry: metrics.registry, isReady }));
  if (config.healthPort !== config.metricsPort) {
    servers.push(await startMetricsServer({ port: config.healthPort, host: config.bindHost, registry: metrics.registry, isReady }));
  }

  const eventWebhook = config.eventWebhook === undefined ? undefined : new EventWebhook({
    ...config.eventWebhook, log, onResult: (result) => metrics.webhookEvents.inc({ result }),
  });
  const startLeading = (): void => {
    metrics.leader.set(1);
    log(`Leading identity=${config.identity}; starting the controller${eventWebhook === undefined ? '' : '; Events are sent to the event webhook'}${config.confirmPromotion === undefined ? '' : '; promotions wait for the confirm-promotion webhook'}`);
    controller = startController({
      kubeConfig, writer, metrics, log, namespaces: config.watchNamespaces, workers: config.workers, resyncMs: config.resyncMs, settings: config.settings,
      ...(eventWebhook === undefined ? {} : { eventWebhook }),
      ...(config.confirmPromotion === undefined ? {} : { confirmPromotion: createPromotionConfirmer(config.confirmPromotion) }),
    });
  };
  const stopAll = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    metrics.leader.set(0);
    await controller?.stop();
    await eventWebhook?.close();
    await leadership.stop();
    await Promise.all(servers.map((server) => server.close()));
    finish(code);
  };
  const leadership: Leadership = startLeadership(config, kubeConfig, {
    onStartedLeading: startLeading,
    onStoppedLeading: () => {
      if (stopping) return;
      log(`Leadership lost identity=${config.identity}; stopping`);
      void stopAll(1);
    },
    onNewLeader: (identity) => log(`Leader observed identity=${identity}`),
  }, log);

  return {
    metricsPort: servers[0]?.port ?? config.metricsPort,
    healthPort: servers[servers.length - 1]?.port ?? config.healthPort,
    controller: () => controller,
    done,
    stop: () => stopAll(0),
  };
}
