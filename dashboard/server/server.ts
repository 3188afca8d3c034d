import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';
import { ApiError } from '../../operator/kube/api-request.ts';
import { readAnalysisRecords, readEngineWorkloads } from '../../operator/kube/engine-reads.ts';
import { eventsFor } from '../../operator/kube/manifests.ts';
import { readTradingEngine } from '../../operator/kube/rollout-requests.ts';
import { kind as engineKind } from '../../operator/api/generated.ts';
import { engineActions, type EngineAction, type SessionInfo, type StreamMessage } from '../view-types.ts';
import { allowedActions, runAction } from './actions.ts';
import { detail } from './engine-view.ts';
import type { LiveEngines } from './live-engines.ts';

/** The page's files: name -> content type and body (dashboard/build.ts makes them). */
export type DashboardAssets = ReadonlyMap<string, { readonly type: string; readonly body: Buffer }>;

export interface DashboardServerOptions {
  readonly kubeConfig: KubeConfig;
  /** The kubeconfig context, shown on the page. */
  readonly context: string;
  readonly live: LiveEngines;
  /** undefined: every namespace. */
  readonly namespaces?: readonly string[];
  readonly host: string;
  /** 0: a free port. */
  readonly port: number;
  /** Hide and refuse every action. */
  readonly readOnly: boolean;
  /** The session token (at least 32 characters); default a random one per start. */
  readonly token?: string;
  readonly assets: DashboardAssets;
  readonly log: (line: string) => void;
}

export interface DashboardServer {
  /** The page's URL with the session token (`?token=`): what to open; without the token every request is 401. */
  readonly url: string;
  /** The bare origin, `http://127.0.0.1:8090/`. */
  readonly origin: string;
  readonly port: number;
  close(): Promise<void>;
}

/** How long an access review's answer is reused per namespace. */
const accessCacheMs = 30_000;
/** A comment on every event stream this often, so proxies and the browser keep it open. */
const heartbeatMs = 15_000;
/** A stream whose client has this much unread is dropped (the browser reconnects and reads afresh). */
const maxUnreadStreamBytes = 1 << 20;
/** The largest action body read. */
const maxActionBodyBytes = 4_096;

/**
 * `nexus dashboard`'s local web server: the page, a JSON API over the caller's kubeconfig, and a server-sent
 * event stream fed by watches (live-engines.ts).
 *
 *   GET  /                                   the page (index.html, app.js, app.css: built, no CDN)
 *   GET  /api/session                        SessionInfo: read-only or not, the context, the namespaces
 *   GET  /api/engines                        EngineSummary[] of the namespaces watched
 *   GET  /api/engines/NS/NAME                {engine: EngineDetail, actions: the actions the caller's RBAC allows}
 *   GET  /api/stream                         text/event-stream of StreamMessage: the list, then every change
 *   POST /api/engines/NS/NAME/actions/ACTION ActionResult; the API server's code and message when it refuses
 *
 * Guarantees:
 * - Everything goes to the API server as the kubeconfig's identity: the page can do exactly what the caller's
 *   RBAC allows, and a refusal is the API server's own message. `readOnly` refuses every action (403) before any
 *   request, and the page shows none.
 * - A session token (random, per start) is required on every request: `url` carries it once (`?token=`), the
 *   server answers with an HttpOnly, SameSite=Strict cookie and a redirect to the bare path, and later requests
 *   carry the cookie (or `authorization: Bearer <token>`). Another local user or process, or a page of another
 *   site, has neither: 401.
 * - On a specific address the server also serves only requests whose Host header names it (a DNS rebinding page
 *   cannot reach it even with a cookie it could not have anyway); on a wildcard address (0.0.0.0, ::) the token is
 *   the guard. An action must be a POST with the `x-nexus-dashboard: 1` header and a same-origin Origin when one is
 *   sent, and names the revision and step the page showed: the rollout having moved since is a 409, not an action
 *   on a state nobody saw. Every answer carries a Content-Security-Policy of 'self' and nosniff.
 * - A stream whose reader stalls is dropped past 1 MiB unread; the browser reconnects and reads afresh.
 */
