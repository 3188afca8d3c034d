import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { checkOperatorConfig, defaultIdentity, OperatorConfigError, type OperatorConfig } from '../../operator/config.ts';
import { UsageError } from '../lib/args.ts';
import { operatorConfig, operatorHelp } from './operator.ts';

const podEnv = { POD_NAMESPACE: 'nexus-system', POD_NAME: 'nexus-operator-7d9f-abcde' };

describe('operatorConfig', () => {
  it('defaults to leader election in the pod namespace, identified by the pod name', () => {
    expect(operatorConfig([], podEnv)).toEqual({
      kubeconfig: undefined,
      leaderElect: true,
      leaseName: 'nexus-operator-leader',
      leaseNamespace: 'nexus-system',
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      identity: 'nexus-operator-7d9f-abcde',
      metricsPort: 8080,
      healthPort: 8081,
      bindHost: '0.0.0.0',
      watchNamespaces: [],
      workers: 4,
      resyncMs: 600_000,
      logLevel: 'info',
      settings: {},
    });
  });

  it('identifies itself by host and pid without POD_NAME', () => {
    expect(operatorConfig([], { POD_NAMESPACE: 'ns' }).identity).toBe(`${hostname()}-${process.pid}`);
    expect(operatorConfig([], { POD_NAMESPACE: 'ns', POD_NAME: '' }).identity).toBe(`${hostname()}-${process.pid}`);
  });

  it('prefers flags over the environment', () => {
    const config = operatorConfig(['--lease-namespace', 'leases', '--identity', 'me', '--lease-name=lock', '--kubeconfig', '/k/config'], podEnv);
    expect(config).toMatchObject({ leaseNamespace: 'leases', identity: 'me', leaseName: 'lock', kubeconfig: '/k/config' });
  });

  it.each([
    [['--leader-elect=false'], false],
    [['--leader-elect'], true],
    [['--leader-elect=true'], true],
    [[], true],
  ])('reads %j as leaderElect %s', (argv, expected) => {
    expect(operatorConfig(argv, podEnv).leaderElect).toBe(expected);
  });

  it('needs no lease namespace and checks no lease timings without leader election', () => {
    const config = operatorConfig(['--leader-elect=false', '--renew-deadline-seconds', '30', '--retry-period-seconds', '40'], {});
    expect(config).toMatchObject({ leaderElect: false, leaseNamespace: '', renewDeadlineMs: 30_000, retryPeriodMs: 40_000 });
  });

  it.each([
    ['--lease-duration-seconds', '30', 'leaseDurationMs', 30_000],
    ['--lease-duration-seconds', '12.5', 'leaseDurationMs', 12_500],
    ['--renew-deadline-seconds', '7.25', 'renewDeadlineMs', 7_250],
    ['--retry-period-seconds', '0.5', 'retryPeriodMs', 500],
    ['--resync-seconds', '0', 'resyncMs', 0],
    ['--resync-seconds', '1.5', 'resyncMs', 1_500],
  ] as const)('turns %s %s into %s = %i', (option, value, field, ms) => {
    expect(operatorConfig([option, value], podEnv)[field]).toBe(ms);
  });

  it('splits, trims and drops empty entries of --watch-namespaces', () => {
    expect(operatorConfig(['--watch-namespaces', ' trading, risk ,,'], podEnv).watchNamespaces).toEqual(['trading', 'risk']);
  });

  it.each(['debug', 'info', 'warn', 'error'])('accepts --log-level %s', (level) => {
    expect(operatorConfig(['--log-level', level], podEnv).logLevel).toBe(level);
  });

  it('runs at least one worker', () => {
    expect(operatorConfig(['--workers', '0'], podEnv).workers).toBe(1);
    expect(operatorConfig(['--workers', '8'], podEnv).workers).toBe(8);
  });

  it('allows both ports 0 (any free port)', () => {
    expect(operatorConfig(['--metrics-port', '0', '--health-port', '0'], podEnv)).toMatchObject({ metricsPort: 0, healthPort: 0 });
  });

  it.each([
    ['the renew deadline equal to the lease duration', ['--renew-deadline-seconds', '15'], podEnv,
      '--renew-deadline-seconds (15) must be less than --lease-duration-seconds (15)'],
    ['the renew deadline above the lease duration', ['--lease-duration-seconds', '5'], podEnv,
      '--renew-deadline-seconds (10) must be less than --lease-duration-seconds (5)'],
    ['the retry period equal to the renew deadline', ['--retry-period-seconds', '10'], podEnv,
      '--retry-period-seconds (10) must be less than --renew-deadline-seconds (10)'],
    ['the retry period above the renew deadline', ['--retry-period-seconds', '2.5', '--renew-deadline-seconds', '2'], podEnv,
      '--retry-period-seconds (2.5) must be less than --renew-deadline-seconds (2)'],
    ['no lease namespace with leader election', [], {},
      '--lease-namespace is required with --leader-elect (or set POD_NAMESPACE)'],
    ['an empty POD_NAMESPACE with leader election', [], { POD_NAMESPACE: '' },
      '--lease-namespace is required with --leader-elect (or set POD_NAMESPACE)'],
    ['equal metrics and health ports', ['--metrics-port', '9000', '--health-port', '9000'], podEnv,
      '--metrics-port and --health-port must differ, both are 9000'],
    ['the health port set to the default metrics port', ['--health-port', '8080'], podEnv,
      '--metrics-port and --health-port must differ, both are 8080'],
    ['an upper-case namespace to watch', ['--watch-namespaces', 'trading,Risk'], podEnv,
      '--watch-namespaces: "Risk" is not a namespace name'],
    ['a namespace to watch ending in a dash', ['--watch-namespaces', 'trading-'], podEnv,
      '--watch-namespaces: "trading-" is not a namespace name'],
    ['a namespace to watch with a dot', ['--watch-namespaces', 'a.b'], podEnv,
      '--watch-namespaces: "a.b" is not a namespace name'],
    ['an unknown log level', ['--log-level', 'verbose'], podEnv,
      '--log-level must be one of debug, info, warn, error, got "verbose"'],
    ['a zero lease duration', ['--lease-duration-seconds', '0'], podEnv,
      '--lease-duration-seconds must be at least 0.001 (1 ms), got 0'],
    ['a negative retry period', ['--retry-period-seconds', '-1'], podEnv,
      '--retry-period-seconds must be at least 0.001 (1 ms), got -1'],
    ['an unknown option', ['--leader-election'], podEnv,
      'unknown option --leader-election (see --help)'],
    ['a stray argument', ['run'], podEnv,
      'unexpected argument "run"'],
    ['a non-integer port', ['--metrics-port', '80.5'], podEnv,
      '--metrics-port must be an integer, got "80.5"'],
    ['an option without its value', ['--lease-name'], podEnv,
      '--lease-name needs a value'],
    ['a NetworkPolicy without the operator pod labels', ['--network-policy'], podEnv,
      '--network-policy needs --operator-pod-labels: which pods may reach engine control ports'],
    ['a NetworkPolicy without the operator namespace', ['--network-policy', '--operator-pod-labels', 'a=b', '--leader-elect=false'], {},
      '--network-policy needs --operator-namespace (or POD_NAMESPACE)'],
    ['a label that is not key=value', ['--network-policy', '--operator-pod-labels', 'app'], podEnv,
      '--operator-pod-labels: "app" is not a label key=value'],
  ])('rejects %s with a UsageError', (_what, argv, env, message) => {
    let thrown: unknown;
    try {
      operatorConfig(argv, env);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UsageError);
    expect((thrown as Error).message).toBe(message);
  });

  it('lists every option in the help text', () => {
    for (const option of ['--leader-elect', '--lease-name', '--lease-namespace', '--watch-namespaces', '--log-level', '--metrics-port', '--health-port']) {
      expect(operatorHelp).toContain(option);
    }
    expect(operatorHelp).toContain('(default nexus-operator-leader)');
  });
});

