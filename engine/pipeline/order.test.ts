import { describe, expect, it } from 'vitest';
import { Order, OrderIdSource, workerOrderInstance } from './order.ts';

describe('workerOrderInstance', () => {
  it.each([
    { instanceId: 0x12345, workerIndex: 0, expected: 0x12345 },
    { instanceId: 0x12345, workerIndex: 1, expected: 0x16345 },
    { instanceId: 0x12345, workerIndex: 63, expected: 0xee345 },
    { instanceId: 0xfffff, workerIndex: 1, expected: 0xfbfff },
  ])('gives worker $workerIndex of instance $instanceId the instance $expected', ({ instanceId, workerIndex, expected }) => {
    expect(workerOrderInstance(instanceId, workerIndex)).toBe(expected);
  });

  it('keeps the order ids of 64 workers of one engine apart and below 2^53', () => {
    const first = new Set<number>();
    for (let w = 0; w < 64; w++) {
      const instance = workerOrderInstance(0xabcde, w);
      expect(instance).toBeLessThan(2 ** 20);
      const order = new Order();
      new OrderIdSource(instance).assignNext(order);
      expect(order.orderId).toBeLessThan(2 ** 53);
      first.add(order.orderId);
    }
    expect(first.size).toBe(64);
  });

  it('rejects a worker index outside 0..63', () => {
    expect(() => workerOrderInstance(1, 64)).toThrow(RangeError);
    expect(() => workerOrderInstance(1, -1)).toThrow(RangeError);
  });
});
