import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { parseGateWindowQuery, type GateWindowQuery, type GateWindowReport } from './gate-window.ts';

/**
 * The engine's HTTP edge for Prometheus and kubelet probes (node:http, no framework):
 *
 *   GET /metrics  200, the registry in Prometheus text format with the registry's content type
 *   GET /healthz  200 "ok" while `isHealthy()` (default: always), else 503 "unhealthy"
 *   GET /readyz   200 "ready" while `isReady()`, else 503 with a short reason (`readinessDetail()`, default
 *                 "not ready")
 *   GET /gate/window?metric=decision&maxAgeMs=N
 *                 200, the latency gate's window report as JSON (gate-window.ts) when `gateWindow` is given;
 *                 400 with the reason for a bad query; 404 without `gateWindow`
 *   HEAD on the same paths answers the same status without a body; another method on them is 405;
 *   any other path is 404.
 *
 * Guarantees: a probe or scrape never throws into the engine (a failing registry answers 500 with the message);
 * `close()` stops listening and drops idle keep-alive connections so shutdown is not held up by a scraper.
 */
export interface MetricsServerOptions {
  /** TCP port; 0 picks a free one (see `port` on the result). */
  readonly port: number;
  readonly host: string;
  readonly registry: Registry;
  readonly isReady: () => boolean;
  readonly isHealthy?: () => boolean;
  /** The 503 body of /readyz, e.g. "warming up" or "orders socket not connected". */
  readonly readinessDetail?: () => string;
  /** The latency gate's window report (the engine's; the operator's own server has none). */
  readonly gateWindow?: (query: GateWindowQuery) => GateWindowReport;
}

export interface MetricsServer {
  /** The bound port (the real one when 0 was asked for). */
  readonly port: number;
  readonly host: string;
  close(): Promise<void>;
}

const TEXT = 'text/plain; charset=utf-8';
const JSON_TYPE = 'application/json';

export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const { registry, isReady } = options;
  const isHealthy = options.isHealthy ?? (() => true);
  const readinessDetail = options.readinessDetail ?? (() => 'not ready');

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) reply(response, request, 500, TEXT, `metrics failed: ${(error as Error).message}\n`);
      else response.destroy();
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const [path, search = ''] = (request.url ?? '/').split('?', 2);
    const gateWindow = options.gateWindow;
    const known = path === '/metrics' || path === '/healthz' || path === '/readyz' || (path === '/gate/window' && gateWindow !== undefined);
    if (!known) {
      reply(response, request, 404, TEXT, 'not found\n');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('Allow', 'GET, HEAD');
      reply(response, request, 405, TEXT, 'method not allowed\n');
      return;
    }
    if (path === '/metrics') {
      const body = await registry.metrics();
      reply(response, request, 200, registry.contentType, body);
    } else if (path === '/gate/window' && gateWindow !== undefined) {
      const query = parseGateWindowQuery(new URLSearchParams(search));
      if (typeof query === 'string') reply(response, request, 400, TEXT, `${query}\n`);
      else reply(response, request, 200, JSON_TYPE, JSON.stringify(gateWindow(query)));
    } else if (path === '/healthz') {
      if (isHealthy()) reply(response, request, 200, TEXT, 'ok\n');
      else reply(response, request, 503, TEXT, 'unhealthy\n');
    } else if (isReady()) {
      reply(response, request, 200, TEXT, 'ready\n');
    } else {
      reply(response, request, 503, TEXT, `${readinessDetail()}\n`);
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;

  return {
    port: address.port,
    host: options.host,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
      }),
  };
}

function reply(response: ServerResponse, request: IncomingMessage, status: number, contentType: string, body: string): void {
  response.statusCode = status;
  response.setHeader('Content-Type', contentType);
  response.setHeader('Content-Length', Buffer.byteLength(body));
  response.setHeader('Cache-Control', 'no-store');
  response.end(request.method === 'HEAD' ? undefined : body);
}