describe('operatorConfig: the settings that shape decisions', () => {
  it('renders no NetworkPolicy and allows any Prometheus address unless told', () => {
    expect(operatorConfig([], podEnv).settings).toEqual({});
  });

  it('reads the NetworkPolicy peers and the Prometheus allow-list', () => {
    const config = operatorConfig([
      '--network-policy', '--operator-pod-labels', 'app.kubernetes.io/name=trading-operator,app.kubernetes.io/instance=nexus',
      '--prometheus-namespace-labels', 'kubernetes.io/metadata.name=monitoring', '--prometheus-pod-labels', 'app.kubernetes.io/name=prometheus',
      '--prometheus-addresses', 'http://prometheus.monitoring:9090, https://thanos.monitoring:10902/',
    ], podEnv);
    expect(config.settings).toEqual({
      prometheusAddresses: ['http://prometheus.monitoring:9090', 'https://thanos.monitoring:10902/'],
      networkPolicy: {
        operatorNamespace: podEnv.POD_NAMESPACE,
        operatorPodLabels: { 'app.kubernetes.io/name': 'trading-operator', 'app.kubernetes.io/instance': 'nexus' },
        prometheus: { namespaceLabels: { 'kubernetes.io/metadata.name': 'monitoring' }, podLabels: { 'app.kubernetes.io/name': 'prometheus' } },
      },
    });
  });

  it('takes an empty allow-list as no Prometheus address allowed', () => {
    expect(operatorConfig(['--prometheus-addresses', ''], podEnv).settings).toEqual({ prometheusAddresses: [] });
  });
});

