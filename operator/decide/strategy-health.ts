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

export function runsStrategyModules(engine: TradingEngine): boolean {
  return (engine.spec.engine.strategies ?? []).some((strategy) => strategy.module !== undefined || strategy.moduleConfigMap !== undefined);
}

/** The probe to ask for (first pass), or what its answers mean (second pass); undefined when none applies. */
export function decideStrategyHealth(engine: TradingEngine, observed: Observed): StrategyProbeStep | undefined {
  const control = engine.spec.engine.zeromq.endpoints.find((endpoint) => endpoint.role === 'control');
  if (control?.bindPort === undefined || !runsStrategyModules(engine)) return undefined;
  const previous = engine.status?.strategyHealth;
  if (observed.strategyProbe === undefined) {
    const targets = observed.pods.filter(isProbeable).map((pod): ControlTarget => ({ pod: pod.metadata?.name ?? '', address: `tcp://${pod.status?.podIP ?? ''}:${control.bindPort ?? 0}` }));
    return targets.length === 0 ? { kind: 'result', ...(previous === undefined ? {} : { health: previous }), events: [] } : { kind: 'probe', targets };
  }
  if (observed.strategyProbe === 'skipped') return { kind: 'result', ...(previous === undefined ? {} : { health: previous }), events: [] };
  const live = new Set(observed.pods.map((pod) => pod.metadata?.name ?? ''));
  const answered = new Set(observed.strategyProbe.filter((outcome) => outcome.ok).map((outcome) => outcome.pod));
  // Pods that did not answer keep what was known of them; pods that are gone drop out.
  const kept = (previous?.disabled ?? []).filter((entry) => live.has(entry.pod) && !answered.has(entry.pod));
  const found = observed.strategyProbe.flatMap((outcome) => (outcome.ok ? (outcome.strategies ?? []).filter((strategy) => !strategy.enabled).map((strategy): DisabledStrategy => ({
    pod: outcome.pod, strategy: strategy.name, origin: strategy.origin, faults: strategy.faults,
    ...(strategy.reason === undefined ? {} : { reason: strategy.reason }),
  })) : []));
  const disabled = [...kept, ...found].sort((a, b) => a.pod.localeCompare(b.pod) || a.strategy.localeCompare(b.strategy));
  const known = new Set((previous?.disabled ?? []).map((entry) => `${entry.pod}/${entry.strategy}`));
  const events = found.filter((entry) => !known.has(`${entry.pod}/${entry.strategy}`)).map((entry): EventIntent => ({
    type: 'Warning', reason: 'StrategyDisabled',
    message: `Strategy ${entry.strategy} (${entry.origin ?? ''}) disabled on pod ${entry.pod} after ${entry.faults ?? 1} fault${entry.faults === 1 ? '' : 's'}${entry.reason === undefined ? '' : `: ${entry.reason}`}; the pod's other strategies keep trading, this one stays off until the pod restarts`,
  }));
  return { kind: 'result', health: { disabled }, events };
}

function isProbeable(pod: V1Pod): boolean {
  const ready = pod.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True') === true;
  return ready && pod.status?.podIP !== undefined && pod.status.podIP !== '' && pod.metadata?.deletionTimestamp === undefined;
}
