import { describe, expect, it } from 'vitest';
import { ShardFence } from './shard-fence.ts';

describe('ShardFence', () => {
  it('admits the newest epoch of each shard, raises it, and refuses anything older', () => {
    const fence = new ShardFence();
    expect(fence.admit(1, 3, 5)).toBe(true);
    expect(fence.admit(1, 3, 5)).toBe(true);
    expect(fence.admit(1, 3, 6)).toBe(true);
    expect(fence.newestEpoch(1, 3)).toBe(6);
    // The old owner of shard 3, still sending after the move: refused, however many it sends.
    expect(fence.admit(1, 3, 5)).toBe(false);
    expect(fence.admit(1, 3, 1)).toBe(false);
    expect(fence.newestEpoch(1, 3)).toBe(6);
    // Each shard has its own epoch.
    expect(fence.admit(1, 4, 1)).toBe(true);
    expect(fence.admit(0xffff, 0xffff, 0xffffffff)).toBe(true);
    expect(fence.newestEpoch(0xffff, 0xffff)).toBe(0xffffffff);
  });

  it('keeps the books apart: shard 3 of another TradingEngine is not fenced by this one\'s epochs', () => {
    const fence = new ShardFence();
    expect(fence.admit(1, 3, 40)).toBe(true);
    expect(fence.admit(2, 3, 1)).toBe(true);
    expect(fence.admit(2, 3, 2)).toBe(true);
    expect(fence.newestEpoch(1, 3)).toBe(40);
    expect(fence.newestEpoch(2, 3)).toBe(2);
  });

  it('never fences epoch 0: an engine under no ownership', () => {
    const fence = new ShardFence();
    expect(fence.admit(1, 0, 7)).toBe(true);
    expect(fence.admit(1, 0, 0)).toBe(true);
    expect(fence.newestEpoch(1, 0)).toBe(7);
  });
});
