import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { Subscriber } from 'zeromq';
import { MAX_DATA_MESSAGE_BYTES } from '../wire/layout.ts';
import { symbolIdOfBytes } from '../wire/symbol-id.ts';

export interface SubscriberEndpoint {
  readonly connect?: string;
  readonly bind?: string;
  readonly topics: readonly string[];
}

export interface SubscriberOptions {
  /** libzmq receive high-water mark in messages; PUB/SUB drops beyond it, which shows up as sequence gaps. */
  readonly receiveHighWaterMark?: number;
  /** Continuous processing budget before yielding to the event loop, in nanoseconds. */
  readonly yieldEveryNs: number;
  readonly clockNs: () => number;
  /** Called when a connecting socket lost its feed and connected again (see the class comment). */
  readonly onReconnect?: (address: string) => void;
}

/**
 * The engine's market-data intake over a ZeroMQ SUB socket (topics = symbols by default; prefix match).
 *
 * Each message has two parts, [topic][frame]; a message of any other shape is reported to `onMalformed` and
 * dropped. The receive loop processes frames synchronously as they arrive. zeromq.js resolves `receive()` at once
 * while messages are queued, which would starve timers, the metrics server and the control socket during a burst,
 * so after `yieldEveryNs` of continuous work the loop yields one macrotask turn.
 *
 * Inbound parts are capped at `MAX_DATA_MESSAGE_BYTES` (the largest frame the wire header can describe): libzmq
 * drops a peer that sends more after reading the part's length, before buffering it. libzmq does not reconnect a
 * connecting socket after such a drop, so a connecting subscriber connects again itself whenever its feed
 * disconnects (a restarted feed included), and reports it to `onReconnect`: one oversized message costs the
 * messages in flight, never the feed for good.
 */
export class MarketDataSubscriber {
  private readonly socket: Subscriber;
  private closed = false;

  constructor(private readonly endpoint: SubscriberEndpoint, private readonly options: SubscriberOptions) {
    this.socket = new Subscriber({ receiveHighWaterMark: options.receiveHighWaterMark ?? 100_000, linger: 0, maxMessageSize: MAX_DATA_MESSAGE_BYTES });
  }

  async open(): Promise<string | undefined> {
    if (this.endpoint.bind !== undefined) {
      await this.socket.bind(this.endpoint.bind);
    } else if (this.endpoint.connect !== undefined) {
      this.socket.connect(this.endpoint.connect);
      void this.reconnectOnDisconnect(this.endpoint.connect);
    } else {
      throw new Error('market data endpoint needs connect or bind');
    }
    if (this.endpoint.topics.length === 0) this.socket.subscribe();
    else this.socket.subscribe(...this.endpoint.topics);
    return this.socket.lastEndpoint ?? undefined;
  }

  /**
   * Runs until `close()`; resolves when the loop has stopped. Hands each frame on with the symbol id of its topic
   * part (`symbolIdOfBytes`, no allocation).
   */
  async run(onFrame: (frame: Buffer, topicId: number) => void, onMalformed: () => void): Promise<void> {
    const { clockNs, yieldEveryNs } = this.options;
    let sliceStart = clockNs();
    while (!this.closed) {
      let parts: Buffer[];
      try {
        parts = await this.socket.receive();
      } catch (error) {
        if (this.closed) return;
        throw error;
      }
      if (parts.length === 2) onFrame(parts[1], symbolIdOfBytes(parts[0]));
      else onMalformed();
      const now = clockNs();
      if (now - sliceStart > yieldEveryNs) {
        await yieldToEventLoop();
        sliceStart = clockNs();
      }
    }
  }

  private async reconnectOnDisconnect(address: string): Promise<void> {
    try {
      for await (const event of this.socket.events) {
        if (this.closed) return;
        if (event.type !== 'disconnect') continue;
        this.socket.disconnect(address);
        this.socket.connect(address);
        this.options.onReconnect?.(address);
      }
    } catch {
      // The event stream ends with an error only when the socket closes under it: nothing left to watch.
    }
  }

  /** Stops intake: no frame is delivered after this returns. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close();
  }
}
