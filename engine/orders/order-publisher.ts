import { Publisher, Push } from 'zeromq';
import { SCAN_TOPIC, SIGNAL_TOPIC } from '../wire/layout.ts';
import { FrameSender } from './frame-sender.ts';

export interface OutboundEndpoint {
  readonly connect?: string;
  readonly bind?: string;
}

const signalTopic = Buffer.from(SIGNAL_TOPIC);
const scanTopic = Buffer.from(SCAN_TOPIC);

async function attach(socket: Push | Publisher, endpoint: OutboundEndpoint): Promise<void> {
  if (endpoint.bind !== undefined) await socket.bind(endpoint.bind);
  else if (endpoint.connect !== undefined) socket.connect(endpoint.connect);
  else throw new Error('outbound endpoint needs connect or bind');
}

/**
 * Orders out over ZeroMQ PUSH (one part per message: the order frame) and signals over PUB (two parts:
 * [SIGNAL_TOPIC][frame]).
 *
 * The order socket is `immediate`: libzmq queues an order only for a connected gateway, never for one that is not
 * there, so with the gateway down orders wait in the FrameSender's bounded queue, where they are visible
 * (`nexus_engine_orders_queued`) and, if they never leave, counted (`nexus_engine_orders_undelivered_total`: queue
 * overflow, failed sends, and whatever is still queued when the engine closes). "Delivered" means handed to libzmq
 * for a connected peer, which writes it to that peer's TCP stream; a PUSH gateway acknowledges nothing, so
 * end-to-end acknowledgement needs a reply channel from the gateway (docs/wire.md). `drain()` resolves when every
 * accepted frame has been handed to libzmq; `close()` stops the senders first (counting what they still hold),
 * then lingers so libzmq can transmit what it has.
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
    this.orderSocket = new Push({ sendHighWaterMark: 100_000, linger, immediate: true });
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

  /** A scan report (JSON) as [scan][document]; dropped without a signals endpoint (the metrics still count it). */
  publishScan(document: Buffer): void {
    this.signals?.offer(document, 1, scanTopic);
  }

  async drain(): Promise<void> {
    await Promise.all([this.orders.drain(), this.signals?.drain()]);
  }

  close(): void {
    this.orders.close();
    this.signals?.close();
    this.orderSocket.close();
    this.signalSocket?.close();
  }
}
