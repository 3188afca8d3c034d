import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../test/support/eventually.ts';
import { kubectl, kubectlGet, type PodJson } from '../test/support/kube.ts';
import { startControlPlane, type ControlPlane } from './control-plane.ts';
import { startNodeAgent, type NodeAgent } from './node-agent.ts';

/**
 * The node agent against a real control plane (apiserver, controller-manager, scheduler): a ReplicaSet of two
 * engine Pods is scheduled onto the agent's Node (2 GPUs), runs as two real engine processes on their own loopback
 * IPs with the ConfigMap mounted as a file, and goes away, processes included, when the ReplicaSet is deleted.
 */
let cluster: ControlPlane;
let agent: NodeAgent | undefined;
const lines: string[] = [];

function pods(selector: string): PodJson[] {
  return kubectlGet<{ items: PodJson[] }>(cluster.kubeconfig, ['pods', '-n', 'default', '-l', selector])?.items ?? [];
}

function pod(name: string): PodJson | undefined {
  return kubectlGet<PodJson>(cluster.kubeconfig, ['pod', '-n', 'default', name]);
}

const tail = (): string => lines.slice(-20).join('\n');

const isReady = (p: PodJson): boolean => p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const engineConfig = [
  'symbols: [AAPL]',
  'strategies:',
  '  - {name: probe, type: probe}',
  'zeromq:',
  '  endpoints:',
  '    - {name: md, role: marketData, address: "tcp://127.0.0.1:1"}',
  '    - {name: orders, role: orders, address: "tcp://127.0.0.1:2"}',
  'metrics: {port: 9100}',
  'warmupTicks: 1000',
].join('\n');

const manifests = [
  'apiVersion: v1',
  'kind: ConfigMap',
  'metadata: {name: engine-config, namespace: default}',
  'data:',
  '  engine.yaml: |',
  ...engineConfig.split('\n').map((line) => `    ${line}`),
  '---',
  'apiVersion: apps/v1',
  'kind: ReplicaSet',
  'metadata: {name: engine, namespace: default}',
  'spec:',
  '  replicas: 2',
  '  selector: {matchLabels: {app: engine}}',
  '  template:',
  '    metadata: {labels: {app: engine}}',
  '    spec:',
  '      terminationGracePeriodSeconds: 5',
  '      volumes: [{name: config, configMap: {name: engine-config}}]',
  '      containers:',
  '        - name: engine',
  '          image: nexus/engine:dev',
  '          env: [{name: NEXUS_ENGINE_CONFIG, value: /etc/nexus/engine.yaml}]',
  '          volumeMounts: [{name: config, mountPath: /etc/nexus}]',
  '          readinessProbe: {httpGet: {port: 9100, path: /readyz}}',
  '          resources: {limits: {nvidia.com/gpu: 1}}',
  '',
].join('\n');

beforeAll(async () => {
  cluster = await startControlPlane({ controllers: true });
  agent = await startNodeAgent({ kubeconfig: cluster.kubeconfig, gpus: 2, log: (line) => { lines.push(line); if (process.env.NEXUS_AGENT_LOG === "1") console.error(line); } });
}, 5 * 60_000);

afterAll(async () => {
  await agent?.stop();
  await cluster?.stop();
}, 60_000);