export async function startDashboardServer(options: DashboardServerOptions): Promise<DashboardServer> {
  const { kubeConfig, live, log } = options;
  const access = new Map<string, { readonly atMs: number; readonly actions: EngineAction[] }>();
  const actionsFor = async (namespace: string): Promise<EngineAction[]> => {
    if (options.readOnly) return [];
    const cached = access.get(namespace);
    if (cached !== undefined && Date.now() - cached.atMs < accessCacheMs) return cached.actions;
    const { actions, answered } = await allowedActions(kubeConfig, namespace);
    if (answered) access.set(namespace, { atMs: Date.now(), actions });
    return actions;
  };
  const streams = new Set<ServerResponse>();
  const write = (response: ServerResponse, text: string): void => {
    if (!response.write(text) && response.writableLength > maxUnreadStreamBytes) {
      streams.delete(response);
      response.destroy();
    }
  };
  const send = (response: ServerResponse, message: StreamMessage): void => write(response, `data: ${JSON.stringify(message)}\n\n`);
  const token = options.token ?? randomBytes(24).toString('base64url');
  if (token.length < 32) throw new Error('the dashboard\'s session token must be at least 32 characters');
  let cookieName = 'nexus-dashboard';
  const authorized = (request: IncomingMessage): boolean => {
    const header = request.headers.authorization?.startsWith('Bearer ') === true ? request.headers.authorization.slice(7) : undefined;
    const cookie = (request.headers.cookie ?? '').split(';').map((part) => part.trim()).find((part) => part.startsWith(`${cookieName}=`))?.slice(cookieName.length + 1);
    return [header, cookie].some((given) => given !== undefined && given.length === token.length && timingSafeEqual(Buffer.from(given), Buffer.from(token)));
  };

  let origin = '';
  // Until the server listens, nothing is served; then the names it answers to (none checked on a wildcard address).
  let allowedHosts: Set<string> | undefined = new Set<string>();
  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      log(`Dashboard request failed ${request.method ?? ''} ${request.url ?? ''}: ${String(error)}`);
      if (!response.headersSent) json(response, 500, { error: `the dashboard failed: ${(error as Error).message}` });
      else response.destroy();
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    response.setHeader('content-security-policy', "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
    response.setHeader('x-content-type-options', 'nosniff');
    response.setHeader('referrer-policy', 'no-referrer');
    if (allowedHosts !== undefined && !allowedHosts.has(request.headers.host ?? '')) {
      json(response, 421, { error: `this dashboard answers only to ${[...allowedHosts].join(' or ')}` });
      return;
    }
    const url = new URL(request.url ?? '/', origin);
    const path = url.pathname;
    const given = url.searchParams.get('token');
    if (request.method === 'GET' && given !== null && given.length === token.length && timingSafeEqual(Buffer.from(given), Buffer.from(token))) {
      response.writeHead(302, { location: path, 'set-cookie': `${cookieName}=${token}; HttpOnly; SameSite=Strict; Path=/`, 'cache-control': 'no-store' });
      response.end();
      return;
    }
    if (!authorized(request)) {
      return json(response, 401, { error: 'open the URL nexus dashboard printed: it carries this session\'s token' });
    }
    if (request.method === 'GET' && !path.startsWith('/api/')) {
      const asset = options.assets.get(path === '/' ? '/index.html' : path);
      if (asset === undefined) return json(response, 404, { error: `no such page: ${path}` });
      response.writeHead(200, { 'content-type': asset.type, 'cache-control': 'no-cache' });
      response.end(asset.body);
      return;
    }
    if (request.method === 'GET' && path === '/api/session') {
      const session: SessionInfo = { readOnly: options.readOnly, context: options.context, ...(options.namespaces === undefined ? {} : { namespaces: options.namespaces }) };
      return json(response, 200, session);
    }
    if (request.method === 'GET' && path === '/api/engines') return json(response, 200, live.list());
    if (request.method === 'GET' && path === '/api/stream') {
      response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      response.write('retry: 2000\n\n');
      send(response, { kind: 'engines', engines: live.list() });
      streams.add(response);
      response.on('error', () => streams.delete(response));
      request.on('close', () => streams.delete(response));
      return;
    }
    const match = /^\/api\/engines\/([a-z0-9][-a-z0-9]*)\/([a-z0-9][-a-z0-9.]*)(?:\/actions\/([a-z-]+))?$/.exec(path);
    if (match === null) return json(response, 404, { error: `no such API path: ${path}` });
    const [, namespace = '', name = '', action] = match;
    if (action === undefined && request.method === 'GET') {
      try {
        const engine = live.get(namespace, name) ?? await readTradingEngine(kubeConfig, namespace, name);
        const [workloads, events, records, actions] = await Promise.all([
          readEngineWorkloads(kubeConfig, namespace, name),
          eventsFor(kubeConfig, namespace, engineKind, name),
          readAnalysisRecords(kubeConfig, namespace, name),
          actionsFor(namespace),
        ]);
        return json(response, 200, { engine: detail(engine, workloads.replicaSets, workloads.pods, events, records), actions });
      } catch (error) {
        if (error instanceof ApiError) return json(response, error.code === 0 ? 502 : error.code, { error: error.message });
        throw error;
      }
    }
    if (action === undefined || request.method !== 'POST') return json(response, 405, { error: `${request.method ?? ''} is not allowed on ${path}` });
    if (request.headers['x-nexus-dashboard'] !== '1' || (request.headers.origin !== undefined && request.headers.origin !== `http://${request.headers.host ?? ''}`)) {
      return json(response, 403, { ok: false, message: 'actions are taken only from the dashboard page itself' });
    }
    if (!(engineActions as readonly string[]).includes(action)) return json(response, 404, { ok: false, message: `no such action: ${action} (${engineActions.join(', ')})` });
    if (options.readOnly) return json(response, 403, { ok: false, message: 'this dashboard is read-only (--read-only): it takes no action' });
    const expected = await readExpectation(request);
    if (typeof expected === 'string') return json(response, 400, { ok: false, message: expected });
    const outcome = await runAction(kubeConfig, namespace, name, action as EngineAction, expected);
    log(`Dashboard action ${action} ${namespace}/${name}: ${outcome.result.ok ? 'done' : 'refused'}: ${outcome.result.message}`);
    return json(response, outcome.httpStatus, outcome.result);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const wildcard = options.host === '0.0.0.0' || options.host === '::';
  const hostPart = wildcard ? '127.0.0.1' : options.host.includes(':') ? `[${options.host}]` : options.host;
  origin = `http://${hostPart}:${port}`;
  // Cookies are not kept apart by port: each dashboard's has its own name.
  cookieName = `nexus-dashboard-${port}`;
  allowedHosts = wildcard ? undefined : new Set([`${hostPart}:${port}`, ...(options.host === '127.0.0.1' || options.host === '::1' ? [`localhost:${port}`] : [])]);
  const unsubscribe = live.subscribe((change) => {
    const message: StreamMessage = change.kind === 'engines' ? { kind: 'engines', engines: live.list() } : change;
    for (const response of streams) send(response, message);
  });
  const heartbeat = setInterval(() => {
    for (const response of streams) write(response, ': heartbeat\n\n');
  }, heartbeatMs);
  heartbeat.unref();
  return {
    url: `${origin}/?token=${token}`,
    origin: `${origin}/`,
    port,
    async close() {
      clearInterval(heartbeat);
      unsubscribe();
      for (const response of streams) response.end();
      streams.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * The revision and step the page showed when the action was asked for (`{"revision": "...", "step": 1}`, each
 * optional), or what is wrong with the body.
 */
async function readExpectation(request: IncomingMessage): Promise<{ readonly revision?: string; readonly step?: number } | string> {
  let text = '';
  for await (const chunk of request) {
    text += (chunk as Buffer).toString();
    if (text.length > maxActionBodyBytes) return `the action's body is over ${maxActionBodyBytes} bytes`;
  }
  if (text.trim() === '') return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return 'the action\'s body is not JSON';
  }
  const { revision, step } = (body ?? {}) as { revision?: unknown; step?: unknown };
  if (revision !== undefined && typeof revision !== 'string') return 'revision must be a string';
  if (step !== undefined && (typeof step !== 'number' || !Number.isInteger(step))) return 'step must be an integer';
  return { ...(revision === undefined ? {} : { revision }), ...(step === undefined ? {} : { step }) };
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  response.end(JSON.stringify(body));
}
