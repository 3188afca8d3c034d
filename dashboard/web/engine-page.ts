import type { ActionResult, EngineAction, EngineDetail } from '../view-types.ts';
import { el, formatMicros, formatTime } from './dom.ts';
import { LatencyChart } from './latency-chart.ts';

/** What each action does, for its button and its confirmation. */
const actionText: Readonly<Record<EngineAction, { readonly label: string; readonly confirm: string; readonly danger?: boolean }>> = {
  promote: { label: 'Promote step', confirm: 'Skip the current step (a pause or an analysis) and go on to the next.' },
  'promote-full': { label: 'Promote fully', confirm: 'Skip every remaining step and analysis: the new revision takes every pod and symbol.', danger: true },
  abort: { label: 'Abort', confirm: 'Cut the new revision\'s orders first, then roll back to the stable revision.', danger: true },
  retry: { label: 'Retry', confirm: 'Start the aborted rollout again from step 0 with zeroed counters.' },
  pause: { label: 'Pause', confirm: 'Set spec.paused: the rollout stops advancing (the gate and aborts still act).' },
  resume: { label: 'Resume', confirm: 'Clear spec.paused: the rollout advances again.' },
  undo: { label: 'Undo', confirm: 'Put the previous stable revision\'s spec back: it rolls out (a fast rollback within the rollback window).', danger: true },
};

/** Which actions make sense in a state (the API server and the operator still decide). */
function usable(engine: EngineDetail, action: EngineAction): boolean {
  const rolling = engine.updateRevision !== '' && engine.updateRevision !== engine.stableRevision;
  switch (action) {
    case 'promote': case 'promote-full': return rolling && engine.abort === undefined;
    case 'abort': return rolling && engine.abort === undefined;
    case 'retry': return engine.abort !== undefined;
    case 'pause': return !engine.paused;
    case 'resume': return engine.paused;
    case 'undo': return true;
  }
}

/** The revisions with their pods, one row per pod, and the symbols each pod owns. */
function revisionsTable(engine: EngineDetail): HTMLElement {
  if (engine.revisions.length === 0) return el('p', { class: 'empty' }, 'No ReplicaSet yet.');
  const rows = engine.revisions.flatMap((revision) => {
    const pods = revision.pods.length === 0 ? [undefined] : revision.pods;
    return pods.map((pod, i) => el('tr', { 'data-pod': pod?.name },
      el('td', {}, i === 0 ? revision.revision : ''),
      el('td', {}, i === 0 ? revision.role : ''),
      el('td', {}, i === 0 ? `${revision.available}/${revision.replicas}` : ''),
      el('td', {}, pod === undefined ? '–' : `${pod.name}${pod.ready ? '' : ` (${pod.phase}, not ready)`}${pod.ordersCut ? ' · orders cut' : ''}`),
      el('td', { class: 'symbols' }, pod === undefined || pod.symbols.length === 0 ? '–' : pod.symbols.join(' '))));
  });
  return el('table', { 'aria-label': 'Revisions' },
    el('thead', {}, el('tr', {}, ['Revision', 'Role', 'Pods', 'Pod', 'Symbols'].map((title) => el('th', { scope: 'col' }, title)))),
    el('tbody', {}, rows));
}

/**
 * One engine's page. Built once per engine and updated in place as the stream reports changes, so the chart keeps
 * its state and focus stays where it was.
 */
export class EnginePage {
  readonly element: HTMLElement;
  private readonly chart: LatencyChart;
  private readonly header = el('div');
  private readonly actions = el('div', { class: 'actions', role: 'toolbar', 'aria-label': 'Rollout actions' });
  private readonly notice = el('div', { role: 'status', 'aria-live': 'polite' });
  private readonly steps = el('div');
  private readonly measurements = el('div');
  private readonly revisions = el('div');
  private readonly events = el('div');
  private readonly records = el('div');
  private readonly conditions = el('div');

  constructor(
    readonly namespace: string,
    readonly name: string,
    private readonly confirm: (title: string, text: string) => Promise<boolean>,
    private readonly act: (action: EngineAction, shown: { readonly revision: string; readonly step?: number }) => Promise<ActionResult>,
  ) {
    this.chart = new LatencyChart();
    this.element = el('section', { 'data-engine': `${namespace}/${name}` },
      el('p', {}, el('a', { href: '#/' }, '← All TradingEngines')),
      this.problem, this.header, this.actions, this.notice,
      el('h2', {}, 'Rollout steps'), this.steps,
      el('div', { class: 'grid' },
        el('div', {}, el('h2', {}, 'Latency gate'), this.chart.element,
          el('p', { class: 'legend-note' }, 'Lines: canary and stable quantile at each gate measurement; dashed: the threshold; points: each measurement, coloured by verdict (Pass, Breach, Inconclusive, Error).'),
          this.measurements),
        el('div', {}, el('h2', {}, 'Revisions, pods and symbols'), this.revisions, el('h2', {}, 'Events'), this.events)),
      el('h2', {}, 'Analysis records'), this.records,
      el('h2', {}, 'Conditions'), this.conditions,
    );
  }

