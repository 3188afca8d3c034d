import { request } from 'node:http';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRolloutLab, type MutableSpec, type RolloutLab } from '../../cli/commands/rollout-lab.ts';
import { startDashboard, type RunningDashboard } from '../../dashboard/start.ts';
import { freePort } from '../../cli/lib/processes.ts';
import type { TradingEngine } from '../../operator/api/types.ts';
import { apiRequest } from '../../operator/kube/api-request.ts';
import { applyManifest, type ManifestObject } from '../../operator/kube/manifests.ts';
import { eventually } from '../support/eventually.ts';
import { engineMetric } from '../support/engines.ts';
import { renderChart } from '../support/helm.ts';
import type { PodJson } from '../support/kube.ts';

/**
 * `nexus dashboard` in a real headless Chromium (Debian's chromium, driven by playwright-core), against the real
 * local control plane with real engines (the rollout lab): the list shows the engine; during a canary the chart
 * updates live and shows the threshold; an abort from the page cuts the canary's orders (the engine's own
 * nexus_engine_orders_enabled reads 0) and the page shows the abort with its reason; a user with the built-in view
 * role (the chart's aggregated rules) sees no action, and an action it sends anyway gets the API server's refusal.
 * With NEXUS_DASHBOARD_SCREENSHOTS set to a directory, the main pages are saved there (docs/images/ holds them).
 */
const chromiumPath = process.env.NEXUS_CHROMIUM ?? '/usr/bin/chromium';
let lab: RolloutLab | undefined;
let admin: RunningDashboard | undefined;
let viewer: RunningDashboard | undefined;
let browser: Browser | undefined;
const lines: string[] = [];
const log = (line: string): void => {
  lines.push(line);
};
const tail = (): string => lines.slice(-30).join('\n');
const name = 'board';
const screenshots = process.env.NEXUS_DASHBOARD_SCREENSHOTS;

const engine = async (): Promise<TradingEngine | undefined> => lab?.read(name);

/**
 * The lab's engine; v2 and later keep their analysis running (100 passes needed, 100 breaches to abort) so the chart
 * has time to grow and only the page aborts, and measure stable beside the canary.
 */
function manifest(image: string): TradingEngine {
  if (lab === undefined) throw new Error('no lab');
  return lab.manifest(name, (spec: MutableSpec) => {
    spec.template.image = image;
    const latency = (spec.analysis as { latency: { successfulIntervals: number; consecutiveBreaches: number; relativeToStable?: { maxIncreasePercent: number } } }).latency;
    latency.successfulIntervals = 100;
    // A breach or two of this 2-core machine (a browser runs beside the engines) must not abort before the page does.
    latency.consecutiveBreaches = 100;
    // Stable is measured beside the canary, so the chart has both lines.
    latency.relativeToStable = { maxIncreasePercent: 1_000 };
  });
}

/** A kubeconfig for ServiceAccount `viewer` (a TokenRequest), bound to the built-in view role in the lab's namespace. */
async function viewerKubeConfig(current: RolloutLab): Promise<KubeConfig> {
  const { kubeConfig, namespace } = current;
  // The chart's aggregated rules: whoever has view reads TradingEngines (templates/clusterrole-users.yaml).
  const viewRules = renderChart().find((object) => object.kind === 'ClusterRole' && object.metadata.name.endsWith('-view'));
  if (viewRules === undefined) throw new Error('the chart rendered no view ClusterRole');
  await applyManifest(kubeConfig, viewRules, 'dashboard-test');
  await applyManifest(kubeConfig, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'viewer', namespace } }, 'dashboard-test');
  await applyManifest(kubeConfig, {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'viewer-view', namespace },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
    subjects: [{ kind: 'ServiceAccount', name: 'viewer', namespace }],
  } as ManifestObject, 'dashboard-test');
  const token = await apiRequest<{ status: { token: string } }>(kubeConfig, {
    method: 'POST', path: `/api/v1/namespaces/${namespace}/serviceaccounts/viewer/token`,
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } },
  });
  const cluster = kubeConfig.getCurrentCluster();
  if (cluster === null) throw new Error('no cluster');
  const viewerConfig = new KubeConfig();
  viewerConfig.loadFromOptions({
    clusters: [cluster], users: [{ name: 'viewer', token: token.status.token }],
    contexts: [{ name: 'viewer', cluster: cluster.name, user: 'viewer', namespace }], currentContext: 'viewer',
  });
  return viewerConfig;
}

async function open(dashboard: RunningDashboard | undefined, hash = ''): Promise<Page> {
  if (browser === undefined || dashboard === undefined) throw new Error('no browser or dashboard');
  const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  page.on('pageerror', (error) => log(`page error: ${error.message}`));
  await page.goto(`${dashboard.url}${hash}`);
  return page;
}

