/**
 * The reference gateway's duplicate check: an order answers one tick of one order flow (its book, symbol, strategy
 * and the tick's publisher stamp, which the feed reads from the clock per tick), and no tick may be answered twice
 * within a book, whichever pod sends the second answer; two TradingEngines (two books) trading the same ticks are
 * two order flows, not duplicates. Two pods trading the same symbol (the failure ownership exists to prevent) show up here
 * as duplicates.
 *
 * Bounded: it remembers the last `capacity` answered ticks (FIFO), so a duplicate arriving more than `capacity`
 * orders after the first goes unseen; at 1 Mi entries that is far longer than any hand-over. One string key per
 * order: a test and demo gateway, not a hot path (benchmarks leave it off).
 */
export class DuplicateOrders {
  private readonly seen = new Set<string>();
  private readonly order: string[];
  private next = 0;

  constructor(private readonly capacity = 1 << 20) {
    this.order = new Array<string>(capacity);
  }

  /** Records the answer; true when the same tick was already answered (a duplicate order). */
  repeat(book: number, symbolId: number, strategyId: number, tickPublishMonoNs: number): boolean {
    const key = `${book}:${symbolId}:${strategyId}:${tickPublishMonoNs}`;
    if (this.seen.has(key)) return true;
    const evicted = this.order[this.next];
    if (evicted !== undefined) this.seen.delete(evicted);
    this.order[this.next] = key;
    this.next = (this.next + 1) % this.capacity;
    this.seen.add(key);
    return false;
  }
}
