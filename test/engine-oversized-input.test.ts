import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Publisher, Request } from 'zeromq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, spawnNexus, waitForLine } from '../cli/lib/processes.ts';
import { monoNowNs } from '../engine/clock/monotonic.ts';
import { sendControl } from '../engine/control/control-client.ts';
import { ControlCommand, ControlStatus, MAX_CONTROL_MESSAGE_BYTES, MAX_DATA_MESSAGE_BYTES, TickKind } from '../engine/wire/layout.ts';
import { symbolId } from '../engine/wire/symbol-id.ts';
import { TickFrameWriter } from '../engine/wire/tick-codec.ts';
import { loopbackEngineDocument } from './support/engine-config.ts';
import { eventually } from './support/eventually.ts';

/**
 * A real `nexus engine` process sent one 1 GiB message on its control socket and one on its market-data socket:
 * each socket's maxMessageSize (engine/wire/layout.ts) makes libzmq drop the sender after reading the message's
 * length, so the engine's memory does not grow with what a peer sends, and it keeps serving both sockets.
 */
const gib = 1 << 30;

describe('nexus engine process: oversized messages', () => {
  let dir: string;
  let ports: Record<'feed' | 'orders' | 'control' | 'metrics', number>;
  let engine: ReturnType<typeof spawnNexus>;
  let feed: Publisher;
  let output = '';
  let exchangeTs = 1;
  const writer = new TickFrameWriter(4);
  let sequence = 0;

  const rssBytes = (): number => {
    const line = readFileSync(`/proc/${engine.pid ?? 0}/status`, 'utf8').split('\n').find((entry) => entry.startsWith('VmRSS:'));
    return Number(line?.split(/\s+/)[1] ?? Number.NaN) * 1024;
  };
  const ticksReceived = async (): Promise<number> => {
    const answer = await sendControl(`tcp://127.0.0.1:${ports.control}`, ControlCommand.Status, { timeoutMs: 5_000 });
    expect(answer.status).toBe(ControlStatus.Ok);
    return (answer.body as { ticks: { received: number } }).ticks.received;
  };
  const publishTick = async (): Promise<void> => {
    writer.begin(symbolId('AAPL'), sequence);
    writer.append(symbolId('AAPL'), TickKind.Trade, 100, 1, exchangeTs++, monoNowNs());
    sequence += 1;
    await feed.send([Buffer.from('AAPL'), Buffer.from(writer.finishView(monoNowNs()))]);
  };

  beforeAll(async () => {
    ports = { feed: await freePort(), orders: await freePort(), control: await freePort(), metrics: await freePort() };
    dir = mkdtempSync(join(tmpdir(), 'nexus-oversized-'));
    const risk = { maxOrderQty: 10, maxPosition: 100, maxNotional: 1_000_000, priceBandBps: 1000, ordersEnabled: false };
    writeFileSync(join(dir, 'engine.json'), JSON.stringify(loopbackEngineDocument(['AAPL'], ports, { risk, warmupTicks: 0 })));
    feed = new Publisher({ linger: 0 });
    await feed.bind(`tcp://127.0.0.1:${ports.feed}`);
    engine = spawnNexus(['engine', '--config', join(dir, 'engine.json')]);
    engine.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    engine.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitForLine(engine, /Engine started/, 30_000);
    // PUB/SUB joins asynchronously: publish until the engine has seen a tick.
    await eventually(async () => {
      await publishTick();
      return (await ticksReceived()) > 0;
    }, { timeoutMs: 10_000, what: 'the engine receiving ticks', intervalMs: 50, context: () => output });
  }, 60_000);

  afterAll(() => {
    if (engine.exitCode === null) engine.kill('SIGKILL');
    feed?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sizes the limits from the wire format', () => {
    expect(MAX_DATA_MESSAGE_BYTES).toBe(24 + 65_535 * 56); // the largest order frame (version 2, 56-byte records)
    expect(MAX_CONTROL_MESSAGE_BYTES).toBe(1 << 20); // a SetOwnership body for ~25,000 symbols
  });

  it('drops a 1 GiB control request unanswered; RSS stays within 50 MiB and the socket still answers', async () => {
    const before = rssBytes();
    const socket = new Request({ linger: 0, receiveTimeout: 2_000, sendTimeout: 10_000 });
    socket.connect(`tcp://127.0.0.1:${ports.control}`);
    await socket.send(Buffer.alloc(gib));
    await expect(socket.receive()).rejects.toThrow();
    socket.close();
    expect(await ticksReceived()).toBeGreaterThan(0);
    expect(rssBytes() - before).toBeLessThan(50 * 1_048_576);
  }, 60_000);

  it('drops a 1 GiB market-data frame; RSS stays within 50 MiB and ticks still flow', async () => {
    const before = rssBytes();
    const received = await ticksReceived();
    await feed.send([Buffer.from('AAPL'), Buffer.alloc(gib)]);
    // The engine's SUB reconnects to the feed after dropping it; ticks published after that arrive.
    await eventually(async () => {
      await publishTick();
      return (await ticksReceived()) > received;
    }, { timeoutMs: 20_000, what: 'ticks after the oversized frame', intervalMs: 100, context: () => output });
    expect(rssBytes() - before).toBeLessThan(50 * 1_048_576);
    expect(engine.exitCode).toBeNull();
    expect(output).toContain(`Market data feed disconnected; connected again address=tcp://127.0.0.1:${ports.feed}`);
  }, 60_000);
});
