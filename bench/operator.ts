/**
 * Operator benchmark: 200 TradingEngines reconciled by the in-process controller against a real kube-apiserver
 * (devcluster control plane; no controller-manager, so ReplicaSets stay unscaled and only the operator's own
 * work is measured). Reports reconcile latency p50/p99 for creation (3 applies + status each) and for a steady
 * resync (zero writes expected), the time for all 200 to be observed, and operator memory per engine.
 * Baseline, measured in the same run: one raw API round trip (GET of a TradingEngine) and one server-side apply
 * of a ConfigMap, so reconcile costs print as multiples of the API's own latency.
 *
 *   npm run bench:operator [-- --engines 200] [--json]
 */
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { startController } from '../operator/controller/controller.ts';
import { apiRequest } from '../operator/kube/api-request.ts';
import { createClusterWriter } from '../operator/kube/cluster-writer.ts';
import { loadKubeConfig } from '../operator/kube/kube-config.ts';
import { configMaps } from '../operator/kube/resources.ts';
import { createOperatorMetrics } from '../operator/metrics/operator-metrics.ts';
import { startControlPlane } from '../devcluster/control-plane.ts';
import { kubectlOrThrow } from '../test/support/kube.ts';

const root = fileURLToPath(new URL('../', import.meta.url));
const argIndex = process.argv.indexOf('--engines');
const engineCount = argIndex > 0 ? Number(process.argv[argIndex + 1]) : 200;
const json = process.argv.includes('--json');
const say = (line: string): void => {
  if (!json) console.log(line);
  else console.error(line);
};

function quantiles(values: number[]): { p50: number; p99: number; max: number; n: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
  return { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] ?? Number.NaN, n: sorted.length };
}
const fmt = (q: { p50: number; p99: number }): string => `p50 ${q.p50.toFixed(2)} ms, p99 ${q.p99.toFixed(2)} ms`;

function manifest(i: number): Record<string, unknown> {
  return {
    apiVersion: 'trading.nexus.dev/v1alpha1',
    kind: 'TradingEngine',
    metadata: { name: `engine-${String(i).padStart(3, '0')}`, namespace: 'bench' },
    spec: {
      replicas: 2,
      template: { image: 'nexus/engine:dev', resources: { cpu: '2', memory: '2Gi' }, gpu: i % 4 === 0 ? { count: 1 } : undefined },
      engine: {
        symbols: ['AAPL', 'MSFT', 'NVDA', 'AMZN'],
        indicators: [{ name: 'macd', type: 'macd', params: { fastPeriod: 12, slowPeriod: 26, signalPeriod: 9 } }, { name: 'rsi-14', type: 'rsi', params: { period: 14 } }],
        strategies: [{ name: 'macd-cross', type: 'macdCross', indicators: ['macd'], params: { orderQuantity: 10 } }],
        zeromq: { endpoints: [{ name: 'md', role: 'marketData', address: 'tcp://md:5555' }, { name: 'orders', role: 'orders', address: 'tcp://oms:5556' }] },
      },
    },
  };
}

