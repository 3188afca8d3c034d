import type { ActionResult, EngineAction, EngineDetail, EngineSummary, SessionInfo, StreamMessage } from '../view-types.ts';

/** The dashboard server's API (dashboard/server/server.ts), from the page. */

export async function getJson<T>(path: string): Promise<T> {
  const response = await fetch(path, { headers: { accept: 'application/json' } });
  const body = (await response.json()) as T & { error?: string };
  if (!response.ok) throw new Error(body.error ?? `${path}: HTTP ${response.status}`);
  return body;
}

export const session = (): Promise<SessionInfo> => getJson<SessionInfo>('/api/session');
export const engines = (): Promise<EngineSummary[]> => getJson<EngineSummary[]>('/api/engines');
export const engine = (namespace: string, name: string): Promise<{ engine: EngineDetail; actions: EngineAction[] }> =>
  getJson(`/api/engines/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`);

/**
 * Takes an action on the rollout as the page showed it (`shown`: its revision and step, refused by the server if
 * the rollout moved since); the answer, or the API server's refusal, as a result either way.
 */
export async function act(namespace: string, name: string, action: EngineAction, shown: { readonly revision: string; readonly step?: number }): Promise<ActionResult> {
  const response = await fetch(`/api/engines/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/actions/${action}`, {
    method: 'POST', headers: { 'x-nexus-dashboard': '1', 'content-type': 'application/json' }, body: JSON.stringify(shown),
  });
  try {
    return (await response.json()) as ActionResult;
  } catch {
    return { ok: false, message: `HTTP ${response.status}` };
  }
}

/**
 * The server's event stream (server-sent events over the server's watches): `onMessage` for every message,
 * `onState` with 'live' once connected and 'reconnecting' while the browser retries after a loss.
 */
export function stream(onMessage: (message: StreamMessage) => void, onState: (state: 'live' | 'reconnecting') => void): EventSource {
  const source = new EventSource('/api/stream');
  source.addEventListener('open', () => onState('live'));
  source.addEventListener('error', () => onState('reconnecting'));
  source.addEventListener('message', (event: MessageEvent<string>) => onMessage(JSON.parse(event.data) as StreamMessage));
  return source;
}
