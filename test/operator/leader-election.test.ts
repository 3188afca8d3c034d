import { execFileSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnNexus, waitForExit, waitForLine } from '../../cli/processes.ts';
import { startControlPlane, type ControlPlane } from '../../devcluster/control-plane.ts';

/**
 * Operator processes (`nexus operator`) against a real API server with leader election on a coordination.k8s.io
 * Lease: of two replicas exactly one leads and reconciles; SIGTERM on the leader releases the lease and the
 * standby takes over at once; SIGKILL on a leader (no release) hands over once the lease expires by the
 * standby's own clock.
 */
const root = fileURLToPath(new URL('../../', import.meta.url));
let cluster: ControlPlane | undefined;
const children: ChildProcess[] = [];

function kubectl(args: string[], input?: string): string {
  return execFileSync('kubectl', ['--kubeconfig', cluster?.kubeconfig ?? '', ...args], { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'], timeout: 30_000 });
}

function startOperator(identity: string): ChildProcess {
  const child = spawnNexus([
    'operator', '--kubeconfig', cluster?.kubeconfig ?? '', '--identity', identity, '--lease-namespace', 'default',
    '--lease-duration-seconds', '3', '--renew-deadline-seconds', '2', '--retry-period-seconds', '0.5',
    '--metrics-port', '0', '--health-port', '0', '--bind-host', '127.0.0.1', '--resync-seconds', '0',
  ]);
  children.push(child);
  return child;
}

const holder = (): string => kubectl(['get', 'lease', '-n', 'default', 'nexus-operator-leader', '-o', 'jsonpath={.spec.holderIdentity}']);

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

async function reconciled(name: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const out = kubectl(['get', 'tradingengine', '-n', 'default', name, '-o', 'jsonpath={.metadata.generation}/{.status.observedGeneration}']);
    const [generation, observed] = out.split('/');
    if (generation !== '' && generation === observed) return;
    if (Date.now() > deadline) throw new Error(`${name} not reconciled within ${timeoutMs} ms (${out})`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

beforeAll(async () => {
  cluster = await startControlPlane({ controllers: false });
  kubectl(['apply', '--server-side', '-f', `${root}crds/tradingengine.yaml`]);
  kubectl(['wait', '--for=condition=Established', 'crd/tradingengines.trading.nexus.dev', '--timeout=30s']);
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
    kubectl(['apply', '--server-side', '-f', '-'], engineManifest('first'));
    await reconciled('first', 20_000);

    const handover = Date.now();
    const takeover = waitForLine(b, /Leading identity=replica-b/, 10_000);
    a.kill('SIGTERM');
    expect(await waitForExit(a, 15_000)).toBe(0);
    await takeover;
    expect(Date.now() - handover).toBeLessThan(3_000);
    expect(holder()).toBe('replica-b');
    kubectl(['apply', '--server-side', '-f', '-'], engineManifest('second'));
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
    kubectl(['apply', '--server-side', '-f', '-'], engineManifest('third'));
    await reconciled('third', 20_000);
    c.kill('SIGTERM');
    expect(await waitForExit(c, 15_000)).toBe(0);
  }, 150_000);
});
