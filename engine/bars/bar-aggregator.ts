import { rowOffset, type BarPanel } from './bar-panel.ts';

/**
 * Trades into OHLCV bars per symbol, at a fixed interval of market time (the trades' exchange timestamps),
 * aligned to multiples of the interval: a 1 s bar holds the trades with exchange_ts in [k s, (k + 1) s).
 *
 * A bar closes for every symbol at once, when the first trade of a later interval arrives (market time moves
 * only with the market: a silent feed closes nothing). Then each symbol's row is appended to the panel:
 *
 * - traded in the interval: open (first trade), high, low, close (last), volume (sum of sizes);
 * - no trade in the interval but an earlier one: a flat bar at the previous close, volume 0 (an empty interval);
 * - never traded: NaN in every field (scans leave the symbol out).
 *
 * Intervals that passed with no trade of any symbol close as empty bars too, at most MAX_GAP_BARS of them (an
 * overnight gap of 1 s bars closes 16, not 50,000: a closed market is not a flat one; `gapBarsSkipped` counts the
 * rest). A trade stamped earlier than the open interval (a late print) joins the open bar and is counted in
 * `lateTrades`; one stamped more than a week past it is a bad print (`futureTrades`), left out of the bars so it
 * cannot stop them. Allocation-free per trade; the trade that closes a bar writes every symbol's row (the cost of
 * a close on the feed thread: about 5 stores a symbol, per bar closed).
 */
/** Empty bars closed at most after a silence of the whole market (the rest counted in gapBarsSkipped). */
export const MAX_GAP_BARS = 16;

/** How far past the open bar a trade's exchange time may be; beyond, it is a bad print (a week). */
export const MAX_AHEAD_NS = 7 * 24 * 3600 * 1e9;

/**
 * One trade as the tick path hands it on (the wire's TickSlot is one): an object read field by field, so no double
 * crosses a call V8 may not inline (a boxed double per trade: engine/indicators/indicator.ts).
 */
export interface TradePrint {
  price: number;
  size: number;
  exchangeTsNs: number;
  publishMonoNs: number;
}

export class BarAggregator {
  /** The open interval's number (exchange_ts / interval, floored); -1 before the first trade. */
  private interval = -1;
  /** `onTrade`'s trade, handed to `onTradeOf`. */
  private readonly scratch: TradePrint = { price: 0, size: 0, exchangeTsNs: 0, publishMonoNs: 0 };
  private readonly open: Float64Array;
  private readonly high: Float64Array;
  private readonly low: Float64Array;
  private readonly last: Float64Array;
  private readonly volume: Float64Array;
  /** 1 when the symbol traded in the open interval. */
  private readonly traded: Uint8Array;
  /** Each symbol's last close so far (NaN: never traded): an empty interval's flat bar. */
  private readonly previousClose: Float64Array;
  lateTrades = 0;
  /** Trades stamped more than MAX_AHEAD_NS past the open bar: taken as bad prints, left out of the bars. */
  futureTrades = 0;
  gapBarsSkipped = 0;

  constructor(private readonly panel: BarPanel, readonly intervalNs: number) {
    if (!(intervalNs >= 1_000_000) || !Number.isInteger(intervalNs)) throw new RangeError(`intervalNs must be an integer >= 1 ms in ns, got ${intervalNs}`);
    const n = panel.symbols;
    this.open = new Float64Array(n);
    this.high = new Float64Array(n);
    this.low = new Float64Array(n);
    this.last = new Float64Array(n);
    this.volume = new Float64Array(n);
    this.traded = new Uint8Array(n);
    this.previousClose = new Float64Array(n).fill(Number.NaN);
  }

  /** The start of the open bar (exchange ns), or NaN before the first trade. */
  get openBarStartNs(): number {
    return this.interval < 0 ? Number.NaN : this.interval * this.intervalNs;
  }

  /**
   * One trade. Returns how many bars it closed (0 almost always; 1 or more when it opened a later interval): each
   * is appended to the panel and `panel.closed` advanced before this returns.
   */
  onTrade(symbol: number, price: number, size: number, exchangeTsNs: number): number {
    const trade = this.scratch;
    trade.price = price;
    trade.size = size;
    trade.exchangeTsNs = exchangeTsNs;
    return this.onTradeOf(symbol, trade);
  }

  /** `onTrade` with the trade's fields read from `trade` (the tick path: no double crosses the call). */
  onTradeOf(symbol: number, trade: TradePrint): number {
    const price = trade.price;
    const size = trade.size;
    const interval = Math.floor(trade.exchangeTsNs / this.intervalNs);
    let closed = 0;
    if (this.interval < 0) {
      this.interval = interval;
    } else if (interval > this.interval) {
      if ((interval - this.interval) * this.intervalNs > MAX_AHEAD_NS) {
        this.futureTrades++;
        return 0;
      }
      closed = this.closeThrough(interval);
    } else if (interval < this.interval) {
      this.lateTrades++;
    }
    if (this.traded[symbol] === 0) {
      this.traded[symbol] = 1;
      this.open[symbol] = price;
      this.high[symbol] = price;
      this.low[symbol] = price;
      this.volume[symbol] = size;
    } else {
      if (price > this.high[symbol]) this.high[symbol] = price;
      if (price < this.low[symbol]) this.low[symbol] = price;
      this.volume[symbol] += size;
    }
    this.last[symbol] = price;
    return closed;
  }

  /** Closes the open bar and the empty intervals up to (not including) `interval`, which becomes the open one. */
  private closeThrough(interval: number): number {
    this.appendRow(this.interval);
    const empty = interval - this.interval - 1;
    // At most MAX_GAP_BARS of them (the latest), and never more than the panel keeps with the bar just closed.
    const written = Math.min(empty, MAX_GAP_BARS, this.panel.capacity - 1);
    for (let k = written; k > 0; k--) this.appendRow(interval - k);
    this.gapBarsSkipped += empty - written;
    this.interval = interval;
    return 1 + written;
  }

  /** Appends the bar of interval `interval` for every symbol (see the class comment) and resets the accumulators. */
  private appendRow(interval: number): void {
    const panel = this.panel;
    const bar = Atomics.load(panel.closed, 0);
    const base = rowOffset(panel, bar);
    panel.interval[bar % panel.capacity] = interval;
    for (let s = 0; s < panel.symbols; s++) {
      const at = base + s;
      if (this.traded[s] === 1) {
        panel.open[at] = this.open[s];
        panel.high[at] = this.high[s];
        panel.low[at] = this.low[s];
        panel.close[at] = this.last[s];
        panel.volume[at] = this.volume[s];
        this.previousClose[s] = this.last[s];
        this.traded[s] = 0;
      } else {
        const flat = this.previousClose[s];
        panel.open[at] = flat;
        panel.high[at] = flat;
        panel.low[at] = flat;
        panel.close[at] = flat;
        panel.volume[at] = flat === flat ? 0 : Number.NaN;
      }
    }
    // After the row is written: a reader that sees the new count sees the whole row.
    Atomics.store(panel.closed, 0, bar + 1);
  }
}
