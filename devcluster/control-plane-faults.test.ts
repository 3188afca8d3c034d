import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort } from '../cli/lib/processes.ts';
import { kubectlOrThrow } from '../test/support/kube.ts';
import { startControlPlane } from './control-plane.ts';

/** Processes whose arguments mention `dir` (the bracket keeps pgrep from matching its own shell). */
function processesUsing(dir: string): number {
  const pattern = `[${dir[0]}]${dir.slice(1)}`;
  return Number(execFileSync('bash', ['-c', `pgrep -fc '${pattern}' || true`], { encoding: 'utf8' }).trim());
}

describe('test control plane faults', () => {
  it('fails with the API server log when its port is taken, and leaves no process behind', async () => {
    const port = await freePort();
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      const failure = await startControlPlane({ apiserverPort: port }).then(
        () => new Error('started on a taken port'),
        (error: Error) => error,
      );
      expect(failure.message).toMatch(/Control plane failed to start/);
      expect(failure.message).toMatch(/kube-apiserver exited/);
      expect(failure.message).toMatch(/address already in use/);
      const dir = /(\/\S+nexus-cluster-\w+) removed/.exec(failure.message)?.[1] ?? '';
      expect(dir).not.toBe('');
      expect(processesUsing(dir)).toBe(0);
    } finally {
      blocker.close();
    }
  }, 120_000);

  it('stops cleanly after its API server was killed, and a fresh one starts', async () => {
    const first = await startControlPlane();
    process.kill(first.pids['kube-apiserver'], 'SIGKILL');
    await first.stop();
    expect(processesUsing(first.dir)).toBe(0);
    const second = await startControlPlane();
    try {
      const version = kubectlOrThrow(second.kubeconfig, ['get', '--raw', '/version']);
      expect(JSON.parse(version)).toMatchObject({ gitVersion: 'v1.34.4' });
    } finally {
      await second.stop();
    }
    expect(processesUsing(second.dir)).toBe(0);
  }, 120_000);
});
