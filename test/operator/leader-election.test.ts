import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnNexus, waitForExit, waitForLine } from '../../cli/lib/processes.ts';
import { startControlPlane, type ControlPlane } from '../../devcluster/control-plane.ts';
import { eventually } from '../support/eventually.ts';
import { kubectlOrThrow } from '../support/kube.ts';

/**
 * Operator processes (`nexus operator`) against a real API server with leader election on a coordination.k8s.io
 * Lease: of two replicas exactly one leads and reconciles; SIGTERM on the leader releases the lease and the
 * standby takes over at once; SIGKILL on a leader (no release) hands over once the lease expires by the
 * standby's own clock.
 */
const root = fileURLToPath(new URL('../../', import.meta.url));
let cluster: ControlPlane;
const children: ChildProcess[] = [];

function startOperator(identity: string): ChildProcess {
  const child = spawnNexus([
    'operator', '--kubeconfig', cluster.kubeconfig, '--identity', identity, '--lease-namespace', 'default',
    '--lease-duration-seconds', '3', '--renew-deadline-seconds', '2', '--retry-period-seconds', '0.5',
    '--metrics-port', '0', '--health-port', '0', '--bind-host', '127.0.0.1', '--resync-seconds', '0',
  ]);
  children.push(child);
  return child;
}

const holder = (): string => kubectlOrThrow(cluster.kubeconfig, ['get', 'lease', '-n', 'default', 'nexus-operator-leader', '-o', 'jsonpath={.spec.holderIdentity}']);

function engineManifest(name: string): string {
  return `apiVersion: trading.nexus.dev/v1alpha1
kind: TradingEngine
metadata: {name: ${name}, namespace: default}
spec:
  replicas: 0
  template: {image: 'nexus/engine:dev', resources: {cpu: '1', memory: 256Mi}}
  engine:
    symbols: [AAPL]
    zeromq:
      endpoints:
        - {name: md, role: marketData, address: 'tcp://127.0.0.1:1'}
        - {name: orders, role: orders, address: 'tcp://127.0.0.1:2'}
`;
}

/** Waits until the TradingEngine's status.observedGeneration is its metadata.generation. */
async function reconciled(name: string, timeoutMs: number): Promise<void> {
  await eventually(
    () => kubectlOrThrow(cluster.kubeconfig, ['get', 'tradingengine', '-n', 'default', name, '-o', 'jsonpath={.metadata.generation}/{.status.observedGeneration}']),
    {
      until: (out) => {
        const [generation, observed] = out.split('/');
        return generation !== '' && generation === observed;
      },
      timeoutMs, what: `${name} reconciled (generation/observedGeneration)`, intervalMs: 200,
    },
  );
}

beforeAll(async () => {
  cluster = await startControlPlane({ controllers: false });
  kubectlOrThrow(cluster.kubeconfig, ['apply', '--server-side', '-f', `${root}crds/tradingengine.yaml`]);
  kubectlOrThrow(cluster.kubeconfig, ['wait', '--for=condition=Established', 'crd/tradingengines.trading.nexus.dev', '--timeout=30s']);
}, 120_000);

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await cluster?.stop();
}, 60_000);

describe('operator leader election', () => {
  it('lets one of two replicas lead, and hands over on SIGTERM (release) and on SIGKILL (expiry)', async () => {
    const a = startOperator('replica-a');
    await waitForLine(a, /Leading identity=replica-a/, 30_000);
    const b = startOperator('replica-b');
    await waitForLine(b, /Leader observed identity=replica-a/, 30_000);
    expect(holder()).toBe('replica-a');
    kubectlOrThrow(cluster.kubeconfig, ['apply', '--server-side', '-f', '-'], { input: engineManifest('first') });
    await reconciled('first', 20_000);

    const handover = Date.now();
    const takeover = waitForLine(b, /Leading identity=replica-b/, 10_000);
    a.kill('SIGTERM');
    expect(await waitForExit(a, 15_000)).toBe(0);
    await takeover;
    expect(Date.now() - handover).toBeLessThan(3_000);
    expect(holder()).toBe('replica-b');
    kubectlOrThrow(cluster.kubeconfig, ['apply', '--server-side', '-f', '-'], { input: engineManifest('second') });
    await reconciled('second', 20_000);

    const c = startOperator('replica-c');
    await waitForLine(c, /Leader observed identity=replica-b/, 30_000);
    const crash = Date.now();
    const takeoverAfterCrash = waitForLine(c, /Leading identity=replica-c/, 15_000);
    b.kill('SIGKILL');
    await takeoverAfterCrash;
    const waited = Date.now() - crash;
    // No release: the standby waits for the lease (3 s) to expire as it observes it, plus up to a retry period.
    expect(waited).toBeGreaterThan(1_000);
    expect(waited).toBeLessThan(8_000);
    expect(holder()).toBe('replica-c');
    kubectlOrThrow(cluster.kubeconfig, ['apply', '--server-side', '-f', '-'], { input: engineManifest('third') });
    await reconciled('third', 20_000);
    c.kill('SIGTERM');
    expect(await waitForExit(c, 15_000)).toBe(0);
  }, 150_000);
});
