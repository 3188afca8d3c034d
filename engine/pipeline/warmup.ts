import type { EngineConfig } from '../config/engine-config.ts';
import { GeneratedTick, RandomWalk } from '../sim/random-walk.ts';
import { SymbolTable } from '../wire/symbol-id.ts';
import { TickFrameWriter } from '../wire/tick-codec.ts';
import type { FramePublisher } from './output-encoder.ts';
import type { WarmStartReport } from './warm-start.ts';

/**
 * What every JIT warm-up shares. Each layout warms itself as part of its own `start()` (inline-pipeline.ts,
 * workers-pipeline.ts; each worker thread in shard-worker.ts `runShardWarmup`), on scratch objects built from the
 * same config and fed from the one synthetic tick source below. Nothing here knows a layout.
 */
export interface WarmupReport {
  readonly ticks: number;
  readonly orders: number;
  readonly durationMs: number;
  /** The warm start from history that followed the JIT warm-up, when the engine has a history (warm-start.ts). */
  readonly warmStart?: WarmStartReport;
}

/** Ticks per synthetic frame (feed-thread warm-ups) and per input-ring batch (worker warm-up). */
export const WARMUP_BATCH_TICKS = 64;

/**
 * The synthetic tick source of every warm-up: a seeded random walk over `symbolCount` symbols, 80 % trades. The
 * seed is fixed, so every warm-up of one config sees the same ticks in the same order (a worker's warm-up and
 * the feed thread's produce the same orders). `next()` overwrites and returns one reused GeneratedTick.
 */
export class SyntheticTicks {
  private readonly walk: RandomWalk;
  private readonly tick = new GeneratedTick();

  constructor(symbolCount: number) {
    this.walk = new RandomWalk({ symbolCount, seed: 12345, tradeRatio: 0.8, volatility: 0.002, startPrice: 100 });
  }

  next(): GeneratedTick {
    this.walk.next(this.tick);
    return this.tick;
  }
}

/**
 * Feeds `config.warmupTicks` synthetic ticks over every configured symbol to `onFrame` as market-data frames of
 * WARMUP_BATCH_TICKS ticks (the last one may be shorter), stamped with `clockNs`.
 */
export function feedSyntheticFrames(config: EngineConfig, clockNs: () => number, onFrame: (frame: Uint8Array) => void): void {
  const ticks = new SyntheticTicks(config.symbols.length);
  const writer = new TickFrameWriter(WARMUP_BATCH_TICKS);
  const ids = new SymbolTable(config.symbols).ids;
  let sequence = 0;
  let exchangeTs = 1;
  for (let sent = 0; sent < config.warmupTicks; ) {
    writer.begin(1, sequence);
    while (!writer.isFull && sent < config.warmupTicks) {
      const tick = ticks.next();
      writer.append(ids[tick.symbolIndex], tick.kind, tick.price, tick.size, exchangeTs++, clockNs());
      sent++;
    }
    sequence += writer.count;
    onFrame(writer.finishView(clockNs()));
  }
}

/** A FramePublisher for scratch pipelines: discards every frame, counting the orders in them. */
export function discardingPublisher(): { publisher: FramePublisher; orders: () => number } {
  let orders = 0;
  return {
    publisher: {
      publishOrders: (_frame, count) => {
        orders += count;
      },
      publishSignals: () => undefined,
    },
    orders: () => orders,
  };
}
