/**
 * The order gateway's fencing rule (docs/wire.md, "Fencing by shard epoch"): per shard, the newest ownership epoch
 * seen; an order below it comes from a pod that no longer owns the shard and is refused. Epoch 0 is an engine
 * under no ownership and is never fenced. The caller counts what is refused (nexus sink: counts.staleEpoch). Pure state, O(1) per order, no allocation: one u32 per possible shard.
 *
 * Examples: (shard 3, epoch 5) admitted; (3, 5) admitted; (3, 6) admitted, newest 6; (3, 5) refused;
 * (4, 1) admitted (another shard); (3, 0) admitted (unfenced).
 */
export class ShardFence {
  /** Newest epoch seen per shard (u16 shard ids); 0 = none yet. */
  private readonly newest = new Uint32Array(0x10000);

  /** Whether an order of `shard` at `epoch` may be accepted; raises the shard's newest epoch when it is higher. */
  admit(shard: number, epoch: number): boolean {
    if (epoch === 0) return true;
    const newest = this.newest[shard];
    if (epoch < newest) return false;
    if (epoch > newest) this.newest[shard] = epoch;
    return true;
  }

  /** The newest epoch seen for `shard` (0 when none). */
  newestEpoch(shard: number): number {
    return this.newest[shard];
  }
}
