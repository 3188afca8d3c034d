/**
 * Which shard owns which symbol: a pure, deterministic function of the symbols, the shard count and the user's
 * pins, with as few symbols moving as possible when the shard count changes (issue 19's ownership model,
 * docs/ownership.md).
 *
 *   every symbol ranks every shard by a hash of (symbol, shard)        rendezvous (highest random weight) hashing
 *   pinned symbols go to their pin                                      the user's explicit map wins
 *   the rest, in a fixed order, go to their best-ranked shard with room  bounded load: at most ceil(n / shards)
 *
 * Why bounded rendezvous: plain rendezvous moves only the symbols a new shard wins when the count grows (about
 * 1/(k+1) of them) but leaves shards unbalanced with few symbols (8 symbols on 4 shards can leave one empty), and
 * an engine's symbol list is short. The bound (floor(n/k) each, n mod k of them one more) keeps every shard within
 * one symbol of the others (pins aside) and costs a little extra movement, measured in assignment.test.ts.
 *
 * The hash is FNV-1a (32 bit) over "symbol\u0000shard", finished with a murmur3 mix: stable across versions and
 * platforms, since a change would move every symbol of every engine on upgrade.
 */

export interface ShardAssignment {
  /** The symbols of each shard, shard index order, each list sorted. */
  readonly shards: readonly (readonly string[])[];
  /** The shard of each symbol. */
  readonly shardOf: ReadonlyMap<string, number>;
}

/**
 * Assigns `symbols` to `shardCount` shards. `pins` maps a symbol to its shard (0-based) and must name only listed
 * symbols and existing shards (validation reports anything else; here it throws). Duplicates count once.
 * Examples: (["A","B","C","D"], 2) -> two shards of two; (["A","B"], 4) -> two shards of one and two empty.
 */
export function assignShards(symbols: readonly string[], shardCount: number, pins: Readonly<Record<string, number>> = {}): ShardAssignment {
  if (!Number.isInteger(shardCount) || shardCount < 1) throw new RangeError(`shard count must be an integer >= 1, got ${shardCount}`);
  const unique = [...new Set(symbols)].sort();
  const listed = new Set(unique);
  const shardOf = new Map<string, number>();
  const load = new Array<number>(shardCount).fill(0);
  for (const [symbol, shard] of Object.entries(pins)) {
    if (!listed.has(symbol)) throw new RangeError(`pinned symbol ${JSON.stringify(symbol)} is not one of the engine's symbols`);
    if (!Number.isInteger(shard) || shard < 0 || shard >= shardCount) throw new RangeError(`symbol ${symbol} is pinned to shard ${shard}, but there are ${shardCount} shards (0..${shardCount - 1})`);
    shardOf.set(symbol, shard);
    load[shard]++;
  }
  const free = unique.filter((symbol) => !shardOf.has(symbol));
  // Room: every shard holds floor(n / k), and `remainder` of them one more, so loads differ by at most one.
  const floor = Math.floor(unique.length / shardCount);
  let remainder = unique.length % shardCount;
  for (const shardLoad of load) if (shardLoad > floor) remainder -= shardLoad - floor;
  const hasRoom = (shard: number): boolean => load[shard] < floor || (load[shard] === floor && remainder > 0);
  // Symbols with the strongest preference choose first, so a symbol is displaced from its favourite only by one
  // that wanted that shard more; the order is a function of the symbols alone, never of the input order.
  const ranked = free.map((symbol) => ({ symbol, order: rankShards(symbol, shardCount) }));
  ranked.sort((a, b) => b.order[0].score - a.order[0].score || (a.symbol < b.symbol ? -1 : 1));
  for (const { symbol, order } of ranked) {
    // With pins over the bound, no shard may have room: the least loaded one takes it.
    const choice = order.find(({ shard }) => hasRoom(shard)) ?? order.reduce((best, next) => (load[next.shard] < load[best.shard] ? next : best));
    if (load[choice.shard] >= floor) remainder--;
    shardOf.set(symbol, choice.shard);
    load[choice.shard]++;
  }
  const shards = Array.from({ length: shardCount }, () => [] as string[]);
  for (const symbol of unique) shards[shardOf.get(symbol) ?? 0].push(symbol);
  return { shards, shardOf };
}

/** The shards in the order `symbol` prefers them: highest hash of (symbol, shard) first. */
function rankShards(symbol: string, shardCount: number): Array<{ shard: number; score: number }> {
  const order = Array.from({ length: shardCount }, (_, shard) => ({ shard, score: weight(symbol, shard) }));
  return order.sort((a, b) => b.score - a.score || a.shard - b.shard);
}

/** The rendezvous weight of (symbol, shard): FNV-1a over the UTF-16 code units and the shard, murmur3-finished. */
export function weight(symbol: string, shard: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < symbol.length; i++) {
    hash ^= symbol.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash = Math.imul(hash, 0x01000193); // the separator: code unit 0
  for (let byte = 0; byte < 4; byte++) {
    hash ^= (shard >>> (8 * byte)) & 0xff;
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}
