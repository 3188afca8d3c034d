import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Publisher, Pull, Subscriber } from 'zeromq';
import { monoNowNs } from '../clock/monotonic.ts';
import { ConfigError } from '../config-error.ts';
import { parseEngineConfig, type EndpointRole } from '../config/engine-config.ts';
import { sendControl } from '../control/control-client.ts';
import { loadStrategyModules } from '../strategy/strategy-modules.ts';
import type { WorkersPipeline } from '../pipeline/workers-pipeline.ts';
import { denyReasonNames } from '../risk/risk-engine.ts';
import { ControlCommand, ControlStatus, TickKind } from '../wire/layout.ts';
import { symbolId } from '../wire/symbol-id.ts';
import { TickFrameWriter } from '../wire/tick-codec.ts';
import { Engine } from './engine.ts';

/**
 * A real Engine in this process, on real ZeroMQ sockets on loopback, against docs/wire.md: the body of the control
 * `Status` answer has exactly the fields of the spec's "Status body" table, with their types, and the engine's
 * sockets take the sides the spec's "Which side binds" table allows. Adding or removing a status field without
 * the table fails here.
 */

const doc = readFileSync(new URL('../../docs/wire.md', import.meta.url), 'utf8');

/** The rows of the first table under `## heading` or `### heading`, as cells without backticks. */
function tableRows(heading: string): string[][] {
  const section = doc.split(new RegExp(`\\n#{2,3} ${heading}\\n`))[1]?.split(/\n#{2,3} /)[0] ?? '';
  const lines = section.split('\n').filter((line) => line.startsWith('|'));
  expect(lines.length, `docs/wire.md has a table under "${heading}"`).toBeGreaterThan(2);
  return lines.slice(2).map((line) => line.slice(1, -1).split('|').map((cell) => cell.trim().replace(/`/g, '')));
}

interface FieldRow {
  readonly type: string;
  readonly present: string;
  readonly meaning: string;
}

const statusRows = new Map<string, FieldRow>(tableRows('Status body').map(([field, type, present, meaning]) => [field, { type, present, meaning }]));

/**
 * Every field of `body` by its documented path. A map's keys are names, not fields: a map of numbers is one field;
 * the entries of a map of objects are read under the `<name>` placeholder of its rows (`rings.<ring>.dropped`).
 */
function fieldsOf(body: unknown, prefix = '', out = new Map<string, unknown>()): Map<string, unknown> {
  const type = statusRows.get(prefix)?.type;
  if (type === 'map of number' || type === 'list of string') return out;
  if (type === 'list of object') {
    for (const item of body as unknown[]) fieldsOf(item, `${prefix}[]`, out);
    return out;
  }
  const placeholder = type === 'map of object'
    ? [...statusRows.keys()].find((path) => path.startsWith(`${prefix}.<`))?.slice(prefix.length + 1).split('.')[0]
    : undefined;
  for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
    if (placeholder !== undefined) {
      fieldsOf(value, `${prefix}.${placeholder}`, out);
      continue;
    }
    const path = prefix === '' ? key : `${prefix}.${key}`;
    out.set(path, value);
    if (typeof value === 'object' && value !== null) fieldsOf(value, path, out);
  }
  return out;
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case 'boolean': return typeof value === 'boolean';
    case 'number': return typeof value === 'number' && Number.isFinite(value);
    case 'string': return typeof value === 'string';
    case 'number or null': return value === null || (typeof value === 'number' && Number.isFinite(value));
    case 'object': case 'map of object': return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'list of object': return Array.isArray(value) && value.every((item) => typeof item === 'object' && item !== null && !Array.isArray(item));
    case 'list of string': return Array.isArray(value) && value.every((item) => typeof item === 'string');
    case 'map of number':
      return typeof value === 'object' && value !== null && Object.values(value).every((n) => typeof n === 'number' && n > 0);
    default: throw new Error(`docs/wire.md status body: unknown type "${type}"`);
  }
}

/** Checks one status body against the table; returns its documented paths. */
function expectDocumented(
  body: unknown,
  conditions: { readonly unhealthy: boolean; readonly workers: boolean; readonly warm: boolean; readonly scans?: boolean; readonly gpu?: boolean },
): string[] {
  const fields = fieldsOf(body);
  for (const [path, value] of fields) {
    const row = statusRows.get(path);
    expect(row, `status field ${path} is in the docs/wire.md table`).toBeDefined();
    expect(hasType(value, row?.type ?? ''), `status field ${path} = ${JSON.stringify(value)} is a ${row?.type}`).toBe(true);
  }
  for (const [path, row] of statusRows) {
    if (row.present === 'per shard' || row.present === 'per strategy' || row.present === 'once disabled') continue; // checked where a list holds them, above
    const expected = row.present === 'always' || (row.present === 'while unhealthy' && conditions.unhealthy) ||
      (row.present === 'workers layout' && conditions.workers) || (row.present === 'when warm' && conditions.warm) ||
      (row.present === 'on gpu' && conditions.gpu === true) || (row.present === 'warm, with scans' && conditions.warm && conditions.scans === true) ||
      (row.present === 'with scans' && conditions.scans === true);
    expect(fields.has(path), `status field ${path} (${row.present}) in a body ${JSON.stringify(conditions)}`).toBe(expected);
  }
  return [...fields.keys()];
}

const SYMBOLS = ['AAPL', 'MSFT'];
const scratchDir = mkdtempSync(join(tmpdir(), 'nexus-wire-'));
afterAll(() => rmSync(scratchDir, { recursive: true, force: true }));

/** A tick CSV history file with these rows. */
function historyFile(rows: readonly string[]): string {
  const path = join(scratchDir, 'history.csv');
  writeFileSync(path, ['exchange_ts_ns,symbol,kind,price,size', ...rows].join('\n'));
  return path;
}
const opened: Array<{ close(): void }> = [];
const engines: Engine[] = [];

afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.stop()));
  for (const socket of opened.splice(0)) socket.close();
});

async function bound<T extends Publisher | Pull | Subscriber>(socket: T): Promise<{ socket: T; address: string }> {
  opened.push(socket);
  await socket.bind('tcp://127.0.0.1:*');
  return { socket, address: socket.lastEndpoint ?? '' };
}

async function startEngine(endpoints: ReadonlyArray<Record<string, unknown>>, pipeline: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<Engine> {
  const config = parseEngineConfig({
    symbols: SYMBOLS,
    indicators: [{ name: 'ema-5', type: 'ema', params: { period: 5 } }],
    strategies: [{ name: 'probe', type: 'probe', params: { orderQuantity: 1 } }],
    risk: { maxOrderQty: 10, maxPosition: 100, maxNotional: 1_000_000, priceBandBps: 1000, ordersEnabled: true },
    zeromq: { endpoints },
    metrics: { port: 0, host: '127.0.0.1' },
    pipeline,
    warmupTicks: 0,
    shutdown: { drainTimeoutMs: 1_000 },
    ...extra,
  });
  await loadStrategyModules(config.strategies);
  const engine = new Engine({ config, clockNs: monoNowNs, log: () => undefined });
  engines.push(engine);
  await engine.start();
  return engine;
}

/** A feed on one PUB socket: trades of AAPL on its symbol topic, one stream, sequences from 0. */
function feedOn(socket: Publisher) {
  const writer = new TickFrameWriter(8);
  let sequence = 0;
  let exchangeTs = 1;
  return async (ticks: ReadonlyArray<readonly [number, number]> = [[TickKind.Trade, 100]]): Promise<void> => {
    writer.begin(3, sequence);
    for (const [kind, price] of ticks) writer.append(symbolId('AAPL'), kind, price, 1, exchangeTs++, monoNowNs());
    sequence += ticks.length;
    await socket.send([Buffer.from('AAPL'), writer.finish(monoNowNs())]);
  };
}

async function status(engine: Engine): Promise<Record<string, unknown>> {
  const answer = await sendControl(engine.endpoints.control ?? '', ControlCommand.Status, { timeoutMs: 5_000 });
  expect(answer.status).toBe(ControlStatus.Ok);
  return answer.body as Record<string, unknown>;
}

/** Publishes until `check` holds: PUB/SUB joins asynchronously, so nothing here depends on join timing. */
async function until(check: () => Promise<boolean>, publish?: () => Promise<void>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await publish?.();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Publishes until `socket` (with a short receiveTimeout) receives a message of `parts` parts; returns it. */
async function receiveWhilePublishing(socket: Pull | Subscriber, publish: () => Promise<void>, parts: number): Promise<Buffer[]> {
  let message: Buffer[] = [];
  await until(async () => {
    message = await socket.receive().catch(() => []);
    return message.length === parts;
  }, publish);
  return message;
}

describe('docs/wire.md, Status body', () => {
  it('names every deny reason risk can count, and gives the reject counts as maps of numbers', () => {
    const denied = statusRows.get('orders.deniedByReason')?.meaning ?? '';
    for (const name of denyReasonNames.slice(1)) expect(denied).toContain(name);
    expect(statusRows.get('framesRejected')?.type).toBe('map of number');
    expect(statusRows.get('ticksRejected')?.type).toBe('map of number');
  });

  it('is the body of a real inline engine, with counts in every map (engine connects market data and orders, binds signals and control)', async () => {
    const feed = await bound(new Publisher());
    const gateway = await bound(new Pull({ receiveTimeout: 200 }));
    const engine = await startEngine([
      { name: 'md', role: 'marketData', address: feed.address },
      { name: 'orders', role: 'orders', address: gateway.address },
      { name: 'signals', role: 'signals', bind: 'tcp://127.0.0.1:*' },
      { name: 'control', role: 'control', bind: 'tcp://127.0.0.1:*' },
    ], { layout: 'inline' });
    const signals = new Subscriber({ receiveTimeout: 200 });
    opened.push(signals);
    signals.connect(engine.endpoints.signals ?? '');
    signals.subscribe('signals');

    const publish = feedOn(feed.socket);
    const [order] = await receiveWhilePublishing(gateway.socket, () => publish(), 1);
    expect([order[0], order[1]]).toEqual([2, 3]); // an order frame (wire version 2) reached the gateway the engine connected to
    const [topic] = await receiveWhilePublishing(signals, () => publish(), 2);
    expect(topic.toString()).toBe('signals'); // [topic][signal frame] reached the consumer that connected

    // Fill the maps: a tick with a bad price, a truncated frame, and a trade while orders are off.
    await publish([[TickKind.Trade, Number.NaN]]);
    await feed.socket.send([Buffer.from('AAPL'), Buffer.alloc(10, 1)]);
    expect((await sendControl(engine.endpoints.control ?? '', ControlCommand.OrdersOff)).status).toBe(ControlStatus.Ok);
    await publish();
    await until(async () => {
      const body = await status(engine);
      const orders = body.orders as { deniedByReason: Record<string, number> };
      return Object.keys(body.ticksRejected as object).length > 0 && Object.keys(body.framesRejected as object).length > 0 &&
        Object.keys(orders.deniedByReason).length > 0;
    });

    const body = await status(engine);
    expectDocumented(body, { unhealthy: false, workers: false, warm: false });
    expect(body.ticksRejected).toEqual({ bad_price: 1 });
    expect(body.framesRejected).toEqual({ truncated: 1 });
    expect((body.orders as { deniedByReason: unknown }).deniedByReason).toEqual({ orders_disabled: 1 });
    expect([body.layout, body.ordersEnabled, body.healthy, body.killSwitch]).toEqual(['inline', false, true, false]);
    expect((body.latency as { samples: number }).samples).toBeGreaterThan(0);
  });

  it('is the body of a real workers engine trading an assigned shard, with its rings, and names the failure once a worker fails (engine binds market data and orders, connects signals)', async () => {
    const signals = await bound(new Subscriber({ receiveTimeout: 200 }));
    signals.socket.subscribe('signals');
    const engine = await startEngine([
      { name: 'md', role: 'marketData', bind: 'tcp://127.0.0.1:*' },
      { name: 'orders', role: 'orders', bind: 'tcp://127.0.0.1:*' },
      { name: 'signals', role: 'signals', address: signals.address },
      { name: 'control', role: 'control', bind: 'tcp://127.0.0.1:*' },
    ], { layout: 'workers', workers: 2, ringCapacity: 1024 }, {
      ownership: { mode: 'assigned' },
      // A strategy module that throws at its first trade: the body reports it disabled, with the worker's reason.
      strategies: [{ name: 'probe', type: 'probe', params: { orderQuantity: 1 } }, { name: 'faulty', module: fileURLToPath(new URL('../strategy/fixtures/throws-at-once.mjs', import.meta.url)) }],
      // Warm-started from a few trades (docs/warm-start.md), so the body has the warm start's figures.
      history: { path: historyFile(['1,AAPL,trade,100,1', '2,MSFT,trade,50,2', '3,AAPL,trade,100.5,1']), strategyReplayTrades: 0, onError: 'coldStart' },
      // Scans with a correlation on the gpu backend (whatever adapter answers: llvmpipe in CI), so the body names it.
      scans: { barIntervalMs: 1000, panelBars: 8, indicators: ['ema-5'], correlation: { symbols: 2, window: 2 }, topSymbols: 1 },
      backend: 'gpu',
    });
    const granted = await sendControl(engine.endpoints.control ?? '', ControlCommand.SetOwnership, {
      body: { shards: [{ shard: 3, epoch: 1, symbols: SYMBOLS, positions: { AAPL: 0, MSFT: 0 } }] },
    });
    expect(granted.status).toBe(ControlStatus.Ok);
    const feed = new Publisher();
    opened.push(feed);
    feed.connect(engine.endpoints.marketData ?? '');
    const gateway = new Pull({ receiveTimeout: 200 });
    opened.push(gateway);
    gateway.connect(engine.endpoints.orders ?? '');

    const publish = feedOn(feed);
    const [order] = await receiveWhilePublishing(gateway, () => publish(), 1);
    expect([order[0], order[1]]).toEqual([2, 3]); // an order frame (wire version 2) reached a gateway that connected to the engine
    expect([order.readUInt32LE(24 + 48), order.readUInt16LE(24 + 52)]).toEqual([1, 3]); // stamped with its shard's epoch and the shard
    const [topic] = await receiveWhilePublishing(signals.socket, () => publish(), 2);
    expect(topic.toString()).toBe('signals'); // signals reached the consumer the engine connected to

    await until(async () => ((await status(engine)).strategies as Array<{ reason?: string }>)[1]?.reason !== undefined);
    const healthy = await status(engine);
    expect(healthy.strategies).toEqual([
      { name: 'probe', origin: 'probe', enabled: true, faults: 0 },
      { name: 'faulty', origin: expect.stringMatching(/^module .*throws-at-once\.mjs$/), enabled: false, faults: 1, reason: 'Error: deliberate failure at the first trade' },
    ]);
    const paths = expectDocumented(healthy, { unhealthy: false, workers: true, warm: true, scans: true, gpu: true });
    expect(healthy.indicatorBackend).toMatchObject({ requested: 'gpu', backend: 'gpu', reason: 'as configured' });
    expect(Object.keys(healthy.rings as object)).toEqual(['input-0', 'output-0', 'input-1', 'output-1']);

    // A worker thread that exits makes the engine unhealthy for good; the body then names the failure.
    await (engine as unknown as { pipeline: WorkersPipeline }).pipeline.threads[1]?.terminate();
    await until(async () => (await status(engine)).healthy === false);
    const failed = await status(engine);
    paths.push(...expectDocumented(failed, { unhealthy: true, workers: true, warm: true, scans: true, gpu: true }));
    expect(failed.failure).toBe('pipeline worker 1 failed');
    expect(failed.ready).toBe(false);
    // Between them, these two bodies show every row of the table.
    expect([...statusRows.keys()].filter((path) => !paths.includes(path))).toEqual([]);
  });
});

describe('docs/wire.md, Which side binds', () => {
  const sides = new Map(tableRows('Which side binds').map(([role, socket, may]) => [role as EndpointRole, { socket, may }]));
  const document = (endpoint: Record<string, unknown>): unknown => ({
    symbols: SYMBOLS,
    zeromq: {
      endpoints: [
        { name: 'md', role: 'marketData', address: 'tcp://127.0.0.1:1' },
        { name: 'orders', role: 'orders', address: 'tcp://127.0.0.1:2' },
      ].filter((other) => other.role !== endpoint.role).concat([endpoint as never]),
    },
  });
  const accepts = (endpoint: Record<string, unknown>): boolean => {
    try {
      parseEngineConfig(document(endpoint));
      return true;
    } catch (error) {
      if (error instanceof ConfigError) return false;
      throw error;
    }
  };

  it.each(['marketData', 'orders', 'signals', 'control'] as const)('lets the engine config take the sides the table gives %s', (role) => {
    const row = sides.get(role);
    expect(row, `docs/wire.md lists role ${role}`).toBeDefined();
    const mayConnect = row?.may === 'connect or bind';
    expect(mayConnect || row?.may === 'bind only').toBe(true);
    expect(accepts({ name: 'x', role, bind: 'tcp://127.0.0.1:5999' })).toBe(true);
    expect(accepts({ name: 'x', role, bindPort: 5999 })).toBe(true);
    expect(accepts({ name: 'x', role, address: 'tcp://127.0.0.1:5999' })).toBe(mayConnect);
  });
});
