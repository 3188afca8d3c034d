import { describe, expect, it } from 'vitest';
import { claimLoopbackBlock } from './loopback-block.ts';

describe('claimLoopbackBlock', () => {
  it('gives concurrent claimants different /24 blocks, and a released block to the next claimant', async () => {
    const first = await claimLoopbackBlock();
    const second = await claimLoopbackBlock();
    expect(first.prefix).toMatch(/^127\.0\.\d+$/);
    expect(second.prefix).toMatch(/^127\.0\.\d+$/);
    expect(second.prefix).not.toBe(first.prefix);
    await first.release();
    const third = await claimLoopbackBlock();
    expect(third.prefix).toBe(first.prefix);
    await Promise.all([second.release(), third.release()]);
  });
});
