import type { EngineConfig, FaultInjectionConfig } from '../config/engine-config.ts';
import { Mulberry32 } from '../random/mulberry32.ts';

/**
 * Fault injection for tests and demos of latency-gated rollouts: real latency in the decision of each trade, so a
 * latency regression can be produced on purpose (config section `faultInjection`, docs/engine-config.md).
 *
 *   TickProcessor.onTrade: indicators -> strategies -> risk -> orders to the sink -> busy-wait d -> decision done
 *
 * The branch is chosen once, when the pipeline is built: without the section (or with a section that can add no
 * delay) `faultDelaysFor` returns undefined and the hot path only tests that. With it, an affected trade's
 * decision waits `FaultDelays.nextNs()` before it completes, in both layouts: decision latency shows every
 * delay, and tick-to-order shows it for the orders of the affected trades (their frame is handed on after the
 * wait), whether the strategy orders on every tick or a few times a minute. Allocation-free per trade.
 */
export function faultDelaysFor(fault: FaultInjectionConfig | undefined): FaultDelays | undefined {
  return fault !== undefined && addsLatency(fault) ? new FaultDelays(fault) : undefined;
}

/** Whether a fault injection section can delay anything: some trade is affected and some delay is configured. */
export function addsLatency(fault: FaultInjectionConfig): boolean {
  return fault.affectedPercent > 0 && (fault.extraLatencyMicros > 0 || fault.jitterMicros > 0);
}

/** The config without fault injection, for scratch pipelines (JIT warm-up) that must not spend time spinning. */
export function withoutFaultInjection(config: EngineConfig): EngineConfig {
  if (config.faultInjection === undefined) return config;
  const { faultInjection: _omitted, ...rest } = config;
  return rest;
}

/**
 * The start-up warning an engine logs when its config has a fault injection section (undefined without one).
 * Example: `WARNING Engine fault injection enabled: trade decisions are delayed on purpose, for tests and demos
 * only extraLatencyMicros=400 jitterMicros=100 affectedPercent=100 seed=1`.
 */
export function faultInjectionWarning(config: EngineConfig): string | undefined {
  const fault = config.faultInjection;
  if (fault === undefined) return undefined;
  return (
    'WARNING Engine fault injection enabled: trade decisions are delayed on purpose, for tests and demos only ' +
    `extraLatencyMicros=${fault.extraLatencyMicros} jitterMicros=${fault.jitterMicros} ` +
    `affectedPercent=${fault.affectedPercent} seed=${fault.seed}`
  );
}

/**
 * The sequence of injected delays, one per trade, from a seeded mulberry32: deterministic for a seed. Each call
 * draws whether the trade is affected (probability affectedPercent / 100), and an affected trade waits
 * extraLatencyMicros plus a uniform jitter of 0 to jitterMicros (inclusive, nanosecond steps). Examples, in ns:
 * {400, 0, 100} -> 400 000 every time; {400, 100, 100} -> 400 000 .. 500 000; {400, 0, 10} -> 400 000 for
 * about one order in ten, else 0.
 */
export class FaultDelays {
  private readonly random: Mulberry32;
  private readonly baseNs: number;
  private readonly jitterNs: number;
  /** A trade is affected when its u32 draw is below this; 2^32 (100 %) affects every trade. */
  private readonly threshold: number;

  constructor(fault: FaultInjectionConfig) {
    this.random = new Mulberry32(fault.seed);
    this.baseNs = fault.extraLatencyMicros * 1_000;
    this.jitterNs = fault.jitterMicros * 1_000;
    this.threshold = Math.round((fault.affectedPercent / 100) * 2 ** 32);
  }

  /** The delay for the next order, in nanoseconds (0 when this order is not affected). */
  nextNs(): number {
    if (this.random.nextU32() >= this.threshold) return 0;
    if (this.jitterNs === 0) return this.baseNs;
    return this.baseNs + Math.floor(this.random.next() * (this.jitterNs + 1));
  }
}

/** Holds the thread until `durationNs` have passed on `clockNs` (returns at once for 0). */
export function spinFor(durationNs: number, clockNs: () => number): void {
  if (durationNs <= 0) return;
  const until = clockNs() + durationNs;
  while (clockNs() < until) {
    // busy wait by design: the fault is latency in the decision, not an idle thread
  }
}
