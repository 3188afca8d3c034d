// Two-thread stress tests: the producer runs on this thread, the consumer in a real worker thread.
import { describe, expect, it } from 'vitest';
import { spawnWorker, workerExit } from '../threads/spawn-worker.ts';
import { SpscRing } from './spsc-ring.ts';
import { createWaitStrategy, type WaitStrategyName } from './wait-strategy.ts';
import { MESSAGE_BYTES, writeMessage, type ConsumerReport, type ConsumerRequest } from './test-message.ts';

const MESSAGES = 2_000_000;
/** The producer's sequence crosses 2^31 - 1 -> -2^31 after 700,000 messages, mid-run. */
const NEAR_WRAP = 2 ** 31 - 700_000;

interface Consumer {
  readonly report: Promise<ConsumerReport>;
  readonly exit: Promise<void>;
}

/** Starts the consumer worker and resolves once it has attached to the ring. */
async function startConsumer(request: ConsumerRequest): Promise<Consumer> {
  const worker = spawnWorker(new URL('./fixtures/ring-consumer.worker.ts', import.meta.url), request);
  const exit = workerExit(worker);
  exit.catch(() => undefined);
  const messages: unknown[] = [];
  let deliver: (() => void) | undefined;
  worker.on('message', (message: unknown) => {
    messages.push(message);
    deliver?.();
  });
  const next = async (): Promise<unknown> => {
    while (messages.length === 0) {
      await Promise.race([new Promise<void>((resolve) => (deliver = resolve)), exit]);
    }
    return messages.shift();
  };
  expect(await next()).toBe('ready');
  return { report: next() as Promise<ConsumerReport>, exit };
}

/** Writes ids [from, to) in batches of up to 64 slots, one publish per batch, waiting for space when full. */
function produceInBatches(ring: SpscRing, from: number, to: number): void {
  for (let id = from; id < to; ) {
    let free = ring.claimable();
    if (free === 0) free = ring.waitForSpace(10_000);
    if (free === 0) throw new Error(`Producer found no space for 10 s at id ${id}`);
    const batch = Math.min(free, 64, to - id);
    for (let k = 0; k < batch; k++) writeMessage(ring, ring.claimSlotAt(k), id + k);
    ring.publishN(batch);
    id += batch;
  }
}

/** Writes ids [from, to) one claim at a time, publishing every message. */
function produceOneByOne(ring: SpscRing, from: number, to: number): void {
  for (let id = from; id < to; id++) {
    const slot = ring.claim();
    if (slot < 0) throw new Error(`Producer found the ring closed at id ${id}`);
    writeMessage(ring, slot, id);
    ring.publish();
  }
}

// Two spinning threads on a 2-core host shared with other test files end up time-sliced on one core, and then
// each slice moves at most one ring's worth of messages; a larger ring keeps spin fast under load.
const STRESS_CASES: ReadonlyArray<{ strategy: WaitStrategyName; capacity: number }> = [
  { strategy: 'spin', capacity: 65_536 },
  { strategy: 'yield', capacity: 1024 },
  { strategy: 'block', capacity: 1024 },
];

describe.each(STRESS_CASES)('SpscRing across threads, $strategy, block policy', ({ strategy, capacity }) => {
  it('delivers 2 million messages across the Int32 wrap in order, intact and without loss', async () => {
    const ring = SpscRing.create({
      capacity,
      slotBytes: MESSAGE_BYTES,
      overflow: 'block',
      initialSequence: NEAR_WRAP,
      waitStrategy: createWaitStrategy(strategy),
    });
    const consumer = await startConsumer({ sab: ring.sab, strategy, slowdown: 0 });

    produceInBatches(ring, 0, MESSAGES / 2);
    produceOneByOne(ring, MESSAGES / 2, MESSAGES);
    ring.close();

    const report = await consumer.report;
    await consumer.exit;
    expect(report).toEqual({ consumed: MESSAGES, gaps: 0, lastId: MESSAGES - 1, errors: 0, firstError: '', closed: true });
    expect(ring.dropped()).toBe(0);
    expect(new Int32Array(ring.sab, 64, 1)[0]).toBe((NEAR_WRAP + MESSAGES) | 0);
  });
});

describe('SpscRing across threads, drop policy', () => {
  it('accounts for every offer as consumed or dropped and delivers the consumed ones in order', async () => {
    const ring = SpscRing.create({
      capacity: 64,
      slotBytes: MESSAGE_BYTES,
      overflow: 'drop',
      initialSequence: NEAR_WRAP,
      waitStrategy: createWaitStrategy('yield'),
    });
    // A slowed consumer, so that the small ring overflows often.
    const consumer = await startConsumer({ sab: ring.sab, strategy: 'yield', slowdown: 100 });

    let id = 0;
    let accepted = 0;
    const write = (target: SpscRing, slot: number): void => writeMessage(target, slot, id);
    for (; id < MESSAGES; id++) if (ring.offer(write)) accepted++;
    ring.close();

    const report = await consumer.report;
    await consumer.exit;
    const dropped = ring.dropped();
    expect(report.errors).toBe(0);
    expect(report.closed).toBe(true);
    expect(report.consumed).toBe(accepted);
    expect(report.consumed + dropped).toBe(MESSAGES);
    // Every dropped id is a gap in the consumed sequence, or lies after the last id consumed.
    expect(report.gaps + (MESSAGES - 1 - report.lastId)).toBe(dropped);
    expect(dropped).toBeGreaterThan(0);
    expect(report.consumed).toBeGreaterThan(0);
  });
});

describe('SpscRing close across threads', () => {
  it('wakes a consumer blocked on an empty ring', async () => {
    const ring = SpscRing.create({ capacity: 8, slotBytes: MESSAGE_BYTES, overflow: 'block' });
    const consumer = await startConsumer({ sab: ring.sab, strategy: 'block', slowdown: 0 });
    const consumerSleeping = new Int32Array(ring.sab, 192, 1);
    // Wait until the consumer has raised its sleeping flag, i.e. is parked (or about to park) in Atomics.wait.
    const deadline = performance.now() + 5_000;
    while (Atomics.load(consumerSleeping, 0) === 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 1));
    expect(Atomics.load(consumerSleeping, 0)).toBe(1);

    const closedAt = performance.now();
    ring.close();
    const report = await consumer.report;
    expect(performance.now() - closedAt).toBeLessThan(1_000);
    expect(report).toMatchObject({ consumed: 0, errors: 0, closed: true });
    await consumer.exit;
  });
});
