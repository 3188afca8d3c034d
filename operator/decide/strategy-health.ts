import type { V1Pod } from '@kubernetes/client-node';
import type { DisabledStrategy, StrategyHealth, TradingEngine } from '../api/types.ts';
import type { ControlTarget } from '../plan/needs.ts';
import type { EventIntent, Observed } from '../plan/plan.ts';

/**
 * Strategies disabled at run time (docs/strategy-sdk.md): a strategy module that throws, traps or overruns its budget
 * is disabled by its engine, which keeps trading everything else and reports it in its control Status answer. The
 * operator reads that answer from the engine's Ready pods and shows what it finds in status.strategyHealth, with a
 * `StrategyDisabled` Warning the first time each (pod, strategy) appears. Pure: the executor performs the probe
 * (and skips it when it probed the engine recently, leaving status as it is).
 *
 * Only engines with a strategy module are probed (built-ins are the engine's own code), through the control socket
 * (so only engines that bind one), and only pods that are Ready with an address.
 */
export type StrategyProbeStep =
  | { readonly kind: 'probe'; readonly targets: readonly ControlTarget[] }
  | { readonly kind: 'result'; readonly health?: StrategyHealth; readonly events: readonly EventIntent[] };

/** How often the executor probes one engine at most. */
export const strategyProbeIntervalMs = 15_000;
/** How long one pod may take to answer (a pod that does not is kept as it was known). */
export const strategyProbeTimeoutMs = 1_000;
/** Entries kept in status.strategyHealth.disabled (the CRD's maxItems is 256), and characters of a reason. */
const maxDisabled = 64;
const maxReason = 512;

export function runsStrategyModules(engine: TradingEngine): boolean {
  return (engine.spec.engine.strategies ?? []).some((strategy) => strategy.module !== undefined || strategy.moduleConfigMap !== undefined);
}

/**
 * The probe to ask for (first pass), or what its answers mean (second pass); undefined when none applies (the
 * engine runs no module or has no control socket: status.strategyHealth is then dropped). A reconcile that hands
 * shards over does not probe: a shard between owners must not wait for it.
 */
export function decideStrategyHealth(engine: TradingEngine, observed: Observed): StrategyProbeStep | undefined {
  const control = engine.spec.engine.zeromq.endpoints.find((endpoint) => endpoint.role === 'control');
  if (control?.bindPort === undefined || !runsStrategyModules(engine)) return undefined;
  const live = new Set(observed.pods.map((pod) => pod.metadata?.name ?? ''));
  const previous = engine.status?.strategyHealth;
  // What was known, without the pods that are gone.
  const known: StrategyHealth | undefined = previous === undefined ? undefined : { disabled: (previous.disabled ?? []).filter((entry) => live.has(entry.pod)) };
  const keep: StrategyProbeStep = { kind: 'result', ...(known === undefined ? {} : { health: known }), events: [] };
  if (observed.strategyProbe === undefined) {
    if (observed.shards !== undefined) return keep;
    const targets = observed.pods.filter(isProbeable).map((pod): ControlTarget => ({ pod: pod.metadata?.name ?? '', address: `tcp://${pod.status?.podIP ?? ''}:${control.bindPort ?? 0}` }));
    return targets.length === 0 ? keep : { kind: 'probe', targets };
  }
  if (observed.strategyProbe === 'skipped') return keep;
  const answered = new Set(observed.strategyProbe.filter((outcome) => outcome.ok).map((outcome) => outcome.pod));
  // Pods that did not answer keep what was known of them; pods that are gone drop out.
  const kept = (previous?.disabled ?? []).filter((entry) => live.has(entry.pod) && !answered.has(entry.pod));
  const found = observed.strategyProbe.flatMap((outcome) => (outcome.ok ? (outcome.strategies ?? []).filter((strategy) => !strategy.enabled).map((strategy): DisabledStrategy => ({
    pod: outcome.pod, strategy: strategy.name, origin: strategy.origin, faults: strategy.faults,
    ...(strategy.reason === undefined ? {} : { reason: strategy.reason.slice(0, maxReason) }),
  })) : []));
  // Bounded, so a fleet of failing pods can never make the status write itself fail.
  const disabled = [...kept, ...found].sort((a, b) => a.pod.localeCompare(b.pod) || a.strategy.localeCompare(b.strategy)).slice(0, maxDisabled);
  // Announced once per pod and strategy, and once more when the reason arrives after a first answer without one.
  const announced = new Map((previous?.disabled ?? []).map((entry) => [`${entry.pod}/${entry.strategy}`, entry.reason !== undefined]));
  const events = found.filter((entry) => {
    const before = announced.get(`${entry.pod}/${entry.strategy}`);
    return before === undefined || (before === false && entry.reason !== undefined);
  }).map((entry): EventIntent => ({
    type: 'Warning', reason: 'StrategyDisabled',
    message: `Strategy ${entry.strategy} (${entry.origin ?? ''}) disabled on pod ${entry.pod} after ${entry.faults ?? 1} fault${entry.faults === 1 ? '' : 's'}${entry.reason === undefined ? '' : `: ${entry.reason}`}; the pod's other strategies keep trading, this one stays off until the pod restarts`,
  }));
  return { kind: 'result', health: { disabled }, events };
}

function isProbeable(pod: V1Pod): boolean {
  const ready = pod.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True') === true;
  return ready && pod.status?.podIP !== undefined && pod.status.podIP !== '' && pod.metadata?.deletionTimestamp === undefined;
}