describe('checkOperatorConfig', () => {
  const valid: OperatorConfig = {
    leaderElect: true,
    leaseName: 'nexus-operator-leader',
    leaseNamespace: 'nexus-system',
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
    identity: 'a',
    metricsPort: 8080,
    healthPort: 8081,
    bindHost: '0.0.0.0',
    watchNamespaces: ['trading', 'a', 'x-1'],
    settings: {},
    workers: 4,
    resyncMs: 600_000,
    logLevel: 'info',
  };

  it('returns a valid config unchanged', () => {
    expect(checkOperatorConfig(valid)).toBe(valid);
  });

  it.each<[string, Partial<OperatorConfig>, string]>([
    ['renew deadline >= lease duration', { renewDeadlineMs: 15_000 }, '--renew-deadline-seconds (15) must be less than --lease-duration-seconds (15)'],
    ['retry period >= renew deadline', { retryPeriodMs: 10_500 }, '--retry-period-seconds (10.5) must be less than --renew-deadline-seconds (10)'],
    ['no lease namespace', { leaseNamespace: '' }, '--lease-namespace is required with --leader-elect (or set POD_NAMESPACE)'],
    ['equal ports', { metricsPort: 9090, healthPort: 9090 }, '--metrics-port and --health-port must differ, both are 9090'],
    ['an empty namespace to watch', { watchNamespaces: [''] }, '--watch-namespaces: "" is not a namespace name'],
    ['a namespace starting with a dash', { watchNamespaces: ['-x'] }, '--watch-namespaces: "-x" is not a namespace name'],
  ])('throws an OperatorConfigError for %s', (_what, change, message) => {
    expect(() => checkOperatorConfig({ ...valid, ...change })).toThrow(new OperatorConfigError(message));
    expect(() => checkOperatorConfig({ ...valid, ...change })).toThrow(OperatorConfigError);
  });

  it('checks the lease rules only with leader election', () => {
    const config = { ...valid, leaderElect: false, leaseNamespace: '', renewDeadlineMs: 20_000, retryPeriodMs: 30_000 };
    expect(checkOperatorConfig(config)).toBe(config);
  });
});

describe('defaultIdentity', () => {
  it.each([
    ['pod-1', 'pod-1'],
    ['', `${hostname()}-${process.pid}`],
    [undefined, `${hostname()}-${process.pid}`],
  ])('is %j -> %s', (podName, expected) => {
    expect(defaultIdentity(podName)).toBe(expected);
  });
});

describe('operatorConfig: the event webhook', () => {
  it('reads the URL and bearer token from the environment, and none when unset or empty', () => {
    expect(operatorConfig([], podEnv).eventWebhook).toBeUndefined();
    expect(operatorConfig([], { ...podEnv, NEXUS_EVENT_WEBHOOK_URL: ' ' }).eventWebhook).toBeUndefined();
    expect(operatorConfig([], { ...podEnv, NEXUS_EVENT_WEBHOOK_URL: 'https://hooks.example/nexus' }).eventWebhook).toEqual({ url: 'https://hooks.example/nexus' });
    expect(operatorConfig([], { ...podEnv, NEXUS_EVENT_WEBHOOK_URL: 'http://alerts:8080/in', NEXUS_EVENT_WEBHOOK_TOKEN: 't0ken' }).eventWebhook).toEqual({ url: 'http://alerts:8080/in', token: 't0ken' });
  });

  it('refuses a URL that is not http(s), without echoing it (it may hold a secret)', () => {
    expect(() => operatorConfig([], { ...podEnv, NEXUS_EVENT_WEBHOOK_URL: 'ftp://user:pass@host/x' })).toThrow(/^NEXUS_EVENT_WEBHOOK_URL must be an http:\/\/ or https:\/\/ URL \(its value is not shown: it may hold a secret\)$/);
  });
});

describe('operatorConfig: the confirm-promotion webhook', () => {
  it('makes every promotion wait exactly when a URL is set, with its token and timeout', () => {
    const none = operatorConfig([], podEnv);
    expect(none.confirmPromotion).toBeUndefined();
    expect(none.settings.confirmPromotion).toBeUndefined();
    const configured = operatorConfig(['--confirm-promotion-timeout-seconds=2.5'], { ...podEnv, NEXUS_CONFIRM_PROMOTION_URL: 'https://change.example/approve', NEXUS_CONFIRM_PROMOTION_TOKEN: 't0ken' });
    expect(configured.confirmPromotion).toEqual({ url: 'https://change.example/approve', token: 't0ken', timeoutMs: 2_500 });
    expect(configured.settings.confirmPromotion).toBe(true);
    expect(operatorConfig([], { ...podEnv, NEXUS_CONFIRM_PROMOTION_URL: 'http://approver:8080/' }).confirmPromotion).toEqual({ url: 'http://approver:8080/', timeoutMs: 10_000 });
  });

  it('refuses a URL that is not http(s) without echoing it, and a timeout of 0', () => {
    expect(() => operatorConfig([], { ...podEnv, NEXUS_CONFIRM_PROMOTION_URL: 'file:///etc/passwd' })).toThrow(/^NEXUS_CONFIRM_PROMOTION_URL must be an http:\/\/ or https:\/\/ URL \(its value is not shown: it may hold a secret\)$/);
    expect(() => operatorConfig(['--confirm-promotion-timeout-seconds=0'], podEnv)).toThrow(/--confirm-promotion-timeout-seconds must be at least 0.001/);
    expect(() => operatorConfig(['--confirm-promotion-timeout-seconds=31'], { ...podEnv, NEXUS_CONFIRM_PROMOTION_URL: 'http://a/' })).toThrow(/--confirm-promotion-timeout-seconds must be at most 30/);
  });
});
