import type { OwnershipRequest, ShardGrant } from './ownership-request.ts';

/** Who owns a symbol: `UNOWNED` (-1), `UNFENCED` (0: ownership mode `all`) or the owning shard's epoch (>= 1). */
export const UNOWNED = -1;
export const UNFENCED = 0;

/** How an engine decides which symbols it may send orders for (`ownership.mode` in the engine config). */
export type OwnershipMode = 'all' | 'assigned';

/** One shard an engine owns. */
export interface OwnedShard {
  readonly shard: number;
  readonly epoch: number;
  readonly symbols: readonly number[];
}

/**
 * What a `set-ownership` request changes, decided before anything is touched: shards to release (fenced and
 * flushed first), shards to acquire (after), and shards kept as they are. A shard whose epoch grows is released
 * and acquired again, so no order of the old epoch can follow an order of the new one out of this engine.
 */
export interface OwnershipChange {
  readonly release: readonly OwnedShard[];
  readonly acquire: readonly ShardGrant[];
  readonly keep: readonly OwnedShard[];
}

/**
 * Per-symbol ownership cells, on a SharedArrayBuffer so the workers layout's threads read the same cells:
 *
 *     Int32 [0, n)     epoch of symbol i's shard: -1 unowned, 0 unfenced (mode all), else the shard's epoch
 *     Int32 [n, 2n)    shard of symbol i (meaningful while owned)
 *
 * The main thread is the only writer. Readers on the same thread read the cells directly; worker threads copy
 * them at the start of a batch after the control block's generation moved (ShardWorker), which is what orders
 * these plain stores before their reads.
 */
export class OwnershipCells {
  readonly sab: SharedArrayBuffer;
  readonly epochs: Int32Array;
  readonly shards: Int32Array;

  constructor(readonly symbolCount: number, sab?: SharedArrayBuffer) {
    const bytes = symbolCount * 8;
    if (sab !== undefined && sab.byteLength !== bytes) throw new RangeError(`OwnershipCells for ${symbolCount} symbols need ${bytes} bytes, got ${sab.byteLength}`);
    this.sab = sab ?? new SharedArrayBuffer(bytes);
    this.epochs = new Int32Array(this.sab, 0, symbolCount);
    this.shards = new Int32Array(this.sab, symbolCount * 4, symbolCount);
  }
}

/**
 * The engine's ownership of its symbols (main thread). In mode `all` every symbol is owned, unfenced (epoch 0 on
 * the wire), as a standalone engine trades; `set-ownership` is refused. In mode `assigned` (every engine the
 * operator runs) the engine owns nothing until the operator grants shards, and sends orders only for symbols of
 * shards it owns, stamped with the shard and its epoch.
 *
 * `plan` is pure; `markReleased` and `markAcquired` write the cells. The engine runs them in this order:
 * plan -> markReleased -> fence the pipeline and flush -> read the released positions -> markAcquired.
 */
export class SymbolOwnership {
  readonly cells: OwnershipCells;
  private owned = new Map<number, OwnedShard>();

  constructor(readonly mode: OwnershipMode, symbolCount: number, sab?: SharedArrayBuffer) {
    this.cells = new OwnershipCells(symbolCount, sab);
    this.cells.epochs.fill(mode === 'all' ? UNFENCED : UNOWNED);
  }

  /** The shards owned now, by shard number. */
  get shards(): readonly OwnedShard[] {
    return [...this.owned.values()].sort((a, b) => a.shard - b.shard);
  }

  /** How many symbols this engine may send orders for. */
  ownedSymbolCount(): number {
    let count = 0;
    for (const epoch of this.cells.epochs) if (epoch !== UNOWNED) count++;
    return count;
  }

  /**
   * What `request` changes, or why it is refused: in mode `all`; a grant older than the epoch this engine owns
   * the shard at (a request from a deposed leader); the same epoch with other symbols (a change needs a new
   * epoch); a symbol newly owned without its position (risk state must follow the symbol).
   */
  plan(request: OwnershipRequest): { readonly ok: true; readonly change: OwnershipChange } | { readonly ok: false; readonly error: string } {
    if (this.mode === 'all') return { ok: false, error: 'this engine trades every symbol (ownership.mode all): set-ownership needs ownership.mode assigned' };
    const release: OwnedShard[] = [];
    const acquire: ShardGrant[] = [];
    const keep: OwnedShard[] = [];
    const granted = new Map(request.shards.map((grant) => [grant.shard, grant]));
    for (const current of this.owned.values()) {
      const grant = granted.get(current.shard);
      if (grant === undefined) release.push(current);
      else if (grant.epoch < current.epoch) {
        return { ok: false, error: `shard ${current.shard}: epoch ${grant.epoch} is older than the epoch ${current.epoch} this engine owns it at` };
      } else if (grant.epoch === current.epoch) {
        if (!sameSymbols(grant.symbols, current.symbols)) {
          return { ok: false, error: `shard ${current.shard}: already owned at epoch ${current.epoch} with other symbols; a change needs a new epoch` };
        }
        keep.push(current);
      } else {
        release.push(current);
        acquire.push(grant);
      }
    }
    for (const grant of request.shards) if (!this.owned.has(grant.shard)) acquire.push(grant);
    const keptSymbols = new Set(keep.flatMap((shard) => shard.symbols));
    for (const grant of acquire) {
      for (const symbol of grant.symbols) {
        if (keptSymbols.has(symbol)) return { ok: false, error: `shard ${grant.shard}: symbol index ${symbol} stays in kept shard of this engine` };
        if (!grant.positions.has(symbol)) return { ok: false, error: `shard ${grant.shard}: no position for symbol index ${symbol}, which this engine takes over` };
      }
    }
    return { ok: true, change: { release, acquire, keep } };
  }

  /** Stops orders for every symbol of the released shards (before the pipeline is fenced). */
  markReleased(change: OwnershipChange): void {
    const { epochs } = this.cells;
    for (const shard of change.release) {
      for (const symbol of shard.symbols) epochs[symbol] = UNOWNED;
      this.owned.delete(shard.shard);
    }
  }

  /** Starts orders for every symbol of the acquired shards, stamped with their shard and epoch. */
  markAcquired(change: OwnershipChange): void {
    const { epochs, shards } = this.cells;
    for (const grant of change.acquire) {
      for (const symbol of grant.symbols) {
        shards[symbol] = grant.shard;
        epochs[symbol] = grant.epoch;
      }
      this.owned.set(grant.shard, { shard: grant.shard, epoch: grant.epoch, symbols: grant.symbols });
    }
  }
}

function sameSymbols(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((symbol, i) => symbol === b[i]);
}
