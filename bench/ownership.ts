/**
 * `npm run bench:ownership [-- --json] [-- --quick]`: symbol ownership under moves, with real engine processes.
 *
 *   feed (PUB, this process) --> N x `nexus engine` (ownership.mode assigned, probe: one order per trade)
 *                                      --PUSH--> gateway (PULL, this process: fences by shard epoch, counts
 *                                                duplicate answers to one tick)
 *   coordinator (this process): the operator's own shard planner (operator/ownership/shard-plan.ts) and control
 *   effects (set-ownership over CURVE), its status kept in memory instead of the API server
 *
 * For N = 1, 2 and 4 engines (= shards), at a fixed feed rate: grant the shards, then move them again and again
 * (every `moveEveryMs` one engine is made ineligible in turn, so its shards go to the others, and back when it
 * returns), and account for every trade: answered once, answered twice (a duplicate), or not answered (no owner).
 * The hand-over gap of a shard is from the moment its release is sent to the moment its new owner acknowledges it.
 * Then, the same engines at the highest rate the feed can publish for `saturationSeconds`: ticks answered per
 * second (every engine also decides every tick in shadow, so more engines on this 2-core machine share the CPU).
 *
 * Baseline in the same run: the previous design, two engines under ownership.mode all (every replica trades every
 * symbol), whose duplicates the gateway counts the same way. The last line with --json is the report
 * (duplicateOrders, staleEpochAccepted, staleEpochRefused, handoffGapMs {p50, p99, max}, ticksWithoutOwner,
 * ticksPerSecond by shard count, baseline).
 *
 * What it leaves out: the operator's status write and watch delivery between a release and the grant (one API
 * round trip per move in the real operator); test/operator/rollout.test.ts covers that path for correctness.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { Publisher } from 'zeromq';
import { freePort, spawnNexus, waitForExit, waitForLine } from '../cli/lib/processes.ts';
import { monoNowNs } from '../engine/clock/monotonic.ts';
import { readControlClientKeys, writeControlKeys, type ControlClientKeys } from '../engine/control/control-keys.ts';
import { OrderSink } from '../engine/sim/order-sink.ts';
import { TickKind } from '../engine/wire/layout.ts';
import { symbolId } from '../engine/wire/symbol-id.ts';
import { TickFrameWriter } from '../engine/wire/tick-codec.ts';
import { createRolloutEffects, handOverShards } from '../operator/controller/rollout-effects.ts';
import { planShards, type EnginePod, type ShardRecord } from '../operator/ownership/shard-plan.ts';

const args = process.argv.slice(2);
const json = args.includes('--json');
const quick = args.includes('--quick');
const SYMBOLS = Array.from({ length: 16 }, (_, i) => `SYM${i}`);
const CHANNEL = 'md';
const RATE = 2_000;
const MOVE_SECONDS = quick ? 4 : 10;
const MOVE_EVERY_MS = 250;
const SATURATION_SECONDS = quick ? 2 : 3;
const SHARD_COUNTS = [1, 2, 4];

const log = (line: string): void => {
  if (json) process.stderr.write(`${line}\n`);
  else console.log(line);
};

interface EngineProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly address: string;
}

interface Lab {
  readonly dir: string;
  readonly keys: ControlClientKeys;
  readonly feedPort: number;
  readonly ordersPort: number;
  readonly feed: Publisher;
  readonly sink: OrderSink;
  readonly answered: Map<string, number>;
  /** Orders the gateway accepted below the newest epoch it had already accepted for their shard (observed here). */
  readonly staleAccepted: { count: number };
}

/** The feed's exchange timestamps: they only grow, as an engine requires per symbol (else `out_of_order`). */
let exchangeTs = 0;

/** Trades published, by key `symbolId:stamp`, with the time each was published (ms, monotonic). */
type Published = Map<string, number>;

