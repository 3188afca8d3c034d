import type { KubeConfig } from '@kubernetes/client-node';
import { objectKey, type TradingEngine } from '../../operator/api/types.ts';
import { ApiError } from '../../operator/kube/api-request.ts';
import { loadKubeConfig } from '../../operator/kube/kube-config.ts';
import { contextNamespace, listTradingEngines, readResolvedTradingEngine, readTradingEngine, requestRollout, setPaused, undoRollout, type RolloutAction } from '../../operator/kube/rollout-requests.ts';
import { flag, helpText, num, parseArgs, str, UsageError, type OptionSpec } from '../lib/args.ts';
import { formatEngineList, formatRollout, requestedLine, rolloutOutcome } from '../lib/rollout-view.ts';
import { startInformer } from '../../operator/kube/informer.ts';
import { tradingEngines } from '../../operator/kube/resources.ts';
import { formatAnalysisHistory } from '../lib/analysis-history.ts';
import { readAnalysisRecords } from '../../operator/kube/engine-reads.ts';

/**
 * `nexus rollout status|watch|history|promote|abort|retry|pause|resume|undo <name>` and `nexus rollout list [-A]` (also
 * `kubectl nexus rollout ...` through
 * bin/kubectl-nexus). Exit codes: 0 done (for watch: the rollout became healthy), 1 refused, failed, aborted or
 * timed out, 2 usage error.
 */
export const rolloutSubcommands = ['status', 'watch', 'history', 'list', 'promote', 'abort', 'retry', 'pause', 'resume', 'undo'] as const;
export type RolloutSubcommand = (typeof rolloutSubcommands)[number];

const common = {
  namespace: { type: 'string', help: "the TradingEngine's namespace, also -n (default: the kubeconfig context's, else default)" },
  kubeconfig: { type: 'string', help: 'kubeconfig path (default $KUBECONFIG, else ~/.kube/config)' },
  context: { type: 'string', help: 'the kubeconfig context to use (default: its current context), as kubectl --context' },
  help: { type: 'boolean', help: 'show this help' },
} satisfies Record<string, OptionSpec>;

const options: Record<RolloutSubcommand, Record<string, OptionSpec>> = {
  status: { json: { type: 'boolean', help: 'print the raw status JSON instead of the view' }, ...common },
  watch: { timeout: { type: 'number', help: 'give up (exit 1) after this many seconds; 0 = wait until done', default: 0 }, ...common },
  history: { json: { type: 'boolean', help: 'print the records as JSON (every measurement) instead of one line each' }, ...common },
  list: { 'all-namespaces': { type: 'boolean', help: 'every namespace the caller may list, also -A' }, ...common },
  promote: { full: { type: 'boolean', help: 'skip every remaining step and analysis (status.promoteFull)' }, ...common },
  abort: { ...common },
  retry: { ...common },
  pause: { ...common },
  resume: { ...common },
  undo: { 'to-revision': { type: 'string', help: 'the revision to go back to (default: the newest earlier stable revision)' }, ...common },
};

/** The flags a subcommand takes, long and short (-n, -A, -h), as shell completion offers them. */
export function rolloutFlags(subcommand: RolloutSubcommand): string[] {
  const long = Object.keys(options[subcommand]).map((name) => `--${name}`);
  const short = [['-n', '--namespace'], ['-A', '--all-namespaces'], ['-h', '--help']].filter(([, of]) => long.includes(of ?? '')).map(([alias]) => alias ?? '');
  return [...long, ...short];
}

