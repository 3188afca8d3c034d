import { Request } from 'zeromq';
import { decodeControlResponse, encodeControlRequest } from '../wire/control-codec.ts';
import { ControlCommand, controlCommandNames, rejectReasonName } from '../wire/layout.ts';
import type { ControlClientKeys } from './control-keys.ts';

/** Control commands by the names `nexus ctl` takes. */
export const controlCommandByName: Readonly<Record<string, number>> = Object.fromEntries(
  Object.values(ControlCommand).map((code) => [controlCommandNames[code], code]),
);

/** The engine's answer: a `ControlStatus` and the JSON body. */
export interface ControlResult {
  readonly status: number;
  readonly body: unknown;
}

export interface SendControlOptions {
  /** How long to wait for the answer (default 5 s). */
  readonly timeoutMs?: number;
  /** CURVE keys for an engine whose control socket authenticates (every engine the operator runs). */
  readonly keys?: ControlClientKeys;
  /** The request's JSON body, sent as a second message part (only `SetOwnership` takes one). */
  readonly body?: unknown;
}

/** The socket options of a CURVE client holding `keys` (zeromq.js Request, or any socket). */
export function curveClientOptions(keys: ControlClientKeys): { curveServerKey: string; curvePublicKey: string; curveSecretKey: string } {
  return { curveServerKey: keys.serverPublicKey, curvePublicKey: keys.clientPublicKey, curveSecretKey: keys.clientSecretKey };
}

/**
 * The client side of the engine's control socket (ZeroMQ REQ; protocol in docs/wire.md), for the operator,
 * `nexus ctl`, the demo and tests. Each call opens a socket, sends one request and waits at most `timeoutMs` for
 * the answer, so an unreachable engine is a clear error, not a hang. An engine that does not accept the keys
 * (or a CURVE engine reached without keys) does not answer at all, so that too ends as the timeout error.
 */
export async function sendControl(address: string, command: number, options: SendControlOptions = {}): Promise<ControlResult> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const keys = options.keys;
  const socket = new Request({
    linger: 0,
    receiveTimeout: timeoutMs,
    sendTimeout: timeoutMs,
    ...(keys === undefined ? {} : curveClientOptions(keys)),
  });
  try {
    socket.connect(address);
    const requestId = (Math.random() * 0xffffffff) >>> 0;
    const request = encodeControlRequest({ command, requestId, sentMonoNs: 0 });
    await socket.send(options.body === undefined ? request : [request, Buffer.from(JSON.stringify(options.body), 'utf8')]);
    const [response] = await socket.receive();
    const decoded = decodeControlResponse(response);
    if (!decoded.ok) throw new Error(`malformed control response from ${address}: ${rejectReasonName(decoded.reason)}`);
    if (decoded.value.requestId !== requestId) throw new Error(`control response from ${address} answers another request`);
    return { status: decoded.value.status, body: decoded.value.body };
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'EAGAIN') {
      const hint = keys === undefined ? ' (an engine run by the operator answers only its CURVE client: pass its keys)' : ' (or it does not accept these keys)';
      throw new Error(`no answer from engine control socket ${address} within ${timeoutMs} ms${hint}`);
    }
    throw error;
  } finally {
    socket.close();
  }
}
