import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../test/support/eventually.ts';
import { kubectl } from '../test/support/kube.ts';
import { startControlPlane, type ControlPlane } from './control-plane.ts';

/**
 * The test control plane is a real Kubernetes v1.34.4 built from source (build.sh): these tests talk to it with
 * kubectl exactly as a user would. The first run on a machine builds it (~4 minutes); later runs reuse the cache.
 */
let cluster: ControlPlane;
const crd = fileURLToPath(new URL('./fixtures/widget-crd.yaml', import.meta.url));

beforeAll(async () => {
  cluster = await startControlPlane({ controllers: true });
}, 25 * 60_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('test control plane', () => {
  it('serves the Kubernetes version it was built from', () => {
    const version = kubectl(cluster.kubeconfig, ['get', '--raw', '/version']);
    expect(version.code).toBe(0);
    expect(JSON.parse(version.out)).toMatchObject({ gitVersion: 'v1.34.4', major: '1', minor: '34' });
  });

  it('installs a CRD and enforces its OpenAPI and CEL validation, naming the field', async () => {
    expect(kubectl(cluster.kubeconfig, ['apply', '-f', crd]).code).toBe(0);
    await eventually(() => kubectl(cluster.kubeconfig, ['get', 'widgets']).code === 0, { timeoutMs: 20_000, what: 'widgets served' });
    const valid = kubectl(cluster.kubeconfig, ['apply', '-f', '-'], { input: 'apiVersion: test.nexus.dev/v1\nkind: Widget\nmetadata: {name: ok}\nspec: {replicas: 2, maxReplicas: 3}\n' });
    expect(valid.code).toBe(0);
    const negative = kubectl(cluster.kubeconfig, ['apply', '-f', '-'], { input: 'apiVersion: test.nexus.dev/v1\nkind: Widget\nmetadata: {name: bad}\nspec: {replicas: -1}\n' });
    expect(negative.code).not.toBe(0);
    expect(negative.err).toContain('spec.replicas');
    const cel = kubectl(cluster.kubeconfig, ['apply', '-f', '-'], { input: 'apiVersion: test.nexus.dev/v1\nkind: Widget\nmetadata: {name: cel}\nspec: {replicas: 5, maxReplicas: 3}\n' });
    expect(cel.code).not.toBe(0);
    expect(cel.err).toContain('replicas must not exceed maxReplicas');
  });

  it('runs kube-controller-manager: a ReplicaSet gets its Pods', async () => {
    const replicaSet = [
      'apiVersion: apps/v1', 'kind: ReplicaSet', 'metadata: {name: web, namespace: default}',
      'spec:', '  replicas: 2', '  selector: {matchLabels: {app: web}}',
      '  template:', '    metadata: {labels: {app: web}}', '    spec: {containers: [{name: web, image: nexus/engine:test}]}', '',
    ].join('\n');
    expect(kubectl(cluster.kubeconfig, ['apply', '-f', '-'], { input: replicaSet }).code).toBe(0);
    await eventually(() => kubectl(cluster.kubeconfig, ['get', 'pods', '-l', 'app=web', '-o', 'name']).out.trim().split('\n').filter((l) => l.startsWith('pod/')).length === 2, {
      timeoutMs: 30_000, what: 'two web Pods',
    });
  });

  it('stops every process it started', async () => {
    const pids = Object.values(cluster.pids);
    expect(pids.length).toBe(4);
    await cluster.stop();
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
  });
});
