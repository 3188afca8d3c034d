import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlane, type ControlPlane } from './control-plane.ts';

/**
 * The test control plane is a real Kubernetes v1.34.4 built from source (build.sh): these tests talk to it with
 * kubectl exactly as a user would. The first run on a machine builds it (~4 minutes); later runs reuse the cache.
 */
let cluster: ControlPlane;
const crd = fileURLToPath(new URL('./fixtures/widget-crd.yaml', import.meta.url));

function kubectl(args: string[], input?: string): { code: number; out: string } {
  try {
    const out = execFileSync('kubectl', ['--kubeconfig', cluster.kubeconfig, ...args], {
      encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'], timeout: 30_000,
    });
    return { code: 0, out };
  } catch (error) {
    const failure = error as { status?: number; stdout?: string; stderr?: string };
    return { code: failure.status ?? 1, out: `${failure.stdout ?? ''}${failure.stderr ?? ''}` };
  }
}

async function eventually(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not true within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

beforeAll(async () => {
  cluster = await startControlPlane({ controllers: true });
}, 25 * 60_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('test control plane', () => {
  it('serves the Kubernetes version it was built from', () => {
    const version = kubectl(['get', '--raw', '/version']);
    expect(version.code).toBe(0);
    expect(JSON.parse(version.out)).toMatchObject({ gitVersion: 'v1.34.4', major: '1', minor: '34' });
  });

  it('installs a CRD and enforces its OpenAPI and CEL validation, naming the field', async () => {
    expect(kubectl(['apply', '-f', crd]).code).toBe(0);
    await eventually(() => kubectl(['get', 'widgets']).code === 0, 20_000);
    const valid = kubectl(['apply', '-f', '-'], 'apiVersion: test.nexus.dev/v1\nkind: Widget\nmetadata: {name: ok}\nspec: {replicas: 2, maxReplicas: 3}\n');
    expect(valid.code).toBe(0);
    const negative = kubectl(['apply', '-f', '-'], 'apiVersion: test.nexus.dev/v1\nkind: Widget\nmetadata: {name: bad}\nspec: {replicas: -1}\n');
    expect(negative.code).not.toBe(0);
    expect(negative.out).toContain('spec.replicas');
    const cel = kubectl(['apply', '-f', '-'], 'apiVersion: test.nexus.dev/v1\nkind: Widget\nmetadata: {name: cel}\nspec: {replicas: 5, maxReplicas: 3}\n');
    expect(cel.code).not.toBe(0);
    expect(cel.out).toContain('replicas must not exceed maxReplicas');
  });

  it('runs kube-controller-manager: a ReplicaSet gets its Pods', async () => {
    const replicaSet = [
      'apiVersion: apps/v1', 'kind: ReplicaSet', 'metadata: {name: web, namespace: default}',
      'spec:', '  replicas: 2', '  selector: {matchLabels: {app: web}}',
      '  template:', '    metadata: {labels: {app: web}}', '    spec: {containers: [{name: web, image: nexus/engine:test}]}', '',
    ].join('\n');
    expect(kubectl(['apply', '-f', '-'], replicaSet).code).toBe(0);
    await eventually(() => kubectl(['get', 'pods', '-l', 'app=web', '-o', 'name']).out.trim().split('\n').filter((l) => l.startsWith('pod/')).length === 2, 30_000);
  });

  it('stops every process it started', async () => {
    const pids = Object.values(cluster.pids);
    expect(pids.length).toBe(4);
    await cluster.stop();
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
  });
});
