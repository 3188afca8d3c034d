import { Publisher, Push } from 'zeromq';
import { SIGNAL_TOPIC } from '../wire/layout.ts';
import { FrameSender } from './frame-sender.ts';

export interface OutboundEndpoint {
  readonly connect?: string;
  readonly bind?: string;
}

const signalTopic = Buffer.from(SIGNAL_TOPIC);

async function attach(socket: Push | Publisher, endpoint: OutboundEndpoint): Promise<void> {
  if (endpoint.bind !== undefined) await socket.bind(endpoint.bind);
  else if (endpoint.connect !== undefined) socket.connect(endpoint.connect);
  else throw new Error('outbound endpoint needs connect or bind');
}

/**
 * Orders out over ZeroMQ PUSH (one part per message: the order frame) and signals over PUB (two parts:
 * [SIGNAL_TOPIC][frame]). PUSH never drops: with no peer or a full peer it queues in libzmq up to the
 * high-water mark and then in the FrameSender's bounded queue, whose overflow is counted. `drain()` resolves
 * when every accepted frame has been handed to libzmq; `close()` then lingers so libzmq can transmit them.
 */
export class OrderPublisher {
  private readonly orderSocket: Push;
  private readonly signalSocket: Publisher | undefined;
  readonly orders: FrameSender;
  readonly signals: FrameSender | undefined;

  constructor(
    private readonly ordersEndpoint: OutboundEndpoint,
    private readonly signalsEndpoint: OutboundEndpoint | undefined,
    options: { maxQueuedFrames?: number; lingerMs?: number } = {},
  ) {
    const linger = options.lingerMs ?? 5_000;
    const maxQueued = options.maxQueuedFrames ?? 65_536;
    this.orderSocket = new Push({ sendHighWaterMark: 100_000, linger });
    this.orders = new FrameSender(this.orderSocket, maxQueued);
    if (signalsEndpoint !== undefined) {
      this.signalSocket = new Publisher({ sendHighWaterMark: 100_000, linger });
      this.signals = new FrameSender(this.signalSocket, maxQueued);
    }
  }

  async open(): Promise<{ orders?: string; signals?: string }> {
    await attach(this.orderSocket, this.ordersEndpoint);
    if (this.signalSocket !== undefined && this.signalsEndpoint !== undefined) {
      await attach(this.signalSocket, this.signalsEndpoint);
    }
    return {
      orders: this.orderSocket.lastEndpoint ?? undefined,
      signals: this.signalSocket?.lastEndpoint ?? undefined,
    };
  }

  publishOrders(frame: Buffer, count: number): void {
    this.orders.offer(frame, count);
  }

  publishSignals(frame: Buffer, count: number): void {
    this.signals?.offer(frame, count, signalTopic);
  }

  async drain(): Promise<void> {
    await Promise.all([this.orders.drain(), this.signals?.drain()]);
  }

  close(): void {
    this.orderSocket.close();
    this.signalSocket?.close();
  }
}