async function startEngine(lab: Lab, name: string, mode: 'all' | 'assigned', book = 0): Promise<EngineProcess> {
  const controlPort = await freePort();
  const config = {
    symbols: SYMBOLS,
    indicators: [{ name: 'ema-5', type: 'ema', params: { period: 5 } }],
    strategies: [{ name: 'probe', type: 'probe', params: { orderQuantity: 1 } }],
    risk: { maxOrderQty: 1000, maxPosition: 1_000_000, maxNotional: 1e12, priceBandBps: 5000, ordersEnabled: true },
    zeromq: {
      endpoints: [
        { name: 'md', role: 'marketData', address: `tcp://127.0.0.1:${lab.feedPort}`, topics: [CHANNEL] },
        { name: 'orders', role: 'orders', address: `tcp://127.0.0.1:${lab.ordersPort}` },
        { name: 'control', role: 'control', bind: `tcp://127.0.0.1:${controlPort}` },
      ],
    },
    metrics: { port: 0, host: '127.0.0.1' },
    pipeline: { layout: 'inline' },
    warmupTicks: 5_000,
    ownership: { mode, book },
  };
  const file = join(lab.dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(config));
  const child = spawnNexus(['engine', '--config', file, '--control-keys', lab.dir]);
  await waitForLine(child, /Engine started/, 30_000);
  return { name, child, address: `tcp://127.0.0.1:${controlPort}` };
}

async function stopEngines(engines: readonly EngineProcess[]): Promise<void> {
  for (const engine of engines) engine.child.kill('SIGTERM');
  for (const engine of engines) if ((await waitForExit(engine.child, 10_000)) === null) engine.child.kill('SIGKILL');
}

