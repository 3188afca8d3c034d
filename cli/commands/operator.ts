import type { OperatorSettings } from '../../operator/api/settings.ts';
import { checkOperatorConfig, defaultIdentity, OperatorConfigError, type OperatorConfig } from '../../operator/config.ts';
import { runOperator } from '../../operator/main.ts';
import { flag, helpText, num, parseArgs, str, UsageError, type OptionSpec } from '../lib/args.ts';

const options = {
  kubeconfig: { type: 'string', help: 'kubeconfig path (default: in-cluster service account, else $KUBECONFIG, else ~/.kube/config)' },
  'leader-elect': { type: 'boolean', help: 'campaign for a coordination.k8s.io Lease; only the leader reconciles (=false to disable)', default: true },
  'lease-name': { type: 'string', help: 'leader-election Lease name', default: 'nexus-operator-leader' },
  'lease-namespace': { type: 'string', help: 'leader-election Lease namespace (default $POD_NAMESPACE)' },
  'lease-duration-seconds': { type: 'number', help: 'how long a lease is valid without renewal', default: 15 },
  'renew-deadline-seconds': { type: 'number', help: 'the leader steps down if it cannot renew within this', default: 10 },
  'retry-period-seconds': { type: 'number', help: 'how often candidates try to acquire and the leader renews', default: 2 },
  identity: { type: 'string', help: 'this replica in the lease (default $POD_NAME, else host-pid)' },
  'metrics-port': { type: 'integer', help: 'Prometheus /metrics port (0 = any free port)', default: 8080 },
  'health-port': { type: 'integer', help: '/healthz and /readyz port (0 = any free port)', default: 8081 },
  'bind-host': { type: 'string', help: 'address the metrics and health servers bind', default: '0.0.0.0' },
  'watch-namespaces': { type: 'string', help: 'comma-separated namespaces to watch (default: all)' },
  workers: { type: 'integer', help: 'concurrent reconciles (never two on one TradingEngine)', default: 4 },
  'resync-seconds': { type: 'number', help: 'requeue every TradingEngine this often without events (0 = never)', default: 600 },
  'log-level': { type: 'string', help: 'debug | info | warn | error', default: 'info' },
  'network-policy': { type: 'boolean', help: 'render a NetworkPolicy per TradingEngine: control port from the operator only, metrics from the operator and Prometheus', default: false },
  'operator-namespace': { type: 'string', help: "the operator pods' namespace, for the NetworkPolicy (default $POD_NAMESPACE)" },
  'operator-pod-labels': { type: 'string', help: "the operator pods' labels, k=v,k=v, for the NetworkPolicy (required with --network-policy)" },
  'prometheus-namespace-labels': { type: 'string', help: 'labels (k=v,...) of the namespaces whose Prometheus may scrape engine metrics' },
  'prometheus-pod-labels': { type: 'string', help: 'labels (k=v,...) of the Prometheus pods that may scrape engine metrics' },
  'prometheus-addresses': { type: 'string', help: 'comma-separated Prometheus base URLs a TradingEngine may query; given empty, none may; absent, any' },
  'confirm-promotion-timeout-seconds': { type: 'number', help: 'how long the confirm-promotion webhook may take to answer, at most 30 (no answer: not confirmed)', default: 10 },
  help: { type: 'boolean', help: 'show this help' },
} satisfies Record<string, OptionSpec>;

export const operatorHelp = helpText(
  'nexus operator [options]',
  'Runs the TradingEngine operator: watches TradingEngines and reconciles them into engine ReplicaSets,\n' +
    'ConfigMaps and Services with server-side apply, reporting status conditions and Events.\n' +
    'Environment: NEXUS_EVENT_WEBHOOK_URL (and NEXUS_EVENT_WEBHOOK_TOKEN, sent as a bearer token) POSTs every Event\n' +
    'as JSON to that URL; NEXUS_CONFIRM_PROMOTION_URL (and NEXUS_CONFIRM_PROMOTION_TOKEN) makes every promotion\n' +
    'wait until that URL answers 2xx (docs/operator.md, "Notifications").',
  options,
);

const logLevels = ['debug', 'info', 'warn', 'error'] as const;

