import { readFileSync } from 'node:fs';
import { monoNowNs } from '../../engine/clock/monotonic.ts';
import { runPaced } from '../../engine/sim/pacer.ts';
import { createTickSource, isPricePath, pricePaths, type TickSourceOptions } from '../../engine/sim/price-path.ts';
import { GeneratedTick } from '../../engine/sim/random-walk.ts';
import { parseTickCsv } from '../../engine/sim/tick-csv.ts';
import { TickPublisher } from '../../engine/sim/tick-publisher.ts';
import { MAX_RECORDS_PER_FRAME } from '../../engine/wire/layout.ts';
import { UsageError, flag, helpText, num, parseArgs, str, type OptionSpec, type OptionValues } from '../lib/args.ts';

const options = {
  bind: { type: 'string', help: 'bind the PUB socket here', default: 'tcp://127.0.0.1:5555' },
  connect: { type: 'string', help: 'connect the PUB socket here instead of binding' },
  symbols: { type: 'string', help: 'comma-separated symbols, or a count N for SYM0..SYMN-1', default: 'AAPL,MSFT,NVDA,AMZN' },
  rate: { type: 'integer', help: 'ticks per second (all symbols together)', default: 10_000 },
  duration: { type: 'number', help: 'seconds to run (0 = until SIGINT/SIGTERM)', default: 10 },
  'ticks-per-frame': { type: 'integer', help: `most ticks in one frame (1-${MAX_RECORDS_PER_FRAME})`, default: 64 },
  'flush-us': { type: 'integer', help: 'send a partly filled frame once its oldest tick waited this long', default: 50 },
  'wake-us': { type: 'integer', help: 'pacer sleep between wakes, microseconds', default: 50 },
  channel: { type: 'string', help: 'publish every symbol on this one topic (default: one topic per symbol)' },
  path: { type: 'string', help: `price path: ${pricePaths.join(' | ')} (see above)`, default: 'random' },
  seed: { type: 'integer', help: 'price-path seed', default: 1 },
  'trade-ratio': { type: 'number', help: 'share of trades among ticks (rest are quotes)', default: 0.8 },
  volatility: { type: 'number', help: 'random path: per-tick log-return volatility', default: 0.0005 },
  'regime-seconds': { type: 'number', help: 'regime path: mean seconds of a trend (each lasts 0.5x to 1.5x)', default: 60 },
  replay: { type: 'string', help: 'replay a CSV of ticks (exchange_ts_ns,symbol,kind,price,size) instead' },
  'start-delay-ms': { type: 'integer', help: 'wait before publishing so subscribers can join', default: 300 },
  quiet: { type: 'boolean', help: 'print only the final summary' },
  help: { type: 'boolean', help: 'show this help' },
} satisfies Record<string, OptionSpec>;

export const feedHelp = helpText(
  'nexus feed [options]',
  'Market-data simulator (a seeded price path per symbol) or CSV replayer, publishing binary tick frames over\n' +
    'ZeroMQ PUB with batching bounded by count and time. Paces by sleeping, never by spinning a core.\n\n' +
    'Price paths (--path): random, a geometric random walk, on which the built-in strategies (macdCross,\n' +
    'rsiReversion, bollingerBreakout) signal every few ticks; regime, minute-long mean-reverting trends toward\n' +
    'levels about 1 % from each symbol\'s start (smooth, unrounded prices), on which they order a few times a\n' +
    'minute per symbol (docs/engine-config.md).',
  options,
);

export function parseSymbols(text: string): string[] {
  if (/^\d+$/.test(text)) {
    const count = Number(text);
    if (count < 1 || count > 100_000) throw new UsageError(`--symbols count must be 1..100000, got ${count}`);
    return Array.from({ length: count }, (_, i) => `SYM${i}`);
  }
  const symbols = text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (symbols.length === 0) throw new UsageError('--symbols is empty');
  return symbols;
}

/**
 * The simulated price path the options ask for, on `symbolCount` symbols at `rate` ticks per second. A bad
 * --path or --regime-seconds is a UsageError (exit code 2).
 */
