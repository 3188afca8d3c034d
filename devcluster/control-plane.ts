import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../cli/lib/processes.ts';

/**
 * A real Kubernetes control plane on loopback for integration tests and the local demo: etcd, kube-apiserver,
 * kube-controller-manager and kube-scheduler built from source by build.sh, with a throwaway PKI and kubeconfigs
 * in a temporary directory. No mocks: tests talk to a real API server with CRD validation, CEL, server-side apply,
 * watches, leases and garbage collection.
 *
 * Guarantees: every process started is stopped on `stop()` by its pid (SIGTERM, then SIGKILL after 5 s), and also
 * when this Node process exits; a process that dies during start-up (a port taken, a bad flag) fails `start` with
 * the tail of its log instead of a hang.
 */
export interface ControlPlane {
  /** https://127.0.0.1:PORT */
  readonly server: string;
  /** Admin (system:masters) kubeconfig path. */
  readonly kubeconfig: string;
  readonly dir: string;
  readonly pids: Readonly<Record<string, number>>;
  stop(): Promise<void>;
}

export interface ControlPlaneOptions {
  /** Directory with the four binaries; default: build (or reuse from the cache) with build.sh. */
  readonly binDir?: string;
  /** Start kube-controller-manager and kube-scheduler too (ReplicaSets create Pods, Pods get bound). */
  readonly controllers?: boolean;
  readonly log?: (line: string) => void;
  /** Serve the API on this port instead of a free one (tests of a taken port use it). */
  readonly apiserverPort?: number;
}

const buildScript = fileURLToPath(new URL('./kubernetes/build.sh', import.meta.url));

/** Builds the binaries (or finds them in the cache) and returns their directory. */
export function controlPlaneBinaries(): string {
  const out = execFileSync('bash', [buildScript], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 20 * 60_000 });
  return out.trim().split('\n').pop() ?? '';
}

interface Pki {
  readonly ca: string;
  readonly caKey: string;
  readonly serving: { cert: string; key: string };
  readonly clients: Record<'admin' | 'controllerManager' | 'scheduler', { cert: string; key: string }>;
  readonly serviceAccount: { key: string; pub: string };
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A CA, an API-server serving certificate, client certificates for the three identities, an SA key pair. */
function createPki(dir: string): Pki {
  const days = '3';
  openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=nexus-test-ca', '-days', days]);
  const issue = (name: string, subject: string, extensions?: string): { cert: string; key: string } => {
    openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject]);
    const sign = ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', days];
    if (extensions !== undefined) {
      writeFileSync(join(dir, `${name}.ext`), extensions);
      sign.push('-extfile', `${name}.ext`);
    }
    openssl(dir, sign);
    return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  };
  const serving = issue(
    'apiserver',
    '/CN=kube-apiserver',
    'subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\n' +
      'extendedKeyUsage=serverAuth\n',
  );
  const clientExt = 'extendedKeyUsage=clientAuth\n';
  const clients = {
    admin: issue('admin', '/O=system:masters/CN=nexus-admin', clientExt),
    controllerManager: issue('controller-manager', '/CN=system:kube-controller-manager', clientExt),
    scheduler: issue('scheduler', '/CN=system:kube-scheduler', clientExt),
  };
  openssl(dir, ['genrsa', '-out', 'sa.key', '2048']);
  openssl(dir, ['rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub']);
  return {
    ca: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    serving,
    clients,
    serviceAccount: { key: join(dir, 'sa.key'), pub: join(dir, 'sa.pub') },
  };
}

function kubeconfig(path: string, server: string, ca: string, client: { cert: string; key: string }, user: string): string {
  writeFileSync(
    path,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      `- name: nexus-test\n  cluster:\n    server: ${server}\n    certificate-authority: ${ca}`,
      'users:',
      `- name: ${user}\n  user:\n    client-certificate: ${client.cert}\n    client-key: ${client.key}`,
      'contexts:',
      `- name: nexus-test\n  context:\n    cluster: nexus-test\n    user: ${user}`,
      'current-context: nexus-test',
      '',
    ].join('\n'),
  );
  return path;
}