describe('local node agent', () => {
  it('registers a Ready Node with its GPUs', () => {
    const result = kubectl(cluster.kubeconfig, ['get', 'node', 'nexus-local-node', '-o', 'json']);
    expect(result.code).toBe(0);
    const node = JSON.parse(result.out) as { status: { allocatable: Record<string, string>; conditions: Array<{ type: string; status: string }> } };
    expect(node.status.allocatable['nvidia.com/gpu']).toBe('2');
    expect(node.status.conditions.find((c) => c.type === 'Ready')?.status).toBe('True');
    const lease = kubectl(cluster.kubeconfig, ['get', 'lease', '-n', 'kube-node-lease', 'nexus-local-node', '-o', 'jsonpath={.spec.renewTime}']);
    expect(lease.code).toBe(0);
    expect(lease.out).not.toBe('');
  });

  let enginePids: number[] = [];

  it('runs a ReplicaSet of engine Pods as local processes with distinct loopback IPs', async () => {
    expect(kubectl(cluster.kubeconfig, ['apply', '-f', '-'], { input: manifests }).code).toBe(0);
    await eventually(() => {
      const running = pods('app=engine');
      return running.length === 2 && running.every(isReady);
    }, { timeoutMs: 40_000, what: 'two Ready engine Pods', context: tail });
    const running = pods('app=engine');
    const ips = running.map((p) => p.status.podIP ?? '');
    expect(new Set(ips).size).toBe(2);
    // Each agent owns a /24 of the loopback range (127.0.0.0/24 unless another agent on the machine holds it).
    for (const ip of ips) expect(ip).toMatch(/^127\.0\.\d+\.\d+$/);
    expect(new Set(ips.map((ip) => ip.split('.').slice(0, 3).join('.'))).size).toBe(1);
    for (const ip of ips) {
      const response = await fetch(`http://${ip}:9100/metrics`);
      expect(response.status).toBe(200);
      expect(await response.text()).toMatch(/^nexus_engine_ready 1$/m);
    }
    enginePids = [...(agent?.pids().values() ?? [])];
    expect(enginePids.length).toBe(2);
    for (const pid of enginePids) expect(alive(pid)).toBe(true);
  }, 60_000);

  it('leaves a third GPU Pod Pending: Insufficient nvidia.com/gpu', async () => {
    const third = [
      'apiVersion: v1', 'kind: Pod', 'metadata: {name: engine-extra, namespace: default}',
      'spec:', '  containers: [{name: engine, image: nexus/engine:dev, resources: {limits: {nvidia.com/gpu: 1}}}]', '',
    ].join('\n');
    expect(kubectl(cluster.kubeconfig, ['apply', '-f', '-'], { input: third }).code).toBe(0);
    await eventually(() => pod('engine-extra')?.status.conditions?.some((c) => c.type === 'PodScheduled' && c.reason === 'Unschedulable') ?? false, { timeoutMs: 20_000, what: 'Unschedulable', context: tail });
    const scheduled = pod('engine-extra')?.status.conditions?.find((c) => c.type === 'PodScheduled');
    expect(scheduled?.message).toContain('Insufficient nvidia.com/gpu');
    expect(pod('engine-extra')?.status.phase).toBe('Pending');
    expect(kubectl(cluster.kubeconfig, ['delete', 'pod', 'engine-extra', '--wait=false']).code).toBe(0);
  }, 30_000);

  it('reports other images as ImageNotRunnable', async () => {
    const busybox = 'apiVersion: v1\nkind: Pod\nmetadata: {name: busybox, namespace: default}\nspec: {containers: [{name: sh, image: busybox}]}\n';
    expect(kubectl(cluster.kubeconfig, ['apply', '-f', '-'], { input: busybox }).code).toBe(0);
    await eventually(() => pod('busybox')?.status.containerStatuses?.[0]?.state?.waiting?.reason === 'ImageNotRunnable', { timeoutMs: 20_000, what: 'ImageNotRunnable', context: tail });
    const waiting = pod('busybox')?.status.containerStatuses?.[0]?.state?.waiting;
    expect(waiting?.message).toBe('the local node agent runs only the Nexus engine image; got busybox');
    expect(pod('busybox')?.status.phase).toBe('Pending');
    // --wait=false: kubectl runs synchronously in this process, and so does the agent that finishes the deletion.
    expect(kubectl(cluster.kubeconfig, ['delete', 'pod', 'busybox', '--wait=false']).code).toBe(0);
    await eventually(() => pod('busybox') === undefined, { timeoutMs: 20_000, what: 'busybox Pod deleted', context: tail });
  }, 40_000);

  it('deleting the ReplicaSet removes its Pods and stops their engine processes', async () => {
    expect(enginePids.length).toBe(2);
    expect(kubectl(cluster.kubeconfig, ['delete', 'replicaset', 'engine', '--wait=false']).code).toBe(0);
    await eventually(() => pods('app=engine').length === 0, { timeoutMs: 30_000, what: 'engine Pods gone', context: tail });
    for (const pid of enginePids) expect(alive(pid)).toBe(false);
    expect(agent?.pids().size).toBe(0);
  }, 40_000);
});
