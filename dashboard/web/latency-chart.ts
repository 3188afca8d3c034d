import uPlot from 'uplot';
import type { GatePoint } from '../view-types.ts';
import { el, formatMicros } from './dom.ts';

/** Colours of the verdicts, as in styles.css. */
const verdictColours: Readonly<Record<string, string>> = { Pass: '#1b7a2e', Breach: '#b3261e', Inconclusive: '#5f6368', Error: '#a15c00' };
const verdicts = Object.keys(verdictColours);

/**
 * The gate's measurements over time: the canary's quantile and stable's as lines, the threshold as a dashed line,
 * and each measurement as a point coloured by its verdict. Updated in place as measurements arrive (uPlot keeps
 * its scales and cursor across setData). The container carries what it shows in words (aria-label) and in data
 * attributes (points, threshold), for screen readers and tests.
 */
export class LatencyChart {
  readonly element: HTMLElement;
  private plot: uPlot | undefined;
  private readonly canvas: HTMLElement;

  constructor() {
    this.canvas = el('div');
    this.element = el('figure', { class: 'chart', role: 'img', 'data-points': 0 }, this.canvas);
  }

  /** Removes the chart and its listeners. */
  destroy(): void {
    this.plot?.destroy();
    this.plot = undefined;
  }

  /** `quantile`: the gated quantile as the spec gives it ("0.99"). */
  update(points: readonly GatePoint[], thresholdMicros: number | undefined, quantile: string): void {
    const x = points.map((point) => Date.parse(point.time) / 1000);
    const canary = points.map((point) => point.p99Micros ?? null);
    const stable = points.map((point) => point.stableP99Micros ?? null);
    const threshold = points.map((point) => point.thresholdMicros ?? thresholdMicros ?? null);
    const byVerdict = verdicts.map((verdict) => points.map((point) => (point.result === verdict ? point.p99Micros ?? threshold[0] ?? null : null)));
    const data = [x, canary, stable, threshold, ...byVerdict] as uPlot.AlignedData;
    const last = points.at(-1);
    const name = `p${Math.round(Number(quantile) * 10_000) / 100}`;
    this.element.setAttribute('data-points', String(points.length));
    this.element.setAttribute('data-threshold', String(last?.thresholdMicros ?? thresholdMicros ?? ''));
    this.element.setAttribute('aria-label', last === undefined
      ? `Latency gate: no measurement yet${thresholdMicros === undefined ? '' : `; threshold ${formatMicros(thresholdMicros)}`}`
      : `Latency gate, ${points.length} measurements: last canary ${name} ${formatMicros(last.p99Micros)}, stable ${formatMicros(last.stableP99Micros)}, threshold ${formatMicros(last.thresholdMicros ?? thresholdMicros)}, ${last.result}`);
    if (this.plot === undefined) {
      const width = Math.max(320, Math.min(900, (this.element.parentElement?.clientWidth ?? 800) - 24));
      this.plot = new uPlot({
        width, height: 300,
        scales: { x: { time: true }, y: { range: (_u, min, max) => [0, Math.max(max, (thresholdMicros ?? 0) * 1.2, min + 1)] } },
        axes: [
          // Whole seconds as the local clock time: measurements come seconds apart, never sub-second.
          { incrs: [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200], values: (_u, splits) => splits.map((seconds) => new Date(seconds * 1000).toLocaleTimeString(undefined, { hour12: false })) },
          { label: `${name} (µs)`, size: 70 },
        ],
        series: [
          {},
          { label: `canary ${name}`, stroke: '#0b57d0', width: 2, points: { show: false } },
          { label: `stable ${name}`, stroke: '#6b4fbb', width: 2, points: { show: false } },
          { label: 'threshold', stroke: '#b3261e', width: 2, dash: [8, 6], points: { show: false } },
          ...verdicts.map((verdict) => ({
            label: verdict, stroke: verdictColours[verdict], fill: verdictColours[verdict], paths: () => null,
            points: { show: true, size: 9, fill: verdictColours[verdict], stroke: verdictColours[verdict] },
          })),
        ],
      }, data, this.canvas);
    } else {
      this.plot.setData(data);
    }
  }
}
