import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { monoNowNs } from '../../engine/clock/monotonic.ts';
import { LatencyHistogram } from '../../engine/metrics/latency-histogram.ts';
import { sendControl } from '../../engine/control/control-client.ts';
import { readControlClientKeys, writeControlKeys } from '../../engine/control/control-keys.ts';
import { OrderSink } from '../../engine/sim/order-sink.ts';
import { ControlCommand, Side } from '../../engine/wire/layout.ts';
import { symbolId } from '../../engine/wire/symbol-id.ts';
import { flag, helpText, num, parseArgs, str, type OptionSpec } from '../lib/args.ts';
import { latencySummary } from '../lib/latency-summary.ts';
import { freePort, spawnNexus, waitForExit, waitForLine } from '../lib/processes.ts';
import { standardIndicators } from '../../engine/config/presets.ts';

const options = {
  duration: { type: 'integer', help: 'seconds of market data', default: 10 },
  rate: { type: 'integer', help: 'ticks per second', default: 20_000 },
  symbols: { type: 'string', help: 'comma-separated symbols', default: 'AAPL,MSFT,NVDA,AMZN,GOOG,META,TSLA,AMD' },
  layout: { type: 'string', help: 'pipeline layout: inline or workers', default: 'inline' },
  help: { type: 'boolean', help: 'show this help' },
} satisfies Record<string, OptionSpec>;

export const demoHelp = helpText(
  'nexus engine-demo [options]',
  'Runs the whole engine path on this machine with no cluster: a market-data simulator (process), an engine\n' +
    '(process) and an order/signal sink (this process), all over real ZeroMQ sockets on loopback. Prints tick\n' +
    'rate, tick-to-order latency, signals and orders every second, then drains the engine and ends by itself.',
  options,
);

/** The demo's engine: eight indicators, three real strategies, risk limits that bite now and then. */
export function demoEngineConfig(symbols: readonly string[], ports: Record<string, number>, layout: string): object {
  return {
    symbols,
    indicators: standardIndicators,
    strategies: [
      { name: 'macd-cross', type: 'macdCross', indicators: ['macd'], params: { orderQuantity: 10 } },
      { name: 'rsi-reversion', type: 'rsiReversion', indicators: ['rsi-14'], params: { orderQuantity: 5, oversold: 25, overbought: 75 } },
      { name: 'bb-breakout', type: 'bollingerBreakout', indicators: ['bb-20'], params: { orderQuantity: 5 } },
    ],
    risk: { maxOrderQty: 100, maxPosition: 200, maxNotional: 250_000, priceBandBps: 200, ordersEnabled: true },
    zeromq: {
      endpoints: [
        { name: 'md', role: 'marketData', address: `tcp://127.0.0.1:${ports.feed}` },
        { name: 'orders', role: 'orders', address: `tcp://127.0.0.1:${ports.orders}` },
        { name: 'signals', role: 'signals', bind: `tcp://127.0.0.1:${ports.signals}` },
        { name: 'control', role: 'control', bind: `tcp://127.0.0.1:${ports.control}` },
      ],
    },
    metrics: { port: ports.metrics, host: '127.0.0.1' },
    pipeline: { layout },
  };
}

