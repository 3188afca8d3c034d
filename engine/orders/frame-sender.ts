/**
 * Sends frames on one ZeroMQ socket without ever blocking the caller.
 *
 * zeromq.js allows one send in flight per socket (a second concurrent send throws), so every producer on a
 * socket must share that socket's one FrameSender. Every send costs a Promise and every send costs a Promise; the pipeline hands whole
 * frames (many records each) to a FrameSender, which sends at once when the socket is idle and otherwise queues.
 * The queue is bounded: a frame refused because the queue is full is counted in `droppedFrames` and
 * `droppedRecords` and reported by `offer()` returning false, never lost silently. `drain()` resolves once every
 * accepted frame has been handed to libzmq (which then transmits it within the socket's linger time).
 *
 *   pipeline --offer(frame)--> [ in flight | queue (bounded) ] --send--> libzmq --> wire
 */
export interface FrameSocket {
  send(message: Buffer | Buffer[]): Promise<void>;
}

export interface FrameSenderStats {
  sentFrames: number;
  sentRecords: number;
  droppedFrames: number;
  droppedRecords: number;
  failedSends: number;
}

export class FrameSender {
  private readonly queue: Array<Buffer | Buffer[]> = [];
  private readonly queueRecords: number[] = [];
  private inFlight = false;
  private idleWaiters: Array<() => void> = [];
  readonly stats: FrameSenderStats = { sentFrames: 0, sentRecords: 0, droppedFrames: 0, droppedRecords: 0, failedSends: 0 };
  lastError: Error | undefined;

  constructor(
    private readonly socket: FrameSocket,
    private readonly maxQueuedFrames: number,
  ) {}

  get queuedFrames(): number {
    return this.queue.length;
  }

  /**
   * Queues `frame` (carrying `records` records) for sending, as the message [topic][frame] when a topic is
   * given (PUB), else as one part; false when refused because the queue is full (counted).
   */
  offer(frame: Buffer, records: number, topic?: Buffer): boolean {
    const message = topic === undefined ? frame : [topic, frame];
    if (!this.inFlight) {
      this.sendNow(message, records);
      return true;
    }
    if (this.queue.length >= this.maxQueuedFrames) {
      this.stats.droppedFrames++;
      this.stats.droppedRecords += records;
      return false;
    }
    this.queue.push(message);
    this.queueRecords.push(records);
    return true;
  }

  /** Resolves when nothing is queued or in flight. */
  drain(): Promise<void> {
    if (!this.inFlight && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private sendNow(message: Buffer | Buffer[], records: number): void {
    this.inFlight = true;
    this.socket.send(message).then(
      () => this.onSent(records),
      (error: unknown) => this.onFailed(error, records),
    );
  }

  private onSent(records: number): void {
    this.stats.sentFrames++;
    this.stats.sentRecords += records;
    this.next();
  }

  private onFailed(error: unknown, records: number): void {
    this.stats.failedSends++;
    this.stats.droppedFrames++;
    this.stats.droppedRecords += records;
    this.lastError = error instanceof Error ? error : new Error(String(error));
    this.next();
  }

  private next(): void {
    const message = this.queue.shift();
    if (message !== undefined) {
      this.sendNow(message, this.queueRecords.shift() ?? 0);
      return;
    }
    this.inFlight = false;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
