import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { EventWebhook, type WebhookEvent } from './event-webhook.ts';

/** A real local HTTP receiver: records each POST's headers and body, answers `status()`. */
interface Receiver {
  readonly url: string;
  readonly received: Array<{ headers: IncomingMessage['headers']; body: WebhookEvent }>;
  status: () => number;
  close(): Promise<void>;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function receiver(port = 0): Promise<Receiver> {
  const received: Receiver['received'] = [];
  const state = { status: () => 204 };
  const server: Server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => {
      const status = state.status();
      if (status < 300) received.push({ headers: request.headers, body: JSON.parse(text) as WebhookEvent });
      response.statusCode = status;
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const close = (): Promise<void> => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  cleanups.push(close);
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/nexus`,
    received,
    get status() { return state.status; },
    set status(value) { state.status = value; },
    close,
  };
}

function event(reason: string): WebhookEvent {
  return {
    engine: { namespace: 'trading', name: 'alpha' }, type: 'Warning', reason, message: `${reason} happened`,
    revision: 'b', stableRevision: 'a', phase: 'Aborted', measurement: { p99Micros: 912, stableP99Micros: 470, thresholdMicros: 800, result: 'Breach' },
    time: '2026-12-06T09:00:00.000Z',
  };
}

async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('EventWebhook against a real HTTP receiver', () => {
  it('POSTs each event as JSON, in order, with the bearer token', async () => {
    const hook = await receiver();
    const webhook = new EventWebhook({ url: hook.url, token: 's3cret', log: () => undefined });
    cleanups.push(() => webhook.close(0));
    for (const reason of ['RolloutStarted', 'LatencyBreach', 'RolloutAborted']) webhook.send(event(reason));
    await until(() => hook.received.length === 3);
    expect(hook.received.map((r) => r.body.reason)).toEqual(['RolloutStarted', 'LatencyBreach', 'RolloutAborted']);
    expect(hook.received[2]?.body).toEqual(event('RolloutAborted'));
    expect(hook.received[0]?.headers.authorization).toBe('Bearer s3cret');
    expect(hook.received[0]?.headers['content-type']).toBe('application/json');
    expect(webhook.counts).toEqual({ delivered: 3, retried: 0, dropped: 0 });
  });

  it('retries with backoff while the receiver fails or is down, then delivers, never blocking the sender', async () => {
    const hook = await receiver();
    let failures = 2;
    hook.status = () => (failures-- > 0 ? 503 : 200);
    const lines: string[] = [];
    const webhook = new EventWebhook({ url: hook.url, baseBackoffMs: 20, log: (line) => lines.push(line) });
    cleanups.push(() => webhook.close(0));
    const started = performance.now();
    webhook.send(event('RolloutAborted'));
    expect(performance.now() - started).toBeLessThan(5);
    await until(() => webhook.counts.delivered === 1);
    expect(webhook.counts).toEqual({ delivered: 1, retried: 2, dropped: 0 });
    expect(lines).toEqual(['Event webhook delivery failed, retrying: the receiver answered HTTP 503']);

    // A receiver that is not listening at all: connection refused until it comes back on the same port.
    const port = Number(new URL(hook.url).port);
    await hook.close();
    webhook.send(event('OrdersOffFailed'));
    await until(() => webhook.counts.retried >= 3);
    const back = await receiver(port);
    await until(() => back.received.length === 1, 10_000);
    expect(back.received[0]?.body.reason).toBe('OrdersOffFailed');
  });

  it('drops an event after maxAttempts, and the oldest when the queue is full, counting and logging both', async () => {
    const hook = await receiver();
    hook.status = () => 500;
    const lines: string[] = [];
    const webhook = new EventWebhook({ url: hook.url, maxAttempts: 2, baseBackoffMs: 5, maxQueue: 2, log: (line) => lines.push(line) });
    cleanups.push(() => webhook.close(0));
    for (const reason of ['A', 'B', 'C', 'D']) webhook.send(event(reason));
    await until(() => webhook.pending === 0);
    // A is in flight; B then C were pushed out waiting; A and D each failed twice.
    expect(webhook.counts).toEqual({ delivered: 0, retried: 2, dropped: 4 });
    expect(lines[0]).toBe('Event webhook dropped an event (1 so far): queue full (2 events): the oldest waiting was dropped');
    expect(() => new EventWebhook({ url: hook.url, maxQueue: 1, log: () => undefined })).toThrow('maxQueue must be an integer >= 2, got 1');
  });

  it('on close stops taking events, cuts a backoff short to drain, and drops what is left, each counted once and never posted later', async () => {
    const hook = await receiver();
    hook.status = () => 503;
    let posts = 0;
    const counting: typeof fetch = (input, init) => {
      posts++;
      return fetch(input, init);
    };
    const webhook = new EventWebhook({ url: hook.url, baseBackoffMs: 60_000, maxAttempts: 3, fetch: counting, log: () => undefined });
    webhook.send(event('A'));
    webhook.send(event('B'));
    await until(() => webhook.counts.retried === 1);
    // A waits out a 60 s backoff; close lets it retry at once (it fails again), then stops the sender.
    await webhook.close(300);
    webhook.send(event('C'));
    expect(webhook.pending).toBe(0);
    expect(webhook.counts.delivered).toBe(0);
    const settled = { ...webhook.counts };
    const postsAtClose = posts;
    expect(settled.dropped + settled.retried).toBeGreaterThanOrEqual(3);
    expect(settled.dropped).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(webhook.counts).toEqual(settled);
    expect(posts).toBe(postsAtClose);
  });

  it('starts a sender for an event sent just as the previous sender found the queue empty', async () => {
    const hook = await receiver();
    const webhook = new EventWebhook({ url: hook.url, log: () => undefined });
    cleanups.push(() => webhook.close(0));
    for (let i = 0; i < 20; i++) {
      webhook.send(event(`E${i}`));
      await until(() => webhook.counts.delivered === i + 1);
      // The next send comes in the same tick the sender finishes (no await between): it must not be stranded.
    }
    expect(hook.received.map((r) => r.body.reason)).toEqual(Array.from({ length: 20 }, (_, i) => `E${i}`));
  });
});
