import { Push } from 'zeromq';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../cli/lib/processes.ts';
import { monoNowNs } from '../clock/monotonic.ts';
import { OrderType, Side } from '../wire/layout.ts';
import { OrderFrameWriter } from '../wire/order-codec.ts';
import { OrderSink } from './order-sink.ts';

/** The reference gateway on real ZeroMQ sockets: an engine's PUSH sends order frames to its PULL. */
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function gateway(): Promise<{ sink: OrderSink; push: Push; accepted: Array<[number, number]> }> {
  const port = await freePort();
  const sink = new OrderSink({ ordersBind: `tcp://127.0.0.1:${port}`, clockNs: monoNowNs });
  await sink.open();
  const running = sink.run();
  const accepted: Array<[number, number]> = [];
  sink.onOrder = (order) => accepted.push([order.shard, order.shardEpoch]);
  const push = new Push({ linger: 0 });
  push.connect(`tcp://127.0.0.1:${port}`);
  cleanups.push(async () => {
    push.close();
    sink.close();
    await running;
  });
  return { sink, push, accepted };
}

/** One order frame of `orders` [shard, epoch] of book 7 on stream 9 from sequence `first`. */
function frame(first: number, orders: ReadonlyArray<readonly [number, number]>): Buffer {
  const writer = new OrderFrameWriter(orders.length);
  writer.begin(9, first);
  orders.forEach(([shard, epoch], i) => writer.append(first + i + 1, 1, 0, Side.Buy, OrderType.Limit, 100, 1, monoNowNs(), monoNowNs(), shard, epoch, 7));
  return writer.finish(monoNowNs());
}

async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met within 5 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('OrderSink fencing by shard epoch', () => {
  it('accepts each shard at its newest epoch and refuses and counts orders of an older one, as a gateway must', async () => {
    const { sink, push, accepted } = await gateway();
    // Shard 1 moves from epoch 2 to 3; an order of the old owner (epoch 2) arrives after the move.
    await push.send(frame(0, [[1, 2], [2, 1]]));
    await push.send(frame(2, [[1, 3]]));
    await push.send(frame(3, [[1, 2], [1, 3], [0, 0]]));
    await until(() => sink.counts.orders + sink.counts.staleEpoch === 6);
    expect(accepted).toEqual([[1, 2], [2, 1], [1, 3], [1, 3], [0, 0]]);
    expect(sink.counts).toMatchObject({ orders: 5, staleEpoch: 1, malformed: 0, lostOrders: 0 });
    expect(sink.fence.newestEpoch(7, 1)).toBe(3);
  });

  it('reads a version 1 order frame (an engine from before ownership) as unfenced', async () => {
    const { sink, push, accepted } = await gateway();
    const v2 = frame(0, [[0, 0]]);
    const v1 = Buffer.concat([v2.subarray(0, 24), v2.subarray(24, 72)]);
    v1[0] = 1;
    await push.send(v1);
    await until(() => sink.counts.orders === 1);
    expect(accepted).toEqual([[0, 0]]);
    expect(sink.counts.malformed).toBe(0);
  });
});