beforeAll(async () => {
  lab = await startRolloutLab({ log });
  admin = await startDashboard({ kubeConfig: lab.kubeConfig, host: '127.0.0.1', port: 0, readOnly: false, log });
  browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] }).catch((error: unknown) => {
    throw new Error(`Chromium did not start from ${chromiumPath} (Debian package chromium; .ci/run installs it): ${String(error)}`);
  });
  if (screenshots !== undefined) mkdirSync(screenshots, { recursive: true });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await viewer?.stop();
  await admin?.stop();
  await lab?.stop();
}, 60_000);

describe('nexus dashboard in a real browser, against a real API server and real engines', () => {
  it('lists the engine, then charts a canary\'s gate live against its threshold', async () => {
    await lab?.apply(manifest('nexus/engine:v1'));
    await eventually(engine, { until: (e) => e?.status?.phase === 'Healthy', timeoutMs: 90_000, what: 'v1 Healthy', context: tail });
    const list = await open(admin);
    const row = list.locator(`tr[data-engine="${lab?.namespace ?? ''}/${name}"]`);
    await row.waitFor({ timeout: 15_000 });
    expect(await row.locator('.phase').textContent()).toBe('Healthy');
    await list.locator('#connection[data-state="live"]').waitFor({ timeout: 10_000 });

    // v2: the list follows the rollout through the stream, without a reload.
    await lab?.apply(manifest('nexus/engine:v2'));
    await list.locator(`tr[data-engine="${lab?.namespace ?? ''}/${name}"] .phase[data-phase="Progressing"]`).waitFor({ timeout: 60_000 });
    if (screenshots !== undefined) await list.screenshot({ path: join(screenshots, 'dashboard-list.png') });
    await row.locator('a').click();
    const chart = list.locator('figure.chart');
    await chart.waitFor({ timeout: 15_000 });
    const points = async (): Promise<number> => Number(await chart.getAttribute('data-points'));
    await eventually(points, { until: (n) => n >= 2, timeoutMs: 60_000, what: 'two gate measurements on the chart', context: tail });
    const first = await points();
    // Live: more measurements arrive while the page stays open (the gate measures every 2 s).
    await eventually(points, { until: (n) => n >= first + 2, timeoutMs: 30_000, what: 'the chart growing live', context: tail });
    expect(await chart.getAttribute('data-threshold')).toBe('5000');
    expect(await chart.getAttribute('aria-label')).toMatch(/threshold 5\.00 ms/);
    expect(await list.locator('.steps li[aria-current="step"]').textContent()).toBe('1: analysis');
    expect(await list.locator('canvas').count()).toBeGreaterThan(0);
    if (screenshots !== undefined) await list.screenshot({ path: join(screenshots, 'dashboard-engine.png'), fullPage: true });
    await list.close();
  }, 240_000);

  it('aborts from the page: the canary\'s orders are cut (its own metric reads 0) and the page shows the abort and its reason', async () => {
    const page = await open(admin, `#/engines/${lab?.namespace ?? ''}/${name}`);
    const abort = page.locator('button[data-action="abort"]');
    await abort.waitFor({ timeout: 15_000 });
    const before = await engine();
    const canary = before?.status?.updateRevision ?? '';
    // By keyboard: the button takes Enter, the confirmation opens with its confirm button focused, Enter confirms.
    await abort.focus();
    await page.keyboard.press('Enter');
    await page.locator('dialog[open]').waitFor();
    expect(await page.locator('#confirm-title').textContent()).toBe(`Abort ${lab?.namespace ?? ''}/${name}?`);
    expect(await page.locator('#confirm-ok:focus').count()).toBe(1);
    await page.keyboard.press('Enter');
    await page.locator('#action-result[data-ok="true"]').waitFor({ timeout: 15_000 });
    await page.locator('#abort').waitFor({ timeout: 30_000 });
    expect(await page.locator('#abort').textContent()).toMatch(/^Aborted \(Manual\) at /);
    expect(await page.locator('#phase').textContent()).toBe('Aborted');
    const aborted = await eventually(engine, { until: (e) => (e?.status?.canary?.ordersOffPods?.length ?? 0) > 0, timeoutMs: 15_000, what: 'orders off recorded', context: tail });
    const cut = aborted?.status?.canary?.ordersOffPods ?? [];
    const list = await apiRequest<{ items: PodJson[] }>(lab?.kubeConfig ?? (undefined as never), { method: 'GET', path: `/api/v1/namespaces/${lab?.namespace ?? ''}/pods` });
    const canaryPod = list.items.find((pod) => pod.metadata.name === cut[0]);
    expect(canaryPod?.metadata.labels?.['trading.nexus.dev/revision']).toBe(canary);
    expect(await engineMetric(canaryPod?.status.podIP ?? '', 'nexus_engine_orders_enabled')).toBe(0);
    // The page says which pod's orders were cut, and offers a retry now, not an abort.
    await page.locator(`tr[data-pod="${cut[0] ?? ''}"]`, { hasText: 'orders cut' }).waitFor({ timeout: 15_000 });
    await page.locator('button[data-action="retry"]').waitFor({ timeout: 15_000 });
    expect(await page.locator('button[data-action="abort"]').count()).toBe(0);
    await page.close();
  }, 120_000);

  it('shows a user with the view role no action, and passes on the API server\'s refusal of one sent anyway', async () => {
    if (lab === undefined) throw new Error('no lab');
    viewer = await startDashboard({ kubeConfig: await viewerKubeConfig(lab), host: '127.0.0.1', port: 0, readOnly: false, log });
    expect(viewer.namespaces).toEqual([lab.namespace]);
    const page = await open(viewer, `#/engines/${lab.namespace}/${name}`);
    await page.locator('#phase').waitFor({ timeout: 15_000 });
    expect(await page.locator('[data-action]').count()).toBe(0);
    // The viewer's request, from the page: the API server refuses it, and the page gets its words.
    const answer = await page.evaluate(async (path) => {
      const response = await fetch(path, { method: 'POST', headers: { 'x-nexus-dashboard': '1', 'content-type': 'application/json' }, body: '{}' });
      return { status: response.status, body: (await response.json()) as { ok: boolean; message: string } };
    }, `/api/engines/${lab.namespace}/${name}/actions/retry`);
    expect(answer.status).toBe(403);
    expect(answer.body.ok).toBe(false);
    expect(answer.body.message).toMatch(/forbidden: User "system:serviceaccount:trading:viewer" cannot patch resource "tradingengines\/status"/);
    await page.close();
  }, 120_000);

  it('shows when its stream is lost and that it reconnects', async () => {
    if (lab === undefined) throw new Error('no lab');
    const port = await freePort();
    // The same token across the restart (NEXUS_DASHBOARD_TOKEN): the page's session cookie stays good.
    const token = 'a-stable-session-token-for-this-test-0123456789';
    const start = (): Promise<RunningDashboard> => startDashboard({ kubeConfig: lab?.kubeConfig ?? (undefined as never), host: '127.0.0.1', port, readOnly: true, log, token });
    let dashboard = await start();
    const page = await open(dashboard);
    await page.locator('#connection[data-state="live"]').waitFor({ timeout: 10_000 });
    await dashboard.stop();
    await page.locator('#connection[data-state="reconnecting"]').waitFor({ timeout: 10_000 });
    expect(await page.locator('#connection').textContent()).toBe('connection lost: reconnecting…');
    dashboard = await start();
    await page.locator('#connection[data-state="live"]').waitFor({ timeout: 15_000 });
    await page.close();
    await dashboard.stop();
  }, 60_000);

  it('answers only to its session token and its own host name, and takes actions only from its own page', async () => {
    if (admin === undefined || lab === undefined) throw new Error('no dashboard');
    const token = new URL(admin.url).searchParams.get('token') ?? '';
    const bearer = { authorization: `Bearer ${token}` };
    // Another local process (or user) without the token gets nothing, not even the list.
    expect((await fetch(`${admin.origin}api/engines`)).status).toBe(401);
    expect((await fetch(`${admin.origin}api/engines`, { headers: { cookie: 'nexus-dashboard-1=guess' } })).status).toBe(401);
    expect((await fetch(`${admin.origin}api/engines`, { headers: bearer })).status).toBe(200);
    const post = (headers: Record<string, string>): Promise<number> => new Promise((resolve, reject) => {
      const call = request({ host: '127.0.0.1', port: admin?.port, method: 'POST', path: `/api/engines/${lab?.namespace ?? ''}/${name}/actions/retry`, headers }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      call.on('error', reject);
      call.end('{}');
    });
    // A DNS-rebinding page reaches the port under another host name.
    expect(await post({ host: `evil.example:${admin.port}`, 'x-nexus-dashboard': '1', ...bearer })).toBe(421);
    // A cross-site form or fetch cannot add the header, or comes with a foreign Origin.
    expect(await post({ host: `127.0.0.1:${admin.port}`, ...bearer })).toBe(403);
    expect(await post({ host: `127.0.0.1:${admin.port}`, 'x-nexus-dashboard': '1', origin: 'https://evil.example', ...bearer })).toBe(403);
    expect(await post({ host: `127.0.0.1:${admin.port}`, 'x-nexus-dashboard': '1' })).toBe(401);
    // An action on a rollout that moved since the page showed it is refused, not applied to a state nobody saw.
    const stale = await fetch(`${admin.origin}api/engines/${lab.namespace}/${name}/actions/retry`, {
      method: 'POST', headers: { ...bearer, 'x-nexus-dashboard': '1', 'content-type': 'application/json' }, body: JSON.stringify({ revision: 'notshown00' }),
    });
    expect(stale.status).toBe(409);
    expect(((await stale.json()) as { message: string }).message).toMatch(/^retry refused: the rollout moved since the page showed it \(now revision \w+ at step \d+\); look again$/);
  }, 30_000);
});
