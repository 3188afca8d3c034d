import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Subscriber } from 'zeromq';
import { freePort, spawnNexus, waitForExit } from '../cli/lib/processes.ts';
import { FrameHeader, decodeFrameHeader } from '../engine/wire/frame-header.ts';
import { MessageType, TICK_BYTES, TickKind } from '../engine/wire/layout.ts';
import { symbolId } from '../engine/wire/symbol-id.ts';
import { TickSlot, decodeTick } from '../engine/wire/tick-codec.ts';

/** `nexus feed` as a real process publishing over ZeroMQ, received by a real SUB socket in this test. */
const dir = mkdtempSync(join(tmpdir(), 'nexus-feed-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function output(child: ReturnType<typeof spawnNexus>): () => string {
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return () => text;
}

describe('nexus feed', () => {
  it('replays a CSV of ticks over ZeroMQ with symbol ids, kinds, prices and exchange times intact', async () => {
    const csv = join(dir, 'ticks.csv');
    writeFileSync(csv, [
      'exchange_ts_ns,symbol,kind,price,size',
      '1700000000000000001,AAPL,trade,190.5,100',
      '1700000000000000002,MSFT,bid,410.25,3',
      '1700000000000000003,AAPL,ask,190.75,7',
      '1700000000000000004,MSFT,trade,410.5,12',
    ].join('\n'));
    const port = await freePort();
    const subscriber = new Subscriber({ receiveTimeout: 10_000 });
    subscriber.connect(`tcp://127.0.0.1:${port}`);
    subscriber.subscribe();
    const feed = spawnNexus(['feed', '--replay', csv, '--bind', `tcp://127.0.0.1:${port}`, '--rate', '1000', '--start-delay-ms', '800', '--flush-us', '0']);
    const log = output(feed);
    const header = new FrameHeader();
    const slot = new TickSlot();
    const received: Array<[number, number, number, number, number]> = [];
    try {
      while (received.length < 4) {
        const [, frame] = await subscriber.receive();
        expect(decodeFrameHeader(frame, MessageType.MarketDataBatch, TICK_BYTES, header)).toBe(0);
        for (let i = 0; i < header.recordCount; i++) {
          expect(decodeTick(frame, i, header, slot)).toBe(0);
          received.push([slot.symbolId, slot.kind, slot.price, slot.size, slot.exchangeTsNs]);
        }
      }
    } finally {
      subscriber.close();
    }
    expect(await waitForExit(feed, 15_000)).toBe(0);
    // Order is guaranteed per symbol (one topic each), not across symbols, and these exchange times differ by
    // 1 ns, below double precision at 1.7e18: group by symbol id (a stable sort keeps each symbol's arrival order).
    const byExchangeTime = received.sort((a, b) => a[0] - b[0]);
    expect(symbolId('AAPL')).toBeLessThan(symbolId('MSFT'));
    expect(byExchangeTime.map(([id, kind, price, size]) => [id, kind, price, size])).toEqual([
      [symbolId('AAPL'), TickKind.Trade, 190.5, 100],
      [symbolId('AAPL'), TickKind.Ask, 190.75, 7],
      [symbolId('MSFT'), TickKind.Bid, 410.25, 3],
      [symbolId('MSFT'), TickKind.Trade, 410.5, 12],
    ]);
    // Epoch nanoseconds exceed 2^53: they travel as exact u64 and read back to within 256 ns.
    expect(Math.abs(byExchangeTime[0][4] - 1_700_000_000_000_000_000)).toBeLessThan(256);
    expect(log()).toContain('Feed finished published=4');
  });

  it('refuses a CSV with a bad row before publishing anything, naming the row and column', async () => {
    const csv = join(dir, 'bad.csv');
    writeFileSync(csv, 'exchange_ts_ns,symbol,kind,price,size\n1,AAPL,trade,190.5,100\n2,AAPL,trade,NaN,1\n');
    const feed = spawnNexus(['feed', '--replay', csv, '--bind', `tcp://127.0.0.1:${await freePort()}`]);
    const log = output(feed);
    expect(await waitForExit(feed, 15_000)).toBe(2);
    expect(log()).toContain('row 3, column price: must be a finite number > 0, got "NaN"');
    expect(log()).not.toContain('Feed bound');
  });

  it('prints its options with --help and exits 0', async () => {
    const feed = spawnNexus(['feed', '--help']);
    const log = output(feed);
    expect(await waitForExit(feed, 15_000)).toBe(0);
    expect(log()).toContain('Usage: nexus feed [options]');
    expect(log()).toContain('--ticks-per-frame <integer>');
  });
});
