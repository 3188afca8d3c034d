import { Reply } from 'zeromq';
import { decodeControlRequest, encodeControlResponse } from '../wire/control-codec.ts';
import { ControlCommand, ControlStatus, MAX_CONTROL_MESSAGE_BYTES, rejectReasonName } from '../wire/layout.ts';

/** A handler's answer: a `ControlStatus` and a JSON-serialisable body. */
export interface ControlReply {
  readonly status: number;
  readonly body: unknown;
}

/** What the engine does for each control command; `drain` may take as long as draining takes. */
export interface ControlHandler {
  ordersOn(): ControlReply;
  ordersOff(): ControlReply;
  drain(): Promise<ControlReply>;
  status(): ControlReply;
}

/**
 * The engine's control socket: ZeroMQ REP, one binary request -> one response (docs/wire.md). The operator uses
 * it to cut a canary's order flow at once (orders-off) and to drain before shutdown. A malformed request gets a
 * `Malformed` response rather than silence, so a REQ client is never left waiting; an unknown command gets
 * `UnknownCommand`. Handler errors become `Rejected` with the message in the body. The client side is
 * control-client.ts.
 */
export class ControlServer {
  private readonly socket = new Reply({ linger: 0, maxMessageSize: MAX_CONTROL_MESSAGE_BYTES });
  private closed = false;

  constructor(private readonly bindAddress: string, private readonly handler: ControlHandler) {}

  async open(): Promise<string | undefined> {
    await this.socket.bind(this.bindAddress);
    return this.socket.lastEndpoint ?? undefined;
  }

  async run(): Promise<void> {
    while (!this.closed) {
      let request: Buffer;
      try {
        [request] = await this.socket.receive();
      } catch (error) {
        if (this.closed) return;
        throw error;
      }
      const response = await this.respond(request);
      try {
        await this.socket.send(response);
      } catch (error) {
        if (this.closed) return;
        throw error;
      }
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close();
  }

  private async respond(request: Buffer): Promise<Buffer> {
    const decoded = decodeControlRequest(request);
    if (!decoded.ok) {
      // Echo the request id when it was readable, so the client can match the refusal to its request.
      return encodeControlResponse({
        command: 0,
        requestId: decoded.requestId ?? 0,
        status: ControlStatus.Malformed,
        body: { error: rejectReasonName(decoded.reason) },
      });
    }
    const { command, requestId } = decoded.value;
    let reply: ControlReply;
    try {
      switch (command) {
        case ControlCommand.OrdersOn:
          reply = this.handler.ordersOn();
          break;
        case ControlCommand.OrdersOff:
          reply = this.handler.ordersOff();
          break;
        case ControlCommand.Drain:
          reply = await this.handler.drain();
          break;
        case ControlCommand.Status:
          reply = this.handler.status();
          break;
        default:
          reply = { status: ControlStatus.UnknownCommand, body: { error: `unknown command ${command}` } };
      }
    } catch (error) {
      reply = { status: ControlStatus.Rejected, body: { error: (error as Error).message } };
    }
    return encodeControlResponse({ command, requestId, status: reply.status, body: reply.body });
  }
}