async function main(): Promise<void> {
  const cluster = await startControlPlane({ controllers: false });
  // No time limit on kubectl: a bench run waits as long as the API server takes.
  const untimed = { timeoutMs: 0 } as const;
  try {
    kubectlOrThrow(cluster.kubeconfig, ['apply', '--server-side', '-f', `${root}crds/tradingengine.yaml`], untimed);
    kubectlOrThrow(cluster.kubeconfig, ['wait', '--for=condition=Established', 'crd/tradingengines.trading.nexus.dev', '--timeout=30s'], untimed);
    kubectlOrThrow(cluster.kubeconfig, ['create', 'namespace', 'bench'], untimed);
    const kubeConfig = loadKubeConfig(cluster.kubeconfig);

    // Baseline: the API server's own latency for one read and one server-side apply.
    kubectlOrThrow(cluster.kubeconfig, ['apply', '--server-side', '-f', '-'], { ...untimed, input: stringify(manifest(999)) });
    const gets: number[] = [];
    const applies: number[] = [];
    const writer = createClusterWriter(kubeConfig);
    for (let i = 0; i < 200; i++) {
      let t = performance.now();
      await apiRequest(kubeConfig, { method: 'GET', path: '/apis/trading.nexus.dev/v1alpha1/namespaces/bench/tradingengines/engine-999' });
      gets.push(performance.now() - t);
      t = performance.now();
      await writer.apply(configMaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'baseline', namespace: 'bench' }, data: { i: String(i) } });
      applies.push(performance.now() - t);
    }
    kubectlOrThrow(cluster.kubeconfig, ['delete', 'tradingengine', '-n', 'bench', 'engine-999'], untimed);
    const getQ = quantiles(gets.slice(20));
    const applyQ = quantiles(applies.slice(20));
    say(`Baseline API GET ${fmt(getQ)}; server-side apply ${fmt(applyQ)}`);

    globalThis.gc?.();
    const memoryBefore = process.memoryUsage();
    const durations: Array<{ ms: number; writes: number }> = [];
    const controller = startController({
      kubeConfig, writer, metrics: createOperatorMetrics(), namespaces: [], workers: 4, resyncMs: 0, log: () => undefined,
      onReconcile: (_key, ms, writes) => durations.push({ ms, writes }),
    });
    await controller.synced;

    const created = performance.now();
    kubectlOrThrow(cluster.kubeconfig, ['apply', '--server-side', '-f', '-'], {
      ...untimed, input: Array.from({ length: engineCount }, (_, i) => stringify(manifest(i))).join('---\n'),
    });
    const allObserved = (): boolean => {
      const engines = controller.engines.list();
      return engines.length === engineCount && engines.every((e) => e.status?.observedGeneration === e.metadata.generation);
    };
    while (!allObserved()) await new Promise((resolve) => setTimeout(resolve, 50));
    const convergeMs = performance.now() - created;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const createRuns = durations.splice(0);
    const withWrites = quantiles(createRuns.filter((d) => d.writes > 0).map((d) => d.ms));
    say(`Create: ${engineCount} engines observed in ${(convergeMs / 1000).toFixed(2)} s; reconciles with writes (n=${withWrites.n}) ${fmt(withWrites)}; errors ${createRuns.filter((d) => d.writes < 0).length}`);

    globalThis.gc?.();
    const memoryAfter = process.memoryUsage();
    const resyncStart = performance.now();
    controller.resyncAll();
    while (durations.length < engineCount) await new Promise((resolve) => setTimeout(resolve, 10));
    const resyncMs = performance.now() - resyncStart;
    const steady = quantiles(durations.map((d) => d.ms));
    const steadyWrites = durations.reduce((sum, d) => sum + Math.max(0, d.writes), 0);
    say(`Steady resync of ${engineCount}: ${(resyncMs).toFixed(0)} ms in all; per reconcile ${fmt(steady)}; API writes ${steadyWrites}`);
    const heapPerEngineKiB = (memoryAfter.heapUsed - memoryBefore.heapUsed) / engineCount / 1024;
    say(`Memory: heap ${(memoryBefore.heapUsed / 2 ** 20).toFixed(1)} -> ${(memoryAfter.heapUsed / 2 ** 20).toFixed(1)} MiB (${heapPerEngineKiB.toFixed(1)} KiB per engine with its children cached), RSS ${(memoryAfter.rss / 2 ** 20).toFixed(0)} MiB`);
    say(`Ratios: create reconcile p50 = ${(withWrites.p50 / applyQ.p50).toFixed(1)}x one SSA apply (3 applies + status expected ~4x); steady reconcile p50 = ${(steady.p50 / getQ.p50).toFixed(3)}x one API GET`);
    await controller.stop();
    if (json) {
      console.log(JSON.stringify({
        engines: engineCount,
        baseline: { getMs: getQ, applyMs: applyQ },
        create: { convergeSeconds: convergeMs / 1000, reconcileMs: withWrites },
        steady: { resyncMs, reconcileMs: steady, writes: steadyWrites },
        memory: { heapBeforeBytes: memoryBefore.heapUsed, heapAfterBytes: memoryAfter.heapUsed, rssBytes: memoryAfter.rss, heapPerEngineBytes: heapPerEngineKiB * 1024 },
      }));
    }
  } finally {
    await cluster.stop();
  }
}

await main();
