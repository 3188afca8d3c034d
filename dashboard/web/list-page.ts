import type { EngineSummary, SessionInfo } from '../view-types.ts';
import { el, formatMicros } from './dom.ts';

/** The list page: every TradingEngine the caller can see, one row each, linking to its page. */
export function renderList(engines: readonly EngineSummary[], session: SessionInfo | undefined): HTMLElement {
  const scope = session?.namespaces === undefined ? 'every namespace' : `namespaces ${session.namespaces.join(', ')}`;
  if (engines.length === 0) return el('section', {}, el('h1', {}, 'TradingEngines'), el('p', { class: 'empty' }, `No TradingEngine in ${scope}.`));
  return el('section', {},
    el('h1', {}, 'TradingEngines'),
    el('p', { class: 'message' }, `${engines.length} in ${scope}; updated live.`),
    el('table', { 'aria-label': 'TradingEngines' },
      el('thead', {}, el('tr', {}, ['Engine', 'Namespace', 'Phase', 'Step', 'Weight', 'Gate p99 / threshold', 'Ready'].map((title) => el('th', { scope: 'col' }, title)))),
      el('tbody', {}, engines.map((engine) => el('tr', { 'data-engine': `${engine.namespace}/${engine.name}` },
        el('td', {}, el('a', { href: `#/engines/${engine.namespace}/${engine.name}` }, engine.name)),
        el('td', {}, engine.namespace),
        el('td', {}, el('span', { class: 'phase', 'data-phase': engine.phase }, engine.phase), engine.abort === undefined ? '' : el('span', { class: 'abort' }, ` (${engine.abort.reason})`)),
        el('td', {}, engine.step === undefined ? '–' : `${engine.step.index}/${engine.step.count}`),
        el('td', {}, engine.step === undefined ? '–' : `${engine.weight}%`),
        el('td', {}, engine.gate === undefined ? '–' : [
          el('span', { class: 'verdict', 'data-result': engine.gate.result ?? '' }, formatMicros(engine.gate.p99Micros)),
          ` / ${formatMicros(engine.gate.thresholdMicros)}`,
        ]),
        el('td', {}, `${engine.readyPods}/${engine.desiredPods}`),
      ))),
    ),
  );
}