export async function demoCommand(argv: readonly string[]): Promise<number> {
  const values = parseArgs(argv, options);
  if (flag(values, 'help')) {
    console.log(demoHelp);
    return 0;
  }
  const symbols = (str(values, 'symbols') ?? '').split(',').filter((s) => s.length > 0);
  const duration = num(values, 'duration');
  const rate = num(values, 'rate');
  const ports = { feed: await freePort(), orders: await freePort(), signals: await freePort(), control: await freePort(), metrics: await freePort() };
  const dir = mkdtempSync(join(tmpdir(), 'nexus-demo-'));
  const configPath = join(dir, 'engine.yaml');
  writeFileSync(configPath, stringify(demoEngineConfig(symbols, ports, str(values, 'layout') ?? 'inline')));
  const nameById = new Map(symbols.map((symbol) => [symbolId(symbol), symbol]));
  const control = `tcp://127.0.0.1:${ports.control}`;
  // The control socket runs CURVE as it does under the operator: a key set made for this run.
  const keysDir = join(dir, 'control-keys');
  writeControlKeys(keysDir);
  const controlOptions = { timeoutMs: 3_000, keys: readControlClientKeys(keysDir) };

  console.log(`Nexus demo: ${symbols.length} symbols, ${rate} ticks/s for ${duration} s, engine config ${configPath}`);
  const sink = new OrderSink({ ordersBind: `tcp://127.0.0.1:${ports.orders}`, signalsConnect: [`tcp://127.0.0.1:${ports.signals}`], clockNs: monoNowNs });
  await sink.open();
  const interval = new LatencyHistogram();
  let lastOrder = '';
  sink.onOrder = (order) => {
    interval.record(Math.max(1, monoNowNs() - order.tickPublishMonoNs));
    lastOrder = `${order.side === Side.Buy ? 'BUY ' : 'SELL'} ${order.quantity} ${nameById.get(order.symbolId) ?? order.symbolId} @ ${order.price.toFixed(2)}`;
  };
  const sinkLoop = sink.run();

  const engine = spawnNexus(['engine', '--config', configPath, '--control-keys', keysDir]);
  const engineLog: string[] = [];
  engine.stdout?.on('data', (chunk: Buffer) => engineLog.push(...chunk.toString().trimEnd().split('\n')));
  engine.stderr?.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  let feed: ReturnType<typeof spawnNexus> | undefined;
  let exitCode = 0;
  try {
    console.log(await waitForLine(engine, /Engine started/, 30_000).then((line) => line.replace(/^\S+ /, '  ')));
    feed = spawnNexus([
      'feed', '--bind', `tcp://127.0.0.1:${ports.feed}`, '--symbols', symbols.join(','), '--rate', String(rate),
      '--duration', String(duration), '--quiet',
    ]);
    feed.stderr?.on('data', (chunk: Buffer) => process.stderr.write(chunk));
    const feedExit = waitForExit(feed, (duration + 30) * 1000);

    console.log('\n  time  ticks/s   e2e p50 µs  e2e p99 µs  engine p99 µs  signals   orders  denied  last order');
    let previousTicks = 0;
    let feedDone = false;
    void feedExit.then(() => {
      feedDone = true;
    });
    for (let second = 1; !feedDone || second <= 1; second++) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const status = (await sendControl(control, ControlCommand.Status, controlOptions)).body as EngineStatusView;
      const ticks = status.ticks.received;
      const window = latencySummary(interval);
      interval.reset();
      console.log(
        `  ${String(second).padStart(3)}s ${String(ticks - previousTicks).padStart(8)} ${window.p50Micros.toFixed(1).padStart(12)} ` +
          `${window.p99Micros.toFixed(1).padStart(11)} ${(status.latency.p99Micros ?? 0).toFixed(1).padStart(14)} ` +
          `${String(status.signals).padStart(8)} ${String(status.orders.accepted).padStart(8)} ${String(status.orders.denied).padStart(7)}  ${lastOrder}`,
      );
      previousTicks = ticks;
    }
    const feedCode = await feedExit;
    await new Promise((resolve) => setTimeout(resolve, 300)); // the last frames reach the engine and the sink
    const final = (await sendControl(control, ControlCommand.Status, controlOptions)).body as EngineStatusView;
    engine.kill('SIGTERM');
    const engineCode = await waitForExit(engine, 15_000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const total = latencySummary(sink.orderLatency);
    console.log('\nSummary');
    console.log(`  ticks: received ${final.ticks.received}, accepted ${final.ticks.accepted}, lost ${final.ticks.lost}, rejected ${JSON.stringify(final.ticksRejected)}`);
    console.log(`  signals: ${final.signals}; orders: accepted ${final.orders.accepted}, denied ${final.orders.denied} ${JSON.stringify(final.orders.deniedByReason)}`);
    console.log(`  orders received by the sink: ${sink.counts.orders} (buys ${sink.counts.buys}, sells ${sink.counts.sells}), lost ${sink.counts.lostOrders}`);
    console.log(`  tick-to-order at the sink (feed -> engine -> sink, 2 ZeroMQ hops): p50 ${total.p50Micros} µs, p99 ${total.p99Micros} µs, p99.9 ${total.p999Micros} µs, max ${total.maxMicros} µs`);
    console.log(`  engine drained on SIGTERM: exit ${engineCode}${engineLog.filter((l) => l.includes('Engine drained')).map((l) => l.replace(/^\S+ Engine drained/, ';')).join('')}`);
    if (feedCode !== 0 || engineCode !== 0 || sink.counts.orders !== final.orders.accepted) exitCode = 1;
    if (sink.counts.orders !== final.orders.accepted) {
      console.log(`  MISMATCH: engine accepted ${final.orders.accepted} orders, sink received ${sink.counts.orders}`);
    }
  } catch (error) {
    console.error(`Demo failed: ${(error as Error).message}\nEngine log:\n${engineLog.join('\n')}`);
    exitCode = 1;
  } finally {
    feed?.kill('SIGKILL');
    if (engine.exitCode === null) engine.kill('SIGKILL');
    sink.close();
    await sinkLoop.catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
  return exitCode;
}

interface EngineStatusView {
  ticks: { received: number; accepted: number; lost: number };
  ticksRejected: Record<string, number>;
  signals: number;
  orders: { accepted: number; denied: number; deniedByReason: Record<string, number> };
  latency: { p99Micros?: number };
}
