import { objectKey, type CanaryStep, type Measurement, type TradingEngine, type TradingEngineStatus } from '../../operator/api/types.ts';

/**
 * The text view of one TradingEngine's rollout for `nexus rollout status` and `watch`: a pure function of the
 * object as read and the time now (injected, for the pause countdown and ages). Every status field may be absent
 * (a fresh object, an operator that has not reconciled yet): an absent value prints as `-`, never a crash.
 *
 * Step numbers are status.currentStepIndex as stored (0-based, as `kubectl argo rollouts` shows them): `2/4` is
 * the third of four steps, `4/4` means every step is done.
 */

/** How many analysis history entries the view shows (the newest). */
export const historyShown = 5;

const none = '-';

/** A finished rollout: `healthy` (the update revision is stable and Healthy) or `aborted`; undefined while running. */
export type RolloutOutcome = 'healthy' | 'aborted';

/**
 * Whether watching can stop. Only once the operator has observed the current generation, so a watch started right
 * after `kubectl apply` does not take the previous revision's Healthy for the new one's.
 * Examples: phase Healthy, update == stable, observedGeneration == generation -> healthy; phase Aborted -> aborted;
 * phase Healthy but observedGeneration 3 < generation 4 -> undefined.
 */
export function rolloutOutcome(engine: TradingEngine): RolloutOutcome | undefined {
  const status = engine.status;
  if (status === undefined) return undefined;
  const generation = engine.metadata.generation;
  if (generation !== undefined && status.observedGeneration !== undefined && status.observedGeneration < generation) return undefined;
  if (status.phase === 'Aborted') return 'aborted';
  if (status.phase === 'Healthy' && status.updateRevision === status.stableRevision) return 'healthy';
  return undefined;
}

/** `revision 5d9c7f8b6a at step 2, weight 25`: what a rollout request acted on. */
export function requestContext(status: TradingEngineStatus | undefined): string {
  return `revision ${status?.updateRevision ?? none} at step ${show(status?.currentStepIndex)}, weight ${show(status?.canary?.weight)}`;
}

/** The line a request prints, e.g. `abort requested for trading/alpha (revision 5d9c7f8b6a at step 2, weight 25)`. */
export function requestedLine(request: string, engine: TradingEngine): string {
  return `${request} requested for ${objectKey(engine.metadata)} (${requestContext(engine.status)})`;
}

/**
 * The whole view, one string per line.
 */
export function formatRollout(engine: TradingEngine, nowMs: number): string[] {
  const status: TradingEngineStatus = engine.status ?? {};
  const spec = engine.spec;
  const type = spec.strategy?.type;
  const lines: string[] = [];
  const field = (label: string, value: string): void => {
    lines.push(`${`${label}:`.padEnd(13)}${value}`);
  };

  field('Name', objectKey(engine.metadata));
  field('Phase', `${status.phase ?? none}${status.message === undefined || status.message === '' ? '' : `  ${status.message}`}`);
  field('Strategy', type ?? 'none (replace at once)');
  field('Revisions', `stable ${status.stableRevision ?? none}, update ${status.updateRevision ?? none}`);
  field('Replicas', `ready ${status.readyText ?? `${show(status.readyReplicas)}/${show(spec.replicas)}`}, available ${show(status.availableReplicas)}, updated ${show(status.updatedReplicas)}`);
  if (type !== undefined || status.canary !== undefined || status.currentStepIndex !== undefined) {
    field('Step', stepLine(engine, nowMs));
  }
  if (type === 'Canary' || status.canary !== undefined) field('Canary', canaryLine(status, nowMs));
  if (type === 'BlueGreen' || status.blueGreen !== undefined) field('Blue-green', blueGreenLine(status, nowMs));
  if (spec.analysis !== undefined || status.analysis !== undefined) {
    const analysis = status.analysis;
    field('Analysis', analysis === undefined ? none : `${analysis.phase ?? none} on revision ${analysis.revision ?? none}${analysis.startedAt === undefined ? '' : `, started ${analysis.startedAt} (${ago(analysis.startedAt, nowMs)})`}`);
    const from = status.gate;
    if (from !== undefined) field('Gate from', `${from.kind ?? none}/${from.name ?? none}${from.generation === undefined ? '' : ` (generation ${from.generation})`}`);
    field('Gate', gateLine(engine, nowMs));
    field('Streaks', streakLine(engine));
  }
  field('Abort', abortLine(status, nowMs));
  field('Paused', pauseLine(engine, nowMs));

  const history = lastMeasurements(status.analysis?.history ?? [], historyShown);
  if (history.length === 0) {
    field('History', none);
  } else {
    const total = status.analysis?.history?.length ?? 0;
    lines.push(`History (last ${history.length} of ${total}):`);
    const q = quantileLabel(engine);
    lines.push(...table([
      ['TIME', 'REVISION', `${q.toUpperCase()} µs`, 'STABLE µs', 'SAMPLES', 'RESULT'],
      ...history.map((m) => [m.time ?? none, m.revision ?? none, show(m.p99Micros), show(m.stableP99Micros), show(m.samples), m.result ?? none]),
    ]));
  }

  const conditions = status.conditions ?? [];
  if (conditions.length === 0) {
    field('Conditions', none);
  } else {
    lines.push('Conditions:');
    lines.push(...table([
      ['TYPE', 'STATUS', 'REASON', 'MESSAGE'],
      ...conditions.map((c) => [c.type, c.status, c.reason === '' ? none : c.reason, c.message === '' ? none : c.message]),
    ]));
  }
  return lines;
}