  /** The rollout as last shown: what an action is taken on. */
  private shown: { readonly revision: string; readonly step?: number } = { revision: '' };
  private readonly problem = el('div', { role: 'alert' });

  /** Shows (or, with undefined, clears) a problem reading the engine. */
  showProblem(message: string | undefined): void {
    this.problem.replaceChildren(message === undefined ? '' : el('p', { class: 'notice', 'data-ok': 'false' }, message));
  }

  /** Frees what the page holds outside the DOM (the chart's listeners). */
  dispose(): void {
    this.chart.destroy();
  }

  update(engine: EngineDetail, allowed: readonly EngineAction[]): void {
    this.shown = { revision: engine.updateRevision, ...(engine.step === undefined ? {} : { step: engine.step.index }) };
    this.showProblem(undefined);
    this.header.replaceChildren(
      el('h1', {}, engine.name, ' ', el('span', { class: 'phase', 'data-phase': engine.phase, id: 'phase' }, engine.phase)),
      el('p', { class: 'message' }, `${engine.namespace} · ${engine.strategy} · stable ${engine.stableRevision || '–'}${engine.updateRevision !== engine.stableRevision ? ` · rolling out ${engine.updateRevision}` : ''}`),
      el('p', { class: 'message', id: 'status-message' }, engine.message),
      engine.abort === undefined ? '' : el('p', { class: 'abort', id: 'abort' }, `Aborted (${engine.abort.reason}) at ${formatTime(engine.abort.at)}`),
    );
    this.actions.replaceChildren(...allowed.filter((action) => usable(engine, action)).map((action) => {
      const text = actionText[action];
      const button = el('button', { type: 'button', class: text.danger === true ? 'danger' : undefined, 'data-action': action }, text.label);
      button.addEventListener('click', () => void this.run(action));
      return button;
    }));
    this.steps.replaceChildren(engine.steps.length === 0 ? el('p', { class: 'empty' }, 'No steps: this engine is replaced without a rollout strategy.') : el('ol', { class: 'steps', 'aria-label': 'Rollout steps' },
      engine.steps.map((step) => el('li', { 'data-state': step.state, 'aria-current': step.state === 'current' ? 'step' : undefined }, `${step.index}: ${step.label}`))));
    this.chart.update(engine.measurements, engine.thresholdMicros, engine.quantile);
    const recent = engine.measurements.slice(-8).reverse();
    this.measurements.replaceChildren(recent.length === 0 ? el('p', { class: 'empty' }, 'No gate measurement yet.') : el('table', { 'aria-label': 'Last gate measurements' },
      el('thead', {}, el('tr', {}, ['Time', 'Revision', 'Canary', 'Stable', 'Threshold', 'Verdict'].map((title) => el('th', { scope: 'col' }, title)))),
      el('tbody', {}, recent.map((point) => el('tr', {},
        el('td', {}, formatTime(point.time)), el('td', {}, point.revision), el('td', {}, formatMicros(point.p99Micros)),
        el('td', {}, formatMicros(point.stableP99Micros)), el('td', {}, formatMicros(point.thresholdMicros)),
        el('td', {}, el('span', { class: 'verdict', 'data-result': point.result }, point.result)))))));
    this.revisions.replaceChildren(revisionsTable(engine));
    this.events.replaceChildren(engine.events.length === 0 ? el('p', { class: 'empty' }, 'No Events.') : el('ol', { class: 'events', reversed: true, 'aria-label': 'Events, newest first' },
      engine.events.map((event) => el('li', {}, el('time', { datetime: event.time }, formatTime(event.time)), ' ', el('span', { class: event.type }, event.reason),
        event.count > 1 ? ` ×${event.count}` : '', ': ', event.message))));
    this.records.replaceChildren(engine.records.length === 0 ? el('p', { class: 'empty' }, 'No analysis recorded yet.') : el('table', { 'aria-label': 'Analysis records' },
      el('thead', {}, el('tr', {}, ['Started', 'Revision', 'Measurements', 'Outcome', 'Finished'].map((title) => el('th', { scope: 'col' }, title)))),
      el('tbody', {}, engine.records.map((record) => el('tr', {},
        el('td', {}, formatTime(record.startedAt)), el('td', {}, record.revision), el('td', {}, record.measurements),
        el('td', {}, record.outcome ?? 'running'), el('td', {}, record.finishedAt === undefined ? '–' : formatTime(record.finishedAt)))))));
    this.conditions.replaceChildren(el('table', { 'aria-label': 'Conditions' },
      el('thead', {}, el('tr', {}, ['Type', 'Status', 'Reason', 'Message'].map((title) => el('th', { scope: 'col' }, title)))),
      el('tbody', {}, engine.conditions.map((condition) => el('tr', {}, el('td', {}, condition.type), el('td', {}, condition.status), el('td', {}, condition.reason), el('td', {}, condition.message))))));
  }

  private async run(action: EngineAction): Promise<void> {
    const text = actionText[action];
    if (!(await this.confirm(`${text.label} ${this.namespace}/${this.name}?`, text.confirm))) return;
    const result = await this.act(action, this.shown);
    this.notice.replaceChildren(el('p', { class: 'notice', 'data-ok': String(result.ok), id: 'action-result' }, result.message));
  }
}