const summaries: Record<RolloutSubcommand, string> = {
  status: 'Prints the rollout of one TradingEngine: phase, revisions, the current step, canary weight and orders,\n' +
    'the latency gate against its limits, the last measurements, abort and pause state, conditions.',
  watch: 'Reprints the status view on every change (a watch on the API server, not polling) until the rollout is\n' +
    'finished: exit 0 once the update revision is stable and Healthy, 1 when it is aborted or --timeout passes.',
  history: 'Prints every analysis of the latency gate the operator recorded for this TradingEngine (one record per\n' +
    'analysis: every measurement, the gate, the verdict), oldest first; --json prints the records whole.',
  promote: 'Advances the rollout past its current step once (status.promotedStep = currentStepIndex); with\n' +
    '--full skips every remaining step and analysis. Refused (exit 1) with no rollout in progress or once aborted.',
  abort: 'Aborts the rollout in progress (status.abort = true): the operator cuts the canary pods\' orders, sets\n' +
    'the weight to 0 and scales the canary down. Refused (exit 1) with no rollout in progress or once aborted.',
  retry: 'Restarts an aborted rollout at step 0 (status.abort = false). Refused (exit 1) unless aborted.',
  list: 'Lists the TradingEngines of the namespace (-A: of every namespace the caller may list): phase, ready pods,\n' +
    'rollout step, canary weight, the gate\'s last quantile against its threshold, paused.',
  pause: 'Pauses the TradingEngine (spec.paused = true): no rollout step advances and no new revision rolls out;\n' +
    'running pods are untouched. A merge patch of the object (it is desired state), as kubectl patch would make.',
  resume: 'Resumes a paused TradingEngine (spec.paused = false): its rollout continues where it stopped.',
  undo: 'Puts an earlier revision\'s spec.template and spec.engine back (from its ReplicaSet): by default the newest\n' +
    'earlier stable revision, else --to-revision. The operator rolls it out, at once when it is within\n' +
    'spec.rollbackWindow. Refused (exit 1) when that revision\'s ReplicaSet is gone (spec.revisionHistoryLimit).',
};

const briefs: Record<RolloutSubcommand, string> = {
  status: 'print the rollout: step, canary weight and orders, latency gate, history, conditions (--json: raw status)',
  watch: 'reprint the status on every change until healthy (exit 0), aborted or --timeout (exit 1)',
  history: 'print every recorded analysis of the gate: measurements by result, p99 range, verdict (--json: the records)',
  promote: 'advance past the current step once; --full skips every remaining step and analysis',
  abort: 'abort the rollout in progress: canary orders cut, weight 0, canary scaled down',
  retry: 'restart an aborted rollout at step 0',
  list: 'list the TradingEngines: phase, ready, step, weight, gate, paused (-A: every namespace)',
  pause: 'pause the TradingEngine: no step advances, no new revision rolls out (spec.paused)',
  resume: 'resume a paused TradingEngine',
  undo: 'go back to the previous stable revision (or --to-revision): its spec is put back and rolled out',
};

export function rolloutHelp(subcommand?: RolloutSubcommand): string {
  if (subcommand !== undefined) return helpText(`nexus rollout ${subcommand}${subcommand === 'list' ? '' : ' <name>'} [options]`, summaries[subcommand], options[subcommand]);
  return [
    `Usage: nexus rollout <${rolloutSubcommands.join('|')}> <name> [options]`,
    '       kubectl nexus rollout ...   (bin/kubectl-nexus on PATH)',
    '',
    ...rolloutSubcommands.map((name) => `  ${name.padEnd(8)} ${briefs[name]}`),
    '',
    'Requests are merge patches of the TradingEngine status at the resourceVersion just read (re-read and',
    'retried on conflict), acted on by the operator; pause and resume patch spec.paused. --context picks the',
    'kubeconfig context. nexus rollout <command> --help for the options.',
  ].join('\n');
}

export interface RolloutInvocation {
  readonly subcommand: RolloutSubcommand;
  readonly name: string;
  /** Undefined: the kubeconfig context's namespace. */
  readonly namespace: string | undefined;
  readonly kubeconfig: string | undefined;
  /** Undefined: the kubeconfig's current context. */
  readonly context: string | undefined;
  /** list -A. */
  readonly allNamespaces: boolean;
  /** undo --to-revision. */
  readonly toRevision: string | undefined;
  readonly full: boolean;
  readonly json: boolean;
  /** 0 = no limit. */
  readonly timeoutSeconds: number;
}

