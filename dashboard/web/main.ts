import type { EngineSummary, SessionInfo, StreamMessage } from '../view-types.ts';
import * as api from './api.ts';
import { EnginePage } from './engine-page.ts';
import { renderList } from './list-page.ts';

/**
 * The page: a list of TradingEngines (#/) and one engine's page (#/engines/NS/NAME), kept current by the server's
 * event stream. The list is re-rendered from each list message; an engine page re-reads its engine when the
 * stream says it changed. While the stream is lost the header says so, and the browser reconnects by itself.
 */
const main = document.getElementById('main') as HTMLElement;
const connection = document.getElementById('connection') as HTMLElement;
const dialog = document.getElementById('confirm') as HTMLDialogElement;

let session: SessionInfo | undefined;
let engines: readonly EngineSummary[] = [];
let page: EnginePage | undefined;
let loading: Promise<void> | undefined;
let again = false;

function route(): { readonly namespace: string; readonly name: string } | undefined {
  const match = /^#\/engines\/([^/]+)\/([^/]+)$/.exec(location.hash);
  return match === null ? undefined : { namespace: decodeURIComponent(match[1] ?? ''), name: decodeURIComponent(match[2] ?? '') };
}

/** Asks for confirmation in the page's dialog; resolves true when confirmed. */
function confirmAction(title: string, text: string): Promise<boolean> {
  (document.getElementById('confirm-title') as HTMLElement).textContent = title;
  (document.getElementById('confirm-text') as HTMLElement).textContent = text;
  dialog.returnValue = '';
  dialog.showModal();
  (document.getElementById('confirm-ok') as HTMLElement).focus();
  return new Promise((resolve) => dialog.addEventListener('close', () => resolve(dialog.returnValue === 'confirm'), { once: true }));
}

/** (Re)reads the engine of the current page; one read at a time, another after it when changes came in between. */
function loadEngine(): void {
  if (loading !== undefined) {
    again = true;
    return;
  }
  const current = page;
  if (current === undefined) return;
  loading = api.engine(current.namespace, current.name)
    .then(({ engine, actions }) => {
      if (page === current) current.update(engine, actions);
    })
    .catch((error: unknown) => {
      if (page === current) current.showProblem((error as Error).message);
    })
    .finally(() => {
      loading = undefined;
      if (again) {
        again = false;
        loadEngine();
      }
    });
}

function render(): void {
  const target = route();
  if (target === undefined) {
    page?.dispose();
    page = undefined;
    main.replaceChildren(renderList(engines, session));
    document.title = 'Nexus rollouts';
    return;
  }
  if (page?.namespace !== target.namespace || page.name !== target.name) {
    page?.dispose();
    page = new EnginePage(target.namespace, target.name, confirmAction, async (action, shown) => {
      const result = await api.act(target.namespace, target.name, action, shown);
      loadEngine();
      return result;
    });
    main.replaceChildren(page.element);
    document.title = `${target.name} · Nexus rollouts`;
    main.focus();
  }
  loadEngine();
}

function onMessage(message: StreamMessage): void {
  if (message.kind === 'engines') {
    engines = message.engines;
    if (route() === undefined) render();
  } else if (page !== undefined && message.namespace === page.namespace && message.name === page.name) {
    loadEngine();
  }
}

function setConnection(state: 'live' | 'reconnecting'): void {
  connection.dataset.state = state;
  connection.textContent = state === 'live' ? 'live' : 'connection lost: reconnecting…';
  // Whatever happened while the stream was down: read it again.
  if (state === 'live' && page !== undefined) loadEngine();
}

window.addEventListener('hashchange', render);
void api.session().then((info) => {
  session = info;
  (document.getElementById('context') as HTMLElement).textContent = `context ${info.context}${info.readOnly ? ' · read-only' : ''}`;
  api.stream(onMessage, setConnection);
  render();
});
