import { describe, expect, it } from 'vitest';
import { ShardFence } from './shard-fence.ts';

describe('ShardFence', () => {
  it('admits the newest epoch of each shard, raises it, and refuses anything older', () => {
    const fence = new ShardFence();
    expect(fence.admit(3, 5)).toBe(true);
    expect(fence.admit(3, 5)).toBe(true);
    expect(fence.admit(3, 6)).toBe(true);
    expect(fence.newestEpoch(3)).toBe(6);
    // The old owner of shard 3, still sending after the move: refused, however many it sends.
    expect(fence.admit(3, 5)).toBe(false);
    expect(fence.admit(3, 1)).toBe(false);
    expect(fence.newestEpoch(3)).toBe(6);
    // Each shard has its own epoch.
    expect(fence.admit(4, 1)).toBe(true);
    expect(fence.admit(0xffff, 0xffffffff)).toBe(true);
    expect(fence.newestEpoch(0xffff)).toBe(0xffffffff);
  });

  it('never fences epoch 0: an engine under no ownership', () => {
    const fence = new ShardFence();
    expect(fence.admit(0, 7)).toBe(true);
    expect(fence.admit(0, 0)).toBe(true);
    expect(fence.newestEpoch(0)).toBe(7);
  });
});
