import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { latchFileName, OrdersLatch } from './orders-latch.ts';

describe('OrdersLatch', () => {
  it('outlives the process that latched it, through the state directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nexus-latch-'));
    const first = new OrdersLatch(dir);
    expect(first.isLatched).toBe(false);
    first.latch('cut by the operator');
    expect(existsSync(join(dir, latchFileName))).toBe(true);
    const restarted = new OrdersLatch(dir);
    expect(restarted.isLatched).toBe(true);
    restarted.unlatch();
    expect(new OrdersLatch(dir).isLatched).toBe(false);
  });

  it('lives in memory without a state directory', () => {
    const latch = new OrdersLatch(undefined);
    latch.latch('cut');
    expect(latch.isLatched).toBe(true);
    expect(latch.durable).toBe(false);
    expect(new OrdersLatch(undefined).isLatched).toBe(false);
  });
});
