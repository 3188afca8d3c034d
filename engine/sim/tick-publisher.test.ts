import { afterEach, describe, expect, it } from 'vitest';
import { Subscriber } from 'zeromq';
import { ManualClock } from '../clock/monotonic.ts';
import { FrameHeader, decodeFrameHeader } from '../wire/frame-header.ts';
import { MessageType, TICK_BYTES, TickKind } from '../wire/layout.ts';
import { symbolId } from '../wire/symbol-id.ts';
import { TickSlot, decodeTick } from '../wire/tick-codec.ts';
import { TickPublisher } from './tick-publisher.ts';

interface Received {
  topic: string;
  count: number;
  firstSequence: number;
  symbols: number[];
}

const open: Array<{ close(): void }> = [];
afterEach(() => {
  for (const socket of open.splice(0)) socket.close();
});

async function setup(channel?: string) {
  const clock = new ManualClock(1_000_000);
  const publisher = new TickPublisher({
    bind: 'tcp://127.0.0.1:*', symbols: ['AAPL', 'MSFT'], ...(channel === undefined ? {} : { channel }),
    maxTicksPerFrame: 4, flushNs: 50_000, clockNs: () => clock.nowNs(), instanceSalt: 0,
  });
  const address = await publisher.open();
  const subscriber = new Subscriber({ receiveTimeout: 3_000 });
  subscriber.connect(address ?? '');
  subscriber.subscribe();
  open.push(publisher, subscriber);
  await new Promise((resolve) => setTimeout(resolve, 300)); // SUB joins asynchronously
  return { clock, publisher, subscriber };
}

async function receive(subscriber: Subscriber, frames: number): Promise<Received[]> {
  const header = new FrameHeader();
  const tick = new TickSlot();
  const out: Received[] = [];
  for (let i = 0; i < frames; i++) {
    const [topic, frame] = await subscriber.receive();
    expect(decodeFrameHeader(frame, MessageType.MarketDataBatch, TICK_BYTES, header)).toBe(0);
    const symbols: number[] = [];
    for (let t = 0; t < header.recordCount; t++) {
      expect(decodeTick(frame, t, header, tick)).toBe(0);
      symbols.push(tick.symbolId);
    }
    out.push({ topic: topic.toString(), count: header.recordCount, firstSequence: header.firstSequence, symbols });
  }
  return out;
}

describe('TickPublisher', () => {
  it('sends a frame when it fills, and a partial one only once its oldest tick reaches the time bound', async () => {
    const { clock, publisher, subscriber } = await setup('md');
    for (let i = 0; i < 5; i++) publisher.append(i % 2, TickKind.Trade, 100 + i, 1, i + 1, clock.nowNs());
    publisher.flushDue(clock.nowNs() + 49_999); // the fifth tick has not waited 50 µs yet: stays
    clock.advanceNs(50_000);
    publisher.flushDue(clock.nowNs()); // now it has
    const frames = await receive(subscriber, 2);
    expect(frames.map((f) => [f.topic, f.count, f.firstSequence])).toEqual([['md', 4, 0], ['md', 1, 4]]);
  });

  it('gives each symbol its own topic and sequenced stream without a channel', async () => {
    const { clock, publisher, subscriber } = await setup();
    publisher.append(0, TickKind.Trade, 100, 1, 1, clock.nowNs());
    publisher.append(1, TickKind.Bid, 200, 1, 2, clock.nowNs());
    publisher.append(0, TickKind.Trade, 101, 1, 3, clock.nowNs());
    publisher.flushAll();
    const frames = await receive(subscriber, 2);
    const byTopic = Object.fromEntries(frames.map((f) => [f.topic, f]));
    expect(byTopic.AAPL).toMatchObject({ count: 2, firstSequence: 0, symbols: [symbolId('AAPL'), symbolId('AAPL')] });
    expect(byTopic.MSFT).toMatchObject({ count: 1, firstSequence: 0, symbols: [symbolId('MSFT')] });
    expect(publisher.ticksPublished).toBe(3);
  });
});