/** Publishes one trade per symbol per frame at `rate` trades/s until `stop` resolves; returns what it published. */
async function publishAt(lab: Lab, rate: number, seconds: number, published: Published): Promise<void> {
  const writer = new TickFrameWriter(SYMBOLS.length);
  const frameEveryMs = (1000 * SYMBOLS.length) / rate;
  const ids = SYMBOLS.map((symbol) => symbolId(symbol));
  const started = performance.now();
  let sequence = 0;
  for (let frame = 0; performance.now() - started < seconds * 1000; frame++) {
    writer.begin(7, sequence);
    for (let i = 0; i < ids.length; i++) {
      const stamp = monoNowNs();
      writer.append(ids[i], TickKind.Trade, 100 + (frame % 13) * 0.01, 1, ++exchangeTs, stamp);
      published.set(`${ids[i]}:${stamp}`, performance.now());
    }
    sequence += ids.length;
    await lab.feed.send([Buffer.from(CHANNEL), writer.finish(monoNowNs())]);
    const due = started + (frame + 1) * frameEveryMs;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

/** Publishes as fast as the socket takes frames of 64 trades; returns how many trades. */
async function publishFlat(lab: Lab, seconds: number): Promise<number> {
  const writer = new TickFrameWriter(64);
  const ids = SYMBOLS.map((symbol) => symbolId(symbol));
  const started = performance.now();
  let sequence = 0;
  let frames = 0;
  while (performance.now() - started < seconds * 1000) {
    writer.begin(9, sequence);
    for (let i = 0; i < 64; i++) writer.append(ids[i % ids.length], TickKind.Trade, 100 + (i % 7) * 0.01, 1, ++exchangeTs, monoNowNs());
    sequence += 64;
    await lab.feed.send([Buffer.from(CHANNEL), writer.finish(monoNowNs())]);
    if (++frames % 16 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  return sequence;
}

async function quiet(lab: Lab): Promise<void> {
  let last = -1;
  while (lab.sink.counts.orders !== last) {
    last = lab.sink.counts.orders;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

/**
 * The coordinator: the operator's planner and effects in a loop, its status in memory. Each round is one
 * reconcile: commands (releases, grants of reservations committed in an earlier round), their answers, the new
 * records (committed at once); a round follows at once while a shard is between owners, else every 20 ms.
 */
class Coordinator {
  records: ShardRecord[] = [];
  readonly gapsMs: number[] = [];
  private readonly releasedAt = new Map<number, number>();
  private readonly effects = createRolloutEffects();
  ineligible: string | undefined;

  constructor(private readonly engines: readonly EngineProcess[], private readonly keys: ControlClientKeys) {}

  pods(): EnginePod[] {
    return this.engines.map((engine) => ({ name: engine.name, uid: engine.name, restarts: 0, revision: 'r', address: engine.address, eligible: engine.name !== this.ineligible }));
  }

  async round(): Promise<boolean> {
    const input = { symbols: SYMBOLS, shardCount: this.engines.length, revisionsFor: () => ['r'], pods: this.pods(), records: this.records, nowMs: Date.now(), releaseTimeoutMs: 30_000 };
    let plan = planShards(input);
    if (plan.kind === 'commands') {
      for (const command of plan.commands) for (const shard of command.releasing) this.releasedAt.set(shard, performance.now());
      const outcomes = await handOverShards(this.effects, { commands: plan.commands, timeoutMs: 7_000 }, this.keys);
      const answeredAt = performance.now();
      for (const command of plan.commands) {
        if (outcomes.find((outcome) => outcome.pod === command.pod)?.ok !== true) continue;
        for (const shard of command.acquiring) {
          const from = this.releasedAt.get(shard);
          if (from !== undefined) this.gapsMs.push(answeredAt - from);
          this.releasedAt.delete(shard);
        }
      }
      plan = planShards({ ...input, outcomes });
    }
    if (plan.kind !== 'settled') throw new Error('a pass with answers settles');
    this.records = [...plan.records];
    return plan.moving;
  }

  async settle(): Promise<void> {
    for (let i = 0; i < 20; i++) if (!(await this.round())) return;
    throw new Error(`shards still moving: ${JSON.stringify(this.records)}`);
  }
}

interface ShardRun {
  readonly shards: number;
  readonly trades: number;
  readonly answered: number;
  readonly duplicateOrders: number;
  readonly staleEpochRefused: number;
  readonly ticksWithoutOwner: number;
  readonly moves: number;
  readonly gapsMs: readonly number[];
  readonly ticksPerSecond: number;
  readonly feedTicksPerSecond: number;
}

async function runShards(lab: Lab, shards: number): Promise<ShardRun> {
  const engines: EngineProcess[] = [];
  try {
    // Each run is its own TradingEngine: its own book, so the gateway keeps its shard epochs apart from the others'.
    for (let i = 0; i < shards; i++) engines.push(await startEngine(lab, `engine-${shards}-${i}`, 'assigned', 100 + shards));
    const coordinator = new Coordinator(engines, lab.keys);
    await coordinator.settle();
    const before = { ...lab.sink.counts };
    lab.answered.clear();
    const published: Published = new Map();
    // Moves: every MOVE_EVERY_MS another engine becomes ineligible (its shards move away) and the last one returns.
    let moving = true;
    const mover = (async () => {
      let turn = 0;
      while (moving) {
        if (shards > 1) coordinator.ineligible = engines[turn++ % shards].name;
        await coordinator.settle();
        await new Promise((resolve) => setTimeout(resolve, MOVE_EVERY_MS));
      }
      coordinator.ineligible = undefined;
      await coordinator.settle();
    })();
    await publishAt(lab, RATE, MOVE_SECONDS, published);
    moving = false;
    await mover;
    await quiet(lab);
    let withoutOwner = 0;
    for (const key of published.keys()) if (!lab.answered.has(key)) withoutOwner++;
    const duplicateOrders = lab.sink.counts.duplicates - before.duplicates;
    const staleEpochRefused = lab.sink.counts.staleEpoch - before.staleEpoch;
    // Saturation: as fast as the feed publishes, every engine deciding every tick.
    const answeredBefore = lab.sink.counts.orders;
    const started = performance.now();
    const flat = await publishFlat(lab, SATURATION_SECONDS);
    const publishSeconds = (performance.now() - started) / 1000;
    await quiet(lab);
    const answered = lab.sink.counts.orders - answeredBefore;
    const seconds = (performance.now() - started) / 1000;
    return {
      shards, trades: published.size, answered: published.size - withoutOwner, duplicateOrders, staleEpochRefused, ticksWithoutOwner: withoutOwner,
      moves: coordinator.gapsMs.length, gapsMs: coordinator.gapsMs, ticksPerSecond: Math.round(answered / seconds), feedTicksPerSecond: Math.round(flat / publishSeconds),
    };
  } finally {
    await stopEngines(engines);
  }
}

async function runBaseline(lab: Lab): Promise<{ engines: number; trades: number; orders: number; duplicateOrders: number }> {
  const engines = [await startEngine(lab, 'legacy-0', 'all'), await startEngine(lab, 'legacy-1', 'all')];
  try {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const before = { ...lab.sink.counts };
    const published: Published = new Map();
    await publishAt(lab, RATE, quick ? 2 : 4, published);
    await quiet(lab);
    return { engines: 2, trades: published.size, orders: lab.sink.counts.orders - before.orders, duplicateOrders: lab.sink.counts.duplicates - before.duplicates };
  } finally {
    await stopEngines(engines);
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'nexus-bench-ownership-'));
  writeControlKeys(dir);
  const feedPort = await freePort();
  const ordersPort = await freePort();
  const feed = new Publisher({ sendHighWaterMark: 100_000, linger: 0 });
  await feed.bind(`tcp://127.0.0.1:${feedPort}`);
  const sink = new OrderSink({ ordersBind: `tcp://127.0.0.1:${ordersPort}`, clockNs: monoNowNs, detectDuplicates: true });
  await sink.open();
  const answered = new Map<string, number>();
  const staleAccepted = { count: 0 };
  const newestAccepted = new Map<number, number>();
  sink.onOrder = (order) => {
    const key = `${order.symbolId}:${order.tickPublishMonoNs}`;
    answered.set(key, (answered.get(key) ?? 0) + 1);
    // Watched independently of the gateway's fence: an accepted order of an epoch older than one already accepted.
    const shardKey = order.book * 0x10000 + order.shard;
    const newest = newestAccepted.get(shardKey) ?? 0;
    if (order.shardEpoch !== 0 && order.shardEpoch < newest) staleAccepted.count++;
    if (order.shardEpoch > newest) newestAccepted.set(shardKey, order.shardEpoch);
  };
  const sinkLoop = sink.run();
  const lab: Lab = { dir, keys: readControlClientKeys(dir), feedPort, ordersPort, feed, sink, answered, staleAccepted };
  try {
    log(`Ownership under moves: ${SYMBOLS.length} symbols, probe (one order per trade), ${RATE} trades/s, a move every ${MOVE_EVERY_MS} ms for ${MOVE_SECONDS} s`);
    const baseline = await runBaseline(lab);
    log(`baseline (every replica trades every symbol, 2 engines): ${baseline.trades} trades -> ${baseline.orders} orders, ${baseline.duplicateOrders} duplicates`);
    const runs: ShardRun[] = [];
    for (const shards of SHARD_COUNTS) {
      const run = await runShards(lab, shards);
      runs.push(run);
      const sorted = [...run.gapsMs].sort((a, b) => a - b);
      log(
        `shards=${shards}: ${run.trades} trades, ${run.moves} moves, duplicates ${run.duplicateOrders}, stale refused ${run.staleEpochRefused}, ` +
          `without owner ${run.ticksWithoutOwner}, gap p50 ${percentile(sorted, 0.5).toFixed(1)} ms p99 ${percentile(sorted, 0.99).toFixed(1)} ms max ${(sorted.at(-1) ?? 0).toFixed(1)} ms; ` +
          `saturated: ${run.ticksPerSecond} ticks/s answered (feed offered ${run.feedTicksPerSecond}/s)`,
      );
    }
    const gaps = runs.flatMap((run) => run.gapsMs).sort((a, b) => a - b);
    const round = (ms: number): number => Math.round(ms * 10) / 10;
    const report = {
      bench: 'ownership',
      symbols: SYMBOLS.length,
      rate: RATE,
      duplicateOrders: runs.reduce((sum, run) => sum + run.duplicateOrders, 0),
      staleEpochAccepted: staleAccepted.count,
      staleEpochRefused: runs.reduce((sum, run) => sum + run.staleEpochRefused, 0),
      handoffGapMs: { p50: round(percentile(gaps, 0.5)), p99: round(percentile(gaps, 0.99)), max: round(gaps.at(-1) ?? 0), moves: gaps.length },
      ticksWithoutOwner: runs.reduce((sum, run) => sum + run.ticksWithoutOwner, 0),
      trades: runs.reduce((sum, run) => sum + run.trades, 0),
      ticksPerSecond: Object.fromEntries(runs.map((run) => [String(run.shards), run.ticksPerSecond])),
      baseline: { design: 'every replica trades every symbol', engines: baseline.engines, trades: baseline.trades, orders: baseline.orders, duplicateOrders: baseline.duplicateOrders },
    };
    log(`duplicates: ${report.duplicateOrders} with ownership vs ${baseline.duplicateOrders} for the baseline; hand-over gap p99 ${report.handoffGapMs.p99} ms (target < 50 ms)`);
    console.log(JSON.stringify(report));
  } finally {
    sink.close();
    await sinkLoop.catch(() => undefined);
    feed.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
