import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bashCompletion, completionCandidates, type EngineLister } from './completion.ts';

const commands = ['demo', 'engine', 'rollout', 'operator', 'completion'];
const asked: Array<Parameters<EngineLister>[0]> = [];
const engines: EngineLister = (where) => {
  asked.push(where);
  return Promise.resolve(where.namespace === 'trading' ? ['alpha', 'beta', 'gamma'] : ['default-engine']);
};

describe('shell completion candidates', () => {
  it('completes commands, rollout subcommands and a subcommand\'s flags by prefix', async () => {
    expect(await completionCandidates([''], commands, engines)).toEqual(commands);
    expect(await completionCandidates(['ro'], commands, engines)).toEqual(['rollout']);
    expect(await completionCandidates(['rollout', 'p'], commands, engines)).toEqual(['promote', 'pause']);
    expect(await completionCandidates(['rollout', 'promote', '--'], commands, engines)).toEqual(['--full', '--namespace', '--kubeconfig', '--context', '--help']);
    expect(await completionCandidates(['rollout', 'list', '-'], commands, engines)).toEqual(['--all-namespaces', '--namespace', '--kubeconfig', '--context', '--help', '-n', '-A', '-h']);
    expect(await completionCandidates(['completion', ''], commands, engines)).toEqual(['bash', 'zsh']);
  });

  it('completes TradingEngine names from the namespace, kubeconfig and context on the line, once', async () => {
    asked.length = 0;
    expect(await completionCandidates(['rollout', 'status', '-n', 'trading', 'a'], commands, engines)).toEqual(['alpha']);
    expect(await completionCandidates(['rollout', 'abort', '--kubeconfig=/k', '--context', 'prod', '--namespace=trading', ''], commands, engines)).toEqual(['alpha', 'beta', 'gamma']);
    // bash hands `--namespace=trading` over as three words.
    expect(await completionCandidates(['rollout', 'status', '--namespace', '=', 'trading', 'b'], commands, engines)).toEqual(['beta']);
    expect(asked).toEqual([{ namespace: 'trading' }, { namespace: 'trading', kubeconfig: '/k', context: 'prod' }, { namespace: 'trading' }]);
    // A name is already there, a flag's value is being typed, or list takes none: no names.
    expect(await completionCandidates(['rollout', 'status', 'alpha', ''], commands, engines)).toEqual([]);
    expect(await completionCandidates(['rollout', 'status', '-n', ''], commands, engines)).toEqual([]);
    expect(await completionCandidates(['rollout', 'list', ''], commands, engines)).toEqual([]);
    // An unreachable cluster completes nothing.
    expect(await completionCandidates(['rollout', 'status', ''], commands, () => Promise.reject(new Error('connect ECONNREFUSED')))).toEqual([]);
  });
});

describe('the bash completion script', () => {
  it('completes through the real nexus executable in a real bash', () => {
    const nexus = fileURLToPath(new URL('../../bin/nexus.mjs', import.meta.url));
    const complete = (...words: string[]): string => execFileSync('bash', ['-c', [
      bashCompletion(),
      `COMP_WORDS=(${[nexus, ...words].map((word) => `'${word}'`).join(' ')}); COMP_CWORD=${words.length}`,
      '_nexus_complete; printf "%s\\n" "${COMPREPLY[@]}"',
    ].join('\n')], { encoding: 'utf8' }).trim();
    expect(complete('rollout', 'st')).toBe('status');
    expect(complete('com').split('\n')).toEqual(['completion']);
    expect(complete('rollout', 'undo', '--to')).toBe('--to-revision');
  }, 30_000);
});
