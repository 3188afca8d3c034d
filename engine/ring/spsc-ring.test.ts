import { describe, expect, it } from 'vitest';
import { CONTROL_BYTES, RING_LAYOUT_VERSION, RING_MAGIC, SpscRing, type OverflowPolicy } from './spsc-ring.ts';
import { BusySpinWaitStrategy } from './wait-strategy.ts';
import { MESSAGE_BYTES, readMessage, writeMessage } from './test-message.ts';

const spin = new BusySpinWaitStrategy();

function ring(capacity: number, overflow: OverflowPolicy = 'block', initialSequence = 0): SpscRing {
  return SpscRing.create({ capacity, slotBytes: MESSAGE_BYTES, overflow, initialSequence, waitStrategy: spin });
}

/** Reads every ready message, releases them, and returns their ids. */
function drain(r: SpscRing): number[] {
  const ids: number[] = [];
  const ready = r.available();
  for (let k = 0; k < ready; k++) ids.push(readMessage(r, r.slotIndexAt(k)));
  r.release(ready);
  return ids;
}

function controlCell(r: SpscRing, byteOffset: number): number {
  return new Int32Array(r.sab, byteOffset, 1)[0];
}

describe('SpscRing shape', () => {
  it.each([0, 3, 6, 1000, 1.5, -8, 2 ** 31, Number.NaN])('rejects capacity %s with a RangeError', (capacity) => {
    expect(() => SpscRing.create({ capacity, slotBytes: 8, overflow: 'block' })).toThrow(
      new RangeError(`SpscRing capacity must be a power of two from 1 to 2^30, got ${capacity}`),
    );
  });

  it.each([0, 4, 12, 9.5])('rejects slotBytes %s with a RangeError', (slotBytes) => {
    expect(() => SpscRing.create({ capacity: 8, slotBytes, overflow: 'block' })).toThrow(/slotBytes must be a positive multiple of 8/);
  });

  it('rejects an unknown overflow policy', () => {
    const overflow = 'overwrite' as OverflowPolicy;
    expect(() => SpscRing.create({ capacity: 8, slotBytes: 8, overflow })).toThrow(RangeError);
  });

  it('sizes the buffer as the control block plus capacity slots', () => {
    const r = SpscRing.create({ capacity: 16, slotBytes: 24, overflow: 'drop' });
    expect(SpscRing.byteLength(16, 24)).toBe(384 + 16 * 24);
    expect(r.sab.byteLength).toBe(SpscRing.byteLength(16, 24));
    expect([r.capacity, r.mask, r.slotBytes, r.slotF64, r.slotI32, r.overflow]).toEqual([16, 15, 24, 3, 6, 'drop']);
    expect([r.f64.length, r.i32.length, r.u8.length]).toEqual([48, 96, 384]);
  });

  it('keeps the documented layout: head at byte 64, tail at byte 128, slots from byte 384', () => {
    const r = ring(4);
    const slot = r.tryClaim();
    r.f64[slot * r.slotF64] = 7.5;
    r.publish();
    expect(controlCell(r, 0)).toBe(RING_MAGIC);
    expect(controlCell(r, 4)).toBe(RING_LAYOUT_VERSION);
    expect(controlCell(r, 8)).toBe(4);
    expect(controlCell(r, 12)).toBe(MESSAGE_BYTES);
    expect(controlCell(r, 64)).toBe(1);
    expect(controlCell(r, 128)).toBe(0);
    expect(new Float64Array(r.sab, CONTROL_BYTES, 1)[0]).toBe(7.5);
    r.available();
    r.release(1);
    expect(controlCell(r, 128)).toBe(1);
  });
});

