import { Reply, Request } from 'zeromq';
import {
  decodeControlRequest,
  decodeControlResponse,
  encodeControlRequest,
  encodeControlResponse,
} from '../wire/control-codec.ts';
import { ControlCommand, ControlStatus, rejectReasonName } from '../wire/layout.ts';

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
 * `UnknownCommand`. Handler errors become `Rejected` with the message in the body.
 */
export class ControlServer {
  private readonly socket = new Reply({ linger: 0 });
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

export const controlCommandByName: Readonly<Record<string, number>> = {
  'orders-on': ControlCommand.OrdersOn,
  'orders-off': ControlCommand.OrdersOff,
  drain: ControlCommand.Drain,
  status: ControlCommand.Status,
};

export interface ControlResult {
  readonly status: number;
  readonly body: unknown;
}

/**
 * A control client (ZeroMQ REQ) for `nexus ctl`, tests and, later, the operator. Each call opens a socket, sends one
 * request and waits at most `timeoutMs` for the answer, so an unreachable engine is a clear error, not a hang.
 */
export async function sendControl(address: string, command: number, timeoutMs = 5_000): Promise<ControlResult> {
  const socket = new Request({ linger: 0, receiveTimeout: timeoutMs, sendTimeout: timeoutMs });
  try {
    socket.connect(address);
    const requestId = (Math.random() * 0xffffffff) >>> 0;
    await socket.send(encodeControlRequest({ command, requestId, sentMonoNs: 0 }));
    const [response] = await socket.receive();
    const decoded = decodeControlResponse(response);
    if (!decoded.ok) throw new Error(`malformed control response from ${address}: ${rejectReasonName(decoded.reason)}`);
    if (decoded.value.requestId !== requestId) throw new Error(`control response from ${address} answers another request`);
    return { status: decoded.value.status, body: decoded.value.body };
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'EAGAIN') throw new Error(`no answer from engine control socket ${address} within ${timeoutMs} ms`);
    throw error;
  } finally {
    socket.close();
  }
}
