/**
 * The order gateway's fencing rule (docs/wire.md, "Fencing by shard epoch"): per (book, shard), the newest ownership
 * epoch seen; an order below it comes from a pod that no longer owns the shard and is refused. Shards are numbered
 * within a book (one TradingEngine's order flow), so two engines' shard 0 never fence each other. Epoch 0 is an
 * engine under no ownership and is never fenced. The caller counts what is refused (nexus sink: counts.staleEpoch).
 * Pure state, O(1) per order; it allocates only the first time it sees a (book, shard).
 *
 * Examples: (book 1, shard 3, epoch 5) admitted; (1, 3, 5) admitted; (1, 3, 6) admitted, newest 6; (1, 3, 5)
 * refused; (2, 3, 1) admitted (another book); (1, 4, 1) admitted (another shard); (1, 3, 0) admitted (unfenced).
 */
export class ShardFence {
  /** Newest epoch seen per book x 65536 + shard; absent = none yet. */
  private readonly newest = new Map<number, number>();

  /** Whether an order of (`book`, `shard`) at `epoch` may be accepted; raises the newest epoch when it is higher. */
  admit(book: number, shard: number, epoch: number): boolean {
    if (epoch === 0) return true;
    const key = book * 0x10000 + shard;
    const newest = this.newest.get(key) ?? 0;
    if (epoch < newest) return false;
    if (epoch > newest) this.newest.set(key, epoch);
    return true;
  }

  /** The newest epoch seen for (`book`, `shard`) (0 when none). */
  newestEpoch(book: number, shard: number): number {
    return this.newest.get(book * 0x10000 + shard) ?? 0;
  }
}
