/**
 * The address space of the wasm backend's shared memory above the modules' static data: a first-fit free list
 * of blocks, coalesced on free. Pure bookkeeping (numbers only); the backend grows the memory to `top`.
 *
 * Guarantees: every block starts on a BLOCK_ALIGN boundary (a cache line, so SIMD pairs and worker shards never
 * straddle one at a block's start) and spans a multiple of it; live blocks never overlap; `top` is the end of the
 * highest live block (or the aligned base), so memory up to `top` covers every live block. Allocations past `limit` (4 GiB: all that wasm32 addresses) throw RangeError and change
 * nothing; freeing an address that is not the start of a live block throws and changes nothing.
 */
export const BLOCK_ALIGN = 64;

interface FreeBlock {
  address: number;
  bytes: number;
}

export class WasmHeap {
  /** Free blocks below `top`, sorted by address, never adjacent (adjacent ones are merged). */
  private readonly free: FreeBlock[] = [];
  /** Live blocks: start address -> size in bytes. */
  private readonly live = new Map<number, number>();
  private end: number;

  constructor(readonly base: number, readonly limit: number) {
    if (!Number.isInteger(base) || base < 0 || !Number.isInteger(limit) || limit < base) {
      throw new RangeError(`heap bounds must be integers with 0 <= base <= limit, got base ${base}, limit ${limit}`);
    }
    this.end = alignUp(base);
  }

  /** The first byte past the highest live block (the aligned base when none is live). */
  get top(): number {
    return this.end;
  }

  /** Bytes in live blocks. */
  get liveBytes(): number {
    let total = 0;
    for (const bytes of this.live.values()) total += bytes;
    return total;
  }

  /** The size of the live block starting at `address`, or undefined. */
  sizeOf(address: number): number | undefined {
    return this.live.get(address);
  }

  /** Reserves `bytes` (rounded up to BLOCK_ALIGN, at least one unit); returns the block's start address. */
  allocate(bytes: number): number {
    if (!Number.isInteger(bytes) || bytes < 0) throw new RangeError(`bytes must be an integer >= 0, got ${bytes}`);
    const size = Math.max(BLOCK_ALIGN, alignUp(bytes));
    for (let i = 0; i < this.free.length; i++) {
      const block = this.free[i];
      if (block.bytes < size) continue;
      const address = block.address;
      if (block.bytes === size) this.free.splice(i, 1);
      else {
        block.address += size;
        block.bytes -= size;
      }
      this.live.set(address, size);
      return address;
    }
    const address = this.end;
    if (address + size > this.limit) {
      throw new RangeError(
        `wasm memory: ${bytes} more bytes would end at ${address + size}, past the ${this.limit}-byte limit `
        + `(${this.liveBytes} bytes live); release arrays that are no longer needed`,
      );
    }
    this.end = address + size;
    this.live.set(address, size);
    return address;
  }

  /** Gives back the live block starting at `address`. */
  release(address: number): void {
    const size = this.live.get(address);
    if (size === undefined) throw new RangeError(`wasm memory: no live block starts at ${address} (released twice?)`);
    this.live.delete(address);
    let i = 0;
    while (i < this.free.length && this.free[i].address < address) i++;
    const block: FreeBlock = { address, bytes: size };
    this.free.splice(i, 0, block);
    const next = this.free[i + 1];
    if (next !== undefined && block.address + block.bytes === next.address) {
      block.bytes += next.bytes;
      this.free.splice(i + 1, 1);
    }
    const previous = this.free[i - 1];
    if (previous !== undefined && previous.address + previous.bytes === block.address) {
      previous.bytes += block.bytes;
      this.free.splice(i, 1);
    }
    // A free block that reaches the end returns to the unallocated space above.
    const last = this.free[this.free.length - 1];
    if (last !== undefined && last.address + last.bytes === this.end) {
      this.end = last.address;
      this.free.pop();
    }
  }
}

function alignUp(bytes: number): number {
  return Math.ceil(bytes / BLOCK_ALIGN) * BLOCK_ALIGN;
}