export type ParsedRolloutArgs = { readonly kind: 'run'; readonly invocation: RolloutInvocation } | { readonly kind: 'help'; readonly text: string; readonly code: number };

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Parses `<subcommand> <name> [options]`; options may come before or after the name, `-n` is `--namespace` and
 * `-h` is `--help`. Throws UsageError naming the problem. Pure.
 */
export function parseRolloutArgs(argv: readonly string[]): ParsedRolloutArgs {
  const [first, ...rest] = argv;
  if (first === undefined) return { kind: 'help', text: rolloutHelp(), code: 2 };
  if (first === '--help' || first === '-h' || first === 'help') return { kind: 'help', text: rolloutHelp(), code: 0 };
  if (!(rolloutSubcommands as readonly string[]).includes(first)) {
    throw new UsageError(`unknown rollout command ${JSON.stringify(first)} (${rolloutSubcommands.join(', ')})`);
  }
  const subcommand = first as RolloutSubcommand;
  const specs = options[subcommand];
  const flags: string[] = [];
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    let token = rest[i];
    if (token === '-h') token = '--help';
    else if (token === '-n') token = '--namespace';
    else if (token === '-A') token = '--all-namespaces';
    else if (token.startsWith('-n=')) token = `--namespace=${token.slice(3)}`;
    if (!token.startsWith('-')) {
      positional.push(token);
      continue;
    }
    flags.push(token);
    const spec = specs[token.slice(2)];
    if (!token.includes('=') && spec !== undefined && spec.type !== 'boolean' && i + 1 < rest.length) flags.push(rest[++i]);
  }
  const values = parseArgs(flags, specs);
  if (flag(values, 'help')) return { kind: 'help', text: rolloutHelp(subcommand), code: 0 };
  if (subcommand === 'list' && positional.length > 0) throw new UsageError(`list takes no name, got ${JSON.stringify(positional[0])}`);
  if (subcommand !== 'list' && positional.length === 0) throw new UsageError(`${subcommand} needs the TradingEngine name`);
  if (positional.length > 1) throw new UsageError(`unexpected argument ${JSON.stringify(positional[1])} (one TradingEngine name)`);
  const name = positional[0] ?? '';
  if (subcommand !== 'list' && (name.length > 63 || !dns1123Label.test(name))) throw new UsageError(`${JSON.stringify(name)} is not a TradingEngine name`);
  const namespace = str(values, 'namespace');
  if (namespace !== undefined && (namespace.length > 63 || !dns1123Label.test(namespace))) {
    throw new UsageError(`--namespace: ${JSON.stringify(namespace)} is not a namespace name`);
  }
  const timeoutSeconds = subcommand === 'watch' ? num(values, 'timeout') : 0;
  if (timeoutSeconds < 0) throw new UsageError(`--timeout must be 0 or more seconds, got ${timeoutSeconds}`);
  return {
    kind: 'run',
    invocation: {
      subcommand,
      name,
      namespace,
      kubeconfig: str(values, 'kubeconfig'),
      context: str(values, 'context'),
      allNamespaces: flag(values, 'all-namespaces'),
      toRevision: str(values, 'to-revision'),
      full: flag(values, 'full'),
      json: flag(values, 'json'),
      timeoutSeconds,
    },
  };
}

/** The request a promote/abort/retry invocation makes, and how its line names it. */
export function rolloutAction(invocation: RolloutInvocation): { action: RolloutAction; label: string } | undefined {
  switch (invocation.subcommand) {
    case 'promote':
      return invocation.full ? { action: 'promote-full', label: 'promote --full' } : { action: 'promote', label: 'promote' };
    case 'abort':
      return { action: 'abort', label: 'abort' };
    case 'retry':
      return { action: 'retry', label: 'retry' };
    default:
      return undefined;
  }
}

