import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CoreV1Event, KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import type { TradingEngine, TradingEngineSpec } from '../../operator/api/types.ts';
import { startController, type Controller } from '../../operator/controller/controller.ts';
import type { RolloutEffects } from '../../operator/controller/rollout-effects.ts';
import { createClusterWriter } from '../../operator/kube/cluster-writer.ts';
import { loadKubeConfig } from '../../operator/kube/kube-config.ts';
import { applyManifest, eventsFor, readObject, waitForEstablished, type ManifestObject } from '../../operator/kube/manifests.ts';
import { createOperatorMetrics } from '../../operator/metrics/operator-metrics.ts';
import { createPromotionConfirmer } from '../../operator/notify/confirm-promotion.ts';
import { startMetricsServer } from '../../engine/metrics/http-server.ts';
import { monoNowNs } from '../../engine/clock/monotonic.ts';
import { OrderSink } from '../../engine/sim/order-sink.ts';
import { freePort, spawnNexus, waitForExit } from '../lib/processes.ts';

/**
 * A local rollout lab: everything a latency-gated rollout needs, on this machine, with real components.
 * A real control plane (kube-apiserver, etcd, controller-manager, scheduler: devcluster), the local node agent
 * running engine pods as `nexus engine` processes on 127.0.0.x, the TradingEngine CRD, a market-data feed
 * (`nexus feed` process, ZeroMQ PUB), an order sink (ZeroMQ PULL, this process) and the operator's controller
 * (this process). Used by `nexus demo` and by the rollout integration tests. `stop()` stops all of it.
 */
export interface RolloutLab {
  readonly kubeConfig: KubeConfig;
  readonly kubeconfigPath: string;
  readonly namespace: string;
  readonly sink: OrderSink;
  /** A TradingEngine manifest wired to this lab's feed and sink; `edit` changes its spec. */
  manifest(name: string, edit?: (spec: MutableSpec) => void): TradingEngine;
  apply(engine: TradingEngine): Promise<void>;
  read(name: string): Promise<TradingEngine | undefined>;
  events(name: string): Promise<CoreV1Event[]>;
  /** Stops the operator (as a crash or a rollout of the operator would) and starts a fresh one: new caches, no memory. */
  restartOperator(): Promise<void>;
  readonly controller: () => Controller;
  /** The process of each running engine container, by pod key (`namespace/name`): tests kill one as a crash would. */
  containerPids(): ReadonlyMap<string, number>;
  /** The port of the operator's /metrics on 127.0.0.1 (options.serveOperatorMetrics), else undefined. */
  readonly operatorMetricsPort: number | undefined;
  stop(): Promise<void>;
}

type DeepMutable<T> = T extends ReadonlyArray<infer U> ? Array<DeepMutable<U>> : T extends object ? { -readonly [K in keyof T]: DeepMutable<T[K]> } : T;

/** A spec the lab's callers may edit freely. */
export type MutableSpec = DeepMutable<TradingEngineSpec>;

export interface RolloutLabOptions {
  readonly log: (line: string) => void;
  /** Market-data ticks per second, all symbols together; default 400. */
  readonly tickRate?: number;
  /** nvidia.com/gpu the local node advertises; default 0. */
  readonly gpus?: number;
  /** Replace the operator's rollout effects (tests that observe them). */
  readonly rollout?: RolloutEffects;
  /** The operator's Prometheus allow-list (its --prometheus-addresses); default none configured: any address. */
  readonly prometheusAddresses?: readonly string[];
  /**
   * Serve the operator's /metrics on 127.0.0.1 (0: a free port; see `operatorMetricsPort`), as the operator's own
   * metrics server does in a pod; default not served. The metrics outlive restartOperator, as a scrape target would.
   */
  readonly serveOperatorMetrics?: boolean;
  /** The operator's confirm-promotion webhook (NEXUS_CONFIRM_PROMOTION_URL): every promotion waits for it; default none. */
  readonly confirmPromotionUrl?: string;
}

