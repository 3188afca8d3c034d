import { spawnSync } from 'node:child_process';
import { kubectlBinary } from './helm.ts';

/**
 * kubectl for tests and dev benchmarks, run against an explicit kubeconfig (a devcluster control plane's): the
 * pinned kubectl 1.34 from test/support/helm.ts, so it matches the v1.34.4 API server without skew warnings.
 *
 * Guarantees: `kubectl` answers every exit code as a result and throws only when kubectl could not be run or ran
 * past its time limit (a missing binary, a hang): a failed command is something a test asserts on, a hang is not.
 * `kubectlOrThrow` also throws on a non-zero exit, with the command and kubectl's stderr in the message.
 */
export interface KubectlResult {
  /** The exit code; 0 on success. */
  readonly code: number;
  /** stdout. */
  readonly out: string;
  /** stderr: kubectl's errors and warnings. */
  readonly err: string;
}

export interface KubectlOptions {
  /** Written to kubectl's stdin (a manifest for `apply -f -`). */
  readonly input?: string;
  /** The environment; default this process's. */
  readonly env?: NodeJS.ProcessEnv;
  /** Time limit in ms; default 30 000; 0 for none. */
  readonly timeoutMs?: number;
}

/** `kubectl --kubeconfig <kubeconfig> ...args`. */
export function kubectl(kubeconfig: string, args: readonly string[], options: KubectlOptions = {}): KubectlResult {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const result = spawnSync(kubectlBinary(), ['--kubeconfig', kubeconfig, ...args], {
    encoding: 'utf8',
    input: options.input,
    env: options.env ?? process.env,
    timeout: timeoutMs > 0 ? timeoutMs : undefined,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error !== undefined) throw new Error(`kubectl ${args.join(' ')}: ${result.error.message}`, { cause: result.error });
  return { code: result.status ?? 1, out: result.stdout, err: result.stderr };
}

/** `kubectl`, returning stdout; throws when kubectl exits non-zero. */
export function kubectlOrThrow(kubeconfig: string, args: readonly string[], options: KubectlOptions = {}): string {
  const result = kubectl(kubeconfig, args, options);
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (exit ${result.code}): ${result.err.trim()}`);
  return result.out;
}

/** `kubectl get ...args -o json`, parsed; undefined when kubectl fails (NotFound included). */
export function kubectlGet<T>(kubeconfig: string, args: readonly string[]): T | undefined {
  const result = kubectl(kubeconfig, ['get', ...args, '-o', 'json']);
  return result.code === 0 ? (JSON.parse(result.out) as T) : undefined;
}

/** The parts of a Pod (as `kubectl get -o json` or the API returns it) that tests read. */
export interface PodJson {
  metadata: {
    name: string;
    namespace?: string;
    uid: string;
    resourceVersion: string;
    labels?: Record<string, string>;
    deletionTimestamp?: string;
    ownerReferences?: Array<{ kind: string; name: string; controller?: boolean; blockOwnerDeletion?: boolean }>;
  };
  spec: { nodeName?: string };
  status: {
    phase?: string;
    podIP?: string;
    conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>;
    containerStatuses?: Array<{ ready: boolean; state?: { waiting?: { reason?: string; message?: string } } }>;
  };
}