export function tickSourceOptions(values: OptionValues, symbolCount: number, rate: number): TickSourceOptions {
  const path = str(values, 'path') ?? '';
  if (!isPricePath(path)) throw new UsageError(`--path must be one of ${pricePaths.join(', ')}, got ${JSON.stringify(path)}`);
  const regimeSeconds = num(values, 'regime-seconds');
  if (!(regimeSeconds > 0)) throw new UsageError(`--regime-seconds must be > 0, got ${regimeSeconds}`);
  return {
    path,
    symbolCount,
    seed: num(values, 'seed'),
    tradeRatio: num(values, 'trade-ratio'),
    startPrice: 100,
    volatility: num(values, 'volatility'),
    ticksPerSecond: rate,
    regimeSeconds,
  };
}

export async function feedCommand(argv: readonly string[]): Promise<number> {
  const values = parseArgs(argv, options);
  if (flag(values, 'help')) {
    console.log(feedHelp);
    return 0;
  }
  const ticksPerFrame = num(values, 'ticks-per-frame');
  if (ticksPerFrame < 1 || ticksPerFrame > MAX_RECORDS_PER_FRAME) {
    throw new UsageError(`--ticks-per-frame must be 1..${MAX_RECORDS_PER_FRAME}, got ${ticksPerFrame}`);
  }
  const rate = num(values, 'rate');
  if (rate < 1) throw new UsageError(`--rate must be >= 1, got ${rate}`);
  const replayPath = str(values, 'replay');
  const replay = replayPath === undefined ? undefined : parseTickCsv(readFileSync(replayPath, 'utf8'), replayPath);
  const symbols = replay?.symbols ?? parseSymbols(str(values, 'symbols') ?? '');
  const sourceOptions = replay === undefined ? tickSourceOptions(values, symbols.length, rate) : undefined;
  const connect = str(values, 'connect');
  const channel = str(values, 'channel');
  const publisher = new TickPublisher({
    ...(connect === undefined ? { bind: str(values, 'bind') } : { connect }),
    symbols,
    ...(channel === undefined ? {} : { channel }),
    maxTicksPerFrame: ticksPerFrame,
    flushNs: num(values, 'flush-us') * 1000,
    clockNs: monoNowNs,
    instanceSalt: (process.pid * 2654435761) >>> 0,
  });
  const endpoint = await publisher.open();
  const quiet = flag(values, 'quiet');
  if (!quiet) console.log(`Feed bound=${endpoint ?? connect} symbols=${symbols.length} rate=${rate}/s topics=${channel ?? 'per-symbol'}`);

  let stopping = false;
  const stop = (): void => {
    stopping = true;
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await new Promise((resolve) => setTimeout(resolve, num(values, 'start-delay-ms')));

  const walk = sourceOptions === undefined ? undefined : createTickSource(sourceOptions);
  const tick = new GeneratedTick();
  const epochOffsetNs = Date.now() * 1e6 - monoNowNs();
  let replayCursor = 0;
  const replayCount = replay?.count ?? 0;
  const wakeNs = num(values, 'wake-us') * 1000;

  const result = await runPaced({
    ratePerSecond: rate,
    durationMs: replay === undefined ? num(values, 'duration') * 1000 : 0,
    wakeMicros: num(values, 'wake-us'),
    clockNs: monoNowNs,
    shouldStop: () => stopping || (replay !== undefined && replayCursor >= replayCount),
    emitDue: (count) => {
      for (let i = 0; i < count; i++) {
        if (replay !== undefined) {
          if (replayCursor >= replayCount) return;
          const r = replayCursor++;
          publisher.append(replay.symbolIndex[r], replay.kind[r], replay.price[r], replay.size[r], replay.exchangeTsNs[r], monoNowNs());
        } else if (walk !== undefined) {
          walk.next(tick);
          const stamp = monoNowNs();
          publisher.append(tick.symbolIndex, tick.kind, tick.price, tick.size, epochOffsetNs + stamp, stamp);
        }
      }
    },
    // The pacer sleeps wake-us between wakes: send now what would pass its time bound before the next wake.
    afterWake: (now) => publisher.flushDue(now + wakeNs),
  });
  await publisher.drain();
  const dropped = publisher.dropped;
  const seconds = result.elapsedNs / 1e9;
  console.log(
    `Feed finished published=${publisher.ticksPublished} seconds=${seconds.toFixed(2)} ` +
      `rate=${Math.round(publisher.ticksPublished / seconds)}/s dropped=${dropped.ticks}`,
  );
  await new Promise((resolve) => setTimeout(resolve, 200)); // let libzmq transmit before closing (linger applies too)
  publisher.close();
  return dropped.ticks === 0 ? 0 : 2;
}
