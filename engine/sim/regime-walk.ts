import { Mulberry32 } from '../random/mulberry32.ts';
import { TickKind } from '../wire/layout.ts';
import { GeneratedTick, NormalDeviates, type TickSource } from './random-walk.ts';

export interface RegimeWalkOptions {
  readonly symbolCount: number;
  readonly seed: number;
  /** Share of ticks that are trades; the rest alternate bid and ask quotes. 1 = trades only. */
  readonly tradeRatio: number;
  readonly startPrice: number;
  /** Ticks per second over all symbols (the feed's rate): turns the seconds below into each symbol's trades. */
  readonly ticksPerSecond: number;
  /** Mean length of a regime in seconds; each lasts 0.5 to 1.5 times it. */
  readonly regimeSeconds: number;
  /** Standard deviation of a regime's level, as a log return from the symbol's anchor price (0.01 = 1 %). */
  readonly levelSpread: number;
}

/** The regime path's defaults: one-minute regimes whose levels lie about 1 % from the anchor. */
export const defaultRegimeWalk = Object.freeze({ regimeSeconds: 60, levelSpread: 0.01 });

/**
 * The per-trade coefficients of the regime path for a mean regime length in trades. The pull toward the level is
 * critically damped (`pull = ease / 4`, natural rate ease / 2 = 2 per regime): the price covers about 60 % of the
 * way to a new level in one regime, never overshoots it, and its curvature changes sign at most once on the way.
 * `ease` is capped at 0.5 so that very slow feeds stay stable.
 *
 * Examples: 3000 trades (60 s at 50 trades/s) -> ease 4/3000 = 0.00133, pull 0.000333; 16 trades -> ease 0.25,
 * pull 0.0625; 4 trades -> ease 0.5 (capped), pull 0.125.
 */
export function regimeCoefficients(regimeTrades: number): { ease: number; pull: number } {
  const ease = Math.min(0.5, 4 / regimeTrades);
  return { ease, pull: ease / 4 };
}

/**
 * A seeded market simulator whose prices trend for about a minute instead of turning every few ticks, so the
 * built-in strategies order a few times a minute per symbol, as on a real market (on a plain random walk their
 * tick-level MACD, Bollinger and RSI signals turn every few ticks). Use it where the order rate matters, e.g. a
 * latency gate on real strategies; RandomWalk stays the feed's default.
 *
 * Per symbol, in log price x relative to an anchor (startPrice x [1, 3)), advanced once per trade of that symbol:
 *
 *   regime:  every 0.5 to 1.5 x regimeSeconds (uniform), a new level m ~ N(0, levelSpread), clamped to
 *            ±3 levelSpread
 *   drift:   v += ease x (pull x (m - x) - v)    mean reversion (the Ornstein-Uhlenbeck drift) toward m,
 *            x += v                               eased in, so the price's slope never jumps
 *   print:   trade at anchor x e^x; bid and ask one basis point either side
 *
 * Randomness is in the regimes (their lengths and levels), never per trade: between switches the path is smooth
 * and each switch turns the signals about once. Measured over 600 s, 8 symbols, 400 ticks/s, a print jitter of
 * only 1e-9 of the price multiplied the MACD crosses by seven (chatter at each true cross), so there is none.
 * For the same reason prices are not rounded to cents: a cent grid is a staircase whose steps turn the MACD.
 * The path moves on trades only (quotes read it), so a tradeRatio below 1 adds no jitter in trade time.
 *
 * Deterministic for a seed: the same options give the same ticks on every run and machine. All state is
 * preallocated per symbol; `next` allocates nothing.
 */
export class RegimeWalk implements TickSource {
  private readonly anchor: Float64Array;
  /** Log price relative to the anchor. */
  private readonly logPrice: Float64Array;
  /** Log price change per trade. */
  private readonly velocity: Float64Array;
  /** The current regime's level (log, relative to the anchor). */
  private readonly level: Float64Array;
  /** Trades left in the current regime. */
  private readonly regimeLeft: Float64Array;
  private readonly rng: Mulberry32;
  private readonly normal: NormalDeviates;
  private readonly regimeTrades: number;
  private readonly ease: number;
  private readonly pull: number;
  private cursor = 0;

  constructor(private readonly options: RegimeWalkOptions) {
    const { symbolCount, tradeRatio, ticksPerSecond, regimeSeconds, levelSpread } = options;
    if (!(tradeRatio >= 0 && tradeRatio <= 1)) throw new RangeError('tradeRatio must be in [0, 1]');
    if (!(ticksPerSecond > 0)) throw new RangeError(`ticksPerSecond must be > 0, got ${ticksPerSecond}`);
    if (!(regimeSeconds > 0)) throw new RangeError(`regimeSeconds must be > 0, got ${regimeSeconds}`);
    if (!(levelSpread >= 0 && levelSpread <= 0.2)) throw new RangeError(`levelSpread must be in [0, 0.2], got ${levelSpread}`);
    this.rng = new Mulberry32(options.seed);
    this.normal = new NormalDeviates(this.rng);
    // At least one trade per second per symbol in the conversion: a feed slower than that gets longer regimes.
    this.regimeTrades = regimeSeconds * Math.max(1, (ticksPerSecond * tradeRatio) / symbolCount);
    ({ ease: this.ease, pull: this.pull } = regimeCoefficients(this.regimeTrades));
    this.anchor = new Float64Array(symbolCount);
    this.logPrice = new Float64Array(symbolCount);
    this.velocity = new Float64Array(symbolCount);
    this.level = new Float64Array(symbolCount);
    this.regimeLeft = new Float64Array(symbolCount);
    for (let i = 0; i < symbolCount; i++) {
      this.anchor[i] = options.startPrice * (1 + 2 * this.rng.next());
      this.startRegime(i);
    }
  }

  next(out: GeneratedTick): GeneratedTick {
    const symbol = this.cursor;
    this.cursor = symbol + 1 === this.options.symbolCount ? 0 : symbol + 1;
    out.symbolIndex = symbol;
    const tradeRatio = this.options.tradeRatio;
    const draw = this.rng.next();
    if (draw < tradeRatio) {
      out.kind = TickKind.Trade;
      out.price = this.advance(symbol);
    } else {
      const mid = this.anchor[symbol] * Math.exp(this.logPrice[symbol]);
      const bid = draw < tradeRatio + (1 - tradeRatio) / 2;
      out.kind = bid ? TickKind.Bid : TickKind.Ask;
      out.price = bid ? mid * (1 - 1e-4) : mid * (1 + 1e-4);
    }
    out.size = 1 + Math.floor(this.rng.next() * 500);
    return out;
  }

  /** One trade's step of the symbol's path; returns its new mid price. */
  private advance(symbol: number): number {
    if (--this.regimeLeft[symbol] <= 0) this.startRegime(symbol);
    const x = this.logPrice[symbol];
    const v = this.velocity[symbol] + this.ease * (this.pull * (this.level[symbol] - x) - this.velocity[symbol]);
    this.velocity[symbol] = v;
    this.logPrice[symbol] = x + v;
    return this.anchor[symbol] * Math.exp(x + v);
  }

  private startRegime(symbol: number): void {
    const spread = this.options.levelSpread;
    this.level[symbol] = Math.max(-3 * spread, Math.min(3 * spread, spread * this.normal.next()));
    this.regimeLeft[symbol] = Math.max(1, Math.round(this.regimeTrades * (0.5 + this.rng.next())));
  }
}
