import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { readBoundedBody } from './bounded-body.ts';
import { createPodScrapeProvider } from './pod-scrape.ts';
import { createPrometheusProvider } from './prometheus.ts';
import type { MeasureResult, MeasureTarget } from './provider.ts';

/** Real HTTP servers on loopback that answer too much: the operator must read at most its limit of any reply. */

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function serve(handler: (request: IncomingMessage, response: ServerResponse) => void): Promise<number> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** A reply that streams `totalBytes` of exposition-looking text in 64 KiB chunks, counting what it wrote. */
function endless(totalBytes: number, written: { bytes: number; closed: boolean }): (request: IncomingMessage, response: ServerResponse) => void {
  const chunk = Buffer.alloc(65_536, '# HELP padding\n');
  return (_request, response) => {
    response.writeHead(200, { 'content-type': 'text/plain' });
    response.on('close', () => { written.closed = true; });
    const pump = (): void => {
      while (written.bytes < totalBytes && !response.destroyed) {
        written.bytes += chunk.byteLength;
        if (!response.write(chunk)) {
          response.once('drain', pump);
          return;
        }
      }
      response.end();
    };
    pump();
  };
}

function target(port: number): MeasureTarget {
  return {
    namespace: 'prod', engineName: 'eng', revision: '7f9c', pods: [{ name: 'eng-7f9c-a', ip: '127.0.0.1' }],
    metric: 'TickToOrder', quantile: '0.99', windowSeconds: 30, metricsPort: port, timeoutMs: 10_000,
  };
}

function errorOf(result: MeasureResult): string {
  if (result.ok) throw new Error(`measured ${JSON.stringify(result.value)}`);
  return result.error;
}

describe('readBoundedBody', () => {
  it('returns a reply within the limit whole', async () => {
    const port = await serve((_request, response) => response.end('nexus_engine_ready 1\n'));
    const read = await readBoundedBody(await fetch(`http://127.0.0.1:${port}/`), 1_024);
    expect(read).toEqual({ ok: true, text: 'nexus_engine_ready 1\n' });
  });

  it('refuses a declared Content-Length over the limit without reading the body', async () => {
    const port = await serve((_request, response) => {
      response.writeHead(200, { 'content-length': String(2_097_152) });
      response.end(Buffer.alloc(2_097_152, 'x'));
    });
    const read = await readBoundedBody(await fetch(`http://127.0.0.1:${port}/`), 1_048_576);
    expect(read).toEqual({ ok: false, error: 'reply of 2097152 bytes (Content-Length) exceeds the 1048576-byte limit: not read' });
  });

  it('cuts off a 600 MiB stream at the limit: the connection closes and little of it is ever sent', async () => {
    const written = { bytes: 0, closed: false };
    const port = await serve(endless(600 * 1_048_576, written));
    const read = await readBoundedBody(await fetch(`http://127.0.0.1:${port}/`), 1_048_576);
    expect(read).toEqual({ ok: false, error: 'reply streamed past 1048576 bytes exceeds the 1048576-byte limit: not read' });
    await expect.poll(() => written.closed, { timeout: 5_000 }).toBe(true);
    // Socket buffers let the server get ahead of the reader, by megabytes at most, never by the whole reply.
    expect(written.bytes).toBeLessThan(64 * 1_048_576);
  });
});

describe('the latency providers read at most maxReplyBytes', () => {
  it('pod scrape: an oversized /metrics reply is a failed measurement (an Error for the gate, never a breach)', async () => {
    const written = { bytes: 0, closed: false };
    const port = await serve(endless(600 * 1_048_576, written));
    const error = errorOf(await createPodScrapeProvider().measure(target(port)));
    expect(error).toBe(
      `revision 7f9c of prod/eng: 1 of 1 pods failed the scrape: pod eng-7f9c-a at http://127.0.0.1:${port}/metrics: ` +
        'reply streamed past 1048576 bytes exceeds the 1048576-byte limit: not read',
    );
    expect(written.bytes).toBeLessThan(64 * 1_048_576);
  });

  it('Prometheus: an oversized query reply is a failed measurement naming the limit, not the reply', async () => {
    const written = { bytes: 0, closed: false };
    const port = await serve(endless(600 * 1_048_576, written));
    const provider = createPrometheusProvider({ address: `http://127.0.0.1:${port}`, maxReplyBytes: 65_536 });
    const error = errorOf(await provider.measure(target(port)));
    expect(error).toContain(`query at http://127.0.0.1:${port}/api/v1/query: reply streamed past 65536 bytes exceeds the 65536-byte limit: not read`);
    expect(error).not.toContain('padding');
  });
});
