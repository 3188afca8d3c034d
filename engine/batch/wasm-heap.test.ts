import { describe, expect, it } from 'vitest';
import { BLOCK_ALIGN, WasmHeap } from './wasm-heap.ts';

describe('WasmHeap', () => {
  it('hands out aligned, non-overlapping blocks above the base', () => {
    const heap = new WasmHeap(1000, 1 << 20);
    const a = heap.allocate(8);
    const b = heap.allocate(100);
    const c = heap.allocate(0);
    expect(a).toBe(1024);
    expect(b).toBe(1024 + BLOCK_ALIGN);
    expect(c).toBe(1024 + 3 * BLOCK_ALIGN);
    expect([a, b, c].every((x) => x % BLOCK_ALIGN === 0)).toBe(true);
    expect(heap.sizeOf(b)).toBe(2 * BLOCK_ALIGN);
    expect(heap.top).toBe(1024 + 4 * BLOCK_ALIGN);
    expect(heap.liveBytes).toBe(4 * BLOCK_ALIGN);
  });

  it('reuses the first free block that fits and splits it', () => {
    const heap = new WasmHeap(0, 1 << 20);
    const a = heap.allocate(4 * BLOCK_ALIGN);
    const b = heap.allocate(BLOCK_ALIGN);
    heap.release(a);
    expect(heap.allocate(BLOCK_ALIGN)).toBe(a);
    expect(heap.allocate(2 * BLOCK_ALIGN)).toBe(a + BLOCK_ALIGN);
    expect(heap.allocate(2 * BLOCK_ALIGN)).toBe(b + BLOCK_ALIGN); // only one unit left below b: goes on top
  });

  it('coalesces neighbours and lowers the top when the last block is freed', () => {
    const heap = new WasmHeap(0, 1 << 20);
    const blocks = [0, 1, 2, 3].map(() => heap.allocate(BLOCK_ALIGN));
    heap.release(blocks[1]);
    heap.release(blocks[2]);
    expect(heap.allocate(2 * BLOCK_ALIGN)).toBe(blocks[1]); // 1 and 2 merged
    heap.release(blocks[1]);
    heap.release(blocks[3]);
    expect(heap.top).toBe(blocks[1]); // 1-3 free and at the end: back to unallocated space
    heap.release(blocks[0]);
    expect(heap.top).toBe(0);
    expect(heap.liveBytes).toBe(0);
  });

  it('refuses a block past the limit and a bad release, changing nothing', () => {
    const heap = new WasmHeap(0, 4 * BLOCK_ALIGN);
    const a = heap.allocate(3 * BLOCK_ALIGN);
    expect(() => heap.allocate(2 * BLOCK_ALIGN)).toThrow(/past the 256-byte limit \(192 bytes live\)/);
    expect(heap.top).toBe(3 * BLOCK_ALIGN);
    expect(() => heap.release(a + 8)).toThrow(/no live block starts at 8/);
    heap.release(a);
    expect(() => heap.release(a)).toThrow(RangeError);
    expect(() => heap.allocate(-1)).toThrow(/integer >= 0/);
    expect(() => new WasmHeap(10, 5)).toThrow(RangeError);
  });
});
