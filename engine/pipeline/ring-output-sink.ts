import type { SpscRing } from '../ring/spsc-ring.ts';
import type { Order, Signal } from './order.ts';
import type { OutputSink } from './output-sink.ts';
import type { PipelineControl } from './worker-control.ts';
import { writeOrderSlot, writeSignalSlot } from './worker-slots.ts';

/**
 * A worker's OutputSink: writes each signal and each order as one slot of the worker's output ring (layout in
 * worker-slots.ts). Records become visible to the main thread at `publish()`, which the worker calls once per
 * input batch, and which wakes the main thread if it is waiting.
 *
 * A full output ring never loses a record while the main thread lives: the sink publishes what it has, wakes
 * main and waits for space with the worker's wait strategy. Only a ring closed by the main thread (a drain that
 * timed out) refuses records, and each refused record is counted in the ring's dropped counter.
 */
export class RingOutputSink implements OutputSink {
  private unpublished = 0;

  constructor(
    private readonly ring: SpscRing,
    private readonly control: PipelineControl,
  ) {}

  signal(signal: Signal): void {
    const slot = this.claim();
    if (slot >= 0) writeSignalSlot(this.ring, slot, signal);
  }

  order(order: Order): void {
    const slot = this.claim();
    if (slot >= 0) writeOrderSlot(this.ring, slot, order);
  }

  /** Makes every record written since the last publish visible to the main thread and wakes it if it waits. */
  publish(): void {
    if (this.unpublished === 0) return;
    this.unpublished = 0;
    this.ring.publish();
    this.control.wakeMain();
  }

  private claim(): number {
    const slot = this.ring.tryClaim();
    if (slot < 0) return this.claimWhenFull();
    this.unpublished++;
    return slot;
  }

  private claimWhenFull(): number {
    const ring = this.ring;
    // Main can only free slots it has seen: hand over what we have first, then wait for it to release some.
    this.publish();
    for (;;) {
      ring.waitForSpace();
      const slot = ring.tryClaim();
      if (slot >= 0) {
        this.unpublished++;
        return slot;
      }
      if (ring.isClosed()) {
        ring.recordDropped(1);
        return -1;
      }
    }
  }
}
