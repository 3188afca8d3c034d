import { describe, expect, it } from 'vitest';
import { parseOwnershipRequest, type OwnershipRequest } from './ownership-request.ts';
import { SymbolOwnership, UNFENCED, UNOWNED } from './symbol-ownership.ts';

const symbols = new Map([['AAPL', 0], ['MSFT', 1], ['GOOG', 2], ['AMZN', 3]]);

function request(body: unknown): OwnershipRequest {
  const parsed = parseOwnershipRequest(body, symbols);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.request;
}

/** Plans and applies a request as the engine does (release, then acquire); returns the change. */
function apply(ownership: SymbolOwnership, body: unknown) {
  const planned = ownership.plan(request(body));
  if (!planned.ok) throw new Error(planned.error);
  ownership.markReleased(planned.change);
  ownership.markAcquired(planned.change);
  return planned.change;
}

const zero = (...names: string[]) => Object.fromEntries(names.map((name) => [name, 0]));

describe('SymbolOwnership', () => {
  it('owns every symbol unfenced under mode all, and refuses set-ownership', () => {
    const ownership = new SymbolOwnership('all', 4);
    expect([...ownership.cells.epochs]).toEqual([UNFENCED, UNFENCED, UNFENCED, UNFENCED]);
    expect(ownership.ownedSymbolCount()).toBe(4);
    const planned = ownership.plan(request({ shards: [] }));
    expect(planned).toEqual({ ok: false, error: 'this engine trades every symbol (ownership.mode all): set-ownership needs ownership.mode assigned' });
  });

  it('owns nothing under mode assigned until shards are granted, then stamps their symbols with shard and epoch', () => {
    const ownership = new SymbolOwnership('assigned', 4);
    expect([...ownership.cells.epochs]).toEqual([UNOWNED, UNOWNED, UNOWNED, UNOWNED]);
    apply(ownership, { shards: [{ shard: 2, epoch: 5, symbols: ['MSFT', 'AMZN'], positions: zero('MSFT', 'AMZN') }] });
    expect([...ownership.cells.epochs]).toEqual([UNOWNED, 5, UNOWNED, 5]);
    expect(ownership.cells.shards[1]).toBe(2);
    expect(ownership.cells.shards[3]).toBe(2);
    expect(ownership.shards).toEqual([{ shard: 2, epoch: 5, symbols: [1, 3] }]);
    expect(ownership.ownedSymbolCount()).toBe(2);
  });

  it('releases what a request leaves out, keeps what it repeats, and re-acquires a shard at a newer epoch', () => {
    const ownership = new SymbolOwnership('assigned', 4);
    apply(ownership, {
      shards: [
        { shard: 0, epoch: 1, symbols: ['AAPL'], positions: zero('AAPL') },
        { shard: 1, epoch: 1, symbols: ['MSFT'], positions: zero('MSFT') },
        { shard: 2, epoch: 1, symbols: ['GOOG'], positions: zero('GOOG') },
      ],
    });
    const change = apply(ownership, {
      shards: [
        { shard: 0, epoch: 1, symbols: ['AAPL'] },
        { shard: 2, epoch: 4, symbols: ['GOOG'], positions: { GOOG: 30 } },
      ],
    });
    expect(change.keep.map((shard) => shard.shard)).toEqual([0]);
    expect(change.release.map((shard) => [shard.shard, shard.epoch])).toEqual([[1, 1], [2, 1]]);
    expect(change.acquire.map((grant) => [grant.shard, grant.epoch])).toEqual([[2, 4]]);
    expect([...ownership.cells.epochs]).toEqual([1, UNOWNED, 4, UNOWNED]);
  });

  it('changes nothing for a retry of the same grant', () => {
    const ownership = new SymbolOwnership('assigned', 4);
    const body = { shards: [{ shard: 1, epoch: 3, symbols: ['AAPL', 'GOOG'], positions: zero('AAPL', 'GOOG') }] };
    apply(ownership, body);
    const change = apply(ownership, body);
    expect(change.release).toEqual([]);
    expect(change.acquire).toEqual([]);
    expect(change.keep).toHaveLength(1);
  });

  it('refuses an older epoch (a deposed leader), other symbols at the same epoch, and a take-over without a position', () => {
    const ownership = new SymbolOwnership('assigned', 4);
    apply(ownership, { shards: [{ shard: 1, epoch: 3, symbols: ['AAPL'], positions: zero('AAPL') }] });
    const refusals = [
      [{ shards: [{ shard: 1, epoch: 2, symbols: ['AAPL'] }] }, 'shard 1: epoch 2 is older than the epoch 3 this engine owns it at'],
      [{ shards: [{ shard: 1, epoch: 3, symbols: ['AAPL', 'MSFT'], positions: zero('MSFT') }] }, 'shard 1: already owned at epoch 3 with other symbols; a change needs a new epoch'],
      [{ shards: [{ shard: 1, epoch: 3, symbols: ['AAPL'] }, { shard: 2, epoch: 1, symbols: ['MSFT'] }] }, 'shard 2: no position for symbol index 1, which this engine takes over'],
    ] as const;
    for (const [body, error] of refusals) expect(ownership.plan(request(body))).toEqual({ ok: false, error });
    expect([...ownership.cells.epochs]).toEqual([3, UNOWNED, UNOWNED, UNOWNED]);
  });
});
