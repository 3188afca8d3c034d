import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, spawnNexus, waitForExit, waitForLine } from '../cli/lib/processes.ts';
import { monoNowNs } from '../engine/clock/monotonic.ts';
import { TickPublisher } from '../engine/sim/tick-publisher.ts';
import { TickKind } from '../engine/wire/layout.ts';
import { loopbackEngineDocument } from './support/engine-config.ts';
import { eventually } from './support/eventually.ts';

const hoards = fileURLToPath(new URL('../engine/strategy/fixtures/hoards.mjs', import.meta.url));

/**
 * A real `nexus engine` process on a 256 MiB heap whose TypeScript/JavaScript strategy module keeps 8 KiB of every
 * trade: without the heap guard it dies of "JavaScript heap out of memory" within seconds. With it, the module is
 * disabled, named with the figures, and the built-in beside it trades on, in either layout (in the workers
 * layout each worker thread has its own heap, and its own guard).
 */
describe.each([
  ['inline', { layout: 'inline' }],
  ['workers', { layout: 'workers', workers: 2 }],
])('nexus engine process (%s): a strategy module that keeps what it allocates', (_name, pipeline) => {
  let dir: string | undefined;
  let engine: ReturnType<typeof spawnNexus> | undefined;
  let feed: TickPublisher | undefined;

  afterEach(() => {
    if (engine !== undefined && engine.exitCode === null) engine.kill('SIGKILL');
    feed?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('is disabled and named, the engine stays up, and the built-in beside it keeps signalling', async () => {
    const ports = { feed: await freePort(), orders: await freePort(), control: await freePort(), metrics: await freePort() };
    const symbols = ['AAPL', 'MSFT'];
    dir = mkdtempSync(join(tmpdir(), 'nexus-module-heap-'));
    writeFileSync(join(dir, 'engine.json'), JSON.stringify(loopbackEngineDocument(symbols, ports, {
      warmupTicks: 0,
      pipeline,
      strategies: [{ name: 'hoarder', module: hoards }, { name: 'probe', type: 'probe', params: { orderQuantity: 1 } }],
      risk: { maxOrderQty: 10, maxPosition: 1e9, maxNotional: 1e15, priceBandBps: 1000, ordersEnabled: true },
      shutdown: { drainTimeoutMs: 200 },
    })));
    feed = new TickPublisher({ bind: `tcp://127.0.0.1:${ports.feed}`, symbols, maxTicksPerFrame: 64, flushNs: 0, clockNs: monoNowNs, instanceSalt: 5 });
    await feed.open();
    let output = '';
    engine = spawnNexus(['engine', '--config', join(dir, 'engine.json')], { ...process.env, NODE_OPTIONS: '--max-old-space-size=256' });
    engine.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    engine.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitForLine(engine, /Engine started/, 30_000);

    const metric = async (series: string): Promise<number> => {
      const text = await (await fetch(`http://127.0.0.1:${ports.metrics}/metrics`)).text();
      const line = text.split('\n').find((entry) => entry.startsWith(`${series} `));
      return Number(line?.split(' ').at(-1) ?? Number.NaN);
    };
    let exchangeTs = 1;
    const send = async (trades: number): Promise<void> => {
      for (let i = 0; i < trades; i++) feed?.append(i % symbols.length, TickKind.Trade, 100 + (i % 7) / 10, 1, exchangeTs++, monoNowNs());
      await feed?.drain();
    };
    // ~16 MiB a round of 2,000 trades while the hoarder trades (each worker keeps its shard's half): the 256 MiB heap
    // would not outlive twenty rounds. (The hoarder's memory stays held once it is disabled: the heap needs room left.)
    await eventually(async () => {
      await send(2_000);
      return output.includes('Strategy disabled strategy=hoarder');
    }, { timeoutMs: 60_000, what: 'the hoarding module disabled by the heap guard', intervalMs: 50, context: () => output });

    expect(output).toMatch(new RegExp(`Strategy disabled strategy=hoarder origin="module ${hoards.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}" reason="heap: module .*hoards\\.mjs kept [\\d.]+ MiB alive in \\d+ ms`));
    expect(output).not.toContain('heap out of memory');
    expect(await metric('nexus_engine_strategy_faults_total{strategy="hoarder"}')).toBeGreaterThanOrEqual(1);
    expect(await metric('nexus_engine_strategy_faults_total{strategy="probe"}')).toBe(0);

    // The built-in keeps deciding on every trade after the hoarder is gone, and the process is still up.
    const before = await metric('nexus_engine_signals_total{strategy="probe"}');
    await eventually(async () => {
      await send(2_000);
      return (await metric('nexus_engine_signals_total{strategy="probe"}')) >= before + 4_000;
    }, { timeoutMs: 30_000, what: 'probe signals after the hoarder was disabled', intervalMs: 50, context: () => output });
    expect(engine.exitCode).toBeNull();
    engine.kill('SIGTERM');
    await waitForExit(engine, 15_000);
  }, 120_000);
});
