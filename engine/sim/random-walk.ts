import { Mulberry32 } from '../random/mulberry32.ts';
import { TickKind } from '../wire/layout.ts';

export interface RandomWalkOptions {
  readonly symbolCount: number;
  readonly seed: number;
  /** Share of ticks that are trades; the rest alternate bid and ask quotes. 1 = trades only. */
  readonly tradeRatio: number;
  /** Per-tick log-return volatility. */
  readonly volatility: number;
  readonly startPrice: number;
}

/** One generated tick, written into a reused object. */
export class GeneratedTick {
  symbolIndex = 0;
  kind: number = TickKind.Trade;
  price = 0;
  size = 0;
}

/**
 * A seeded source of simulated ticks (price-path.ts picks one by name). `next` overwrites and returns `out`,
 * round-robins symbols and allocates nothing.
 */
export interface TickSource {
  next(out: GeneratedTick): GeneratedTick;
}

/**
 * Standard normal deviates by Box-Muller over a caller's generator, caching the second value of each pair (no
 * allocation). Draws come from `rng` in call order, so a simulator sharing `rng` stays deterministic for a seed.
 */
export class NormalDeviates {
  private spare = Number.NaN;

  constructor(private readonly rng: Mulberry32) {}

  next(): number {
    if (!Number.isNaN(this.spare)) {
      const value = this.spare;
      this.spare = Number.NaN;
      return value;
    }
    const u = 1 - this.rng.next();
    const v = this.rng.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}

/**
 * A seeded market simulator: per symbol a geometric random walk of the mid price, trades at the mid and quotes
 * one tick either side of it. Round-robins symbols so every symbol gets the same rate. Pure and deterministic for
 * a seed: the same options give the same tick sequence on every run and machine.
 */
export class RandomWalk implements TickSource {
  private readonly mid: Float64Array;
  private readonly rng: Mulberry32;
  private readonly normal: NormalDeviates;
  private cursor = 0;

  constructor(private readonly options: RandomWalkOptions) {
    if (!(options.tradeRatio >= 0 && options.tradeRatio <= 1)) throw new RangeError('tradeRatio must be in [0, 1]');
    this.rng = new Mulberry32(options.seed);
    this.normal = new NormalDeviates(this.rng);
    this.mid = new Float64Array(options.symbolCount);
    for (let i = 0; i < options.symbolCount; i++) {
      // Spread starting prices so symbols are distinguishable: startPrice x [1, 3).
      this.mid[i] = options.startPrice * (1 + 2 * this.rng.next());
    }
  }

  next(out: GeneratedTick): GeneratedTick {
    const symbol = this.cursor;
    this.cursor = symbol + 1 === this.options.symbolCount ? 0 : symbol + 1;
    const mid = this.mid[symbol] * Math.exp(this.options.volatility * this.normal.next());
    this.mid[symbol] = mid;
    const halfSpread = Math.max(0.01, Math.round(mid * 1e-4 * 100) / 100);
    out.symbolIndex = symbol;
    const draw = this.rng.next();
    if (draw < this.options.tradeRatio) {
      out.kind = TickKind.Trade;
      out.price = Math.round(mid * 100) / 100;
    } else if (draw < this.options.tradeRatio + (1 - this.options.tradeRatio) / 2) {
      out.kind = TickKind.Bid;
      out.price = Math.round((mid - halfSpread) * 100) / 100;
    } else {
      out.kind = TickKind.Ask;
      out.price = Math.round((mid + halfSpread) * 100) / 100;
    }
    out.size = 1 + Math.floor(this.rng.next() * 500);
    return out;
  }
}
