import { Request } from 'zeromq';
import { decodeControlResponse, encodeControlRequest } from '../wire/control-codec.ts';
import { ControlCommand, rejectReasonName } from '../wire/layout.ts';

/** Control commands by the names `nexus ctl` takes. */
export const controlCommandByName: Readonly<Record<string, number>> = {
  'orders-on': ControlCommand.OrdersOn,
  'orders-off': ControlCommand.OrdersOff,
  drain: ControlCommand.Drain,
  status: ControlCommand.Status,
};

/** The engine's answer: a `ControlStatus` and the JSON body. */
export interface ControlResult {
  readonly status: number;
  readonly body: unknown;
}

/**
 * The client side of the engine's control socket (ZeroMQ REQ; protocol in docs/wire.md), for the operator,
 * `nexus ctl`, the demo and tests. Each call opens a socket, sends one request and waits at most `timeoutMs` for
 * the answer, so an unreachable engine is a clear error, not a hang.
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
