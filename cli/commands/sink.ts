import { monoNowNs } from '../../engine/clock/monotonic.ts';
import { OrderSink } from '../../engine/sim/order-sink.ts';
import { flag, helpText, num, parseArgs, str, type OptionSpec } from '../lib/args.ts';
import { latencySummary } from '../lib/latency-summary.ts';

const options = {
  bind: { type: 'string', help: 'bind the orders PULL socket here', default: 'tcp://127.0.0.1:5556' },
  signals: { type: 'string', help: 'comma-separated engine signal PUB addresses to subscribe to' },
  duration: { type: 'number', help: 'seconds to run (0 = until SIGINT/SIGTERM)', default: 0 },
  json: { type: 'boolean', help: 'print the final summary as one JSON line' },
  'accept-ticks': { type: 'boolean', help: 'benchmarks: also measure market-data frames from a pass-through forwarder' },
  help: { type: 'boolean', help: 'show this help' },
} satisfies Record<string, OptionSpec>;

export const sinkHelp = helpText(
  'nexus sink [options]',
  'Receives orders (PULL) and signals (SUB) as an order gateway would, and measures tick-to-order and\n' +
    'tick-to-signal latency on arrival (CLOCK_MONOTONIC, one host), including every ZeroMQ hop. Fences by shard\n' +
    'epoch as a gateway must (docs/wire.md): an order older than the newest epoch of its shard is refused and\n' +
    'counted (staleEpoch); order frames of wire version 1 and 2 are both read. Counts orders that answer a tick\n' +
    'another order already answered (duplicates: two pods trading one symbol).',
  options,
);

export async function sinkCommand(argv: readonly string[]): Promise<number> {
  const values = parseArgs(argv, options);
  if (flag(values, 'help')) {
    console.log(sinkHelp);
    return 0;
  }
  const signals = str(values, 'signals');
  const sink = new OrderSink({
    ordersBind: str(values, 'bind') ?? '',
    ...(signals === undefined ? {} : { signalsConnect: signals.split(',') }),
    clockNs: monoNowNs,
    acceptTickFrames: flag(values, 'accept-ticks'),
    detectDuplicates: true,
  });
  const endpoint = await sink.open();
  const json = flag(values, 'json');
  const bound = `Sink bound orders=${endpoint ?? ''} signals=${signals ?? 'off'}`;
  if (json) console.error(bound);
  else console.log(bound);
  const running = sink.run();
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
    const duration = num(values, 'duration');
    if (duration > 0) setTimeout(resolve, duration * 1000);
  });
  sink.close();
  await running;
  const summary = {
    counts: sink.counts,
    tickToOrder: latencySummary(sink.orderLatency),
    tickToSignal: latencySummary(sink.signalLatency),
  };
  console.log(json ? JSON.stringify(summary) : JSON.stringify(summary, null, 2));
  return 0;
}
