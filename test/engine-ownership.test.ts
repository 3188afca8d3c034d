import { afterEach, describe, expect, it } from 'vitest';
import { Publisher } from 'zeromq';
import { Engine } from '../engine/app/engine.ts';
import { monoNowNs } from '../engine/clock/monotonic.ts';
import { parseEngineConfig } from '../engine/config/engine-config.ts';
import { sendControl } from '../engine/control/control-client.ts';
import { OrderSink } from '../engine/sim/order-sink.ts';
import { ControlCommand, ControlStatus, Side, TickKind } from '../engine/wire/layout.ts';
import { symbolId } from '../engine/wire/symbol-id.ts';
import { TickFrameWriter } from '../engine/wire/tick-codec.ts';
import { eventually } from './support/eventually.ts';

/**
 * Symbol ownership on real engines (both pipeline layouts), a real feed and the reference gateway, all on real
 * ZeroMQ sockets: a shard moves between engines break-before-make over the control socket, and the gateway sees
 * every tick answered at most once, no order refused for a stale epoch, and each symbol's position carried across
 * the move (the probe strategy keeps a symbol within one lot of flat only if it knows the position it inherits).
 */

const SYMBOLS = ['AAPL', 'MSFT', 'GOOG', 'AMZN'];
const shard0 = ['AAPL', 'MSFT'];
const shard1 = ['GOOG', 'AMZN'];

const engines: Engine[] = [];
const closers: Array<() => void> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) close();
  await Promise.all(engines.splice(0).map((engine) => engine.stop()));
});

