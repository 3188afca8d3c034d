import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startRolloutLab, type MutableSpec, type RolloutLab } from '../../cli/commands/rollout-lab.ts';
import { freePort } from '../../cli/lib/processes.ts';
import type { TradingEngine } from '../../operator/api/types.ts';
import { apiRequest } from '../../operator/kube/api-request.ts';
import { eventually } from '../support/eventually.ts';
import { renderChart } from '../support/helm.ts';
import type { PodJson } from '../support/kube.ts';

/**
 * The latency gate with `source: Prometheus`, end to end: a real Prometheus (Debian's prometheus 2.42, as CI
 * installs it) scrapes the real engine pods of the local cluster every second (file-based discovery, written from
 * the API server's pod list with the namespace and pod labels a Kubernetes scrape config gives), and the operator
 * gates on histogram_quantile over the engines' decision latency histograms, through a proxy that records each
 * query's tenant header and bearer token (read by the operator from a Secret). A healthy revision is promoted; a
 * revision slower than 10 ms is aborted against a threshold above 10 ms, which the engine's histogram could not
 * show before its buckets reached 60 s (histogram_quantile answered 10000 for anything slower).
 *
 * The same Prometheus scrapes the operator's own /metrics and loads the chart's alert rules (rendered by helm), so the
 * abort is seen as the NexusRolloutAborted alert firing; and every query of the chart's Grafana dashboard (panels,
 * annotations, variables) is run against it and must answer data.
 */
let lab: RolloutLab | undefined;
let prometheus: ChildProcess | undefined;
let discovery: { stop: () => Promise<void> } | undefined;
let dir = '';
let prometheusUrl = '';
/** What the operator queries: a recording proxy in front of Prometheus (it keeps each query's auth headers). */
let proxyUrl = '';
let proxy: Server | undefined;
/** When the first engine was applied: the dashboard's queries cover from here to now. */
let startedSeconds = 0;

/** What this test reads of a Grafana dashboard: the Prometheus queries of its panels, annotations and variables. */
interface Dashboard {
  panels: Array<{ title: string; targets: Array<{ expr: string; refId: string }> }>;
  annotations: { list: Array<{ name: string; expr: string }> };
  templating: { list: Array<{ name: string; type: string; query?: { query: string } }> };
}
let dashboard: Dashboard | undefined;
const queried: Array<{ tenant: string | undefined; authorization: string | undefined }> = [];
const lines: string[] = [];
const log = (line: string): void => {
  lines.push(line);
};
const tail = (): string => lines.slice(-30).join('\n');
const name = 'prom';

/**
 * Rewrites the file Prometheus discovers its targets from: every engine pod with an IP, until stopped. The labels
 * are those the chart's PodMonitor gives: namespace and pod (Kubernetes discovery), engine and revision (its
 * relabelings, from the pod's labels).
 */
