import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** The latch file's name in the engine's state directory. */
export const latchFileName = 'orders-cut';

/**
 * The operator's cut, latched: once `latch()` returns, orders stay off in this engine (and in the next process of
 * the same container, which finds the file) until `unlatch()`. The operator mounts the state directory as an
 * emptyDir, which a container restart keeps and a new pod does not have, so a restarted canary comes back cut
 * and a fresh pod starts clean. Without a state directory the latch lives in memory only.
 */
export class OrdersLatch {
  private latched: boolean;
  private readonly path: string | undefined;

  constructor(stateDir: string | undefined) {
    this.path = stateDir === undefined ? undefined : join(stateDir, latchFileName);
    this.latched = this.path !== undefined && existsSync(this.path);
  }

  get isLatched(): boolean {
    return this.latched;
  }

  /** Whether the latch outlives this process (a state directory is configured). */
  get durable(): boolean {
    return this.path !== undefined;
  }

  /** Latches, durably when a state directory is configured: the file is written and synced before this returns. */
  latch(reason: string): void {
    if (this.path !== undefined) {
      mkdirSync(join(this.path, '..'), { recursive: true });
      const fd = openSync(this.path, 'w', 0o600);
      try {
        writeSync(fd, `${new Date().toISOString()} ${reason}\n`);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
    this.latched = true;
  }

  unlatch(): void {
    if (this.path !== undefined) rmSync(this.path, { force: true });
    this.latched = false;
  }
}
