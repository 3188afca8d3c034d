import { describe, expect, it } from 'vitest';
import { FrameSender, type FrameSocket } from './frame-sender.ts';

/** A socket whose sends complete when the test says so, in order. */
class HeldSocket implements FrameSocket {
  readonly pending: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  send(): Promise<void> {
    return new Promise((resolve, reject) => this.pending.push({ resolve, reject }));
  }
  complete(): void {
    this.pending.shift()?.resolve();
  }
  fail(): void {
    this.pending.shift()?.reject(new Error('EAGAIN'));
  }
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('FrameSender.settled', () => {
  it('resolves at once when nothing was taken', async () => {
    const sender = new FrameSender(new HeldSocket(), 8);
    await expect(sender.settled()).resolves.toBeUndefined();
  });

  it('waits for the frames taken before it, not for frames offered later (a steady flow never holds it up)', async () => {
    const socket = new HeldSocket();
    const sender = new FrameSender(socket, 8);
    sender.offer(Buffer.from('a'), 1);
    sender.offer(Buffer.from('b'), 1);
    let settled = false;
    void sender.settled().then(() => (settled = true));
    sender.offer(Buffer.from('c'), 1); // after the call: not waited for
    socket.complete();
    await tick();
    expect(settled).toBe(false);
    socket.fail(); // a failed send is settled too (counted as dropped)
    await tick();
    expect(settled).toBe(true);
    expect(sender.pendingRecords).toBe(1);
    expect(sender.stats).toMatchObject({ sentRecords: 1, droppedRecords: 1 });
  });

  it('resolves when close drops what was queued', async () => {
    const socket = new HeldSocket();
    const sender = new FrameSender(socket, 8);
    sender.offer(Buffer.from('a'), 1);
    sender.offer(Buffer.from('b'), 1);
    const settled = sender.settled();
    socket.complete();
    sender.close();
    await expect(settled).resolves.toBeUndefined();
  });
});
