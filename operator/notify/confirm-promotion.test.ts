import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../cli/lib/processes.ts';
import type { PromotionConfirmRequest } from '../plan/needs.ts';
import { createPromotionConfirmer } from './confirm-promotion.ts';

/** The confirm-promotion webhook against a real local HTTP receiver: answers, refusals, a receiver down or mute. */
const request: PromotionConfirmRequest = {
  engine: { namespace: 'trading', name: 'alpha' }, revision: 'b7x9k2', stableRevision: 'a1c3d4', strategy: 'Canary',
  measurement: { p99Micros: 412, thresholdMicros: 2_000, result: 'Pass' },
};

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

/** A receiver on loopback; returns its URL and what it was sent. */
async function receiver(handle: (request: IncomingMessage, body: string, response: ServerResponse) => void): Promise<{ url: string; got: Array<{ headers: IncomingMessage['headers']; body: unknown }> }> {
  const got: Array<{ headers: IncomingMessage['headers']; body: unknown }> = [];
  server = createServer((incoming, response) => {
    let body = '';
    incoming.on('data', (chunk: Buffer) => (body += chunk.toString()));
    incoming.on('end', () => {
      got.push({ headers: incoming.headers, body: JSON.parse(body) as unknown });
      handle(incoming, body, response);
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server?.address() as AddressInfo).port}/confirm`, got };
}

describe('the confirm-promotion webhook client', () => {
  it('confirms on a 2xx and POSTs the question as JSON with the bearer token and the time', async () => {
    const { url, got } = await receiver((_request, _body, response) => response.end('CHG-1042 approved\n'));
    const confirm = createPromotionConfirmer({ url, token: 's3cret', nowMs: () => Date.parse('2026-12-06T15:00:00Z') });
    expect(await confirm(request)).toEqual({ confirmed: true, message: 'HTTP 200: CHG-1042 approved' });
    expect(got).toHaveLength(1);
    expect(got[0]?.headers.authorization).toBe('Bearer s3cret');
    expect(got[0]?.headers['content-type']).toBe('application/json');
    expect(got[0]?.body).toEqual({ ...request, time: '2026-12-06T15:00:00.000Z' });
  });

  it('does not confirm on any other status, quoting the start of the answer on one line', async () => {
    const { url } = await receiver((_request, _body, response) => {
      response.statusCode = 409;
      response.end(`change freeze\nuntil 18:00 ${'x'.repeat(500)}`);
    });
    const outcome = await createPromotionConfirmer({ url })(request);
    expect(outcome.confirmed).toBe(false);
    expect(outcome.message).toMatch(/^HTTP 409: change freeze until 18:00 x+\.\.\.$/);
    expect(outcome.message.length).toBeLessThan(230);
  });

  it('confirms on any 2xx, an empty 204 included', async () => {
    const { url } = await receiver((_request, _body, response) => {
      response.statusCode = 204;
      response.end();
    });
    expect(await createPromotionConfirmer({ url })(request)).toEqual({ confirmed: true, message: 'HTTP 204' });
  });

  it('does not follow a redirect: a 302 to a page that answers 200 is not a confirmation', async () => {
    const { url, got } = await receiver((_request, _body, response) => {
      response.statusCode = 302;
      response.setHeader('location', '/login');
      response.end();
    });
    expect(await createPromotionConfirmer({ url })(request)).toEqual({ confirmed: false, message: 'HTTP 302 (a redirect is not a confirmation)' });
    expect(got).toHaveLength(1);
  });

  it('does not confirm when the receiver is down, saying why', async () => {
    const port = await freePort();
    const outcome = await createPromotionConfirmer({ url: `http://127.0.0.1:${port}/confirm`, token: 's3cret' })(request);
    expect(outcome.confirmed).toBe(false);
    expect(outcome.message).toMatch(/^no answer: .*ECONNREFUSED/);
    expect(outcome.message).not.toContain('s3cret');
  });

  it('does not confirm when the receiver does not answer in time, and returns by the timeout', async () => {
    const { url } = await receiver(() => undefined);
    const started = performance.now();
    const outcome = await createPromotionConfirmer({ url, timeoutMs: 300 })(request);
    expect(outcome).toEqual({ confirmed: false, message: 'no answer: timed out after 300 ms' });
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('reads at most 4 KiB of an answer', async () => {
    const { url } = await receiver((_request, _body, response) => response.end('y'.repeat(1 << 20)));
    const outcome = await createPromotionConfirmer({ url })(request);
    expect(outcome.confirmed).toBe(true);
    expect(outcome.message).toMatch(/^HTTP 200: reply .*exceeds the 4096-byte limit: not read$/);
  });
});
