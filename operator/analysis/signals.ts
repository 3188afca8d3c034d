import type { SignalCheck, SignalCheckStatus } from '../api/types.ts';
import { findSamples, type ExpositionSample } from './exposition.ts';

/**
 * The engine's own error signals, as ratios since each pod started, for the gate's checks beside latency
 * (`spec.analysis.checks`, docs/rollouts.md). Read from the counters every engine exports (docs/metrics.md) and
 * summed over a revision's pods, by either source: each pod's /metrics (PodScrape) or Prometheus. Pure.
 */
export type SignalName = SignalCheck['signal'];

/** `events` out of `total`: the ratio's numerator and denominator. */
export interface SignalCount {
  readonly events: number;
  readonly total: number;
}

export type SignalCounts = Readonly<Record<SignalName, SignalCount>>;

export const signalNames: readonly SignalName[] = ['TicksRejected', 'FramesRejected', 'TicksLost', 'OrdersDenied', 'PoolExhausted'];

/** What each ratio counts, for messages. */
const signalText: Readonly<Record<SignalName, string>> = {
  TicksRejected: 'ticks rejected',
  FramesRejected: 'frames rejected',
  TicksLost: 'ticks lost',
  OrdersDenied: 'orders denied by risk',
  PoolExhausted: 'pool exhaustions per tick',
};

/**
 * One pod's counts from its /metrics samples (a counter it does not export counts as 0), or a revision's from the
 * series of the Prometheus signals query (prometheus.ts, which fails a counter without series before this).
 */
export function readSignalCounts(samples: readonly ExpositionSample[]): SignalCounts {
  const sum = (name: string, labels: Readonly<Record<string, string>> = {}): number =>
    findSamples(samples, `nexus_engine_${name}`, labels).reduce((total, sample) => total + (Number.isFinite(sample.value) ? sample.value : 0), 0);
  const ticks = sum('ticks_received_total');
  const lost = sum('ticks_lost_total');
  return {
    TicksRejected: { events: sum('ticks_rejected_total'), total: ticks },
    FramesRejected: { events: sum('frames_rejected_total'), total: sum('frames_received_total') },
    TicksLost: { events: lost, total: ticks + lost },
    OrdersDenied: { events: sum('orders_total', { result: 'denied' }), total: sum('orders_total') },
    PoolExhausted: { events: sum('pool_exhausted_total'), total: ticks },
  };
}

export function addSignalCounts(a: SignalCounts, b: SignalCounts): SignalCounts {
  const result = {} as Record<SignalName, SignalCount>;
  for (const name of signalNames) result[name] = { events: a[name].events + b[name].events, total: a[name].total + b[name].total };
  return result;
}

export interface ChecksVerdict {
  readonly statuses: SignalCheckStatus[];
  /** The first check whose failures in a row reached its consecutiveFailures: the rollout aborts (CheckFailed). */
  readonly failed?: SignalCheckStatus;
}

/**
 * Judges every check on one measurement: the canary's ratio against `maxRatio` and/or the stable ratio plus
 * `maxIncreasePercent` (both must be exceeded when both are set). Fewer than `minEvents` in the canary's
 * denominator, or a relative check without the stable's counts (or with fewer than minEvents of its own), is
 * Inconclusive: it neither fails nor passes and keeps the failure streak. A pass resets it. `previous` carries the
 * streaks of the measurements before. Examples (maxIncreasePercent 100, minEvents 1000): canary 30/10000, stable
 * 10/10000 -> Fail (0.30 % > 0.10 % + 100 %); canary 3/500 -> Inconclusive.
 */
export function judgeChecks(checks: readonly SignalCheck[], canary: SignalCounts | undefined, stable: SignalCounts | undefined, previous: readonly SignalCheckStatus[] | undefined): ChecksVerdict {
  const statuses: SignalCheckStatus[] = [];
  let failed: SignalCheckStatus | undefined;
  for (const check of checks) {
    const streak = previous?.find((status) => status.signal === check.signal)?.consecutiveFailures ?? 0;
    const status = judgeCheck(check, canary?.[check.signal], stable?.[check.signal], streak);
    statuses.push(status);
    if (failed === undefined && status.result === 'Fail' && (status.consecutiveFailures ?? 0) >= check.consecutiveFailures) failed = status;
  }
  return { statuses, ...(failed === undefined ? {} : { failed }) };
}

function judgeCheck(check: SignalCheck, canary: SignalCount | undefined, stable: SignalCount | undefined, streak: number): SignalCheckStatus {
  const text = signalText[check.signal];
  const inconclusive = (message: string, extra: Partial<SignalCheckStatus> = {}): SignalCheckStatus => ({ signal: check.signal, result: 'Inconclusive', consecutiveFailures: streak, ...extra, message });
  if (canary === undefined) return inconclusive(`${check.signal}: the canary's counters were not read (its measurement failed)`);
  if (canary.total < check.minEvents) {
    return inconclusive(`${check.signal}: the canary has seen ${canary.total} events, fewer than minEvents ${check.minEvents}`, { canaryEvents: canary.total });
  }
  const ratio = canary.events / canary.total;
  const base = { signal: check.signal, canaryRatio: ratio, canaryEvents: canary.total };
  let limit = check.maxRatio;
  let stableRatio: number | undefined;
  if (check.maxIncreasePercent !== undefined) {
    if (stable === undefined || stable.total < check.minEvents) {
      return inconclusive(`${check.signal}: ${percent(ratio)} ${text}; the stable revision has ${stable?.total ?? 0} events, fewer than minEvents ${check.minEvents}`, base);
    }
    stableRatio = stable.events / stable.total;
    const relative = stableRatio * (1 + check.maxIncreasePercent / 100);
    limit = limit === undefined ? relative : Math.max(limit, relative);
  }
  const against = stableRatio === undefined ? `maxRatio ${percent(check.maxRatio ?? 0)}`
    : `stable ${percent(stableRatio)} + ${check.maxIncreasePercent ?? 0}%${check.maxRatio === undefined ? '' : ` and maxRatio ${percent(check.maxRatio)}`}`;
  const withStable = stableRatio === undefined ? base : { ...base, stableRatio };
  if (ratio > (limit ?? Number.POSITIVE_INFINITY)) {
    return { ...withStable, result: 'Fail', consecutiveFailures: streak + 1, message: `${check.signal}: ${percent(ratio)} ${text} (${canary.events} of ${canary.total}) > ${against}` };
  }
  return { ...withStable, result: 'Pass', consecutiveFailures: 0, message: `${check.signal}: ${percent(ratio)} ${text} (${canary.events} of ${canary.total}) <= ${against}` };
}

/** A ratio as a percentage with up to 4 significant digits: 0.0123 -> "1.23 %". */
function percent(ratio: number): string {
  return `${Number((ratio * 100).toPrecision(3))} %`;
}
