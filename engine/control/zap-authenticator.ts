import { Reply, type Context } from 'zeromq';
import { z85Encode } from './z85.ts';

/** The fixed inproc endpoint libzmq sends ZAP requests to (ZeroMQ RFC 27), per context. */
const zapEndpoint = 'inproc://zeromq.zap.01';

/** Who a CURVE client is in logs: the first 8 characters of its Z85 public key. */
export function keyFingerprint(z85Key: string): string {
  return z85Key.slice(0, 8);
}

/**
 * The ZAP handler (ZeroMQ RFC 27) of one control socket's context: libzmq asks it about every CURVE handshake
 * and it allows exactly one client public key, refusing every other key before any request is read. It must be
 * bound before the control socket, in the same context (a context has one ZAP endpoint, so each control socket
 * gets its own context). Refusals are counted from the control socket's handshake events, not here, so every
 * refusal reason is counted in one place.
 */
export class ZapAuthenticator {
  private readonly socket: Reply;
  private closed = false;
  private refused = 0;

  constructor(
    context: Context,
    private readonly authorisedKey: string,
    private readonly log: (line: string) => void,
  ) {
    this.socket = new Reply({ context, linger: 0 });
  }

  async open(): Promise<void> {
    await this.socket.bind(zapEndpoint);
  }

  async run(): Promise<void> {
    for (;;) {
      let frames: Buffer[];
      try {
        frames = await this.socket.receive();
      } catch (error) {
        if (this.closed) return;
        throw error;
      }
      const reply = this.answer(frames);
      try {
        await this.socket.send(reply);
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

  /** [version, requestId, domain, address, identity, mechanism, credentials...] -> [version, requestId, code, text, userId, metadata]. */
  private answer(frames: readonly Buffer[]): Array<Buffer | string> {
    const [version, requestId, , address, , mechanism, credential] = frames;
    const refuse = (text: string): Array<Buffer | string> => [version ?? '1.0', requestId ?? '', '400', text, '', ''];
    if (version?.toString() !== '1.0' || requestId === undefined) return refuse('unsupported ZAP request');
    if (mechanism?.toString() !== 'CURVE' || credential?.length !== 32) return refuse('CURVE required');
    const key = z85Encode(credential);
    const peer = `address=${address?.toString() ?? '?'} client=${keyFingerprint(key)}`;
    if (key !== this.authorisedKey) {
      // A refused client retries every 100 ms: the 1st, 10th, 100th ... refusal is logged, every one is counted.
      if (isPowerOfTen(++this.refused)) this.log(`Control peer refused reason=unknown_key ${peer} refusedSoFar=${this.refused}`);
      return refuse('client key not authorised');
    }
    this.log(`Control peer authenticated ${peer}`);
    return [version, requestId, '200', 'OK', keyFingerprint(key), ''];
  }
}

/** 1, 10, 100, ...: which occurrences of a repeated event are worth a log line. */
export function isPowerOfTen(count: number): boolean {
  let n = count;
  while (n >= 10 && n % 10 === 0) n /= 10;
  return n === 1;
}
