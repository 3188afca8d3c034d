import { loadKubeConfig } from '../../operator/kube/kube-config.ts';
import { contextNamespace, listTradingEngines } from '../../operator/kube/rollout-requests.ts';
import { UsageError } from '../lib/args.ts';
import { rolloutFlags, rolloutSubcommands, type RolloutSubcommand } from './rollout.ts';

/**
 * Shell completion: `nexus completion bash|zsh` prints a script that asks `nexus __complete <words>` for the
 * candidates of the word being typed; `kubectl nexus` completes through bin/kubectl_complete-nexus (kubectl 1.26+
 * runs `kubectl_complete-<plugin>` for a plugin's arguments), which asks the same.
 *
 *   nexus __complete rollout st        -> status            (then ":4", Cobra's "no file completion" directive)
 *   nexus __complete rollout status -n trading a   -> the TradingEngines of namespace trading starting with "a"
 *
 * What completes: the commands; rollout's subcommands, flags and TradingEngine names (listed from the API server
 * with the line's --kubeconfig, --context and -n, within 3 s; an unreachable cluster completes nothing rather than
 * hang the shell). The other commands' flags come from their --help.
 */

/** The directive line that ends a Cobra-style answer: 4 = no file completion. */
const noFileCompletion = ':4';

/** Lists TradingEngine names for the kubeconfig, context and namespace given on the line. */
export type EngineLister = (where: { readonly kubeconfig?: string; readonly context?: string; readonly namespace?: string }) => Promise<string[]>;

/**
 * The candidates for the last of `words` (the words after `nexus`, the one being typed last, possibly ''), already
 * filtered by its prefix.
 */
export async function completionCandidates(words: readonly string[], commands: readonly string[], listEngines: EngineLister): Promise<string[]> {
  const current = words.at(-1) ?? '';
  const before = words.slice(0, -1);
  const matching = (candidates: readonly string[]): string[] => candidates.filter((candidate) => candidate.startsWith(current));
  if (before.length === 0) return matching(commands);
  if (before[0] === 'completion') return before.length === 1 ? matching(['bash', 'zsh']) : [];
  if (before[0] !== 'rollout') return matching(['--help']);
  if (before.length === 1) return matching(rolloutSubcommands);
  const subcommand = before[1] as RolloutSubcommand;
  if (!(rolloutSubcommands as readonly string[]).includes(subcommand)) return [];
  const flags = rolloutFlags(subcommand);
  const previous = before.at(-1) ?? '';
  const valueFlags = new Set(['-n', '--namespace', '--kubeconfig', '--context', '--to-revision', '--timeout']);
  // A flag's value (bash hands `--namespace=x` over as `--namespace`, `=`, `x`): namespaces and contexts are not
  // listed (kubectl completes those); nothing is offered.
  if (valueFlags.has(previous) || (previous === '=' && valueFlags.has(before.at(-2) ?? ''))) return [];
  if (current.startsWith('-')) return matching(flags);
  const rest = before.slice(2);
  const isValue = (i: number): boolean => rest[i] === '=' || valueFlags.has(rest[i - 1] ?? '') || (rest[i - 1] === '=' && valueFlags.has(rest[i - 2] ?? ''));
  const named = rest.some((word, i) => !word.startsWith('-') && !isValue(i));
  if (subcommand === 'list' || named) return [];
  const value = (flag: string): string | undefined => {
    for (let i = rest.length - 1; i >= 0; i--) {
      const word = rest[i] ?? '';
      if (word.startsWith(`${flag}=`)) return word.slice(flag.length + 1);
      // bash splits `--namespace=trading` at the '=' (COMP_WORDBREAKS): three words.
      if (word === flag) return rest[i + 1] === '=' ? rest[i + 2] : rest[i + 1];
    }
    return undefined;
  };
  const namespace = value('--namespace') ?? value('-n');
  const kubeconfig = value('--kubeconfig');
  const context = value('--context');
  const names = await listEngines({
    ...(namespace === undefined ? {} : { namespace }), ...(kubeconfig === undefined ? {} : { kubeconfig }), ...(context === undefined ? {} : { context }),
  }).catch(() => []);
  return matching(names);
}

/** The TradingEngines of a namespace (the context's by default), from the API server within 3 s. */
export const listEngineNames: EngineLister = async ({ kubeconfig, context, namespace }) => {
  const kubeConfig = loadKubeConfig(kubeconfig, context);
  const engines = await listTradingEngines(kubeConfig, namespace ?? contextNamespace(kubeConfig), 3_000);
  return engines.map((engine) => engine.metadata.name ?? '').filter((name) => name !== '').sort();
};

/** `nexus __complete <words...>`: the candidates, one per line, then the directive line. */
export async function completeCommand(argv: readonly string[], commands: readonly string[], listEngines: EngineLister = listEngineNames): Promise<number> {
  const candidates = await completionCandidates(argv.length === 0 ? [''] : argv, commands, listEngines);
  process.stdout.write(`${[...candidates, noFileCompletion].join('\n')}\n`);
  return 0;
}

/** The bash script: completes `nexus` (and `kubectl-nexus`) through `nexus __complete`. */
export function bashCompletion(): string {
  return `# nexus shell completion (bash): source <(nexus completion bash)
_nexus_complete() {
  local IFS=$'\\n'
  local words=("\${COMP_WORDS[@]:1:COMP_CWORD}")
  [[ \${#words[@]} -eq 0 ]] && words=("")
  COMPREPLY=($("\${COMP_WORDS[0]}" __complete "\${words[@]}" 2>/dev/null | grep -v '^:'))
}
complete -F _nexus_complete nexus kubectl-nexus
`;
}

/** The zsh script: the bash one through bashcompinit. */
export function zshCompletion(): string {
  return `# nexus shell completion (zsh): source <(nexus completion zsh)
autoload -U +X bashcompinit && bashcompinit
${bashCompletion().split('\n').slice(1).join('\n')}`;
}

export const completionHelp = 'nexus completion bash|zsh\n\n' +
  'Prints a shell completion script for nexus: commands, rollout subcommands and flags, and TradingEngine names\n' +
  '(listed from the cluster of the line\'s --kubeconfig, --context and -n). Load it with: source <(nexus completion bash)\n' +
  '(zsh: source <(nexus completion zsh)). kubectl nexus completes through bin/kubectl_complete-nexus on PATH.';

export function completionCommand(argv: readonly string[]): Promise<number> {
  const [shell, ...rest] = argv;
  if (shell === '--help' || shell === '-h') {
    console.log(completionHelp);
    return Promise.resolve(0);
  }
  if (rest.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])}`);
  if (shell === 'bash') process.stdout.write(bashCompletion());
  else if (shell === 'zsh') process.stdout.write(zshCompletion());
  else throw new UsageError(`completion needs a shell: bash or zsh${shell === undefined ? '' : `, got ${JSON.stringify(shell)}`}`);
  return Promise.resolve(0);
}
