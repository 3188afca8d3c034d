import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnNexus, waitForExit, waitForLine } from '../cli/lib/processes.ts';
import { kubectlOrThrow } from '../test/support/kube.ts';

describe('nexus cluster up', () => {
  it('runs a control plane and a Ready node with GPUs until SIGTERM, then stops every process', async () => {
    const child = spawnNexus(['cluster', 'up', '--gpus', '1']);
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      await waitForLine(child, /Cluster ready/, 120_000);
      for (let i = 0; i < 50 && !/export KUBECONFIG=\S+/.test(output); i++) await new Promise((resolve) => setTimeout(resolve, 100));
      const path = /export KUBECONFIG=(\S+)/.exec(output)?.[1] ?? '';
      expect(existsSync(path)).toBe(true);
      const nodes = JSON.parse(kubectlOrThrow(path, ['get', 'nodes', '-o', 'json'])) as {
        items: Array<{ status: { allocatable: Record<string, string>; conditions: Array<{ type: string; status: string }> } }>;
      };
      expect(nodes.items).toHaveLength(1);
      expect(nodes.items[0].status.allocatable['nvidia.com/gpu']).toBe('1');
      expect(nodes.items[0].status.conditions.find((c) => c.type === 'Ready')?.status).toBe('True');

      child.kill('SIGTERM');
      expect(await waitForExit(child, 30_000)).toBe(0);
      expect(output).toContain('Cluster stopped');
      const clusterDir = dirname(path);
      expect(existsSync(clusterDir)).toBe(false);
      // `[/]tmp/...` matches the path in a process's arguments but not this pattern in pgrep's own command line.
      const pattern = `[${clusterDir[0]}]${clusterDir.slice(1)}`;
      const leftovers = execFileSync('bash', ['-c', `pgrep -fc '${pattern}' || true`], { encoding: 'utf8' }).trim();
      expect(leftovers).toBe('0');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 180_000);
});
