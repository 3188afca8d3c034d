import { Publisher } from 'zeromq';
import { FrameSender } from '../orders/frame-sender.ts';
import { symbolId } from '../wire/symbol-id.ts';
import { TickFrameWriter } from '../wire/tick-codec.ts';

export interface TickPublisherOptions {
  readonly connect?: string;
  readonly bind?: string;
  readonly symbols: readonly string[];
  /** `undefined`: one topic per symbol (the symbol name). A string: every tick on that one channel topic. */
  readonly channel?: string;
  /** Records per frame before it is sent at once. */
  readonly maxTicksPerFrame: number;
  /** A partly filled frame is sent once its oldest tick is this old (time-bounded batching). */
  readonly flushNs: number;
  readonly clockNs: () => number;
  /** Distinguishes this publisher's streams from another's on the same topic. */
  readonly instanceSalt: number;
}

/**
 * Publishes ticks over ZeroMQ PUB as batch frames, [topic][frame] per message.
 *
 * Batching is bounded by count and by time: a frame goes out when it holds `maxTicksPerFrame` ticks or when its
 * oldest tick has waited `flushNs`, whichever comes first, so at low rates no tick waits for a frame to fill.
 * Each topic is its own sequenced stream (streamId, firstSequence), so a subscriber counts what PUB dropped.
 */
export class TickPublisher {
  private readonly socket: Publisher;
  private readonly writers: TickFrameWriter[];
  private readonly sender: FrameSender;
  private readonly topics: Buffer[];
  private readonly streamIds: Uint32Array;
  private readonly sequences: Float64Array;
  private readonly oldestNs: Float64Array;
  private readonly symbolIds: Uint32Array;
  private readonly writerOfSymbol: Int32Array;
  ticksPublished = 0;

  constructor(private readonly options: TickPublisherOptions) {
    this.socket = new Publisher({ sendHighWaterMark: 100_000, linger: 2_000 });
    const topics = options.channel === undefined ? [...options.symbols] : [options.channel];
    this.writers = topics.map(() => new TickFrameWriter(options.maxTicksPerFrame));
    this.sender = new FrameSender(this.socket, 1_000_000);
    this.topics = topics.map((topic) => Buffer.from(topic));
    this.streamIds = Uint32Array.from(topics, (topic) => (symbolId(topic) ^ options.instanceSalt) >>> 0);
    this.sequences = new Float64Array(topics.length);
    this.oldestNs = new Float64Array(topics.length).fill(Number.POSITIVE_INFINITY);
    this.symbolIds = Uint32Array.from(options.symbols, (name) => symbolId(name));
    this.writerOfSymbol = Int32Array.from(options.symbols, (_, i) => (options.channel === undefined ? i : 0));
    this.writers.forEach((writer, i) => writer.begin(this.streamIds[i], 0));
  }

  async open(): Promise<string | undefined> {
    if (this.options.bind !== undefined) await this.socket.bind(this.options.bind);
    else if (this.options.connect !== undefined) this.socket.connect(this.options.connect);
    else throw new Error('tick publisher needs connect or bind');
    return this.socket.lastEndpoint ?? undefined;
  }

  append(symbolIndex: number, kind: number, price: number, size: number, exchangeTsNs: number, publishMonoNs: number): void {
    const w = this.writerOfSymbol[symbolIndex];
    const writer = this.writers[w];
    if (writer.count === 0) this.oldestNs[w] = publishMonoNs;
    writer.append(this.symbolIds[symbolIndex], kind, price, size, exchangeTsNs, publishMonoNs);
    if (writer.isFull) this.send(w);
  }

  /**
   * Sends every partly filled frame whose oldest tick will have waited flushNs by `horizonNs`. A caller that next
   * runs at time T passes T: a frame that would pass its bound before then goes now instead of late. With no
   * next run known, pass the current time.
   */
  flushDue(horizonNs: number): void {
    const deadline = horizonNs - this.options.flushNs;
    for (let w = 0; w < this.writers.length; w++) {
      if (this.writers[w].count > 0 && this.oldestNs[w] <= deadline) this.send(w);
    }
  }

  flushAll(): void {
    for (let w = 0; w < this.writers.length; w++) if (this.writers[w].count > 0) this.send(w);
  }

  /** Frames refused by a full send queue, and their ticks (counted, never silent). */
  get dropped(): { frames: number; ticks: number } {
    return { frames: this.sender.stats.droppedFrames, ticks: this.sender.stats.droppedRecords };
  }

  /**
   * Sends message parts verbatim on the feed socket, through the same sender queue as encoded frames: for
   * replaying captured frames and for fault injection (malformed frames in tests and drills).
   */
  sendRaw(parts: readonly Buffer[]): void {
    if (parts.length === 2) this.sender.offer(parts[1], 0, parts[0]);
    else this.sender.offer(Buffer.concat(parts), 0);
  }

  async drain(): Promise<void> {
    this.flushAll();
    await this.sender.drain();
  }

  close(): void {
    this.socket.close();
  }

  private send(w: number): void {
    const writer = this.writers[w];
    const count = writer.count;
    const frame = writer.finish(this.options.clockNs());
    this.sender.offer(frame, count, this.topics[w]);
    this.ticksPublished += count;
    this.sequences[w] += count;
    this.oldestNs[w] = Number.POSITIVE_INFINITY;
    writer.begin(this.streamIds[w], this.sequences[w]);
  }
}
