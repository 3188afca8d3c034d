/**
 * The body of a `set-ownership` control request: the complete set of shards the engine is to own, each at its
 * epoch, with the symbols it covers and (for symbols the engine does not own yet) the positions the previous owner
 * acknowledged. Declarative: a shard the engine owns that is absent from the request is released.
 *
 * ```json
 * { "shards": [ { "shard": 1, "epoch": 7, "symbols": ["AAPL", "MSFT"], "positions": { "AAPL": 500 } } ] }
 * ```
 *
 * `parseOwnershipRequest` is pure and checks everything against the engine's own symbols, so a bad request is
 * refused whole with an error naming the field, and nothing changes.
 */

export interface ShardGrant {
  /** 0 .. 65535, as on the order wire. */
  readonly shard: number;
  /** 1 .. 2^31 - 1; grows every time the shard is handed to a pod (0 on the wire means "not fenced"). */
  readonly epoch: number;
  /** Dense indices into the engine's config.symbols, ascending. */
  readonly symbols: readonly number[];
  /** Position per symbol index to take over; only for symbols listed in `symbols`. */
  readonly positions: ReadonlyMap<number, number>;
}

export interface OwnershipRequest {
  readonly shards: readonly ShardGrant[];
}

/** Largest shard epoch: epochs live in Int32Array cells shared with worker threads. */
export const MAX_SHARD_EPOCH = 0x7fffffff;
/** Largest shard number: a u16 on the order wire. */
export const MAX_SHARD = 0xffff;

export type ParseResult = { readonly ok: true; readonly request: OwnershipRequest } | { readonly ok: false; readonly error: string };

/**
 * Validates a decoded JSON body against the engine's symbols (`symbolIndex` maps a symbol to its dense index).
 * Refused: not an object, unknown keys, a shard or epoch out of range, a shard listed twice, a symbol unknown to
 * this engine or in two shards, a position for a symbol outside its shard or not a finite number.
 */
export function parseOwnershipRequest(body: unknown, symbolIndex: ReadonlyMap<string, number>): ParseResult {
  const fail = (error: string): ParseResult => ({ ok: false, error });
  if (!isRecord(body)) return fail('body: must be a JSON object { "shards": [...] }');
  const unknownTop = Object.keys(body).filter((key) => key !== 'shards');
  if (unknownTop.length > 0) return fail(`body.${unknownTop[0]}: unknown field (known: shards)`);
  if (!Array.isArray(body.shards)) return fail('shards: must be an array (empty to own nothing)');
  const shards: ShardGrant[] = [];
  const seenShards = new Set<number>();
  const ownerShard = new Map<number, number>();
  for (const [i, raw] of (body.shards as unknown[]).entries()) {
    const path = `shards[${i}]`;
    if (!isRecord(raw)) return fail(`${path}: must be an object`);
    const unknown = Object.keys(raw).filter((key) => !['shard', 'epoch', 'symbols', 'positions'].includes(key));
    if (unknown.length > 0) return fail(`${path}.${unknown[0]}: unknown field (known: shard, epoch, symbols, positions)`);
    const { shard, epoch, symbols, positions } = raw;
    if (!isIntegerIn(shard, 0, MAX_SHARD)) return fail(`${path}.shard: must be an integer 0..${MAX_SHARD}, got ${describe(shard)}`);
    if (!isIntegerIn(epoch, 1, MAX_SHARD_EPOCH)) return fail(`${path}.epoch: must be an integer 1..${MAX_SHARD_EPOCH}, got ${describe(epoch)}`);
    if (seenShards.has(shard)) return fail(`${path}.shard: shard ${shard} is listed twice`);
    seenShards.add(shard);
    if (!Array.isArray(symbols)) return fail(`${path}.symbols: must be an array of symbols`);
    const indices: number[] = [];
    for (const [j, symbol] of (symbols as unknown[]).entries()) {
      const index = typeof symbol === 'string' ? symbolIndex.get(symbol) : undefined;
      if (index === undefined) return fail(`${path}.symbols[${j}]: ${describe(symbol)} is not a symbol of this engine`);
      const other = ownerShard.get(index);
      if (other !== undefined) return fail(`${path}.symbols[${j}]: ${symbol as string} is already in shard ${other}`);
      ownerShard.set(index, shard);
      indices.push(index);
    }
    const taken = new Map<number, number>();
    if (positions !== undefined) {
      if (!isRecord(positions)) return fail(`${path}.positions: must be an object of symbol -> position`);
      for (const [symbol, value] of Object.entries(positions)) {
        const index = symbolIndex.get(symbol);
        if (index === undefined || ownerShard.get(index) !== shard) return fail(`${path}.positions.${symbol}: not a symbol of this shard`);
        if (typeof value !== 'number' || !Number.isFinite(value)) return fail(`${path}.positions.${symbol}: must be a finite number, got ${describe(value)}`);
        taken.set(index, value);
      }
    }
    shards.push({ shard, epoch, symbols: indices.sort((a, b) => a - b), positions: taken });
  }
  return { ok: true, request: { shards } };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

function describe(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
