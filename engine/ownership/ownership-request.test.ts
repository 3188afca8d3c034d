import { describe, expect, it } from 'vitest';
import { MAX_SHARD_EPOCH, parseOwnershipRequest } from './ownership-request.ts';

const symbols = new Map([['AAPL', 0], ['MSFT', 1], ['GOOG', 2]]);

function errorOf(body: unknown): string {
  const parsed = parseOwnershipRequest(body, symbols);
  if (parsed.ok) throw new Error(`expected a refusal of ${JSON.stringify(body)}`);
  return parsed.error;
}

describe('parseOwnershipRequest', () => {
  it('reads shards with symbol indices in ascending order and the positions to take over', () => {
    const parsed = parseOwnershipRequest({ shards: [{ shard: 3, epoch: 9, symbols: ['GOOG', 'AAPL'], positions: { GOOG: -40, AAPL: 0 } }] }, symbols);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const [grant] = parsed.request.shards;
    expect(grant.shard).toBe(3);
    expect(grant.epoch).toBe(9);
    expect(grant.symbols).toEqual([0, 2]);
    expect([...grant.positions]).toEqual([[2, -40], [0, 0]]);
  });

  it('takes an empty list: own nothing', () => {
    expect(parseOwnershipRequest({ shards: [] }, symbols)).toEqual({ ok: true, request: { shards: [] } });
  });

  it.each([
    [null, 'body: must be a JSON object { "shards": [...] }'],
    [[], 'body: must be a JSON object { "shards": [...] }'],
    [{ shards: [], extra: 1 }, 'body.extra: unknown field (known: shards)'],
    [{}, 'shards: must be an array (empty to own nothing)'],
    [{ shards: [7] }, 'shards[0]: must be an object'],
    [{ shards: [{ shard: 1, epoch: 1, symbols: [], owner: 'x' }] }, 'shards[0].owner: unknown field (known: shard, epoch, symbols, positions)'],
    [{ shards: [{ shard: 65_536, epoch: 1, symbols: [] }] }, 'shards[0].shard: must be an integer 0..65535, got 65536'],
    [{ shards: [{ shard: 1.5, epoch: 1, symbols: [] }] }, 'shards[0].shard: must be an integer 0..65535, got 1.5'],
    [{ shards: [{ shard: 1, epoch: 0, symbols: [] }] }, `shards[0].epoch: must be an integer 1..${MAX_SHARD_EPOCH}, got 0`],
    [{ shards: [{ shard: 1, epoch: MAX_SHARD_EPOCH + 1, symbols: [] }] }, `shards[0].epoch: must be an integer 1..${MAX_SHARD_EPOCH}, got ${MAX_SHARD_EPOCH + 1}`],
    [{ shards: [{ shard: 1, epoch: 1, symbols: [] }, { shard: 1, epoch: 2, symbols: [] }] }, 'shards[1].shard: shard 1 is listed twice'],
    [{ shards: [{ shard: 1, epoch: 1, symbols: 'AAPL' }] }, 'shards[0].symbols: must be an array of symbols'],
    [{ shards: [{ shard: 1, epoch: 1, symbols: ['TSLA'] }] }, 'shards[0].symbols[0]: "TSLA" is not a symbol of this engine'],
    [{ shards: [{ shard: 1, epoch: 1, symbols: ['AAPL'] }, { shard: 2, epoch: 1, symbols: ['AAPL'] }] }, 'shards[1].symbols[0]: AAPL is already in shard 1'],
    [{ shards: [{ shard: 1, epoch: 1, symbols: ['AAPL'], positions: [] }] }, 'shards[0].positions: must be an object of symbol -> position'],
    [{ shards: [{ shard: 1, epoch: 1, symbols: ['AAPL'], positions: { MSFT: 1 } }] }, 'shards[0].positions.MSFT: not a symbol of this shard'],
    [{ shards: [{ shard: 1, epoch: 1, symbols: ['AAPL'], positions: { AAPL: '5' } }] }, 'shards[0].positions.AAPL: must be a finite number, got "5"'],
  ])('refuses %j: %s', (body, error) => {
    expect(errorOf(body)).toBe(error);
  });
});
