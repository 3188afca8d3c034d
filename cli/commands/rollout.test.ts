import { describe, expect, it } from 'vitest';
import type { TradingEngine, TradingEngineStatus } from '../../operator/api/types.ts';
import { ApiError } from '../../operator/kube/api-request.ts';
import { UsageError } from '../lib/args.ts';
import { parseRolloutArgs, rolloutAction, rolloutHelp, watchRollout, type RolloutInvocation } from './rollout.ts';

function invocation(argv: string[]): RolloutInvocation {
  const parsed = parseRolloutArgs(argv);
  if (parsed.kind !== 'run') throw new Error(`expected a run, got help:\n${parsed.text}`);
  return parsed.invocation;
}

function usageError(argv: string[]): string {
  try {
    parseRolloutArgs(argv);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error(`no UsageError for ${JSON.stringify(argv)}`);
}

describe('parseRolloutArgs', () => {
  it('reads the subcommand and the name with the defaults', () => {
    expect(invocation(['status', 'alpha'])).toEqual({
      subcommand: 'status', name: 'alpha', namespace: undefined, kubeconfig: undefined, context: undefined, allNamespaces: false, toRevision: undefined, full: false, json: false, timeoutSeconds: 0,
    });
  });

  it.each([
    [['promote', 'alpha', '-n', 'trading'], { namespace: 'trading' }],
    [['promote', '-n', 'trading', 'alpha'], { namespace: 'trading', name: 'alpha' }],
    [['promote', '-n=trading', 'alpha'], { namespace: 'trading' }],
    [['promote', '--namespace=trading', 'alpha', '--full'], { namespace: 'trading', full: true }],
    [['status', '--json', 'alpha', '--kubeconfig', '/k/config'], { json: true, kubeconfig: '/k/config' }],
    [['watch', 'alpha', '--timeout', '90'], { timeoutSeconds: 90 }],
    [['watch', '--timeout=0.5', 'alpha'], { timeoutSeconds: 0.5 }],
    [['abort', 'alpha'], { subcommand: 'abort' }],
    [['retry', 'alpha'], { subcommand: 'retry' }],
    [['pause', 'alpha', '--context', 'prod'], { subcommand: 'pause', context: 'prod' }],
    [['resume', '--context=prod', 'alpha'], { subcommand: 'resume', context: 'prod' }],
    [['list'], { subcommand: 'list', name: '', allNamespaces: false }],
    [['list', '-A'], { subcommand: 'list', allNamespaces: true }],
    [['undo', 'alpha', '--to-revision', 'abc123'], { subcommand: 'undo', toRevision: 'abc123' }],
    [['list', '--all-namespaces', '-n', 'x'], { subcommand: 'list', allNamespaces: true, namespace: 'x' }],
  ])('reads %j', (argv, expected) => {
    expect(invocation(argv)).toMatchObject(expected);
  });

  it.each([
    ['an unknown subcommand', ['rollback', 'alpha'], 'unknown rollout command "rollback" (status, watch, history, list, promote, abort, retry, pause, resume, undo)'],
    ['no name', ['promote'], 'promote needs the TradingEngine name'],
    ['a name for list', ['list', 'alpha'], 'list takes no name, got "alpha"'],
    ['no name after options', ['status', '-n', 'trading'], 'status needs the TradingEngine name'],
    ['two names', ['abort', 'alpha', 'beta'], 'unexpected argument "beta" (one TradingEngine name)'],
    ['--full on abort', ['abort', 'alpha', '--full'], 'unknown option --full (see --help)'],
    ['--json on promote', ['promote', 'alpha', '--json'], 'unknown option --json (see --help)'],
    ['--timeout on status', ['status', 'alpha', '--timeout', '5'], 'unknown option --timeout (see --help)'],
    ['-n without its value', ['status', 'alpha', '-n'], '--namespace needs a value'],
    ['a non-numeric timeout', ['watch', 'alpha', '--timeout', 'soon'], '--timeout must be a number, got "soon"'],
    ['a negative timeout', ['watch', 'alpha', '--timeout=-1'], '--timeout must be 0 or more seconds, got -1'],
    ['an upper-case name', ['status', 'Alpha'], '"Alpha" is not a TradingEngine name'],
    ['a namespace/name', ['status', 'trading/alpha'], '"trading/alpha" is not a TradingEngine name'],
    ['a bad namespace', ['status', 'alpha', '-n', 'Trading'], '--namespace: "Trading" is not a namespace name'],
    ['an unknown short option', ['status', 'alpha', '-x'], 'unknown option -x (see --help)'],
  ])('rejects %s', (_what, argv, message) => {
    expect(usageError(argv)).toBe(message);
  });

  it('answers help: the overview (exit 2 without arguments, 0 when asked) and each subcommand\'s options', () => {
    expect(parseRolloutArgs([])).toEqual({ kind: 'help', text: rolloutHelp(), code: 2 });
    expect(parseRolloutArgs(['--help'])).toEqual({ kind: 'help', text: rolloutHelp(), code: 0 });
    expect(parseRolloutArgs(['promote', '-h'])).toEqual({ kind: 'help', text: rolloutHelp('promote'), code: 0 });
    expect(rolloutHelp('promote')).toContain('--full');
    expect(rolloutHelp('status')).toContain('--json');
    expect(rolloutHelp('watch')).toContain('--timeout');
    for (const name of ['status', 'watch', 'promote', 'abort', 'retry']) expect(rolloutHelp()).toContain(`  ${name} `);
  });

  it('maps promote, promote --full, abort and retry to their requests, and nothing for status and watch', () => {
    expect(rolloutAction(invocation(['promote', 'a']))).toEqual({ action: 'promote', label: 'promote' });
    expect(rolloutAction(invocation(['promote', 'a', '--full']))).toEqual({ action: 'promote-full', label: 'promote --full' });
    expect(rolloutAction(invocation(['abort', 'a']))).toEqual({ action: 'abort', label: 'abort' });
    expect(rolloutAction(invocation(['retry', 'a']))).toEqual({ action: 'retry', label: 'retry' });
    expect(rolloutAction(invocation(['status', 'a']))).toBeUndefined();
    expect(rolloutAction(invocation(['watch', 'a']))).toBeUndefined();
  });
});

describe('watchRollout', () => {
  const spec = { replicas: 1, paused: false } as TradingEngine['spec'];
  const object = (resourceVersion: string, status: TradingEngineStatus): TradingEngine =>
    ({ apiVersion: 'trading.nexus.dev/v1alpha1', kind: 'TradingEngine', metadata: { name: 'alpha', namespace: 'trading', resourceVersion }, spec, status });

  /** A manual clock: sleep advances it, reads return the scripted answers in turn (the last one repeats). */
  function harness(answers: Array<TradingEngine | ApiError>, tty: boolean, timeoutMs = 0) {
    let clock = 1_000_000;
    let reads = 0;
    const printed: string[] = [];
    const warned: string[] = [];
    const run = watchRollout({
      read: async () => {
        const answer = answers[Math.min(reads++, answers.length - 1)];
        if (answer instanceof ApiError) throw answer;
        return answer;
      },
      print: (text) => printed.push(text),
      warn: (text) => warned.push(text),
      tty,
      now: () => clock,
      sleep: async (ms) => { clock += ms; },
      timeoutMs,
    });
    return { run, printed, warned, reads: () => reads };
  }

  const progressing = (rv: string, weight: number) => object(rv, { phase: 'Progressing', stableRevision: 'a', updateRevision: 'b', canary: { weight } });

  it('prints a view per object change with separators off a terminal, and exits 0 once healthy', async () => {
    const h = harness([progressing('1', 25), progressing('1', 25), progressing('2', 50), object('3', { phase: 'Healthy', stableRevision: 'b', updateRevision: 'b' })], false);
    expect(await h.run).toBe(0);
    expect(h.reads()).toBe(4);
    expect(h.printed).toHaveLength(4);
    expect(h.printed[0]).toMatch(/^Name: {8}trading\/alpha/);
    expect(h.printed[1]).toMatch(/^--- \d{4}-\d\d-\d\dT[\d:.]+Z\nName:/);
    expect(h.printed[1]).toContain('weight 50%');
    expect(h.printed.join('\n')).not.toContain('\x1b[');
    expect(h.printed[3]).toBe('Rollout of trading/alpha finished: revision b is stable and Healthy.');
  });

  it('clears the screen before each changed view on a terminal and exits 1 once aborted', async () => {
    const h = harness([progressing('1', 25), object('2', { phase: 'Aborted', abort: true, abortReason: 'Manual', stableRevision: 'a', updateRevision: 'b' })], true);
    expect(await h.run).toBe(1);
    expect(h.printed[0].startsWith('\x1b[H\x1b[2J')).toBe(true);
    expect(h.printed[1].startsWith('\x1b[H\x1b[2J')).toBe(true);
    expect(h.printed[2]).toBe('Rollout of trading/alpha aborted (Manual).');
  });

  it('gives up with exit 1 once the timeout passes, polling once a second', async () => {
    const h = harness([progressing('1', 25)], false, 3_500);
    expect(await h.run).toBe(1);
    expect(h.reads()).toBe(5);
    expect(h.printed).toHaveLength(2);
    expect(h.printed[1]).toBe('Timed out after 3.5s; the rollout is not finished.');
  });

  it('keeps polling through transient API errors, warning once per outage', async () => {
    const down = new ApiError(0, 'NetworkError', 'GET /apis/...: connect ECONNREFUSED');
    const h = harness([down, down, new ApiError(503, 'ServiceUnavailable', 'etcd'), object('3', { phase: 'Healthy', stableRevision: 'b', updateRevision: 'b' })], false);
    expect(await h.run).toBe(0);
    expect(h.warned).toEqual(['Read failed (NetworkError): GET /apis/...: connect ECONNREFUSED; retrying every 1s', 'Read succeeded again.']);
  });

  it('ends with the error of a kubeconfig without a cluster instead of retrying it', async () => {
    const h = harness([new ApiError(0, 'NoCluster', 'the kubeconfig has no current cluster')], false);
    await expect(h.run).rejects.toMatchObject({ reason: 'NoCluster' });
    expect(h.reads()).toBe(1);
  });

  it('ends with the error when the TradingEngine is not found', async () => {
    const h = harness([new ApiError(404, 'NotFound', 'tradingengines "alpha" not found')], false);
    await expect(h.run).rejects.toMatchObject({ code: 404 });
  });
});
