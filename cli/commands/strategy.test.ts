import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { nexusBin } from '../lib/processes.ts';

/**
 * `nexus strategy init`: the scaffolded project passes its own test and backtests as created, run as a user runs it
 * (real processes: `nexus strategy init`, then `node --import tsx --test` and `nexus backtest` in the project, with
 * `nexus-trading` and `tsx` linked into its node_modules as `npm install` would put them).
 */
const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'nexus-strategy-init-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const nexus = (args: readonly string[], cwd = dir) => spawnSync(process.execPath, [nexusBin, ...args], { cwd, encoding: 'utf8', timeout: 60_000 });

describe('nexus strategy init', () => {
  it('scaffolds a project that passes its own test and backtests byte-identically twice', () => {
    const created = nexus(['strategy', 'init', 'trend', '--dir', dir]);
    expect(created.status, created.stderr).toBe(0);
    const project = join(dir, 'trend');
    expect(created.stdout).toContain(`Created ${project}: package.json, trend.ts, trend.test.ts, engine.yaml, ticks.csv, Dockerfile, tradingengine.yaml, README.md`);
    mkdirSync(join(project, 'node_modules'));
    symlinkSync(root, join(project, 'node_modules', 'nexus-trading'));
    symlinkSync(join(root, 'node_modules', 'tsx'), join(project, 'node_modules', 'tsx'));
    const test = spawnSync(process.execPath, ['--import', 'tsx', '--test', 'trend.test.ts'], { cwd: project, encoding: 'utf8', timeout: 60_000 });
    expect(test.status, `${test.stdout}${test.stderr}`).toBe(0);
    expect(test.stdout).toMatch(/# pass 3\n# fail 0/);
    const first = nexus(['backtest', '--config', 'engine.yaml', '--ticks', 'ticks.csv', '--json'], project);
    expect(first.status, first.stderr).toBe(0);
    const result = JSON.parse(first.stdout) as { ticks: number; total: { orders: number }; strategyFaults: number; ordersSha256: string };
    expect(result).toMatchObject({ ticks: 20_000, strategyFaults: 0 });
    expect(result.total.orders).toBeGreaterThan(10);
    const second = JSON.parse(nexus(['backtest', '--config', 'engine.yaml', '--ticks', 'ticks.csv', '--json'], project).stdout) as { ordersSha256: string };
    expect(second.ordersSha256).toBe(result.ordersSha256);
    expect(readFileSync(join(project, 'tradingengine.yaml'), 'utf8')).toContain('module: /app/strategies/trend.ts');
  }, 120_000);

  it('refuses an existing directory without --force, and a name that cannot name a Kubernetes object', () => {
    const again = nexus(['strategy', 'init', 'trend', '--dir', dir]);
    expect(again.status).toBe(2);
    expect(again.stderr).toContain(`${join(dir, 'trend')} exists: pick another name or --dir, or pass --force`);
    const bad = nexus(['strategy', 'init', 'My_Strategy', '--dir', dir]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('the name must be lower case letters, digits and dashes, starting with a letter');
  }, 60_000);
});
