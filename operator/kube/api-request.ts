import { request } from 'node:https';
import { request as httpRequest, type RequestOptions } from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';

/** An API-server answer other than 2xx, with the server's Status message (which names the field for 422s). */
export class ApiError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: number, reason: string, message: string, retryAfterSeconds?: number) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.reason = reason;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export interface ApiRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly path: string;
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  readonly body?: unknown;
  readonly contentType?: string;
  readonly timeoutMs?: number;
}

/**
 * One JSON request to the API server with the kubeconfig's credentials (client certificate, bearer token, CA),
 * returning the parsed body. Raw JSON on purpose: objects stay exactly as the server sent them (timestamps as
 * strings), the same shape a watch delivers, so cache and writes never mix two representations.
 * A non-2xx answer throws ApiError with the server's Status reason and message; a network failure or timeout
 * throws ApiError with code 0, so callers retry both the same way.
 */
export async function apiRequest<T>(kubeConfig: KubeConfig, spec: ApiRequest): Promise<T> {
  const cluster = kubeConfig.getCurrentCluster();
  if (cluster === null) throw new ApiError(0, 'NoCluster', 'the kubeconfig has no current cluster');
  const url = new URL(cluster.server);
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(spec.query ?? {})) if (value !== undefined) query.set(key, String(value));
  const search = query.toString();
  const payload = spec.body === undefined ? undefined : Buffer.from(JSON.stringify(spec.body));
  const options: RequestOptions & { headers: Record<string, string | number> } = {
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port,
    method: spec.method,
    path: `${url.pathname.replace(/\/$/, '')}${spec.path}${search === '' ? '' : `?${search}`}`,
    headers: {
      Accept: 'application/json',
      ...(payload === undefined ? {} : { 'Content-Type': spec.contentType ?? 'application/json', 'Content-Length': payload.length }),
    },
    timeout: spec.timeoutMs ?? 30_000,
  };
  await kubeConfig.applyToHTTPSOptions(options);
  const send = url.protocol === 'https:' ? request : httpRequest;
  return new Promise<T>((resolve, reject) => {
    const req = send(options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', (error) => reject(new ApiError(0, 'NetworkError', String(error))));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const status = res.statusCode ?? 0;
        let body: unknown;
        try {
          body = text === '' ? {} : JSON.parse(text);
        } catch {
          body = { message: text.slice(0, 500) };
        }
        if (status >= 200 && status < 300) {
          resolve(body as T);
          return;
        }
        const failure = body as { reason?: string; message?: string };
        const retryAfter = Number(res.headers['retry-after']);
        reject(new ApiError(status, failure.reason ?? 'Unknown', failure.message ?? `HTTP ${status}`, Number.isFinite(retryAfter) ? retryAfter : undefined));
      });
    });
    req.on('timeout', () => req.destroy(new Error(`timed out after ${options.timeout} ms`)));
    req.on('error', (error) => reject(new ApiError(0, 'NetworkError', `${spec.method} ${spec.path}: ${error.message}`)));
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}