describe('SpscRing producer and consumer on one thread', () => {
  it('fills to capacity, refuses the next claim, and reuses a slot once released', () => {
    const r = ring(8);
    const slots: number[] = [];
    for (let id = 0; id < 8; id++) {
      const slot = r.tryClaim();
      writeMessage(r, slot, id);
      slots.push(slot);
    }
    expect(slots).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(r.tryClaim()).toBe(-1);
    expect(r.available()).toBe(0);
    r.publish();
    expect(r.occupancy()).toBe(8);
    expect(r.available()).toBe(8);
    expect(r.tryClaim()).toBe(-1);
    expect([readMessage(r, r.slotIndexAt(0)), readMessage(r, r.slotIndexAt(7))]).toEqual([0, 7]);
    r.release(3);
    expect(r.occupancy()).toBe(5);
    expect(r.tryClaim()).toBe(0);
    expect(r.dropped()).toBe(0);
  });

  it('publishes a batch written through claimable and claimSlotAt with one publishN', () => {
    const r = ring(8);
    expect(r.claimable()).toBe(8);
    for (let k = 0; k < 5; k++) writeMessage(r, r.claimSlotAt(k), 100 + k);
    expect(r.available()).toBe(0);
    r.publishN(5);
    expect(r.claimable()).toBe(3);
    expect(drain(r)).toEqual([100, 101, 102, 103, 104]);
  });

  it('reports the cached free count from claimable and re-reads the consumer only when that is zero', () => {
    const r = ring(8);
    r.publishN(8);
    r.available();
    r.release(8);
    // The cache said full, so this call re-reads the consumer's sequence.
    expect(r.claimable()).toBe(8);
    r.publishN(6);
    r.available();
    r.release(6);
    expect(r.claimable()).toBe(2);
    r.publishN(2);
    expect(r.claimable()).toBe(6);
  });

  it('publishes slots claimed one by one together with a batch after them', () => {
    const r = ring(8);
    writeMessage(r, r.tryClaim(), 1);
    writeMessage(r, r.tryClaim(), 2);
    expect(r.claimable()).toBe(6);
    writeMessage(r, r.claimSlotAt(0), 3);
    r.publishN(1);
    expect(drain(r)).toEqual([1, 2, 3]);
  });

  it('refuses to publish or release more slots than exist', () => {
    const r = ring(4);
    expect(() => r.publishN(5)).toThrow(RangeError);
    expect(() => r.publishN(-1)).toThrow(RangeError);
    r.publishN(2);
    expect(r.available()).toBe(2);
    expect(() => r.release(3)).toThrow(RangeError);
    r.release(2);
    expect(r.occupancy()).toBe(0);
  });

  it('counts every refused offer on a full drop ring, so offered equals consumed plus dropped', () => {
    const r = ring(4, 'drop');
    let id = 0;
    const write = (target: SpscRing, slot: number): void => writeMessage(target, slot, id);
    const accepted: boolean[] = [];
    for (; id < 10; id++) accepted.push(r.offer(write));
    expect(accepted).toEqual([true, true, true, true, false, false, false, false, false, false]);
    expect(r.dropped()).toBe(6);
    const consumed = drain(r);
    expect(consumed).toEqual([0, 1, 2, 3]);
    for (; id < 13; id++) r.offer(write);
    consumed.push(...drain(r));
    expect(consumed.length + r.dropped()).toBe(13);
    expect(r.claim()).toBeGreaterThanOrEqual(0);
  });

  it('leaves tryClaim uncounted and counts recordDropped exactly across the 32-bit carry', () => {
    const r = ring(1, 'drop');
    r.tryClaim();
    expect(r.tryClaim()).toBe(-1);
    expect(r.dropped()).toBe(0);
    r.recordDropped(2 ** 32 - 2);
    r.recordDropped(1);
    expect(r.dropped()).toBe(2 ** 32 - 1);
    r.recordDropped(3);
    expect(r.dropped()).toBe(2 ** 32 + 2);
    expect(SpscRing.attach(r.sab).dropped()).toBe(2 ** 32 + 2);
  });

  it('streams across the Int32 wrap from initialSequence 2^31 - 5 in order', () => {
    const r = ring(8, 'block', 2 ** 31 - 5);
    expect(controlCell(r, 64)).toBe(2 ** 31 - 5);
    const received: number[] = [];
    let id = 0;
    // Uneven batch sizes so that full, partly full and empty rings all straddle the wrap.
    for (const batch of [3, 8, 1, 7, 5, 8, 2, 6]) {
      for (let k = 0; k < batch; k++) writeMessage(r, r.claim(), id++);
      r.publish();
      expect(r.occupancy()).toBe(batch);
      expect(r.available()).toBe(batch);
      received.push(...drain(r));
    }
    expect(received).toEqual(Array.from({ length: id }, (_, i) => i));
    expect(controlCell(r, 64)).toBe((2 ** 31 - 5 + id) | 0);
    expect(controlCell(r, 64)).toBeLessThan(0);
  });

  it('reports full and empty correctly while head has wrapped and tail has not', () => {
    const r = ring(8, 'drop', 2 ** 31 - 3);
    for (let id = 0; id < 8; id++) writeMessage(r, r.claim(), id);
    r.publish();
    expect(controlCell(r, 64)).toBeLessThan(0);
    expect(controlCell(r, 128)).toBeGreaterThan(0);
    expect(r.occupancy()).toBe(8);
    expect(r.claim()).toBe(-1);
    expect(r.dropped()).toBe(1);
    expect(drain(r)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(r.occupancy()).toBe(0);
    expect(r.available()).toBe(0);
  });
});

describe('SpscRing.attach', () => {
  it('rebuilds a ring that shares slots and cursors with the original', () => {
    const producer = ring(16, 'drop', 41);
    writeMessage(producer, producer.claim(), 9);
    producer.publish();
    const consumer = SpscRing.attach(producer.sab);
    expect([consumer.capacity, consumer.slotBytes, consumer.overflow]).toEqual([16, MESSAGE_BYTES, 'drop']);
    expect(drain(consumer)).toEqual([9]);
    expect(producer.occupancy()).toBe(0);
  });

  it('rejects a plain ArrayBuffer with a TypeError', () => {
    const notShared = new ArrayBuffer(1024) as unknown as SharedArrayBuffer;
    expect(() => SpscRing.attach(notShared)).toThrow(TypeError);
  });

  it('rejects a buffer shorter than the control block', () => {
    expect(() => SpscRing.attach(new SharedArrayBuffer(100))).toThrow(/shorter than the 384-byte control block/);
  });

  it('rejects a buffer without the ring magic', () => {
    expect(() => SpscRing.attach(new SharedArrayBuffer(1024))).toThrow(/bad magic 0x0, expected 0x4e585253/);
  });

  it('rejects another layout version', () => {
    const r = ring(4);
    new Int32Array(r.sab)[1] = RING_LAYOUT_VERSION + 1;
    expect(() => SpscRing.attach(r.sab)).toThrow(/layout version 2, this build reads version 1/);
  });

  it('rejects a corrupted capacity', () => {
    const r = ring(4);
    new Int32Array(r.sab)[2] = 5;
    expect(() => SpscRing.attach(r.sab)).toThrow(/capacity must be a power of two/);
  });

  it('rejects a buffer whose size disagrees with its layout', () => {
    const r = ring(4);
    const bigger = new SharedArrayBuffer(r.sab.byteLength + 8);
    new Uint8Array(bigger).set(new Uint8Array(r.sab));
    expect(() => SpscRing.attach(bigger)).toThrow(/capacity 4 x slotBytes 24 needs 480/);
  });
});

describe('SpscRing close and waits', () => {
  it('delivers slots published before close, then reports closed with 0', () => {
    const r = ring(4);
    writeMessage(r, r.claim(), 1);
    r.publish();
    r.close();
    expect(r.isClosed()).toBe(true);
    expect(r.waitForAvailable()).toBe(1);
    expect(drain(r)).toEqual([1]);
    expect(r.waitForAvailable()).toBe(0);
  });

  it('makes claim return -1 and offer false on a closed full block ring, without counting drops', () => {
    const r = ring(2);
    r.claim();
    r.claim();
    r.close();
    expect(r.claim()).toBe(-1);
    expect(r.offer(() => undefined)).toBe(false);
    expect(r.dropped()).toBe(0);
    // claim() published its pending claims before it waited, so the consumer can see them.
    expect(r.available()).toBe(2);
  });

  it('returns 0 from waitForAvailable and waitForSpace when the timeout passes', () => {
    const r = ring(1);
    const started = performance.now();
    expect(r.waitForAvailable(5)).toBe(0);
    r.claim();
    r.publish();
    expect(r.waitForSpace(5)).toBe(0);
    expect(performance.now() - started).toBeGreaterThanOrEqual(9);
  });
});