/**
 * The current step as `i/n description`. Examples: `1/4 setWeight 25`, `2/4 pause 300s (120s left)`,
 * `2/4 pause (waiting for promote)`, `3/4 analysis`, `4/4 done`, `-/4` without a step index, `- (no rollout in
 * progress)` once stable is the update revision; without canary steps (blue-green) the index alone.
 */
export function stepLine(engine: TradingEngine, nowMs: number): string {
  const status = engine.status;
  const index = status?.currentStepIndex;
  const steps = engine.spec.strategy?.canary?.steps;
  // Blue-green steps are the operator's own (no list in spec): the index alone.
  if (steps === undefined) return index === undefined ? none : String(index);
  // Stable and update revision the same: nothing is rolling out (a first revision never took a step at all).
  if (status?.stableRevision !== undefined && status.stableRevision === status.updateRevision) return `${none} (no rollout in progress)`;
  if (index === undefined) return `${none}/${steps.length}`;
  const step = steps[index];
  if (step === undefined) return `${index}/${steps.length}${index >= steps.length ? ' done' : ''}`;
  return `${index}/${steps.length} ${describeStepProgress(step, status, nowMs)}`;
}

/** One canary step in words; a timed pause counts down from its PauseStep condition's startTime. */
export function describeStepProgress(step: CanaryStep, status: TradingEngineStatus | undefined, nowMs: number): string {
  if (step.setWeight !== undefined) return `setWeight ${step.setWeight}`;
  if (step.pause !== undefined) {
    const duration = step.pause.durationSeconds;
    if (duration === undefined) return 'pause (waiting for promote)';
    const started = parseTime(status?.pauseConditions?.find((p) => p.reason === 'PauseStep')?.startTime);
    if (started === undefined) return `pause ${duration}s`;
    const left = Math.max(0, Math.ceil((started + duration * 1000 - nowMs) / 1000));
    return `pause ${duration}s (${left}s left)`;
  }
  if (step.analysis !== undefined) {
    return step.analysis.successfulIntervals === undefined ? 'analysis' : `analysis (${step.analysis.successfulIntervals} successful intervals)`;
  }
  return none;
}

function canaryLine(status: TradingEngineStatus, nowMs: number): string {
  const canary = status.canary;
  const weight = canary?.weight === undefined ? none : `${canary.weight}%`;
  const pods = show(canary?.replicas);
  let orders = `orders ${none}`;
  if (canary?.ordersEnabled === true) orders = 'orders enabled';
  if (canary?.ordersEnabled === false) orders = 'orders CUT';
  if (canary?.ordersOffAt !== undefined) orders += ` at ${canary.ordersOffAt} (${ago(canary.ordersOffAt, nowMs)})`;
  const offPods = canary?.ordersOffPods ?? [];
  if (offPods.length > 0) orders += ` on ${offPods.join(', ')}`;
  return `weight ${weight}, pods wanted ${pods}, ${orders}`;
}