async function startEngine(feed: string, orders: string, pipeline: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<Engine> {
  const config = parseEngineConfig({
    symbols: SYMBOLS,
    indicators: [{ name: 'ema-5', type: 'ema', params: { period: 5 } }],
    strategies: [{ name: 'probe', type: 'probe', params: { orderQuantity: 1 } }],
    risk: { maxOrderQty: 10, maxPosition: 100, maxNotional: 1_000_000, priceBandBps: 1000, ordersEnabled: true },
    zeromq: {
      endpoints: [
        { name: 'md', role: 'marketData', address: feed },
        { name: 'orders', role: 'orders', address: orders },
        { name: 'control', role: 'control', bind: 'tcp://127.0.0.1:*' },
      ],
    },
    metrics: { port: 0, host: '127.0.0.1' },
    pipeline,
    warmupTicks: 0,
    ownership: { mode: 'assigned' },
    shutdown: { drainTimeoutMs: 2_000 },
    ...extra,
  });
  const engine = new Engine({ config, clockNs: monoNowNs, log: () => undefined });
  engines.push(engine);
  await engine.start();
  return engine;
}

/** A feed publishing one trade of every symbol per round, each on its symbol's topic, until stopped. */
async function startFeed(): Promise<{ address: string; rounds: () => number; stop: () => Promise<void> }> {
  const socket = new Publisher({ linger: 0 });
  await socket.bind('tcp://127.0.0.1:*');
  closers.push(() => socket.close());
  const writers = SYMBOLS.map(() => new TickFrameWriter(1));
  const sequences = SYMBOLS.map(() => 0);
  let rounds = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const [i, symbol] of SYMBOLS.entries()) {
        const writer = writers[i];
        writer.begin(100 + i, sequences[i]++);
        writer.append(symbolId(symbol), TickKind.Trade, 100 + (rounds % 7) * 0.01, 1, rounds + 1, monoNowNs());
        await socket.send([Buffer.from(symbol), writer.finish(monoNowNs())]);
      }
      rounds++;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  })();
  return {
    address: socket.lastEndpoint ?? '',
    rounds: () => rounds,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/** The gateway, with each symbol's position as it sees the orders (signed lots) and the largest it reached. */
async function startSink(): Promise<{ sink: OrderSink; address: string; position: Map<number, number>; maxAbs: Map<number, number>; byEpoch: Map<string, number> }> {
  const sink = new OrderSink({ ordersBind: 'tcp://127.0.0.1:*', clockNs: monoNowNs, detectDuplicates: true });
  const address = (await sink.open()) ?? '';
  const position = new Map<number, number>();
  const maxAbs = new Map<number, number>();
  const byEpoch = new Map<string, number>();
  sink.onOrder = (order) => {
    const next = (position.get(order.symbolId) ?? 0) + (order.side === Side.Buy ? order.quantity : -order.quantity);
    position.set(order.symbolId, next);
    maxAbs.set(order.symbolId, Math.max(maxAbs.get(order.symbolId) ?? 0, Math.abs(next)));
    const key = `${order.shard}@${order.shardEpoch}`;
    byEpoch.set(key, (byEpoch.get(key) ?? 0) + 1);
  };
  const running = sink.run();
  closers.push(() => {
    sink.close();
    void running;
  });
  return { sink, address, position, maxAbs, byEpoch };
}

async function setOwnership(engine: Engine, shards: unknown[]): Promise<{ released: Array<{ shard: number; epoch: number; positions: Record<string, number> }>; releaseMs: number }> {
  const answer = await sendControl(engine.endpoints.control ?? '', ControlCommand.SetOwnership, { body: { shards }, timeoutMs: 10_000 });
  expect(answer.status, JSON.stringify(answer.body)).toBe(ControlStatus.Ok);
  return answer.body as { released: Array<{ shard: number; epoch: number; positions: Record<string, number> }>; releaseMs: number };
}

const zeros = (symbols: readonly string[]) => Object.fromEntries(symbols.map((symbol) => [symbol, 0]));

async function status(engine: Engine): Promise<Record<string, any>> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const answer = await sendControl(engine.endpoints.control ?? '', ControlCommand.Status);
  return answer.body as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

describe.each([
  ['inline', 'workers', { layout: 'inline' }, { layout: 'workers', workers: 2 }],
  ['workers', 'inline', { layout: 'workers', workers: 2 }, { layout: 'inline' }],
])('a shard moving from a %s engine to a %s engine', (_from, _to, fromPipeline, toPipeline) => {
  it('sends every order once, fences nothing, and carries each position across the move and back', async () => {
    const { sink, address: orders, maxAbs, byEpoch } = await startSink();
    const feed = await startFeed();
    const a = await startEngine(feed.address, orders, fromPipeline);
    const b = await startEngine(feed.address, orders, toPipeline);

    // Nothing is owned: both engines decide on every trade and send nothing.
    await eventually(async () => (await status(b)).orders.unownedDecisions > 20 && (await status(a)).orders.unownedDecisions > 20, { timeoutMs: 10_000, what: 'unowned decisions on both engines' });
    expect(sink.counts.orders).toBe(0);

    await setOwnership(a, [
      { shard: 0, epoch: 1, symbols: shard0, positions: zeros(shard0) },
      { shard: 1, epoch: 1, symbols: shard1, positions: zeros(shard1) },
    ]);
    await eventually(() => (byEpoch.get('1@1') ?? 0) > 50, { timeoutMs: 10_000, what: 'orders of shard 1 from engine A' });

    // Break before make: A releases shard 1 and acknowledges its positions; B takes it at epoch 2 with them.
    const release = await setOwnership(a, [{ shard: 0, epoch: 1, symbols: shard0 }]);
    expect(release.released.map((shard) => [shard.shard, shard.epoch])).toEqual([[1, 1]]);
    const handed = release.released[0].positions;
    expect(Object.keys(handed).sort()).toEqual([...shard1].sort());
    await setOwnership(b, [{ shard: 1, epoch: 2, symbols: shard1, positions: handed }]);
    const statusB = await status(b);
    expect(statusB.ownership).toEqual({ mode: 'assigned', ownedSymbols: 2, shards: [{ shard: 1, epoch: 2, symbols: shard1 }] });
    await eventually(() => (byEpoch.get('1@2') ?? 0) > 50, { timeoutMs: 10_000, what: 'orders of shard 1 from engine B' });

    // And back to A at epoch 3.
    const back = await setOwnership(b, []);
    await setOwnership(a, [{ shard: 0, epoch: 1, symbols: shard0 }, { shard: 1, epoch: 3, symbols: shard1, positions: back.released[0].positions }]);
    await eventually(() => (byEpoch.get('1@3') ?? 0) > 50, { timeoutMs: 10_000, what: 'orders of shard 1 from engine A again' });

    await feed.stop();
    const [drainA, drainB] = await Promise.all([a.drain(), b.drain()]);
    await eventually(() => sink.counts.orders === drainA.ordersPublished + drainB.ordersPublished, { timeoutMs: 10_000, what: 'every published order at the gateway', context: () => JSON.stringify(sink.counts) });

    expect(sink.counts.duplicates).toBe(0);
    expect(sink.counts.staleEpoch).toBe(0);
    expect(sink.counts.lostOrders).toBe(0);
    // Shard 0 never moved; shard 1 was traded at epochs 1, 2, 3 and at nothing else.
    expect([...byEpoch.keys()].sort()).toEqual(['0@1', '1@1', '1@2', '1@3']);
    // The probe stays within one lot of flat only when the new owner starts from the position it inherited.
    for (const symbol of SYMBOLS) expect(maxAbs.get(symbolId(symbol)), symbol).toBe(1);
    // Engine B owned nothing before and after its turn: every decision it made then went nowhere.
    expect((await status(b)).orders.unownedDecisions).toBeGreaterThan(0);
  }, 60_000);
});

describe('a release the engine cannot confirm in time', () => {
  it('is refused, and acknowledged with its positions by the next request once its worker has caught up', async () => {
    const { address: orders } = await startSink();
    const feed = await startFeed();
    // Every trade decision busy-waits 5 ms on the one worker, and a release may take 20 ms: the worker falls behind.
    const engine = await startEngine(feed.address, orders, { layout: 'workers', workers: 1 }, {
      shutdown: { drainTimeoutMs: 20 },
      faultInjection: { extraLatencyMicros: 5_000 },
    });
    const address = engine.endpoints.control ?? '';
    const everything = [{ shard: 0, epoch: 1, symbols: SYMBOLS, positions: zeros(SYMBOLS) }];
    await setOwnership(engine, everything);
    await eventually(async () => (await status(engine)).orders.accepted > 3, { timeoutMs: 10_000, what: 'orders from the slow worker' });
    await feed.stop(); // the worker's backlog is what the release has to wait for

    const refused = await sendControl(address, ControlCommand.SetOwnership, { body: { shards: [] }, timeoutMs: 10_000 });
    expect(refused.status).toBe(ControlStatus.Rejected);
    expect((refused.body as { error: string }).error).toMatch(/^release not confirmed/);
    expect((await status(engine)).ownership.ownedSymbols).toBe(0); // no new decision for the released symbols

    // The same request again: the engine fences and flushes the unconfirmed release before it answers Ok.
    const answer = await eventually(async () => sendControl(address, ControlCommand.SetOwnership, { body: { shards: [] }, timeoutMs: 10_000 }), {
      until: (reply) => reply.status === ControlStatus.Ok, timeoutMs: 20_000, intervalMs: 200, what: 'the release confirmed',
    });
    const released = (answer.body as { released: Array<{ shard: number; epoch: number; positions: Record<string, number> }> }).released;
    expect(released.map((shard) => [shard.shard, shard.epoch])).toEqual([[0, 1]]);
    expect(Object.keys(released[0].positions).sort()).toEqual([...SYMBOLS].sort());
  }, 60_000);
});

describe('set-ownership refusals on a real engine', () => {
  it('refuses a bad grant, a stale epoch and a request without its body, changing nothing', async () => {
    const { address: orders } = await startSink();
    const feed = await startFeed();
    const engine = await startEngine(feed.address, orders, { layout: 'inline' });
    const address = engine.endpoints.control ?? '';
    await setOwnership(engine, [{ shard: 4, epoch: 7, symbols: ['AAPL'], positions: { AAPL: 0 } }]);

    const refused = async (body: unknown, error: string): Promise<void> => {
      const answer = await sendControl(address, ControlCommand.SetOwnership, { body });
      expect(answer).toEqual({ status: ControlStatus.Rejected, body: { error } });
    };
    await refused({ shards: [{ shard: 4, epoch: 6, symbols: ['AAPL'] }] }, 'shard 4: epoch 6 is older than the epoch 7 this engine owns it at');
    await refused({ shards: [{ shard: 4, epoch: 8, symbols: ['TSLA'] }] }, 'shards[0].symbols[0]: "TSLA" is not a symbol of this engine');
    await refused({ shards: [{ shard: 5, epoch: 1, symbols: ['MSFT'] }, { shard: 4, epoch: 7, symbols: ['AAPL'] }] }, 'shard 5: no position for symbol index 1, which this engine takes over');

    const noBody = await sendControl(address, ControlCommand.SetOwnership);
    expect(noBody.status).toBe(ControlStatus.Malformed);
    expect(noBody.body).toEqual({ error: 'set-ownership needs a JSON body as a second message part' });
    const withBody = await sendControl(address, ControlCommand.Status, { body: {} });
    expect(withBody).toEqual({ status: ControlStatus.Malformed, body: { error: 'status takes no body, got a second message part' } });

    expect((await status(engine)).ownership).toEqual({ mode: 'assigned', ownedSymbols: 1, shards: [{ shard: 4, epoch: 7, symbols: ['AAPL'] }] });
    await feed.stop();
  }, 30_000);
});
