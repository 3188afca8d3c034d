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
  private inFlightRecords = 0;
  private queuedRecordCount = 0;
  private closed = false;
  private idleWaiters: Array<() => void> = [];
  /** Frames taken for sending (sent now or queued) and frames done with (sent, failed or dropped at close). */
  private framesTaken = 0;
  private framesSettled = 0;
  private settleWaiters: Array<{ readonly mark: number; readonly resolve: () => void }> = [];
  readonly stats: FrameSenderStats = { sentFrames: 0, sentRecords: 0, droppedFrames: 0, droppedRecords: 0, failedSends: 0 };
  lastError: Error | undefined;

  constructor(
    private readonly socket: FrameSocket,
    private readonly maxQueuedFrames: number,
  ) {}

  /** Records accepted and not yet handed to libzmq: the queue's and the one send in flight. */
  get pendingRecords(): number {
    return this.queuedRecordCount + this.inFlightRecords;
  }

  /**
   * Stops sending, before the socket closes: every queued frame is counted as dropped (undelivered) at once; a
   * send in flight settles as sent or failed (counted) when the socket closes under it. Nothing is offered to the
   * socket after this, so a closed socket is never written to.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stats.droppedFrames += this.queue.length;
    this.stats.droppedRecords += this.queuedRecordCount;
    this.framesSettled += this.queue.length;
    this.queue.length = 0;
    this.queueRecords.length = 0;
    this.queuedRecordCount = 0;
    if (!this.inFlight) this.wakeIdleWaiters();
    this.wakeSettleWaiters();
  }

  /**
   * Queues `frame` (carrying `records` records) for sending, as the message [topic][frame] when a topic is
   * given (PUB), else as one part; false when refused because the queue is full (counted).
   */
  offer(frame: Buffer, records: number, topic?: Buffer): boolean {
    const message = topic === undefined ? frame : [topic, frame];
    if (this.closed) {
      this.stats.droppedFrames++;
      this.stats.droppedRecords += records;
      return false;
    }
    if (!this.inFlight) {
      this.framesTaken++;
      this.sendNow(message, records);
      return true;
    }
    if (this.queue.length >= this.maxQueuedFrames) {
      this.stats.droppedFrames++;
      this.stats.droppedRecords += records;
      return false;
    }
    this.framesTaken++;
    this.queue.push(message);
    this.queueRecords.push(records);
    this.queuedRecordCount += records;
    return true;
  }

  /** Resolves when nothing is queued or in flight. */
  drain(): Promise<void> {
    if (!this.inFlight && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Resolves once every frame taken before this call has been handed to libzmq or counted as dropped, whatever is
   * offered afterwards: unlike `drain`, a steady flow of new frames does not hold it up. An ownership release
   * waits on it so the released shards' orders leave before the next owner's.
   */
  settled(): Promise<void> {
    const mark = this.framesTaken;
    if (this.framesSettled >= mark) return Promise.resolve();
    return new Promise((resolve) => this.settleWaiters.push({ mark, resolve }));
  }

  private sendNow(message: Buffer | Buffer[], records: number): void {
    this.inFlight = true;
    this.inFlightRecords = records;
    let sending: Promise<void>;
    try {
      sending = this.socket.send(message);
    } catch (error) {
      // A socket may refuse at once (closed under us) instead of rejecting: count it, never throw into the pipeline.
      sending = Promise.reject(error);
    }
    sending.then(
      () => this.onSent(records),
      (error: unknown) => this.onFailed(error, records),
    );
  }

  private onSent(records: number): void {
    this.framesSettled++;
    this.stats.sentFrames++;
    this.stats.sentRecords += records;
    this.next();
  }

  private onFailed(error: unknown, records: number): void {
    this.framesSettled++;
    this.stats.failedSends++;
    this.stats.droppedFrames++;
    this.stats.droppedRecords += records;
    this.lastError = error instanceof Error ? error : new Error(String(error));
    this.next();
  }

  private next(): void {
    this.inFlightRecords = 0;
    this.wakeSettleWaiters();
    const message = this.queue.shift();
    if (message !== undefined) {
      const records = this.queueRecords.shift() ?? 0;
      this.queuedRecordCount -= records;
      this.sendNow(message, records);
      return;
    }
    this.inFlight = false;
    this.wakeIdleWaiters();
  }

  private wakeSettleWaiters(): void {
    if (this.settleWaiters.length === 0) return;
    const settled = this.framesSettled;
    const ready = this.settleWaiters.filter((waiter) => waiter.mark <= settled);
    if (ready.length === 0) return;
    this.settleWaiters = this.settleWaiters.filter((waiter) => waiter.mark > settled);
    for (const waiter of ready) waiter.resolve();
  }

  private wakeIdleWaiters(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