function blueGreenLine(status: TradingEngineStatus, nowMs: number): string {
  const blueGreen = status.blueGreen;
  const scaleDownAt = blueGreen?.scaleDownAt;
  const scaleDown = scaleDownAt === undefined ? none : `${scaleDownAt} (${until(scaleDownAt, nowMs)})`;
  return `active ${blueGreen?.active ?? none}, preview ${blueGreen?.preview ?? none}, scale down at ${scaleDown}`;
}

/**
 * The last measurement against its limits, e.g. `p99 812 µs vs threshold 1000 µs, stable p99 700 µs (limit +20%
 * = 840 µs), samples 5234 (min 100), Pass at 2026-11-24T10:00:30Z (12s ago)`.
 */
function gateLine(engine: TradingEngine, nowMs: number): string {
  const latency = engine.spec.analysis?.latency;
  const m = engine.status?.analysis?.lastMeasurement;
  const q = quantileLabel(engine);
  const threshold = m?.thresholdMicros ?? latency?.thresholdMicros;
  const parts = [`${q} ${micros(m?.p99Micros)} vs threshold ${micros(threshold)}`];
  const percent = latency?.relativeToStable?.maxIncreasePercent;
  if (percent !== undefined) {
    const stable = m?.stableP99Micros;
    const limit = stable === undefined ? none : micros(Math.round(stable * (100 + percent)) / 100);
    parts.push(`stable ${q} ${micros(stable)} (limit +${percent}% = ${limit})`);
  }
  parts.push(`samples ${show(m?.samples)}${latency?.minSamples === undefined ? '' : ` (min ${latency.minSamples})`}`);
  parts.push(`${m?.result ?? 'no measurement yet'}${m?.time === undefined ? '' : ` at ${m.time} (${ago(m.time, nowMs)})`}`);
  if (m?.message !== undefined && m.message !== '') parts.push(m.message);
  return parts.join(', ');
}

/** Consecutive counts against their limits: `breaches 1/3, successes 0/5, errors 0/5`. */
function streakLine(engine: TradingEngine): string {
  const latency = engine.spec.analysis?.latency;
  const analysis = engine.status?.analysis;
  const index = engine.status?.currentStepIndex;
  const step = index === undefined ? undefined : engine.spec.strategy?.canary?.steps[index];
  const successLimit = step?.analysis?.successfulIntervals ?? latency?.successfulIntervals;
  return [
    `breaches ${show(analysis?.consecutiveBreaches)}/${show(latency?.consecutiveBreaches)}`,
    `successes ${show(analysis?.consecutiveSuccesses)}/${show(successLimit)}`,
    `errors ${show(analysis?.consecutiveErrors)}/${show(latency?.maxConsecutiveErrors)}`,
  ].join(', ');
}

function abortLine(status: TradingEngineStatus, nowMs: number): string {
  if (status.abort !== true && status.abortReason === undefined && status.abortedAt === undefined) return none;
  const state = status.abort === true ? 'aborted' : 'abort cleared';
  const at = status.abortedAt === undefined ? '' : ` at ${status.abortedAt} (${ago(status.abortedAt, nowMs)})`;
  return `${state}, reason ${status.abortReason ?? none}${at}`;
}

function pauseLine(engine: TradingEngine, nowMs: number): string {
  const conditions = engine.status?.pauseConditions ?? [];
  const parts = conditions.map((p) => `${p.reason} since ${p.startTime} (${ago(p.startTime, nowMs)})`);
  if (engine.spec.paused) parts.unshift('spec.paused');
  return parts.length === 0 ? none : parts.join(', ');
}

/**
 * The newest `count` measurements, oldest first. Sorted by time when every entry has one (so either storage order
 * works), else taken from the end of the list as stored.
 */
