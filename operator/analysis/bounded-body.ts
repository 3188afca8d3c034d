/** The most bytes the operator reads of one /metrics or Prometheus reply by default (1 MiB). */
export const defaultMaxReplyBytes = 1_048_576;

export type BoundedBody =
  | { readonly ok: true; readonly text: string }
  | { readonly ok: false; readonly error: string };

/**
 * Reads a reply's body as UTF-8 text, at most `maxBytes` of it. A reply that declares a larger Content-Length is
 * refused before its body is read; one that streams past the bound is cut off there (the stream is cancelled,
 * which closes the connection), so a hostile or broken endpoint costs the operator at most `maxBytes` plus one
 * chunk of memory however much it sends. The error is the operator's own words: nothing of the reply is echoed.
 */
export async function readBoundedBody(response: Response, maxBytes: number): Promise<BoundedBody> {
  const tooLarge = (what: string): BoundedBody => ({ ok: false, error: `reply ${what} exceeds the ${maxBytes}-byte limit: not read` });
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel();
    return tooLarge(`of ${declared} bytes (Content-Length)`);
  }
  if (response.body === null) return { ok: true, text: '' };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    received += value.byteLength;
    if (received > maxBytes) {
      await reader.cancel();
      return tooLarge(`streamed past ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return { ok: true, text: Buffer.concat(chunks, received).toString('utf8') };
}
