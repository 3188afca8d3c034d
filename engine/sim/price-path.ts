import { RandomWalk, type TickSource } from './random-walk.ts';
import { defaultRegimeWalk, RegimeWalk } from './regime-walk.ts';

/**
 * The simulator's price paths, by name (`nexus feed --path`):
 *
 *   random  RandomWalk: a geometric random walk per symbol; the built-in strategies' signals turn every few ticks
 *   regime  RegimeWalk: minute-long mean-reverting trends per symbol; a few orders a minute per symbol
 */
export const pricePaths = ['random', 'regime'] as const;
export type PricePath = (typeof pricePaths)[number];

export function isPricePath(name: string): name is PricePath {
  return (pricePaths as readonly string[]).includes(name);
}

export interface TickSourceOptions {
  readonly path: PricePath;
  readonly symbolCount: number;
  readonly seed: number;
  /** Share of ticks that are trades; the rest alternate bid and ask quotes. */
  readonly tradeRatio: number;
  readonly startPrice: number;
  /** random: per-tick log-return volatility. */
  readonly volatility: number;
  /** regime: ticks per second over all symbols (the feed's rate). */
  readonly ticksPerSecond: number;
  /** regime: mean regime length in seconds (default 60). */
  readonly regimeSeconds?: number;
}

/** The tick source of a price path, each given only its own options. Pure: the same options give the same ticks. */
export function createTickSource(options: TickSourceOptions): TickSource {
  const { symbolCount, seed, tradeRatio, startPrice } = options;
  switch (options.path) {
    case 'random':
      return new RandomWalk({ symbolCount, seed, tradeRatio, startPrice, volatility: options.volatility });
    case 'regime':
      return new RegimeWalk({
        symbolCount,
        seed,
        tradeRatio,
        startPrice,
        ticksPerSecond: options.ticksPerSecond,
        regimeSeconds: options.regimeSeconds ?? defaultRegimeWalk.regimeSeconds,
        levelSpread: defaultRegimeWalk.levelSpread,
      });
  }
}