export function lastMeasurements(history: readonly Measurement[], count: number): Measurement[] {
  const times = history.map((m) => parseTime(m.time));
  const ordered = times.every((t) => t !== undefined)
    ? history.map((m, i) => ({ m, t: times[i] ?? 0, i })).sort((a, b) => a.t - b.t || a.i - b.i).map((x) => x.m)
    : [...history];
  return ordered.slice(-count);
}

/** The gated quantile as a label: "0.99" -> p99, "0.999" -> p99.9, "0.5" -> p50; p99 by default. */
export function quantileLabel(engine: TradingEngine): string {
  const quantile = engine.spec.analysis?.latency?.quantile ?? '0.99';
  const match = /^0\.(\d{1,4})$/.exec(quantile);
  if (match === null) return 'p99';
  const digits = match[1].padEnd(2, '0');
  return `p${digits.slice(0, 2)}${digits.length > 2 ? `.${digits.slice(2)}` : ''}`;
}

/** Rows as left-aligned columns two spaces apart, indented by two; the last column is not padded. */
export function table(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => { widths[i] = Math.max(widths[i] ?? 0, cell.length); });
  return rows.map((row) => `  ${row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ')}`);
}

/** A span in kubectl's style: 45s, 5m30s, 2h5m, 3d4h. */
export function humanSeconds(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(totalSeconds));
  if (s < 120) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60 === 0 ? '' : `${s % 60}s`}`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60) === 0 ? '' : `${Math.floor((s % 3600) / 60)}m`}`;
  return `${Math.floor(s / 86_400)}d${Math.floor((s % 86_400) / 3600) === 0 ? '' : `${Math.floor((s % 86_400) / 3600)}h`}`;
}

function ago(time: string, nowMs: number): string {
  const at = parseTime(time);
  return at === undefined ? none : `${humanSeconds((nowMs - at) / 1000)} ago`;
}

function until(time: string, nowMs: number): string {
  const at = parseTime(time);
  if (at === undefined) return none;
  return at <= nowMs ? 'due' : `in ${humanSeconds(Math.ceil((at - nowMs) / 1000))}`;
}

function parseTime(time: string | undefined): number | undefined {
  if (time === undefined) return undefined;
  const ms = Date.parse(time);
  return Number.isFinite(ms) ? ms : undefined;
}

function micros(value: number | undefined): string {
  return value === undefined ? none : `${value} µs`;
}

function show(value: number | string | undefined): string {
  return value === undefined ? none : String(value);
}

/**
 * `nexus rollout list`: one row per TradingEngine, kubectl style: name (and namespace with -A), phase, ready pods,
 * the rollout step, the canary weight, the gate's last quantile against its threshold, paused.
 */
export function formatEngineList(engines: readonly TradingEngine[], allNamespaces: boolean): string[] {
  if (engines.length === 0) return [allNamespaces ? 'No TradingEngines found.' : 'No TradingEngines found in this namespace.'];
  const header = [...(allNamespaces ? ['NAMESPACE'] : []), 'NAME', 'PHASE', 'READY', 'STEP', 'WEIGHT', 'GATE', 'PAUSED'];
  const rows = [...engines].sort((a, b) => objectKey(a.metadata).localeCompare(objectKey(b.metadata))).map((engine) => {
    const status = engine.status ?? {};
    const steps = engine.spec.strategy?.canary?.steps.length;
    const step = status.currentStepIndex === undefined ? '-' : `${status.currentStepIndex}${steps === undefined ? '' : `/${steps}`}`;
    const last = status.analysis?.lastMeasurement;
    const threshold = last?.thresholdMicros ?? engine.spec.analysis?.latency?.thresholdMicros;
    const gate = last?.p99Micros === undefined ? '-' : `${quantileLabel(engine)} ${last.p99Micros}/${threshold ?? '-'} µs`;
    return [
      ...(allNamespaces ? [engine.metadata.namespace ?? ''] : []),
      engine.metadata.name ?? '',
      status.phase ?? '-',
      status.readyText ?? `${status.readyReplicas ?? 0}/${engine.spec.replicas ?? 1}`,
      step,
      status.canary?.weight === undefined ? '-' : `${status.canary.weight}%`,
      gate,
      engine.spec.paused === true ? 'yes' : 'no',
    ];
  });
  return table([header, ...rows]).map((line) => line.slice(2));
}
