import { describe, expect, it } from 'vitest';
import type { FaultInjectionConfig } from '../config/engine-config.ts';
import {
  FaultDelays,
  LatencyFaultSink,
  addsLatency,
  faultInjectionWarning,
  spinFor,
  withFaultInjection,
  withoutFaultInjection,
} from './fault-injection.ts';
import { Order, Signal } from './order.ts';
import type { OutputSink } from './output-sink.ts';
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

function recordingSink(clockNs: () => number): { sink: OutputSink; seen: string[] } {
  const seen: string[] = [];
  return {
    seen,
    sink: {
      signal: (signal) => seen.push(`signal ${signal.symbolIndex}`),
      order: (order) => seen.push(`order ${order.symbolIndex} at ${clockNs()}`),
    },
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

describe('withFaultInjection', () => {
  const sink: OutputSink = { signal: () => undefined, order: () => undefined };

  it('returns the sink itself without a section or with one that adds no delay, so the hot path is unchanged', () => {
    expect(withFaultInjection(sink, undefined)).toBe(sink);
    expect(withFaultInjection(sink, fault({ affectedPercent: 0 }))).toBe(sink);
    expect(withFaultInjection(sink, fault({ extraLatencyMicros: 0, jitterMicros: 0 }))).toBe(sink);
  });

  it('puts a LatencyFaultSink in front of the sink when some delay is configured', () => {
    expect(withFaultInjection(sink, fault())).toBeInstanceOf(LatencyFaultSink);
    expect(withFaultInjection(sink, fault({ extraLatencyMicros: 0, jitterMicros: 50 }))).toBeInstanceOf(LatencyFaultSink);
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

describe('LatencyFaultSink', () => {
  it('waits the drawn delay on its clock before it hands each order on, and passes signals at once', () => {
    const clock = steppingClock();
    const next = recordingSink(clock.clockNs);
    const sink = new LatencyFaultSink(next.sink, new FaultDelays(fault()), clock.clockNs);
    const signal = new Signal();
    signal.symbolIndex = 3;
    sink.signal(signal);
    expect(clock.reads()).toBe(0);
    const order = new Order();
    order.symbolIndex = 2;
    sink.order(order);
    sink.order(order);
    // Each order: one read sets the deadline, then 400 reads until the clock reaches it; the sink reads once more.
    expect(next.seen).toEqual(['signal 3', 'order 2 at 402000', 'order 2 at 804000']);
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
      'WARNING Engine fault injection enabled: accepted orders are delayed on purpose, for tests and demos only ' +
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