const root = fileURLToPath(new URL('../../', import.meta.url));
const fieldManager = 'nexus-lab';
const symbols = ['AAPL', 'MSFT', 'NVDA', 'AMZN'];

export async function startRolloutLab(options: RolloutLabOptions): Promise<RolloutLab> {
  const { log } = options;
  // The dev cluster, loaded only here so the engine's own commands never load it.
  const { startControlPlane } = await import('../../devcluster/control-plane.ts');
  const { startNodeAgent } = await import('../../devcluster/node-agent.ts');
  const marketDataPort = await freePort();
  const ordersPort = await freePort();
  const stack: Array<() => Promise<void>> = [];
  const stop = async (): Promise<void> => {
    for (const step of stack.reverse()) await step().catch((error: unknown) => log(`Lab stop step failed: ${String(error)}`));
    stack.length = 0;
  };
  try {
    const sink = new OrderSink({ ordersBind: `tcp://127.0.0.1:${ordersPort}`, signalsConnect: [], clockNs: monoNowNs, detectDuplicates: true });
    await sink.open();
    const sinkLoop = sink.run();
    stack.push(async () => {
      sink.close();
      await sinkLoop.catch(() => undefined);
    });
    const feed: ChildProcess = spawnNexus([
      'feed', '--bind', `tcp://127.0.0.1:${marketDataPort}`, '--symbols', symbols.join(','), '--rate', String(options.tickRate ?? 400),
      // The regime price path: trends that last about a minute, so RSI reversion orders a few times a minute per
      // symbol, as a real strategy does, while the gate still samples the decision on every trade.
      '--duration', '0', '--quiet', '--trade-ratio', '1', '--path', 'regime',
    ]);
    feed.stderr?.on('data', (chunk: Buffer) => log(`feed: ${chunk.toString().trimEnd()}`));
    stack.push(async () => {
      feed.kill('SIGTERM');
      if ((await waitForExit(feed, 5_000)) === null) feed.kill('SIGKILL');
    });

    const cluster = await startControlPlane({ controllers: true, log });
    stack.push(() => cluster.stop());
    const agent = await startNodeAgent({ kubeconfig: cluster.kubeconfig, gpus: options.gpus ?? 0, heartbeatMs: 5_000, log });
    stack.push(() => agent.stop());
    const kubeConfig = loadKubeConfig(cluster.kubeconfig);
    // Every CRD: TradingEngine and the gate definitions (the operator watches those only where they are served).
    for (const file of ['tradingengine.yaml', 'latencygate.yaml', 'clusterlatencygate.yaml']) {
      const crd = parse(readFileSync(`${root}crds/${file}`, 'utf8')) as ManifestObject;
      await applyManifest(kubeConfig, crd, fieldManager);
      await waitForEstablished(kubeConfig, crd.metadata.name, 30_000);
    }
    const namespace = 'trading';
    await applyManifest(kubeConfig, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }, fieldManager);

    const writer = createClusterWriter(kubeConfig);
    const metrics = createOperatorMetrics();
    // The lab's one operator always leads (no election): as the leader gauge of a real leader reads.
    metrics.leader.set(1);
    let operatorMetricsPort: number | undefined;
    if (options.serveOperatorMetrics === true) {
      const server = await startMetricsServer({ port: 0, host: '127.0.0.1', registry: metrics.registry, isReady: () => true });
      stack.push(() => server.close());
      operatorMetricsPort = server.port;
    }
    const start = async (): Promise<Controller> => {
      const started = startController({
        kubeConfig, writer, metrics, namespaces: [namespace], workers: 2, resyncMs: 0, watchSilenceMs: 60_000, log,
        // As the chart configures it; this local cluster stores the NetworkPolicies and enforces none (no CNI).
        settings: {
          networkPolicy: { operatorNamespace: 'nexus-system', operatorPodLabels: { 'app.kubernetes.io/name': 'trading-operator' } },
          ...(options.prometheusAddresses === undefined ? {} : { prometheusAddresses: [...options.prometheusAddresses] }),
          ...(options.confirmPromotionUrl === undefined ? {} : { confirmPromotion: true }),
        },
        ...(options.confirmPromotionUrl === undefined ? {} : { confirmPromotion: createPromotionConfirmer({ url: options.confirmPromotionUrl, timeoutMs: 2_000 }) }),
        ...(options.rollout === undefined ? {} : { rollout: options.rollout }),
      });
      await started.synced;
      return started;
    };
    let controller = await start();
    stack.push(() => controller.stop());

    const engineRef = (name: string): ManifestObject => ({ apiVersion: 'trading.nexus.dev/v1alpha1', kind: 'TradingEngine', metadata: { name, namespace } });
    return {
      kubeConfig,
      kubeconfigPath: cluster.kubeconfig,
      namespace,
      sink,
      manifest: (name, edit) => {
        const spec = labEngineSpec(marketDataPort, ordersPort);
        edit?.(spec);
        return { apiVersion: 'trading.nexus.dev/v1alpha1', kind: 'TradingEngine', metadata: { name, namespace }, spec } as TradingEngine;
      },
      apply: async (engine) => {
        await applyManifest(kubeConfig, engine as unknown as ManifestObject, fieldManager);
      },
      read: (name) => readObject<TradingEngine>(kubeConfig, engineRef(name)),
      events: (name) => eventsFor(kubeConfig, namespace, 'TradingEngine', name),
      restartOperator: async () => {
        await controller.stop();
        controller = await start();
      },
      controller: () => controller,
      containerPids: () => agent.pids(),
      operatorMetricsPort,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * The lab's engine: two pods running a realistic strategy (RSI reversion: it orders only when a symbol's RSI
 * crosses its bands, not on every tick), a control socket for the cut, and a canary with a fast latency gate on
 * decision latency (every trade is a sample, ordering or not): every 2 s over the last 2 s
 * (a window no longer than the interval, so consecutive measurements are independent and one CPU stall cannot
 * breach three times), 3 breaches in a row abort, 3 passes in a row promote.
 */
function labEngineSpec(marketDataPort: number, ordersPort: number): MutableSpec {
  return {
    replicas: 2,
    template: { image: 'nexus/engine:v1', resources: { cpu: '500m', memory: '256Mi' } },
    engine: {
      symbols,
      indicators: [{ name: 'rsi-14', type: 'rsi', params: { period: 14 } }],
      strategies: [{ name: 'rsi', type: 'rsiReversion', indicators: ['rsi-14'], params: { orderQuantity: 1, oversold: 30, overbought: 70 } }],
      risk: { maxOrderQty: 100, maxPosition: 1000, maxNotional: 10_000_000, priceBandBps: 1000, ordersEnabled: true },
      zeromq: {
        endpoints: [
          { name: 'md', role: 'marketData', address: `tcp://127.0.0.1:${marketDataPort}` },
          { name: 'orders', role: 'orders', address: `tcp://127.0.0.1:${ordersPort}` },
          { name: 'control', role: 'control', bindPort: 5560 },
        ],
      },
      metrics: { port: 9100 },
      warmupTicks: 2_000,
    },
    strategy: {
      type: 'Canary',
      canary: { steps: [{ setWeight: 50 }, { analysis: {} }, { setWeight: 100 }], abortScaleDownDelaySeconds: 5 },
    },
    analysis: {
      latency: {
        source: { type: 'PodScrape' },
        metric: 'Decision',
        quantile: '0.99',
        thresholdMicros: 5_000,
        interval: '2s',
        window: '2s',
        initialDelay: '2s',
        minSamples: 200,
        consecutiveBreaches: 3,
        successfulIntervals: 3,
      },
    },
  } as unknown as MutableSpec;
}
