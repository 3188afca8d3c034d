import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, spawnNexus, waitForExit, waitForLine } from '../cli/lib/processes.ts';
import { monoNowNs } from '../engine/clock/monotonic.ts';
import { TickPublisher } from '../engine/sim/tick-publisher.ts';
import { TickKind } from '../engine/wire/layout.ts';
import { loopbackEngineDocument } from './support/engine-config.ts';
import { eventually } from './support/eventually.ts';

/**
 * A real `nexus engine` process whose order gateway is down: the orders it accepts wait where they are visible
 * (`nexus_engine_orders_queued`), nothing is "published" into a queue for a gateway that is not there, and SIGTERM
 * ends the process with exit code 3 naming how many accepted orders were not delivered.
 */
describe('nexus engine process: the order gateway is down', () => {
  let dir: string;
  let ports: { feed: number; orders: number; control: number; metrics: number };
  let engine: ReturnType<typeof spawnNexus>;
  let feed: TickPublisher;
  let output = '';

  const metric = async (name: string): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${ports.metrics}/metrics`)).text();
    const line = text.split('\n').find((entry) => entry.startsWith(`${name} `) || entry.startsWith(`${name}{`));
    return Number(line?.split(' ').at(-1) ?? Number.NaN);
  };

  beforeAll(async () => {
    // Nothing listens on the orders port: the gateway is down for the whole test.
    ports = { feed: await freePort(), orders: await freePort(), control: await freePort(), metrics: await freePort() };
    dir = mkdtempSync(join(tmpdir(), 'nexus-order-loss-'));
    writeFileSync(join(dir, 'engine.json'), JSON.stringify(loopbackEngineDocument(['AAPL'], ports, {
      warmupTicks: 0,
      risk: { maxOrderQty: 10, maxPosition: 1_000_000, maxNotional: 1e12, priceBandBps: 1000, ordersEnabled: true },
      shutdown: { drainTimeoutMs: 500 },
    })));
    feed = new TickPublisher({ bind: `tcp://127.0.0.1:${ports.feed}`, symbols: ['AAPL'], maxTicksPerFrame: 8, flushNs: 0, clockNs: monoNowNs, instanceSalt: 3 });
    await feed.open();
    engine = spawnNexus(['engine', '--config', join(dir, 'engine.json')]);
    engine.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    engine.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitForLine(engine, /Engine started/, 30_000);
  }, 60_000);

  afterAll(() => {
    if (engine.exitCode === null) engine.kill('SIGKILL');
    feed?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows the accepted orders as queued, publishes none, and exits 3 on SIGTERM naming them', async () => {
    let exchangeTs = 1;
    await eventually(async () => {
      for (let i = 0; i < 8; i++) feed.append(0, TickKind.Trade, 100 + (i % 3) / 10, 1, exchangeTs++, monoNowNs());
      await feed.drain();
      return (await metric('nexus_engine_orders_queued')) >= 20;
    }, { timeoutMs: 15_000, what: 'orders queued with the gateway down', intervalMs: 100, context: () => output });
    const queued = await metric('nexus_engine_orders_queued');
    expect(await metric('nexus_engine_orders_published_total')).toBe(0);
    expect(await metric('nexus_engine_orders_undelivered_total')).toBe(0);

    // Stop the feed first, so the count cannot move between the scrape and the signal.
    feed.close();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const before = await metric('nexus_engine_orders_queued');
    expect(before).toBeGreaterThanOrEqual(queued);
    engine.kill('SIGTERM');
    expect(await waitForExit(engine, 15_000)).toBe(3);
    expect(output).toContain(`Engine exits with code 3: ${before} accepted orders were not delivered to a connected gateway`);
    expect(output).not.toMatch(/Socket is closed|Unhandled|TypeError/);
  }, 60_000);
});
