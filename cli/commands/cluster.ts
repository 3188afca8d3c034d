import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { UsageError, flag, helpText, num, parseArgs, type OptionSpec } from '../lib/args.ts';

const options = {
  gpus: { type: 'integer', help: 'nvidia.com/gpu the local node advertises', default: 2 },
  help: { type: 'boolean', help: 'show this help' },
} satisfies Record<string, OptionSpec>;

export const clusterHelp = helpText(
  'nexus cluster up [--gpus N]',
  'Development and tests: runs a real Kubernetes v1.34.4 control plane on loopback (etcd, kube-apiserver,\n' +
    'kube-controller-manager, kube-scheduler, built from the Go modules by devcluster/kubernetes/build.sh and cached)\n' +
    'plus a local node agent that runs engine Pods as processes on 127.0.0.x. Installs the CRDs in crds/ when\n' +
    'present and the RuntimeClass "nvidia" that examples/gpu-canary.yaml names (the agent runs every pod as a\n' +
    'process whatever its class), prints the kubeconfig to use, and runs in the foreground: Ctrl-C or SIGTERM stops\n' +
    'every process.',
  options,
);

const crdDir = fileURLToPath(new URL('../../crds', import.meta.url));
const nvidiaRuntimeClass = 'apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata:\n  name: nvidia\nhandler: nvidia\n';

export async function clusterCommand(argv: readonly string[]): Promise<number> {
  const [action, ...rest] = argv;
  const values = parseArgs(action?.startsWith('--') ? argv : rest, options);
  if (flag(values, 'help') || action === undefined || action.startsWith('--')) {
    console.log(clusterHelp);
    return action === undefined ? 2 : 0;
  }
  if (action !== 'up') throw new UsageError(`unknown cluster action ${JSON.stringify(action)} (up; stop it with Ctrl-C)`);
  // The dev cluster, loaded only here so the engine's own commands never load the Kubernetes client.
  const { startControlPlane } = await import('../../devcluster/control-plane.ts');
  const { startNodeAgent } = await import('../../devcluster/node-agent.ts');
  const log = (line: string): void => console.log(`${new Date().toISOString()} ${line}`);
  const cluster = await startControlPlane({ controllers: true, log });
  try {
    const agent = await startNodeAgent({ kubeconfig: cluster.kubeconfig, gpus: num(values, 'gpus'), log });
    if (existsSync(crdDir)) {
      execFileSync('kubectl', ['--kubeconfig', cluster.kubeconfig, 'apply', '-f', crdDir], { stdio: 'inherit' });
    } else {
      log('Cluster has no CRDs to install (crds/ does not exist yet)');
    }
    // The GPU example names runtimeClassName nvidia: without the class its ReplicaSet could create no pod here.
    execFileSync('kubectl', ['--kubeconfig', cluster.kubeconfig, 'apply', '-f', '-'], { input: nvidiaRuntimeClass, stdio: ['pipe', 'inherit', 'inherit'] });
    log(`Cluster ready server=${cluster.server} node=${agent.nodeName}`);
    console.log(`\n  export KUBECONFIG=${cluster.kubeconfig}\n`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    log('Cluster stopping');
    await agent.stop();
  } finally {
    await cluster.stop();
  }
  log('Cluster stopped');
  return 0;
}