export function operatorConfig(argv: readonly string[], env: NodeJS.ProcessEnv): OperatorConfig {
  const values = parseArgs(argv, options);
  const logLevel = str(values, 'log-level') ?? 'info';
  if (!(logLevels as readonly string[]).includes(logLevel)) throw new UsageError(`--log-level must be one of ${logLevels.join(', ')}, got ${JSON.stringify(logLevel)}`);
  const seconds = (name: string): number => {
    const value = num(values, name);
    const ms = Math.round(value * 1000);
    if (!(ms > 0)) throw new UsageError(`--${name} must be at least 0.001 (1 ms), got ${value}`);
    return ms;
  };
  const namespaces = (str(values, 'watch-namespaces') ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  try {
    return checkOperatorConfig({
      kubeconfig: str(values, 'kubeconfig'),
      leaderElect: flag(values, 'leader-elect'),
      leaseName: str(values, 'lease-name') ?? 'nexus-operator-leader',
      leaseNamespace: str(values, 'lease-namespace') ?? env.POD_NAMESPACE ?? '',
      leaseDurationMs: seconds('lease-duration-seconds'),
      renewDeadlineMs: seconds('renew-deadline-seconds'),
      retryPeriodMs: seconds('retry-period-seconds'),
      identity: str(values, 'identity') ?? defaultIdentity(env.POD_NAME),
      metricsPort: num(values, 'metrics-port'),
      healthPort: num(values, 'health-port'),
      bindHost: str(values, 'bind-host') ?? '0.0.0.0',
      watchNamespaces: namespaces,
      workers: Math.max(1, num(values, 'workers')),
      resyncMs: Math.round(num(values, 'resync-seconds') * 1000),
      logLevel: logLevel as OperatorConfig['logLevel'],
      ...withConfirmPromotion(operatorSettings(values, env), env, confirmTimeoutMs(seconds('confirm-promotion-timeout-seconds'))),
      ...eventWebhookOf(env),
    });
  } catch (error) {
    if (error instanceof OperatorConfigError) throw new UsageError(error.message);
    throw error;
  }
}

/** The settings that shape decisions: the NetworkPolicy peers and the Prometheus allow-list. */
function operatorSettings(values: ReturnType<typeof parseArgs>, env: NodeJS.ProcessEnv): OperatorSettings {
  const addresses = str(values, 'prometheus-addresses');
  const prometheus = {
    ...optionalLabels(values, 'prometheus-namespace-labels', 'namespaceLabels'),
    ...optionalLabels(values, 'prometheus-pod-labels', 'podLabels'),
  };
  const settings: OperatorSettings = addresses === undefined ? {} : { prometheusAddresses: addresses.split(',').map((s) => s.trim()).filter((s) => s !== '') };
  if (!flag(values, 'network-policy')) return settings;
  const operatorNamespace = str(values, 'operator-namespace') ?? env.POD_NAMESPACE ?? '';
  if (operatorNamespace === '') throw new UsageError('--network-policy needs --operator-namespace (or POD_NAMESPACE)');
  const operatorPodLabels = labels(str(values, 'operator-pod-labels') ?? '', 'operator-pod-labels');
  if (Object.keys(operatorPodLabels).length === 0) throw new UsageError('--network-policy needs --operator-pod-labels: which pods may reach engine control ports');
  return {
    ...settings,
    networkPolicy: { operatorNamespace, operatorPodLabels, ...(Object.keys(prometheus).length === 0 ? {} : { prometheus }) },
  };
}

function optionalLabels(values: ReturnType<typeof parseArgs>, name: string, key: 'namespaceLabels' | 'podLabels'): Partial<Record<typeof key, Record<string, string>>> {
  const text = str(values, name);
  return text === undefined ? {} : { [key]: labels(text, name) };
}

/** `k=v,k=v` -> labels; a clear usage error for anything else. */
function labels(text: string, name: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const pair of text.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const match = /^([A-Za-z0-9][-A-Za-z0-9_./]*)=([-A-Za-z0-9_.]*)$/.exec(pair);
    if (match === null) throw new UsageError(`--${name}: ${JSON.stringify(pair)} is not a label key=value`);
    result[match[1]] = match[2];
  }
  return result;
}

export async function operatorCommand(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help')) {
    console.log(operatorHelp);
    return 0;
  }
  const config = operatorConfig(argv, process.env);
  // info and debug print every line; warn and error print only failures and leadership changes.
  const quiet = config.logLevel === 'warn' || config.logLevel === 'error';
  const log = (line: string): void => {
    if (!quiet || /failed|error|lost|silent|stopp/i.test(line)) console.log(`${new Date().toISOString()} ${line}`);
  };
  const running = await runOperator(config, log);
  log(`Operator started identity=${config.identity} metricsPort=${running.metricsPort} healthPort=${running.healthPort} leaderElect=${config.leaderElect} namespaces=${config.watchNamespaces.join(',') || 'all'}`);
  const onSignal = (signal: string): void => {
    log(`Operator stopping signal=${signal}`);
    void running.stop();
  };
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  process.once('SIGINT', () => onSignal('SIGINT'));
  const code = await running.done;
  log(`Operator stopped code=${code}`);
  return code;
}

/**
 * At most 30 s: the question is asked inside a reconcile, whose worker it holds until the answer (or the timeout).
 */
function confirmTimeoutMs(ms: number): number {
  if (ms > 30_000) throw new UsageError(`--confirm-promotion-timeout-seconds must be at most 30 (the question holds a reconcile worker until it is answered), got ${ms / 1000}`);
  return ms;
}

/**
 * The confirm-promotion webhook from the environment (from a Secret, as the event webhook's), and the setting that
 * makes every promotion wait for it.
 */
function withConfirmPromotion(settings: OperatorSettings, env: NodeJS.ProcessEnv, timeoutMs: number): Pick<OperatorConfig, 'settings' | 'confirmPromotion'> {
  const url = env.NEXUS_CONFIRM_PROMOTION_URL?.trim() ?? '';
  if (url === '') return { settings };
  const token = env.NEXUS_CONFIRM_PROMOTION_TOKEN?.trim() ?? '';
  return { settings: { ...settings, confirmPromotion: true }, confirmPromotion: { url, timeoutMs, ...(token === '' ? {} : { token }) } };
}

/** The event webhook from the environment (the chart fills it from a Secret, so the URL and token stay out of args). */
function eventWebhookOf(env: NodeJS.ProcessEnv): Pick<OperatorConfig, 'eventWebhook'> {
  const url = env.NEXUS_EVENT_WEBHOOK_URL?.trim() ?? '';
  if (url === '') return {};
  const token = env.NEXUS_EVENT_WEBHOOK_TOKEN?.trim() ?? '';
  return { eventWebhook: token === '' ? { url } : { url, token } };
}