export async function rolloutCommand(argv: readonly string[]): Promise<number> {
  const parsed = parseRolloutArgs(argv);
  if (parsed.kind === 'help') {
    console.log(parsed.text);
    return parsed.code;
  }
  const invocation = parsed.invocation;
  const fail = (message: string): number => {
    console.error(`nexus rollout ${invocation.subcommand}: ${message}`);
    return 1;
  };
  let kubeConfig: KubeConfig;
  try {
    kubeConfig = loadKubeConfig(invocation.kubeconfig, invocation.context);
  } catch (error) {
    return fail(`cannot load the kubeconfig${invocation.kubeconfig === undefined ? '' : ` ${invocation.kubeconfig}`}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const namespace = invocation.namespace ?? contextNamespace(kubeConfig);
  const { name } = invocation;
  try {
    const request = rolloutAction(invocation);
    if (request !== undefined) {
      const result = await requestRollout(kubeConfig, namespace, name, request.action);
      if (result.outcome === 'refused') return fail(result.reason);
      console.log(requestedLine(request.label, result.before));
      return 0;
    }
    if (invocation.subcommand === 'list') {
      const engines = await listTradingEngines(kubeConfig, invocation.allNamespaces ? undefined : namespace);
      console.log(formatEngineList(engines, invocation.allNamespaces).join('\n'));
      return 0;
    }
    if (invocation.subcommand === 'pause' || invocation.subcommand === 'resume') {
      const paused = invocation.subcommand === 'pause';
      const { changed } = await setPaused(kubeConfig, namespace, name, paused);
      console.log(changed
        ? `${paused ? 'Paused' : 'Resumed'} TradingEngine ${namespace}/${name}${paused ? ': no step advances and no new revision rolls out until nexus rollout resume' : ''}`
        : `TradingEngine ${namespace}/${name} is already ${paused ? 'paused' : 'not paused'}: nothing changed`);
      return 0;
    }
    if (invocation.subcommand === 'undo') {
      const undone = await undoRollout(kubeConfig, namespace, name, invocation.toRevision);
      if (undone.outcome === 'refused') return fail(undone.reason);
      console.log(`TradingEngine ${namespace}/${name} set back to revision ${undone.to} (was ${undone.from || '-'}): the operator rolls it out`);
      return 0;
    }
    if (invocation.subcommand === 'history') {
      await readTradingEngine(kubeConfig, namespace, name);
      const records = await readAnalysisRecords(kubeConfig, namespace, name);
      console.log(invocation.json ? JSON.stringify(records, null, 2) : formatAnalysisHistory(records).join('\n'));
      return 0;
    }
    if (invocation.subcommand === 'status') {
      const engine = await readResolvedTradingEngine(kubeConfig, namespace, name);
      console.log(invocation.json ? JSON.stringify(engine.status ?? {}, null, 2) : formatRollout(engine, Date.now()).join('\n'));
      return 0;
    }
    // A real watch (list, then watch with bookmarks, re-listed on expiry: the operator's own informer) on the
    // namespace's TradingEngines: the view is read again on each change of this one, and once a second on a
    // terminal (a pause counts down). The object is read through the API (readResolved) only when it changed.
    let wake: (() => void) | undefined;
    const informer = startInformer<TradingEngine>({
      kubeConfig, resource: tradingEngines, namespace,
      onEvent: (_type, object) => {
        if (object.metadata.name === name) wake?.();
      },
      onRestart: (reason) => process.stderr.write(`Watch restarted (${reason}); re-listing\n`),
    });
    try {
      await informer.synced;
      return await watchRollout({
        read: async () => {
          if (informer.get(`${namespace}/${name}`) === undefined) throw new ApiError(404, 'NotFound', `tradingengines "${name}" not found`);
          return readResolvedTradingEngine(kubeConfig, namespace, name);
        },
        print: (text) => process.stdout.write(`${text}\n`),
        warn: (text) => process.stderr.write(`${text}\n`),
        tty: process.stdout.isTTY === true,
        now: Date.now,
        // Until the next change of this engine, or the interval: 1 s on a terminal (the countdowns tick), else a
        // 30 s safety read (a log gets one view per change of the object).
        pollMs: process.stdout.isTTY === true ? 1_000 : 30_000,
        sleep: (ms) => new Promise((resolve) => {
          const timer = setTimeout(resolve, ms);
          wake = () => {
            clearTimeout(timer);
            wake = undefined;
            resolve(undefined);
          };
        }),
        timeoutMs: invocation.timeoutSeconds * 1000,
      });
    } finally {
      informer.stop();
    }
  } catch (error) {
    if (error instanceof ApiError && error.code === 404) return fail(`TradingEngine ${namespace}/${name} not found (${error.message})`);
    if (error instanceof ApiError) return fail(`${error.code === 0 ? '' : `${error.code} ${error.reason}: `}${error.message}`);
    throw error;
  }
}

export interface WatchRolloutDeps {
  /** Reads the TradingEngine (a GET); ApiError 404 ends the watch, other API errors are retried. */
  read(): Promise<TradingEngine>;
  print(text: string): void;
  warn(text: string): void;
  /** Clear the screen before each view (a terminal); otherwise print a separator line between views. */
  readonly tty: boolean;
  now(): number;
  sleep(ms: number): Promise<void>;
  /** Give up after this long; 0 = never. */
  readonly timeoutMs: number;
  /** Between reads; default 1000. */
  readonly pollMs?: number;
}

const clearScreen = '\x1b[H\x1b[2J';

/**
 * Polls the TradingEngine every `pollMs` and prints the view when it changed (on a terminal: when the rendered
 * text changed, so a pause counts down; otherwise when the resourceVersion changed, so a log gets one view per
 * object change). Returns 0 once the rollout is healthy, 1 once it is aborted or the timeout passed.
 * `nexus rollout watch` drives it from a real watch: its `sleep` ends at the engine's next change.
 */
export async function watchRollout(deps: WatchRolloutDeps): Promise<number> {
  const pollMs = deps.pollMs ?? 1000;
  const deadline = deps.timeoutMs > 0 ? deps.now() + deps.timeoutMs : Number.POSITIVE_INFINITY;
  let shownText: string | undefined;
  let shownVersion: string | undefined;
  let failing = false;
  for (;;) {
    let engine: TradingEngine | undefined;
    try {
      engine = await deps.read();
      if (failing) deps.warn('Read succeeded again.');
      failing = false;
    } catch (error) {
      if (!(error instanceof ApiError) || !transient(error)) throw error;
      if (!failing) deps.warn(`Read failed (${error.code === 0 ? error.reason : error.code}): ${error.message}; retrying every ${pollMs / 1000}s`);
      failing = true;
    }
    if (engine !== undefined) {
      const now = deps.now();
      const text = formatRollout(engine, now).join('\n');
      const version = engine.metadata.resourceVersion;
      const changed = deps.tty ? text !== shownText : shownVersion === undefined || version !== shownVersion;
      if (changed) {
        if (deps.tty) deps.print(`${clearScreen}${text}`);
        else deps.print(`${shownVersion === undefined ? '' : `--- ${new Date(now).toISOString()}\n`}${text}`);
        shownText = text;
        shownVersion = version ?? '';
      }
      const outcome = rolloutOutcome(engine);
      if (outcome === 'healthy') {
        deps.print(`Rollout of ${objectKey(engine.metadata)} finished: revision ${engine.status?.stableRevision ?? '-'} is stable and Healthy.`);
        return 0;
      }
      if (outcome === 'aborted') {
        deps.print(`Rollout of ${objectKey(engine.metadata)} aborted (${engine.status?.abortReason ?? 'reason -'}).`);
        return 1;
      }
    }
    const left = deadline - deps.now();
    if (left <= 0) {
      deps.print(`Timed out after ${deps.timeoutMs / 1000}s; the rollout is not finished.`);
      return 1;
    }
    await deps.sleep(Math.min(pollMs, left));
  }
}

/** Worth another read: a network failure or timeout, throttling, or a server-side error (not a kubeconfig without a cluster). */
function transient(error: ApiError): boolean {
  return error.code === 0 ? error.reason === 'NetworkError' : error.code === 429 || error.code >= 500;
}
