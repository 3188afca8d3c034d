import { Context, Reply } from 'zeromq';
import { decodeControlBody, decodeControlRequest, encodeControlResponse, isControlCommand } from '../wire/control-codec.ts';
import { ControlCommand, ControlStatus, MAX_CONTROL_MESSAGE_BYTES, controlCommandNames, controlCommandsWithBody, rejectReasonName } from '../wire/layout.ts';
import { ControlCounters, type ControlRefusalReason, type ControlResultLabel } from './control-counters.ts';
import type { ControlServerKeys } from './control-keys.ts';
import { isPowerOfTen, keyFingerprint, ZapAuthenticator } from './zap-authenticator.ts';

/** A handler's answer: a `ControlStatus` and a JSON-serialisable body. */
export interface ControlReply {
  readonly status: number;
  readonly body: unknown;
}

/** What the engine does for each control command; `drain` may take as long as draining takes. */
export interface ControlHandler {
  ordersOn(): ControlReply;
  ordersOff(): ControlReply;
  /** The operator's latched orders-off (an aborted revision): orders-on is refused until `unlatch`. */
  cut(): ControlReply;
  unlatch(): ControlReply;
  drain(): Promise<ControlReply>;
  status(): ControlReply;
  /** The operator's grant of shards (docs/ownership.md); `body` is the decoded JSON of the request's second part. */
  setOwnership(body: unknown): Promise<ControlReply>;
}

export interface ControlServerOptions {
  readonly bindAddress: string;
  readonly handler: ControlHandler;
  /**
   * CURVE keys: the socket is a CURVE server and only `clientPublicKey` is answered. Undefined runs the socket
   * without authentication, for a local engine only (the engine logs a warning and reports it in status).
   */
  readonly keys?: ControlServerKeys;
  readonly counters: ControlCounters;
  readonly log: (line: string) => void;
}

/**
 * The engine's control socket: ZeroMQ REP, one binary request -> one response (docs/wire.md). The operator uses
 * it to cut an aborted revision's order flow at once and to drain before shutdown.
 *
 * Guarantees:
 * - With keys, a peer that is not the authorised CURVE client never reaches the handler and gets no answer at
 *   all; it is counted by reason (`ControlCounters.refusals`) and logged (the 1st, 10th, 100th ... of a reason).
 * - A request is one message part of a well-formed layout, plus a JSON body part for the commands that take one
 *   (`SetOwnership`); anything else gets a `Malformed` answer (so a REQ client is never left waiting) and changes
 *   nothing. An unknown command gets `UnknownCommand`; a handler
 *   error becomes `Rejected` with its message.
 * - Every answered request is counted by command and result, and every state-changing command is logged with the
 *   peer's identity (its key's fingerprint; zeromq.js exposes no per-message metadata, which is why exactly one
 *   client key is authorised per engine). The client side is control-client.ts.
 */
export class ControlServer {
  /** Its own context: a context has one ZAP endpoint, and this socket's authoriser is that endpoint. */
  private readonly context = new Context();
  private readonly socket: Reply;
  private readonly zap: ZapAuthenticator | undefined;
  private readonly peer: string;
  private closed = false;

  constructor(private readonly options: ControlServerOptions) {
    const { keys } = options;
    this.socket = new Reply({
      context: this.context,
      linger: 0,
      maxMessageSize: MAX_CONTROL_MESSAGE_BYTES,
      ...(keys === undefined ? {} : {
        curveServer: true,
        curvePublicKey: keys.serverPublicKey,
        curveSecretKey: keys.serverSecretKey,
        zapDomain: 'nexus-control',
        // Fail closed: without a ZAP handler libzmq would let every CURVE client through.
        zapEnforceDomain: true,
      }),
    });
    this.zap = keys === undefined ? undefined : new ZapAuthenticator(this.context, keys.clientPublicKey, options.log);
    this.peer = keys === undefined ? 'peer=unauthenticated' : `client=${keyFingerprint(keys.clientPublicKey)}`;
  }

  get authenticated(): boolean {
    return this.zap !== undefined;
  }

  async open(): Promise<string | undefined> {
    // The authoriser first: a handshake that finds no ZAP handler would be let through.
    await this.zap?.open();
    await this.socket.bind(this.options.bindAddress);
    return this.socket.lastEndpoint ?? undefined;
  }

