import { loadKubeConfig } from '../../operator/kube/kube-config.ts';
import { startDashboard } from '../../dashboard/start.ts';
import { flag, helpText, num, parseArgs, str, UsageError, type OptionSpec } from '../lib/args.ts';

const options = {
  port: { type: 'integer', help: 'the local port (0: any free port)', default: 8090 },
  address: { type: 'string', help: 'the address to listen on; another than loopback shares your cluster access with that network', default: '127.0.0.1' },
  'read-only': { type: 'boolean', help: 'show no actions and refuse every one (the page only looks)' },
  namespace: { type: 'string', help: 'comma-separated namespaces to show, also -n (default: every namespace you may list, else the context\'s)' },
  kubeconfig: { type: 'string', help: 'kubeconfig path (default $KUBECONFIG, else ~/.kube/config)' },
  context: { type: 'string', help: 'the kubeconfig context to use (default: its current context)' },
  help: { type: 'boolean', help: 'show this help' },
} satisfies Record<string, OptionSpec>;

export const dashboardHelp = helpText(
  'nexus dashboard [--port 8090] [--read-only] [-n NS] [--context C]',
  'Serves the rollout dashboard on loopback: every TradingEngine you can see, and per engine its revisions, pods and\n' +
    'symbols, the rollout steps, a live chart of canary and stable latency against the gate\'s threshold, Events and\n' +
    'analysis records, with promote, abort, retry, pause, resume and undo. It uses your kubeconfig and context, so it\n' +
    'can do exactly what your RBAC allows; updates come from watches on the API server. Open the URL it prints: it\n' +
    'carries a session token (random per start; NEXUS_DASHBOARD_TOKEN, 32 characters or more, keeps one). Ctrl-C stops it.',
  options,
);

export async function dashboardCommand(argv: readonly string[]): Promise<number> {
  const values = parseArgs(argv.map((arg) => (arg === '-n' ? '--namespace' : arg)), options);
  if (flag(values, 'help')) {
    console.log(dashboardHelp);
    return 0;
  }
  const namespaces = str(values, 'namespace')?.split(',').map((namespace) => namespace.trim()).filter((namespace) => namespace !== '');
  for (const namespace of namespaces ?? []) {
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(namespace)) throw new UsageError(`--namespace: ${JSON.stringify(namespace)} is not a namespace name`);
  }
  let kubeConfig;
  try {
    kubeConfig = loadKubeConfig(str(values, 'kubeconfig'), str(values, 'context'));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const log = (line: string): void => console.error(`${new Date().toISOString()} ${line}`);
  const dashboard = await startDashboard({
    kubeConfig, ...(namespaces === undefined || namespaces.length === 0 ? {} : { namespaces }),
    host: str(values, 'address') ?? '127.0.0.1', port: num(values, 'port'), readOnly: flag(values, 'read-only'), log,
    ...(process.env.NEXUS_DASHBOARD_TOKEN === undefined ? {} : { token: process.env.NEXUS_DASHBOARD_TOKEN }),
  });
  console.log(`Nexus dashboard on ${dashboard.url} (context ${kubeConfig.getCurrentContext()}, ${dashboard.namespaces === undefined ? 'every namespace' : `namespaces ${dashboard.namespaces.join(', ')}`}${flag(values, 'read-only') ? ', read-only' : ''}); Ctrl-C stops it`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await dashboard.stop();
  return 0;
}
