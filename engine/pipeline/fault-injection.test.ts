import { describe, expect, it } from 'vitest';
import type { FaultInjectionConfig } from '../config/engine-config.ts';
import {
  FaultDelays,
  addsLatency,
  faultDelaysFor,
  faultInjectionWarning,
  spinFor,
  withoutFaultInjection,
} from './fault-injection.ts';
import { OrderIdSource } from './order.ts';
import type { OutputSink } from './output-sink.ts';
import { TickProcessor, createProcessorCounters } from './tick-processor.ts';
import { RiskEngine } from '../risk/risk-engine.ts';
import { probeConfig } from '../../test/support/engine-config.ts';

function fault(overrides: Partial<FaultInjectionConfig> = {}): FaultInjectionConfig {
  return { extraLatencyMicros: 400, jitterMicros: 0, affectedPercent: 100, seed: 1, ...overrides };
}

function draws(config: FaultInjectionConfig, count: number): number[] {
  const delays = new FaultDelays(config);
  return Array.from({ length: count }, () => delays.nextNs());
}

/** A clock that moves 1 µs forward on every read: spinning on it takes no real time. */
function steppingClock(): { clockNs: () => number; reads: () => number } {
  let now = 0;
  let reads = 0;
  return {
    clockNs: () => {
      reads++;
      return (now += 1_000);
    },
    reads: () => reads,
  };
}

describe('FaultDelays', () => {
  it('delays every order by extraLatencyMicros when affectedPercent is 100 and there is no jitter', () => {
    expect(draws(fault(), 100).every((ns) => ns === 400_000)).toBe(true);
  });

  it('adds a jitter from 0 to jitterMicros that covers the range', () => {
    const delays = draws(fault({ jitterMicros: 100 }), 10_000);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(400_000);
    expect(Math.max(...delays)).toBeLessThanOrEqual(500_000);
    expect(delays.filter((ns) => ns < 410_000).length).toBeGreaterThan(500); // lowest tenth of the range
    expect(delays.filter((ns) => ns > 490_000).length).toBeGreaterThan(500); // highest tenth
    expect(delays.every(Number.isInteger)).toBe(true);
  });

  it.each([
    [0, 0, 0],
    [10, 900, 1_100],
    [50, 4_800, 5_200],
    [100, 10_000, 10_000],
  ])('delays about affectedPercent %i of 10 000 orders and leaves the rest at 0', (percent, atLeast, atMost) => {
    const delays = draws(fault({ affectedPercent: percent }), 10_000);
    const affected = delays.filter((ns) => ns > 0).length;
    expect(affected).toBeGreaterThanOrEqual(atLeast);
    expect(affected).toBeLessThanOrEqual(atMost);
    expect(delays.every((ns) => ns === 0 || ns === 400_000)).toBe(true);
  });

  it('is the same sequence for the same seed and another for another seed', () => {
    const config = fault({ jitterMicros: 100, affectedPercent: 50, seed: 42 });
    expect(draws(config, 1_000)).toEqual(draws(config, 1_000));
    expect(draws({ ...config, seed: 43 }, 1_000)).not.toEqual(draws(config, 1_000));
  });
});

describe('faultDelaysFor', () => {
  it('gives nothing without a section or with one that adds no delay, so the hot path is unchanged', () => {
    expect(faultDelaysFor(undefined)).toBeUndefined();
    expect(faultDelaysFor(fault({ affectedPercent: 0 }))).toBeUndefined();
    expect(faultDelaysFor(fault({ extraLatencyMicros: 0, jitterMicros: 0 }))).toBeUndefined();
    expect(faultDelaysFor(fault({ extraLatencyMicros: 0, jitterMicros: 50 }))).toBeInstanceOf(FaultDelays);
  });

  it.each([
    [fault(), true],
    [fault({ extraLatencyMicros: 0, jitterMicros: 1 }), true],
    [fault({ extraLatencyMicros: 0 }), false],
    [fault({ affectedPercent: 0 }), false],
  ])('addsLatency(%j) is %s', (config, expected) => {
    expect(addsLatency(config)).toBe(expected);
  });
});

describe('fault injection in the decision of each trade', () => {
  function processor(strategies: unknown[], clockNs: () => number, decisions: number[], seen: string[]): TickProcessor {
    const config = probeConfig({ strategies, faultInjection: fault() });
    const sink: OutputSink = { signal: () => undefined, order: () => seen.push(`order at ${clockNs()}`) };
    return new TickProcessor({
      config, risk: new RiskEngine(config.risk, config.symbols.length), sink, orderIds: new OrderIdSource(1), clockNs,
      counters: createProcessorCounters(config.strategies.length), recordDecision: { recordSince: (stamps, count, now) => { for (let i = 0; i < count; i++) decisions.push(now - (stamps[i] ?? 0)); } },
    });
  }

  it('delays every affected trade, ordering or not, before its decision completes, and hands orders on first', () => {
    const clock = steppingClock();
    const decisions: number[] = [];
    const seen: string[] = [];
    const quiet = processor([], clock.clockNs, decisions, seen);
    quiet.onTrade(0, 100, 1, 0);
    quiet.onTrade(1, 100, 1, 0);
    quiet.finishDecisions();
    // No strategy, no order: each trade spins 400 µs (one read sets the deadline, 400 reads reach it); the batch
    // ends at the next read, and both decisions are complete then.
    expect(decisions).toEqual([803_000, 803_000]);
    expect(seen).toEqual([]);

    const ordering = processor([{ name: 'probe', type: 'probe', params: { orderQuantity: 1 } }], steppingClock().clockNs, decisions.splice(0), seen);
    ordering.onTrade(0, 100, 1, 0);
    expect(seen).toEqual(['order at 1000']);
  });
});

describe('spinFor', () => {
  it('returns at once for 0 and holds until the clock has moved by the duration otherwise', () => {
    const clock = steppingClock();
    spinFor(0, clock.clockNs);
    expect(clock.reads()).toBe(0);
    spinFor(10_000, clock.clockNs);
    expect(clock.reads()).toBe(11);
  });
});

describe('fault injection in the engine config', () => {
  it('warns at start-up only when the section is present', () => {
    expect(faultInjectionWarning(probeConfig())).toBeUndefined();
    expect(faultInjectionWarning(probeConfig({ faultInjection: { extraLatencyMicros: 400, jitterMicros: 100 } }))).toBe(
      'WARNING Engine fault injection enabled: trade decisions are delayed on purpose, for tests and demos only ' +
        'extraLatencyMicros=400 jitterMicros=100 affectedPercent=100 seed=1',
    );
  });

  it('is left out of the config for scratch pipelines, and the rest is kept', () => {
    const plain = probeConfig();
    expect(withoutFaultInjection(plain)).toBe(plain);
    const faulty = probeConfig({ faultInjection: { extraLatencyMicros: 400 } });
    const stripped = withoutFaultInjection(faulty);
    expect('faultInjection' in stripped).toBe(false);
    expect(stripped).toEqual(plain);
  });
});