  async run(): Promise<void> {
    // The authoriser's and the refusal counter's loops: a failure there closes the control socket (no peer is let
    // through unauthorised) and is logged, never an unhandled rejection.
    const side = Promise.all([this.zap?.run(), this.countRefusals()]).catch((error: unknown) => {
      this.options.log(`Control socket authentication failed error="${String(error)}": control socket closed`);
      this.close();
    });
    try {
      await this.serve();
    } finally {
      this.close();
      await side;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close();
    this.zap?.close();
  }

  private async serve(): Promise<void> {
    while (!this.closed) {
      let parts: Buffer[];
      try {
        parts = await this.socket.receive();
      } catch (error) {
        if (this.closed) return;
        throw error;
      }
      const response = await this.respond(parts);
      try {
        await this.socket.send(response);
      } catch (error) {
        if (this.closed) return;
        throw error;
      }
    }
  }

  /** Handshake failures on the control socket, counted by reason (see controlRefusalReasons). */
  private async countRefusals(): Promise<void> {
    if (this.zap === undefined) return;
    for await (const event of this.socket.events) {
      let reason: ControlRefusalReason | undefined;
      if (event.type === 'handshake:error:auth') reason = 'unknown_key';
      else if (event.type === 'handshake:error:protocol') {
        const code = (event.error as { code?: string }).code;
        reason = code === 'ERR_ZMTP_MECHANISM_MISMATCH' ? 'not_curve' : code === 'ERR_ZMTP_CRYPTOGRAPHIC' ? 'bad_server_key' : 'protocol_error';
      } else if (event.type === 'handshake:error:other') reason = 'handshake_failed';
      if (reason === undefined) continue;
      const count = this.options.counters.countRefusal(reason);
      // unknown_key is logged by the authoriser, which knows the peer's address and key.
      if (reason !== 'unknown_key' && isPowerOfTen(count)) this.options.log(`Control peer refused reason=${reason} refusedSoFar=${count}`);
    }
  }

  private async respond(parts: readonly Buffer[]): Promise<Buffer> {
    if (parts.length < 1 || parts.length > 2) {
      return this.malformed(0, null, `a control request is one message part (two with a body), got ${parts.length}`);
    }
    const decoded = decodeControlRequest(parts[0]);
    if (!decoded.ok) return this.malformed(0, decoded.requestId, rejectReasonName(decoded.reason));
    const { command, requestId } = decoded.value;
    const wantsBody = controlCommandsWithBody.has(command);
    if (wantsBody !== (parts.length === 2)) {
      const name = isControlCommand(command) ? controlCommandNames[command] : `unknown(${command})`;
      return this.malformed(command, requestId, wantsBody ? `${name} needs a JSON body as a second message part` : `${name} takes no body, got a second message part`);
    }
    let body: unknown;
    if (wantsBody) {
      const parsed = decodeControlBody(parts[1]);
      if (!parsed.ok) return this.malformed(command, requestId, rejectReasonName(parsed.reason));
      body = parsed.value;
    }
    const { handler } = this.options;
    let reply: ControlReply;
    try {
      switch (command) {
        case ControlCommand.OrdersOn: reply = handler.ordersOn(); break;
        case ControlCommand.OrdersOff: reply = handler.ordersOff(); break;
        case ControlCommand.Cut: reply = handler.cut(); break;
        case ControlCommand.Unlatch: reply = handler.unlatch(); break;
        case ControlCommand.Drain: reply = await handler.drain(); break;
        case ControlCommand.Status: reply = handler.status(); break;
        case ControlCommand.SetOwnership: reply = await handler.setOwnership(body); break;
        default: reply = { status: ControlStatus.UnknownCommand, body: { error: `unknown command ${command}` } };
      }
    } catch (error) {
      reply = { status: ControlStatus.Rejected, body: { error: (error as Error).message } };
    }
    const result: ControlResultLabel = reply.status === ControlStatus.Ok ? 'ok'
      : reply.status === ControlStatus.UnknownCommand ? 'unknown_command'
      : reply.status === ControlStatus.Malformed ? 'malformed' : 'rejected';
    this.options.counters.countCommand(command, result);
    if (command !== ControlCommand.Status) {
      const name = isControlCommand(command) ? controlCommandNames[command] : `unknown(${command})`;
      this.options.log(`Control command command=${name} result=${result} ${this.peer}`);
    }
    return encodeControlResponse({ command, requestId, status: reply.status, body: reply.body });
  }

  /** A `Malformed` answer, echoing the request id when it was readable so the client can match it. */
  private malformed(command: number, requestId: number | null, error: string): Buffer {
    const count = this.options.counters.countCommand(command, 'malformed');
    if (isPowerOfTen(count)) this.options.log(`Control command malformed error="${error}" ${this.peer} malformedSoFar=${count}`);
    return encodeControlResponse({ command, requestId: requestId ?? 0, status: ControlStatus.Malformed, body: { error } });
  }
}