/** GET `url` with client certificates; resolves with the status code (0 when the connection failed). */
function httpsStatus(url: string, pki: Pki): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      url,
      {
        ca: readFileSync(pki.ca),
        cert: readFileSync(pki.clients.admin.cert),
        key: readFileSync(pki.clients.admin.key),
        timeout: 2_000,
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

async function httpStatus(url: string): Promise<number> {
  try {
    return (await fetch(url)).status;
  } catch {
    return 0;
  }
}

export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const log = options.log ?? (() => undefined);
  const binDir = options.binDir ?? controlPlaneBinaries();
  const dir = mkdtempSync(join(tmpdir(), 'nexus-cluster-'));
  const children = new Map<string, ChildProcess>();
  const logs = new Map<string, string>();
  const killAll = (): void => {
    for (const child of children.values()) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', killAll);

  const startProcess = (name: string, args: string[]): ChildProcess => {
    const child = spawn(join(binDir, name), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    logs.set(name, '');
    const append = (chunk: Buffer): void => {
      const text = (logs.get(name) ?? '') + chunk.toString();
      logs.set(name, text.length > 20_000 ? text.slice(-20_000) : text);
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    children.set(name, child);
    return child;
  };
  const waitUntil = async (name: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    const child = children.get(name);
    while (!(await check())) {
      if (child !== undefined && (child.exitCode !== null || child.signalCode !== null)) {
        throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}) during start-up:\n${(logs.get(name) ?? '').slice(-3000)}`);
      }
      if (Date.now() > deadline) throw new Error(`${name} not ready within ${timeoutMs} ms:\n${(logs.get(name) ?? '').slice(-3000)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  const stop = async (): Promise<void> => {
    const order = ['kube-scheduler', 'kube-controller-manager', 'kube-apiserver', 'etcd'];
    for (const name of order) {
      const child = children.get(name);
      if (child === undefined || child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    process.off('exit', killAll);
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const started = Date.now();
    const pki = createPki(dir);
    const ports = {
      etcdClient: await freePort(), etcdPeer: await freePort(), apiserver: options.apiserverPort ?? (await freePort()),
      controllerManager: await freePort(), scheduler: await freePort(),
    };
    const server = `https://127.0.0.1:${ports.apiserver}`;
    const etcdUrl = `http://127.0.0.1:${ports.etcdClient}`;
    const peerUrl = `http://127.0.0.1:${ports.etcdPeer}`;
    startProcess('etcd', [
      '--name=nexus-test', `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`, `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`, `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=nexus-test=${peerUrl}`, '--unsafe-no-fsync=true', '--log-level=warn',
    ]);
    await waitUntil('etcd', async () => (await httpStatus(`${etcdUrl}/health`)) === 200, 30_000);

    startProcess('kube-apiserver', [
      `--etcd-servers=${etcdUrl}`, '--bind-address=127.0.0.1', '--advertise-address=127.0.0.1',
      `--secure-port=${ports.apiserver}`, '--endpoint-reconciler-type=none',
      `--tls-cert-file=${pki.serving.cert}`, `--tls-private-key-file=${pki.serving.key}`, `--client-ca-file=${pki.ca}`,
      '--service-account-issuer=https://kubernetes.default.svc', `--service-account-key-file=${pki.serviceAccount.pub}`,
      `--service-account-signing-key-file=${pki.serviceAccount.key}`, '--service-cluster-ip-range=10.0.0.0/24',
      '--authorization-mode=Node,RBAC', '--allow-privileged=true', '--disable-admission-plugins=ServiceAccount',
      `--cert-dir=${join(dir, 'apiserver-certs')}`,
    ]);
    await waitUntil('kube-apiserver', async () => (await httpsStatus(`${server}/readyz`, pki)) === 200, 60_000);
    const admin = kubeconfig(join(dir, 'admin.kubeconfig'), server, pki.ca, pki.clients.admin, 'nexus-admin');

    if (options.controllers === true) {
      const kcm = kubeconfig(join(dir, 'controller-manager.kubeconfig'), server, pki.ca, pki.clients.controllerManager, 'kcm');
      startProcess('kube-controller-manager', [
        `--kubeconfig=${kcm}`, '--leader-elect=false', '--use-service-account-credentials=true',
        `--service-account-private-key-file=${pki.serviceAccount.key}`, `--root-ca-file=${pki.ca}`,
        `--cluster-signing-cert-file=${pki.ca}`, `--cluster-signing-key-file=${pki.caKey}`,
        '--controllers=*,-node-lifecycle-controller', '--bind-address=127.0.0.1', `--secure-port=${ports.controllerManager}`,
      ]);
      const scheduler = kubeconfig(join(dir, 'scheduler.kubeconfig'), server, pki.ca, pki.clients.scheduler, 'scheduler');
      startProcess('kube-scheduler', [
        `--kubeconfig=${scheduler}`, '--leader-elect=false', '--bind-address=127.0.0.1', `--secure-port=${ports.scheduler}`,
      ]);
    }
    log(`Control plane started server=${server} dir=${dir} seconds=${((Date.now() - started) / 1000).toFixed(1)}`);
    const pids: Record<string, number> = {};
    for (const [name, child] of children) pids[name] = child.pid ?? 0;
    return { server, kubeconfig: admin, dir, pids, stop };
  } catch (error) {
    killAll();
    await Promise.all([...children.values()].map((child) =>
      child.exitCode !== null || child.signalCode !== null ? undefined : new Promise((resolve) => child.once('exit', resolve))));
    process.off('exit', killAll);
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`Control plane failed to start (every process stopped, ${dir} removed): ${(error as Error).message}`);
  }
}