function discoverPods(current: RolloutLab, targetsFile: string): { stop: () => Promise<void> } {
  let running = true;
  let written = '';
  const loop = (async () => {
    while (running) {
      const list = await apiRequest<{ items: PodJson[] }>(current.kubeConfig, {
        method: 'GET', path: `/api/v1/namespaces/${current.namespace}/pods`, query: { labelSelector: 'app.kubernetes.io/name=nexus-engine' },
      }).catch(() => undefined);
      const targets = (list?.items ?? []).filter((pod) => pod.status.podIP !== undefined).map((pod) => ({
        targets: [`${pod.status.podIP ?? ''}:9100`],
        labels: {
          namespace: current.namespace, pod: pod.metadata.name,
          engine: pod.metadata.labels?.['app.kubernetes.io/instance'] ?? '', revision: pod.metadata.labels?.['trading.nexus.dev/revision'] ?? '',
        },
      }));
      const text = JSON.stringify(targets);
      if (text !== written) {
        writeFileSync(`${targetsFile}.tmp`, text);
        renameSync(`${targetsFile}.tmp`, targetsFile);
        written = text;
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  })();
  return { stop: async () => { running = false; await loop; } };
}

const engine = async (): Promise<TradingEngine | undefined> => lab?.read(name);

/** The lab's engine with its gate on this Prometheus: every 3 s over the last 10 s, threshold 12 ms. */
function gated(edit: (spec: MutableSpec) => void = () => undefined): TradingEngine {
  if (lab === undefined) throw new Error('no lab');
  return lab.manifest(name, (spec) => {
    spec.analysis = {
      latency: {
        source: {
          type: 'Prometheus',
          prometheus: { address: proxyUrl, timeoutMillis: 3_000, headers: { 'X-Scope-OrgID': 'team-a' }, bearerTokenSecretRef: { name: 'prometheus-reader', key: 'token' } },
        },
        metric: 'Decision', quantile: '0.99', thresholdMicros: 12_000,
        interval: '3s', window: '10s', initialDelay: '6s', minSamples: 200, consecutiveBreaches: 3, successfulIntervals: 3,
      },
    } as unknown as MutableSpec['analysis'];
    edit(spec);
  });
}

beforeAll(async () => {
  proxy = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      queried.push({ tenant: request.headers['x-scope-orgid'] as string | undefined, authorization: request.headers.authorization });
      void fetch(`${prometheusUrl}${request.url ?? '/'}`, { method: request.method, headers: { 'content-type': request.headers['content-type'] ?? '' }, body: request.method === 'POST' ? body : undefined })
        .then(async (answer) => {
          response.statusCode = answer.status;
          response.setHeader('content-type', answer.headers.get('content-type') ?? 'application/json');
          response.end(await answer.text());
        })
        .catch(() => {
          response.statusCode = 502;
          response.end();
        });
    });
  });
  await new Promise<void>((resolve) => proxy?.listen(0, '127.0.0.1', resolve));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  // The operator may query only the proxy (its allow-list), which a bearer token Secret requires.
  lab = await startRolloutLab({ log, prometheusAddresses: [proxyUrl], serveOperatorMetrics: true });
  dir = mkdtempSync(join(tmpdir(), 'nexus-prometheus-'));
  const chart = renderChart(['metrics.prometheusRule.enabled=true', 'grafana.dashboard.enabled=true']);
  const rule = chart.find((object) => object.kind === 'PrometheusRule') as { spec: { groups: unknown[] } } | undefined;
  const board = chart.find((object) => object.kind === 'ConfigMap' && object.metadata.name.endsWith('-dashboard'))?.data?.['nexus-rollouts.json'];
  if (rule === undefined || board === undefined) throw new Error('the chart rendered no PrometheusRule or no dashboard ConfigMap');
  writeFileSync(join(dir, 'rules.yml'), stringify({ groups: rule.spec.groups }));
  dashboard = JSON.parse(board) as Dashboard;
  const port = await freePort();
  prometheusUrl = `http://127.0.0.1:${port}`;
  const targetsFile = join(dir, 'engines.json');
  writeFileSync(targetsFile, '[]');
  writeFileSync(join(dir, 'prometheus.yml'), stringify({
    global: { scrape_interval: '1s', scrape_timeout: '900ms', evaluation_interval: '1s' },
    rule_files: [join(dir, 'rules.yml')],
    scrape_configs: [
      { job_name: 'nexus-engines', file_sd_configs: [{ files: [targetsFile], refresh_interval: '1s' }] },
      { job_name: 'nexus-operator', static_configs: [{ targets: [`127.0.0.1:${lab.operatorMetricsPort ?? 0}`], labels: { namespace: 'nexus-system', pod: 'trading-operator-0' } }] },
    ],
  }));
  prometheus = spawn('prometheus', [
    `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  prometheus.stderr?.on('data', (chunk: Buffer) => log(`prometheus: ${chunk.toString().trimEnd()}`));
  const spawnFailed = new Promise<never>((_resolve, reject) => prometheus?.once('error', (error) => reject(new Error(`prometheus did not start (Debian package prometheus; .ci/run installs it): ${error.message}`))));
  await Promise.race([spawnFailed, eventually(async () => (await fetch(`${prometheusUrl}/-/ready`).catch(() => undefined))?.status === 200, { timeoutMs: 30_000, what: 'Prometheus ready', context: tail })]);
  discovery = discoverPods(lab, targetsFile);
}, 180_000);

afterAll(async () => {
  proxy?.closeAllConnections();
  proxy?.close();
  await discovery?.stop();
  prometheus?.kill('SIGTERM');
  await lab?.stop();
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('the latency gate on a real Prometheus scraping real engines', () => {
  it('promotes a healthy revision and aborts one slower than 10 ms against a threshold above 10 ms', async () => {
    // The source's tenant header and bearer token (from a Secret in the engine's namespace) go with every query.
    await apiRequest(lab?.kubeConfig ?? (undefined as never), {
      method: 'POST', path: `/api/v1/namespaces/${lab?.namespace ?? ''}/secrets`,
      body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'prometheus-reader' }, stringData: { token: 'reader-t0ken' } },
    });
    startedSeconds = Date.now() / 1000;
    await lab?.apply(gated());
    const v1 = await eventually(engine, { until: (e) => e?.status?.phase === 'Healthy' && e.status.stableRevision !== undefined, timeoutMs: 90_000, what: 'v1 Healthy', context: tail });
    const stable = v1?.status?.stableRevision ?? '';

    await lab?.apply(gated((spec) => { spec.template.image = 'nexus/engine:v2'; }));
    const v2 = await eventually(engine, { until: (e) => e?.status?.phase === 'Healthy' && e.status.stableRevision !== stable, timeoutMs: 150_000, what: 'v2 promoted through Prometheus', context: tail });
    expect(v2?.status?.analysis?.lastMeasurement).toMatchObject({ result: 'Pass', thresholdMicros: 12_000 });
    expect(v2?.status?.analysis?.lastMeasurement?.samples).toBeGreaterThanOrEqual(200);
    expect(queried.length).toBeGreaterThan(0);
    expect(queried.every((query) => query.tenant === 'team-a' && query.authorization === 'Bearer reader-t0ken')).toBe(true);

    // 25 ms more on 5% of trades: the p99 is above 10 ms, the old top bucket.
    await lab?.apply(gated((spec) => {
      spec.template.image = 'nexus/engine:v3';
      spec.engine.faultInjection = { extraLatencyMicros: 25_000, affectedPercent: 5 } as MutableSpec['engine']['faultInjection'];
    }));
    const v3 = await eventually(engine, { until: (e) => e?.status?.phase === 'Aborted', timeoutMs: 150_000, what: 'v3 aborted through Prometheus', context: tail });
    expect(v3?.status?.abortReason).toBe('LatencyBreach');
    const breach = v3?.status?.analysis?.lastMeasurement;
    expect(breach?.result).toBe('Breach');
    expect(breach?.p99Micros).toBeGreaterThan(12_000);
    expect(v3?.status?.message).toMatch(/p99 \d+ µs > threshold 12000 µs/);
  }, 420_000);

  it('fires the chart\'s NexusRolloutAborted alert on that abort, from the operator\'s own metrics, and no orders-off alert', async () => {
    type Alert = { labels: Record<string, string>; state: string };
    const alerts = async (): Promise<Alert[]> => ((await (await fetch(`${prometheusUrl}/api/v1/alerts`)).json()) as { data: { alerts: Alert[] } }).data.alerts;
    const firing = await eventually(alerts, {
      until: (list) => list.some((alert) => alert.labels.alertname === 'NexusRolloutAborted' && alert.state === 'firing'),
      timeoutMs: 60_000, what: 'NexusRolloutAborted firing', context: tail,
    });
    expect(firing.find((alert) => alert.labels.alertname === 'NexusRolloutAborted')?.labels).toMatchObject({ engine_namespace: lab?.namespace, engine: name, severity: 'warning' });
    // The canary's pods confirmed orders-off, so the critical alert stays quiet; the rules all loaded and evaluate.
    expect(firing.filter((alert) => alert.labels.alertname === 'NexusOrdersOffFailed')).toEqual([]);
    const groups = ((await (await fetch(`${prometheusUrl}/api/v1/rules`)).json()) as { data: { groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string }> }> } }).data.groups;
    const rules = groups.flatMap((group) => group.rules);
    expect(rules.map((rule) => rule.name)).toContain('NexusRolloutAborted');
    expect(rules.filter((rule) => rule.health !== 'ok')).toEqual([]);
  }, 90_000);

  it('answers data for every query of the chart\'s Grafana dashboard: panels, annotations and variables', async () => {
    if (dashboard === undefined || lab === undefined) throw new Error('no dashboard');
    // Grafana's variables and intervals, as the dashboard would have them for this engine over this test.
    const fill = (expr: string): string => expr.replaceAll('$namespace', lab?.namespace ?? '').replaceAll('$engine', name)
      .replaceAll('$__rate_interval', '15s').replaceAll('$__interval', '15s');
    const range = async (expr: string): Promise<unknown[]> => {
      const body = new URLSearchParams({ query: fill(expr), start: String(startedSeconds), end: String(Date.now() / 1000), step: '2' });
      const answer = (await (await fetch(`${prometheusUrl}/api/v1/query_range`, { method: 'POST', body })).json()) as { status: string; error?: string; data?: { result: unknown[] } };
      if (answer.status !== 'success') throw new Error(`${fill(expr)}: ${answer.error ?? answer.status}`);
      return answer.data?.result ?? [];
    };
    const queries = [
      ...dashboard.panels.flatMap((panel) => panel.targets.map((target) => ({ what: `panel "${panel.title}" ${target.refId}`, expr: target.expr }))),
      ...dashboard.annotations.list.map((annotation) => ({ what: `annotation "${annotation.name}"`, expr: annotation.expr })),
    ];
    expect(queries.length).toBeGreaterThanOrEqual(12);
    const empty: string[] = [];
    for (const query of queries) if ((await range(query.expr)).length === 0) empty.push(`${query.what}: ${fill(query.expr)}`);
    expect(empty, 'queries that answered no series').toEqual([]);
    // label_values(metric{...}, label): the values Grafana offers in the variable's drop-down.
    for (const variable of dashboard.templating.list.filter((entry) => entry.type === 'query')) {
      const match = /^label_values\((.+), (\w+)\)$/.exec(variable.query?.query ?? '');
      expect(match, `variable ${variable.name}: label_values(...)`).not.toBeNull();
      const url = `${prometheusUrl}/api/v1/label/${match?.[2] ?? ''}/values?${new URLSearchParams({ 'match[]': fill(match?.[1] ?? ''), start: String(startedSeconds) }).toString()}`;
      const values = ((await (await fetch(url)).json()) as { data: string[] }).data;
      expect(values, `variable ${variable.name}`).toContain(variable.name === 'engine' ? name : lab.namespace);
    }
  }, 60_000);
});
