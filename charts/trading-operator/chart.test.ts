import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { startControlPlane, type ControlPlane } from '../../devcluster/control-plane.ts';
import { helmBinary } from '../../test/support/helm.ts';
import { kubectl } from '../../test/support/kube.ts';
import { labelKeys } from '../../operator/render/labels.ts';

/**
 * The trading-operator chart, checked with the real helm 4 and kubectl 1.34 binaries (test/support/helm.ts): lint,
 * the rendered objects and the values schema, then a server-side dry run and a real install into a real Kubernetes
 * v1.34.4 API server (devcluster/). Helm's state directories live in a temporary directory.
 */
const chartDir = fileURLToPath(new URL('.', import.meta.url));
const sourceCrd = fileURLToPath(new URL('../../crds/tradingengine.yaml', import.meta.url));
const kubeVersion = '1.34.4';
const release = 'nexus';
const namespace = 'nexus-system';
const fullname = 'nexus-trading-operator';
const leaseName = 'nexus-operator-leader';

const scratch = mkdtempSync(join(tmpdir(), 'nexus-chart-test-'));
const env: NodeJS.ProcessEnv = {
  ...process.env,
  HELM_CACHE_HOME: join(scratch, 'helm-cache'),
  HELM_CONFIG_HOME: join(scratch, 'helm-config'),
  HELM_DATA_HOME: join(scratch, 'helm-data'),
  KUBECACHEDIR: join(scratch, 'kube-cache'),
};
// Nothing here may reach a cluster by accident: install and kubectl get the test cluster's kubeconfig explicitly.
delete env.KUBECONFIG;

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(binary: string, args: readonly string[]): Run {
  const result = spawnSync(binary, args, { encoding: 'utf8', env, timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
  if (result.error !== undefined) throw result.error;
  return { code: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
}

const helm = (args: readonly string[]): Run => run(helmBinary(), args);

/** `--set` arguments for each value assignment. */
const sets = (values: readonly string[]): string[] => values.flatMap((value) => ['--set', value]);

function template(values: readonly string[] = []): Run {
  return helm(['template', release, chartDir, '--namespace', namespace, '--kube-version', kubeVersion, ...sets(values)]);
}

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
}

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

interface RbacObject extends Manifest {
  rules: Rule[];
}

interface Binding extends Manifest {
  roleRef: { kind: string; name: string };
  subjects: { kind: string; name: string; namespace: string }[];
}

interface Probe {
  httpGet: { path: string; port: string };
}

interface Container {
  image: string;
  args: string[];
  env: { name: string; valueFrom: { fieldRef: { fieldPath: string } } }[];
  ports: { name: string; containerPort: number }[];
  livenessProbe: Probe;
  readinessProbe: Probe;
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  securityContext: Record<string, unknown>;
}

interface Deployment extends Manifest {
  spec: {
    replicas: number;
    selector: { matchLabels: Record<string, string> };
    template: {
      metadata: { labels: Record<string, string> };
      spec: {
        serviceAccountName: string;
        automountServiceAccountToken: boolean;
        securityContext: Record<string, unknown>;
        containers: Container[];
        topologySpreadConstraints?: { topologyKey: string; labelSelector: { matchLabels: Record<string, string> } }[];
      };
    };
  };
}

interface Monitor extends Manifest {
  spec: {
    namespaceSelector: { any?: boolean; matchNames?: string[] };
    selector: { matchLabels: Record<string, string> };
    endpoints?: { port: string; interval: string }[];
    podMetricsEndpoints?: { port: string; interval: string; relabelings?: unknown[] }[];
  };
}

/** Renders the chart and parses every object; fails the test on a render or YAML error. */
function render(values: readonly string[] = []): Manifest[] {
  const result = template(values);
  expect(result.code, result.stderr).toBe(0);
  const objects: Manifest[] = [];
  for (const document of parseAllDocuments(result.stdout)) {
    expect(document.errors).toEqual([]);
    const object = document.toJS() as Manifest | null;
    if (object !== null) objects.push(object);
  }
  return objects;
}

function only<T extends Manifest>(objects: readonly Manifest[], kind: string): T {
  const matching = objects.filter((object) => object.kind === kind);
  expect(matching.map((object) => object.metadata.name), `exactly one ${kind}`).toHaveLength(1);
  return matching[0] as T;
}

/** Rules as sorted "group/resource[/name]: verb" grants, so two rule lists compare regardless of grouping. */
function grants(rules: readonly Rule[]): string[] {
  const out: string[] = [];
  for (const rule of rules) {
    for (const group of rule.apiGroups) {
      for (const resource of rule.resources) {
        for (const verb of rule.verbs) {
          const names = rule.resourceNames ?? [''];
          for (const name of names) out.push(`${group || 'core'}/${resource}${name ? `/${name}` : ''}: ${verb}`);
        }
      }
    }
  }
  return out.sort();
}

const operatorGrants = grants([
  { apiGroups: ['trading.nexus.dev'], resources: ['tradingengines'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['trading.nexus.dev'], resources: ['tradingengines/status'], verbs: ['get', 'patch', 'update'] },
  { apiGroups: ['trading.nexus.dev'], resources: ['tradingengines/finalizers'], verbs: ['update'] },
  { apiGroups: ['trading.nexus.dev'], resources: ['latencygates'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['apps'], resources: ['replicasets'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
  { apiGroups: [''], resources: ['services', 'configmaps'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
  { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
  { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
  { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'delete'] },
  { apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] },
]);

const leaseGrants = grants([
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: [leaseName], verbs: ['get', 'update'] },
]);

describe('trading-operator chart files', () => {
  it('carries a byte-identical copy of every CRD in crds/ (TradingEngine and the gate definitions)', () => {
    const sourceDir = dirname(sourceCrd);
    expect(readdirSync(join(chartDir, 'crds')).sort()).toEqual(readdirSync(sourceDir).sort());
    for (const file of readdirSync(sourceDir)) {
      const same = readFileSync(join(chartDir, 'crds', file)).equals(readFileSync(join(sourceDir, file)));
      expect(same, `charts/trading-operator/crds/${file} differs from crds/${file}; run: cp crds/*.yaml charts/trading-operator/crds/`).toBe(true);
    }
  });

  it('declares a v2 chart for Kubernetes 1.28 and newer', () => {
    expect(parse(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8'))).toMatchObject({
      apiVersion: 'v2', name: 'trading-operator', version: '0.1.0', appVersion: '0.1.0', kubeVersion: '>=1.28.0-0',
    });
  });

  it('uses no random or time-based template functions', () => {
    const templates = join(chartDir, 'templates');
    for (const file of readdirSync(templates)) {
      // The template actions, comments ({{/* ... */}}) left out.
      const actions = [...readFileSync(join(templates, file), 'utf8').matchAll(/\{\{-?(?!\s*\/\*)([\s\S]*?)-?\}\}/g)].map((match) => match[1]);
      expect(actions.length, file).toBeGreaterThan(0);
      for (const action of actions) {
        expect(action, file).not.toMatch(/\b(now|rand\w*|uuidv4|genCA|genPrivateKey|genSelfSignedCert|genSignedCert|lookup)\b/);
      }
    }
  });
});

describe('helm lint --strict', () => {
  it.each([
    ['default values', []],
    ['ServiceMonitor and PodMonitor enabled', ['metrics.serviceMonitor.enabled=true', 'engines.podMonitor.enabled=true']],
    ['one replica without leader election, two watched namespaces', ['replicaCount=1', 'leaderElection.enabled=false', 'watchNamespaces={trading-a,trading-b}']],
  ])('passes with %s', (_name, values: string[]) => {
    const result = helm(['lint', '--strict', chartDir, '--kube-version', kubeVersion, ...sets(values)]);
    expect(result.code, `${result.stdout}${result.stderr}`).toBe(0);
    expect(result.stdout).toContain('0 chart(s) failed');
  });
});

describe('helm template', () => {
  it('renders the operator objects and no monitors by default', () => {
    const kinds = render().map((object) => object.kind).sort();
    expect(kinds).toEqual([
      'ClusterRole', 'ClusterRole', 'ClusterRole', 'ClusterRole', 'ClusterRoleBinding', 'ClusterRoleBinding', 'Deployment', 'PodDisruptionBudget', 'Role', 'RoleBinding', 'Service', 'ServiceAccount',
    ]);
  });

  it('aggregates read rights into view and change plus rollout requests into edit and admin, and can leave them out', () => {
    const roles = render().filter((object) => object.kind === 'ClusterRole') as unknown as RbacObject[];
    const view = roles.find((role) => role.metadata.name === `${fullname}-view`);
    const edit = roles.find((role) => role.metadata.name === `${fullname}-edit`);
    expect(view?.metadata.labels?.['rbac.authorization.k8s.io/aggregate-to-view']).toBe('true');
    expect(edit?.metadata.labels?.['rbac.authorization.k8s.io/aggregate-to-edit']).toBe('true');
    expect(edit?.metadata.labels?.['rbac.authorization.k8s.io/aggregate-to-admin']).toBe('true');
    expect(view?.rules.flatMap((rule) => rule.verbs)).toEqual(['get', 'list', 'watch']);
    expect(edit?.rules.find((rule) => rule.resources.includes('tradingengines/status'))?.verbs).toEqual(['get', 'patch']);
    const without = render(['rbac.aggregateToUserRoles=false']).filter((object) => object.kind === 'ClusterRole');
    expect(without.map((object) => object.metadata.name).sort()).toEqual([fullname, `${fullname}-cluster-gates`]);
  });

  it('renders identical bytes twice', () => {
    const first = template(['metrics.serviceMonitor.enabled=true', 'engines.podMonitor.enabled=true']);
    const second = template(['metrics.serviceMonitor.enabled=true', 'engines.podMonitor.enabled=true']);
    expect(first.code).toBe(0);
    expect(second.stdout).toBe(first.stdout);
  });

  it('labels every object with the Kubernetes recommended labels', () => {
    for (const object of render(['metrics.serviceMonitor.enabled=true', 'engines.podMonitor.enabled=true'])) {
      // Besides these, only the aggregated user roles carry their rbac.authorization.k8s.io/aggregate-to-* labels.
      const labels = Object.fromEntries(Object.entries(object.metadata.labels ?? {}).filter(([key]) => !key.startsWith('rbac.authorization.k8s.io/aggregate-to-')));
      expect(labels, `${object.kind} ${object.metadata.name}`).toEqual({
        'helm.sh/chart': 'trading-operator-0.1.0',
        'app.kubernetes.io/name': 'trading-operator',
        'app.kubernetes.io/instance': release,
        'app.kubernetes.io/version': '0.1.0',
        'app.kubernetes.io/component': 'operator',
        'app.kubernetes.io/part-of': 'nexus',
        'app.kubernetes.io/managed-by': 'Helm',
      });
    }
  });

  it('grants the ClusterRole exactly what the operator does (its children, the control Secrets included), no wildcards', () => {
    const roles = render(['rbac.aggregateToUserRoles=false']).filter((object) => object.kind === 'ClusterRole') as unknown as RbacObject[];
    const clusterRole = roles.find((role) => role.metadata.name === fullname) ?? (undefined as never);
    expect(grants(clusterRole.rules)).toEqual(operatorGrants);
    // ClusterLatencyGates are cluster-scoped: read-only, in a role of their own bound cluster-wide even with watchNamespaces.
    const gates = roles.find((role) => role.metadata.name === `${fullname}-cluster-gates`);
    expect(grants(gates?.rules ?? [])).toEqual(grants([{ apiGroups: ['trading.nexus.dev'], resources: ['clusterlatencygates'], verbs: ['get', 'list', 'watch'] }]));
    for (const rule of clusterRole.rules) {
      expect([...rule.apiGroups, ...rule.resources, ...rule.verbs]).not.toContain('*');
    }
  });

  it('limits the leader-election Role to its Lease in the release namespace', () => {
    const objects = render();
    const role = only<RbacObject>(objects, 'Role');
    expect(role.metadata.namespace).toBe(namespace);
    expect(grants(role.rules)).toEqual(leaseGrants);
    const binding = only<Binding>(objects, 'RoleBinding');
    expect(binding.metadata.namespace).toBe(namespace);
    expect(binding.roleRef).toMatchObject({ kind: 'Role', name: role.metadata.name });
  });

  it('binds both roles to the chart ServiceAccount, which the Deployment runs as', () => {
    const objects = render();
    const serviceAccount = only(objects, 'ServiceAccount');
    const subject = { kind: 'ServiceAccount', name: serviceAccount.metadata.name, namespace };
    const clusterBindings = objects.filter((object): object is Binding => object.kind === 'ClusterRoleBinding');
    expect(clusterBindings.map((binding) => binding.roleRef.name).sort()).toEqual([fullname, `${fullname}-cluster-gates`]);
    for (const binding of clusterBindings) expect(binding.subjects).toEqual([subject]);
    expect(only<Binding>(objects, 'RoleBinding').subjects).toEqual([subject]);
    expect(only<Deployment>(objects, 'Deployment').spec.template.spec.serviceAccountName).toBe(serviceAccount.metadata.name);
  });

  it('runs two replicas with leader election on the Lease, spread across nodes', () => {
    const deployment = only<Deployment>(render(), 'Deployment');
    expect(deployment.spec.replicas).toBe(2);
    const container = deployment.spec.template.spec.containers[0];
    expect(container.image).toBe('ghcr.io/nexus-trading/nexus-operator:0.1.0');
    expect(container.args).toEqual([
      '--leader-elect=true', `--lease-name=${leaseName}`, '--lease-namespace=$(POD_NAMESPACE)',
      '--lease-duration-seconds=15', '--renew-deadline-seconds=10', '--retry-period-seconds=2',
      '--metrics-port=8080', '--health-port=8081', '--log-level=info',
      '--network-policy', '--operator-namespace=$(POD_NAMESPACE)',
      `--operator-pod-labels=app.kubernetes.io/instance=${release},app.kubernetes.io/name=trading-operator`,
      '--prometheus-addresses=',
    ]);
    expect(container.env).toEqual([
      { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    ]);
    const spread = deployment.spec.template.spec.topologySpreadConstraints ?? [];
    expect(spread).toHaveLength(1);
    expect(spread[0]).toMatchObject({ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: deployment.spec.selector.matchLabels } });
  });

  it('runs under the restricted pod security profile', () => {
    const pod = only<Deployment>(render(), 'Deployment').spec.template.spec;
    expect(pod.securityContext).toEqual({
      runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, fsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.containers[0].securityContext).toEqual({
      allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] },
    });
    expect(pod.automountServiceAccountToken).toBe(true);
  });

  it('probes /healthz and /readyz on the health port and exposes metrics', () => {
    const objects = render();
    const container = only<Deployment>(objects, 'Deployment').spec.template.spec.containers[0];
    expect(container.ports).toEqual([
      { name: 'metrics', containerPort: 8080, protocol: 'TCP' },
      { name: 'health', containerPort: 8081, protocol: 'TCP' },
    ]);
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'health' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'health' });
    expect(container.resources).toEqual({ requests: { cpu: '200m', memory: '256Mi' }, limits: { cpu: '200m', memory: '256Mi' } });
    expect(only(objects, 'Service')).toMatchObject({ spec: { ports: [{ name: 'metrics', port: 8080, targetPort: 'metrics' }] } });
    expect(only(objects, 'PodDisruptionBudget')).toMatchObject({ spec: { minAvailable: 1 } });
  });

  it('without leader election renders no Role, no PodDisruptionBudget and no lease flags', () => {
    const objects = render(['replicaCount=1', 'leaderElection.enabled=false']);
    expect(objects.map((object) => object.kind)).not.toContain('Role');
    expect(objects.map((object) => object.kind)).not.toContain('PodDisruptionBudget');
    const deployment = only<Deployment>(objects, 'Deployment');
    expect(deployment.spec.template.spec.containers[0].args).toEqual([
      '--leader-elect=false', '--metrics-port=8080', '--health-port=8081', '--log-level=info',
      '--network-policy', '--operator-namespace=$(POD_NAMESPACE)',
      `--operator-pod-labels=app.kubernetes.io/instance=${release},app.kubernetes.io/name=trading-operator`,
      '--prometheus-addresses=',
    ]);
    expect(deployment.spec.template.spec.topologySpreadConstraints).toBeUndefined();
  });

  it('passes the NetworkPolicy peers and the Prometheus allow-list to the operator, and can leave the policies out', () => {
    const args = (values: string[]): string[] => only<Deployment>(render(values), 'Deployment').spec.template.spec.containers[0].args;
    const configured = args([
      'networkPolicy.prometheus.namespaceLabels.kubernetes\\.io/metadata\\.name=monitoring',
      'networkPolicy.prometheus.podLabels.app\\.kubernetes\\.io/name=prometheus',
      'analysis.prometheusAddresses={http://prometheus-operated.monitoring:9090,https://thanos.monitoring:10902}',
    ]);
    expect(configured).toEqual(expect.arrayContaining([
      '--prometheus-namespace-labels=kubernetes.io/metadata.name=monitoring',
      '--prometheus-pod-labels=app.kubernetes.io/name=prometheus',
      '--prometheus-addresses=http://prometheus-operated.monitoring:9090,https://thanos.monitoring:10902',
    ]));
    const without = args(['networkPolicy.enabled=false']);
    expect(without.filter((arg) => /network-policy|operator-(namespace|pod-labels)|prometheus-(namespace|pod)-labels/.test(arg))).toEqual([]);
    expect(template(['analysis.prometheusAddresses={prometheus:9090}']).stderr).toMatch(/prometheusAddresses/);
  });

  it('ships alert rules that promtool accepts and that fire on the series the operator exports', () => {
    expect(render().map((object) => object.kind)).not.toContain('PrometheusRule');
    const rule = only<Manifest & { spec: { groups: unknown[] } }>(render(['metrics.prometheusRule.enabled=true', 'metrics.prometheusRule.labels.release=kps']), 'PrometheusRule');
    expect(rule.metadata.labels?.release).toBe('kps');
    const dir = mkdtempSync(join(tmpdir(), 'nexus-rules-'));
    try {
      writeFileSync(join(dir, 'rules.yaml'), stringify({ groups: rule.spec.groups }));
      const check = spawnSync('promtool', ['check', 'rules', join(dir, 'rules.yaml')], { encoding: 'utf8' });
      expect(check.error, 'promtool is needed (Debian package prometheus; .ci/run installs it)').toBeUndefined();
      expect(check.status, `${check.stdout}${check.stderr}`).toBe(0);
      expect(check.stdout).toContain('SUCCESS: 8 rules found');
      // Synthetic series as the operator exports them: an abort at minute 2, a failed cut at minute 3, an engine
      // Degraded from minute 1, no leader from minute 1, two events dropped by the webhook.
      const engine = 'engine_namespace="trading",engine="alpha"';
      const tests = {
        rule_files: ['rules.yaml'],
        evaluation_interval: '1m',
        tests: [{
          interval: '1m',
          input_series: [
            { series: `nexus_operator_events_total{${engine},type="Warning",reason="RolloutAborted"}`, values: '0 0 1 1 1 1' },
            { series: `nexus_operator_events_total{${engine},type="Warning",reason="OrdersOffFailed"}`, values: '0 0 0 1 1 1' },
            { series: `nexus_operator_engine_phase{${engine},phase="Degraded"}`, values: '0 1x20' },
            { series: 'nexus_operator_leader{pod="op-0"}', values: '1 0x20' },
            { series: 'nexus_operator_webhook_events_total{result="dropped"}', values: '0 2 2 2' },
            { series: `nexus_operator_events_total{${engine},type="Warning",reason="EngineExited"}`, values: '0 0 1 1' },
            { series: `nexus_operator_events_total{${engine},type="Warning",reason="StrategyDisabled"}`, values: '0 0 1 1 1' },
          ],
          alert_rule_test: [
            { eval_time: '1m', alertname: 'NexusRolloutAborted', exp_alerts: [] },
            { eval_time: '3m', alertname: 'NexusRolloutAborted', exp_alerts: [{ exp_labels: { severity: 'warning', engine_namespace: 'trading', engine: 'alpha' }, exp_annotations: {
              summary: 'Rollout of trading/alpha aborted', description: 'The operator aborted a rollout in the last 10 minutes: nexus rollout status alpha -n trading says why.',
            } }] },
            { eval_time: '4m', alertname: 'NexusOrdersOffFailed', exp_alerts: [{ exp_labels: { severity: 'critical', engine_namespace: 'trading', engine: 'alpha' }, exp_annotations: {
              summary: 'Orders could not be cut on trading/alpha', description: "An aborted canary's pods did not confirm orders-off: they may still be sending orders. Cut them by hand (nexus ctl cut) and check the pods.",
            } }] },
            { eval_time: '5m', alertname: 'NexusEngineNotHealthy', exp_alerts: [] },
            { eval_time: '12m', alertname: 'NexusEngineNotHealthy', exp_alerts: [{ exp_labels: { severity: 'warning', engine_namespace: 'trading', engine: 'alpha', phase: 'Degraded' }, exp_annotations: {
              summary: 'trading/alpha is Degraded', description: 'The TradingEngine has been Degraded for 10m: its Ready condition says why.',
            } }] },
            { eval_time: '7m', alertname: 'NexusNoOperatorLeader', exp_alerts: [{ exp_labels: { severity: 'critical' }, exp_annotations: {
              summary: 'No Nexus operator replica leads', description: 'No replica holds the leader lease: nothing is reconciled, no rollout advances or aborts.',
            } }] },
            { eval_time: '1m', alertname: 'NexusEngineExited', exp_alerts: [] },
            { eval_time: '3m', alertname: 'NexusEngineExited', exp_alerts: [{ exp_labels: { severity: 'warning', engine_namespace: 'trading', engine: 'alpha' }, exp_annotations: {
              summary: 'An engine of trading/alpha keeps exiting',
              description: 'An engine container exited with an error (a rejected configuration or strategy module, a strategy that never returned, out of memory): the EngineFailing condition carries the engine\'s own message.',
            } }] },
            { eval_time: '3m', alertname: 'NexusStrategyDisabled', exp_alerts: [{ exp_labels: { severity: 'critical', engine_namespace: 'trading', engine: 'alpha' }, exp_annotations: {
              summary: 'A strategy of trading/alpha was disabled',
              description: 'An engine disabled a strategy module after a fault (it threw, trapped, or overran its budget): it sends no orders until its pod restarts. status.strategyHealth names the pod, the strategy and the reason.',
            } }] },
            { eval_time: '2m', alertname: 'NexusEventWebhookDropping', exp_alerts: [{ exp_labels: { severity: 'warning', result: 'dropped' }, exp_annotations: {
              summary: 'The Nexus event webhook is dropping events', description: 'Events were given up after retries or pushed out of a full queue: the receiver is down or too slow.',
            } }] },
          ],
        }],
      };
      writeFileSync(join(dir, 'tests.yaml'), stringify(tests));
      const run = spawnSync('promtool', ['test', 'rules', join(dir, 'tests.yaml')], { encoding: 'utf8' });
      expect(run.status, `${run.stdout}${run.stderr}`).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('passes the event webhook from a Secret as environment, URL required and token optional, and none by default', () => {
    const env = (values: string[]): unknown => only<Deployment>(render(values), 'Deployment').spec.template.spec.containers[0].env;
    expect(JSON.stringify(env([]))).not.toContain('NEXUS_EVENT_WEBHOOK');
    expect(env(['notifications.eventWebhook.secretName=nexus-webhook'])).toEqual(expect.arrayContaining([
      { name: 'NEXUS_EVENT_WEBHOOK_URL', valueFrom: { secretKeyRef: { name: 'nexus-webhook', key: 'url' } } },
      { name: 'NEXUS_EVENT_WEBHOOK_TOKEN', valueFrom: { secretKeyRef: { name: 'nexus-webhook', key: 'token', optional: true } } },
    ]));
    expect(template(['notifications.eventWebhook.secretName=Not_A_Name']).stderr).toMatch(/secretName/);
  });

  it('passes the confirm-promotion webhook from a Secret as environment with its timeout, and none by default', () => {
    const container = (values: string[]): Container => only<Deployment>(render(values), 'Deployment').spec.template.spec.containers[0];
    const plain = container([]);
    expect(JSON.stringify(plain.env)).not.toContain('NEXUS_CONFIRM_PROMOTION');
    expect(plain.args.filter((arg) => arg.startsWith('--confirm-promotion'))).toEqual([]);
    const configured = container(['notifications.confirmPromotion.secretName=change-approval', 'notifications.confirmPromotion.timeoutSeconds=3']);
    expect(configured.env).toEqual(expect.arrayContaining([
      { name: 'NEXUS_CONFIRM_PROMOTION_URL', valueFrom: { secretKeyRef: { name: 'change-approval', key: 'url' } } },
      { name: 'NEXUS_CONFIRM_PROMOTION_TOKEN', valueFrom: { secretKeyRef: { name: 'change-approval', key: 'token', optional: true } } },
    ]));
    expect(configured.args).toContain('--confirm-promotion-timeout-seconds=3');
    expect(template(['notifications.confirmPromotion.timeoutSeconds=0']).stderr).toMatch(/timeoutSeconds/);
  });

  it('with watchNamespaces binds the ClusterRole only in those namespaces', () => {
    const objects = render(['watchNamespaces={trading-a,trading-b}', 'engines.podMonitor.enabled=true']);
    expect(objects.filter((object) => object.kind === 'ClusterRoleBinding').map((object) => object.metadata.name)).toEqual([`${fullname}-cluster-gates`]);
    const bindings = objects.filter((object): object is Binding => object.kind === 'RoleBinding' && object.metadata.name === fullname);
    expect(bindings.map((binding) => binding.metadata.namespace)).toEqual(['trading-a', 'trading-b']);
    for (const binding of bindings) expect(binding.roleRef).toMatchObject({ kind: 'ClusterRole', name: fullname });
    expect(only<Deployment>(objects, 'Deployment').spec.template.spec.containers[0].args).toContain('--watch-namespaces=trading-a,trading-b');
    expect(only<Monitor>(objects, 'PodMonitor').spec.namespaceSelector).toEqual({ matchNames: ['trading-a', 'trading-b'] });
  });

  it('renders the ServiceMonitor and the engine PodMonitor when enabled', () => {
    const objects = render([
      'metrics.serviceMonitor.enabled=true', 'metrics.serviceMonitor.labels.release=kps',
      'engines.podMonitor.enabled=true', 'engines.podMonitor.interval=5s',
    ]);
    const serviceMonitor = only<Monitor>(objects, 'ServiceMonitor');
    expect(serviceMonitor.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(serviceMonitor.metadata.labels?.release).toBe('kps');
    expect(serviceMonitor.spec.selector.matchLabels).toEqual(only<Deployment>(objects, 'Deployment').spec.selector.matchLabels);
    expect(serviceMonitor.spec.endpoints).toEqual([{ port: 'metrics', path: '/metrics', interval: '30s' }]);
    const podMonitor = only<Monitor>(objects, 'PodMonitor');
    expect(podMonitor.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(podMonitor.spec.namespaceSelector).toEqual({ any: true });
    expect(podMonitor.spec.selector.matchLabels).toEqual({
      'app.kubernetes.io/name': 'nexus-engine', 'app.kubernetes.io/managed-by': 'nexus-operator',
    });
    // The engine and revision labels the dashboard's per-revision panels read, from the pod labels the operator sets.
    const podLabel = (key: string): string => `__meta_kubernetes_pod_label_${key.replace(/[^a-zA-Z0-9_]/g, '_')}`;
    expect(podMonitor.spec.podMetricsEndpoints).toEqual([{
      port: 'metrics', path: '/metrics', interval: '5s',
      relabelings: [
        { sourceLabels: [podLabel(labelKeys.instance)], targetLabel: 'engine' },
        { sourceLabels: [podLabel(labelKeys.revision)], targetLabel: 'revision' },
      ],
    }]);
  });

  it('ships the Grafana dashboard in a ConfigMap for the sidecar when enabled, every query naming only series the operator and engines export', () => {
    expect(render().filter((object) => object.kind === 'ConfigMap')).toEqual([]);
    const configMap = only<Manifest & { data: Record<string, string>; metadata: { annotations?: Record<string, string> } }>(render([
      'grafana.dashboard.enabled=true', 'grafana.dashboard.annotations.grafana_folder=Trading', 'grafana.dashboard.namespace=monitoring',
    ]), 'ConfigMap');
    expect(configMap.metadata).toMatchObject({ name: `${release}-trading-operator-dashboard`, namespace: 'monitoring', annotations: { grafana_folder: 'Trading' } });
    expect(configMap.metadata.labels?.grafana_dashboard).toBe('1');
    const dashboard = JSON.parse(configMap.data['nexus-rollouts.json'] ?? '') as {
      uid: string; panels: Array<{ title: string; datasource: { uid: string }; targets: Array<{ expr: string }> }>; annotations: { list: Array<{ expr: string }> };
    };
    expect(dashboard.uid).toBe('nexus-rollouts');
    // Every panel reads the data source variable (no data source uid of someone else's Grafana baked in).
    expect(dashboard.panels.filter((panel) => panel.datasource.uid !== '${datasource}').map((panel) => panel.title)).toEqual([]);
    const exprs = [...dashboard.panels.flatMap((panel) => panel.targets.map((target) => target.expr)), ...dashboard.annotations.list.map((annotation) => annotation.expr)];
    const metrics = new Set(exprs.flatMap((expr) => expr.match(/nexus_[a-z_]+/g) ?? []));
    // The series the dashboard needs: the canary/stable gate figures, the threshold, orders, rejects, ticks lost, Events.
    expect([...metrics].sort()).toEqual(expect.arrayContaining([
      'nexus_engine_decision_latency_seconds_bucket', 'nexus_engine_orders_denied_total', 'nexus_engine_orders_total', 'nexus_engine_ticks_lost_total',
      'nexus_operator_events_total', 'nexus_operator_gate_latency_micros', 'nexus_operator_gate_threshold_micros',
    ]));
    const documented = readFileSync(fileURLToPath(new URL('../../docs/metrics.md', import.meta.url)), 'utf8') + readFileSync(fileURLToPath(new URL('../../docs/operator.md', import.meta.url)), 'utf8');
    for (const metric of metrics) expect(documented, `${metric} is documented`).toContain(metric.replace(/_(bucket|sum|count)$/, ''));
    // promtool parses each query (the integration test runs them against a real Prometheus and requires data).
    const dir = mkdtempSync(join(tmpdir(), 'nexus-dashboard-'));
    try {
      const fill = (expr: string): string => expr.replaceAll('$__rate_interval', '1m').replaceAll('$__interval', '1m').replaceAll('$namespace', 'trading').replaceAll('$engine', 'alpha');
      writeFileSync(join(dir, 'queries.yaml'), stringify({ groups: [{ name: 'dashboard', rules: exprs.map((expr, i) => ({ record: `dashboard:query${i}`, expr: fill(expr) })) }] }));
      const check = spawnSync('promtool', ['check', 'rules', join(dir, 'queries.yaml')], { encoding: 'utf8' });
      expect(check.status, `${check.stdout}${check.stderr}`).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('pins the image by digest when one is set', () => {
    const digest = `sha256:${'ab'.repeat(32)}`;
    const container = only<Deployment>(render([`image.digest=${digest}`]), 'Deployment').spec.template.spec.containers[0];
    expect(container.image).toBe(`ghcr.io/nexus-trading/nexus-operator@${digest}`);
  });

  it.each([
    ['replicaCount=-1', '/replicaCount'],
    ['logLevel=loud', '/logLevel'],
    ['surprise=1', "'surprise' not allowed"],
    ['image.pullPolicy=Sometimes', '/image/pullPolicy'],
    ['metrics.port=70000', '/metrics/port'],
    ['metrics.serviceMonitor.interval=soon', '/metrics/serviceMonitor/interval'],
    ['watchNamespaces={Not_A_Namespace}', '/watchNamespaces/0'],
    ['leaderElection.enabled=false', 'needs leaderElection.enabled=true'],
    ['leaderElection.leaseDurationSeconds=10', 'leaderElection.leaseDurationSeconds (10) must exceed'],
    ['health.port=8080', 'metrics.port and health.port must differ'],
  ])('rejects %s, naming the value', (value, message) => {
    const result = template([value]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(message);
  });
});

describe('the chart against a real API server', () => {
  let cluster: ControlPlane;
  /** kubectl runs with the helm environment: no KUBECONFIG, its caches in the scratch directory. */
  const kubectlOptions = { env, timeoutMs: 60_000 } as const;
  const helmOnCluster = (args: readonly string[]): Run => helm([...args, '--kubeconfig', cluster.kubeconfig]);
  const ensureNamespace = (name: string): void => {
    const result = kubectl(cluster.kubeconfig, ['apply', '-f', '-'], { ...kubectlOptions, input: `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${name}}\n` });
    expect(result.code, result.err).toBe(0);
  };
  /** `kubectl auth can-i` as the operator's ServiceAccount: true when allowed. */
  const operatorCan = (serviceAccountNamespace: string, args: readonly string[]): boolean =>
    kubectl(cluster.kubeconfig, ['auth', 'can-i', '--as', `system:serviceaccount:${serviceAccountNamespace}:${fullname}`, ...args], kubectlOptions).code === 0;

  beforeAll(async () => {
    cluster = await startControlPlane({ controllers: false });
  }, 25 * 60_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it('installs with helm (CRD included), grants the operator only its rules, and uninstalls keeping the CRD', () => {
    const install = helmOnCluster(['install', release, chartDir, '--namespace', namespace, '--create-namespace']);
    expect(install.code, install.stderr).toBe(0);
    // The default binds the ClusterRole cluster-wide: the install notes say so and show the per-namespace way.
    expect(install.stdout).toContain('WARNING: with watchNamespaces empty (the default) the operator\'s ClusterRole is bound cluster-wide');
    expect(install.stdout).toContain("--set 'watchNamespaces={trading}'");
    // NetworkPolicies on by default, with no Prometheus selected: the notes say what that blocks.
    expect(install.stdout).toContain('WARNING: networkPolicy.prometheus selects no Prometheus');
    expect(kubectl(cluster.kubeconfig, ['wait', '--for=condition=Established', 'crd/tradingengines.trading.nexus.dev', '--timeout=30s'], kubectlOptions).code).toBe(0);
    expect(kubectl(cluster.kubeconfig, ['get', 'clusterrole', fullname], kubectlOptions).code).toBe(0);
    expect(kubectl(cluster.kubeconfig, ['--namespace', namespace, 'get', 'deployment', fullname], kubectlOptions).code).toBe(0);
    expect(kubectl(cluster.kubeconfig, ['get', 'te', '--all-namespaces'], kubectlOptions).code).toBe(0);

    expect(operatorCan(namespace, ['watch', 'tradingengines.trading.nexus.dev', '--all-namespaces'])).toBe(true);
    expect(operatorCan(namespace, ['patch', 'tradingengines.trading.nexus.dev', '--subresource=status', '-n', 'team-a'])).toBe(true);
    expect(operatorCan(namespace, ['update', 'tradingengines.trading.nexus.dev', '-n', 'team-a'])).toBe(false);
    expect(operatorCan(namespace, ['create', 'replicasets.apps', '-n', 'team-a'])).toBe(true);
    expect(operatorCan(namespace, ['create', 'deployments.apps', '-n', 'team-a'])).toBe(false);
    expect(operatorCan(namespace, ['create', 'secrets', '-n', 'team-a'])).toBe(true);
    expect(operatorCan(namespace, ['create', 'networkpolicies.networking.k8s.io', '-n', 'team-a'])).toBe(true);
    expect(operatorCan(namespace, ['create', 'pods', '-n', 'team-a'])).toBe(false);
    expect(operatorCan(namespace, ['update', `leases.coordination.k8s.io/${leaseName}`, '-n', namespace])).toBe(true);
    expect(operatorCan(namespace, ['update', 'leases.coordination.k8s.io/another-lease', '-n', namespace])).toBe(false);
    expect(operatorCan(namespace, ['create', 'leases.coordination.k8s.io', '-n', 'team-a'])).toBe(false);
    expect(operatorCan(namespace, ['watch', 'latencygates.trading.nexus.dev', '--all-namespaces'])).toBe(true);
    expect(operatorCan(namespace, ['watch', 'clusterlatencygates.trading.nexus.dev'])).toBe(true);
    expect(operatorCan(namespace, ['create', 'clusterlatencygates.trading.nexus.dev'])).toBe(false);

    const uninstall = helmOnCluster(['uninstall', release, '--namespace', namespace]);
    expect(uninstall.code, uninstall.stderr).toBe(0);
    expect(kubectl(cluster.kubeconfig, ['get', 'clusterrole', fullname], kubectlOptions).code).not.toBe(0);
    expect(kubectl(cluster.kubeconfig, ['--namespace', namespace, 'get', 'deployment', fullname], kubectlOptions).code).not.toBe(0);
    expect(kubectl(cluster.kubeconfig, ['get', 'crd', 'tradingengines.trading.nexus.dev'], kubectlOptions).code).toBe(0);
  });

  it('with watchNamespaces grants the operator nothing outside them', () => {
    ensureNamespace('team-a');
    const values = ['watchNamespaces={team-a}', 'replicaCount=1', 'leaderElection.enabled=false'];
    const install = helmOnCluster(['install', release, chartDir, '--namespace', 'nexus-scoped', '--create-namespace', ...sets(values)]);
    expect(install.code, install.stderr).toBe(0);
    expect(install.stdout).toContain('It reconciles TradingEngines in: team-a.');
    expect(install.stdout).not.toContain('WARNING: with watchNamespaces empty');
    expect(operatorCan('nexus-scoped', ['watch', 'tradingengines.trading.nexus.dev', '-n', 'team-a'])).toBe(true);
    expect(operatorCan('nexus-scoped', ['watch', 'tradingengines.trading.nexus.dev', '-n', 'team-b'])).toBe(false);
    expect(operatorCan('nexus-scoped', ['watch', 'tradingengines.trading.nexus.dev', '--all-namespaces'])).toBe(false);
    expect(operatorCan('nexus-scoped', ['create', 'leases.coordination.k8s.io', '-n', 'nexus-scoped'])).toBe(false);
    expect(operatorCan('nexus-scoped', ['watch', 'latencygates.trading.nexus.dev', '-n', 'team-b'])).toBe(false);
    expect(operatorCan('nexus-scoped', ['watch', 'clusterlatencygates.trading.nexus.dev'])).toBe(true);
    expect(helmOnCluster(['uninstall', release, '--namespace', 'nexus-scoped']).code).toBe(0);
  });

  it('accepts the CRD by server-side apply and every rendered object in a server-side dry run', () => {
    const apply = kubectl(cluster.kubeconfig, ['apply', '--server-side', '-f', join(chartDir, 'crds')], kubectlOptions);
    expect(apply.code, apply.err).toBe(0);
    for (const name of [namespace, 'team-a', 'trading-b']) ensureNamespace(name);
    for (const values of [[], ['watchNamespaces={team-a,trading-b}', 'replicaCount=1', 'leaderElection.enabled=false']]) {
      const rendered = template(values);
      expect(rendered.code, rendered.stderr).toBe(0);
      const dryRun = kubectl(cluster.kubeconfig, ['apply', '--dry-run=server', '-f', '-'], { ...kubectlOptions, input: rendered.stdout });
      expect(dryRun.code, dryRun.err).toBe(0);
      expect(dryRun.out).toContain(`deployment.apps/${fullname} created (server dry run)`);
    }
  });
});
