import { fileURLToPath } from 'node:url';
import type { CoreV1Event } from '@kubernetes/client-node';
import type { Measurement, TradingEngine } from '../../operator/api/types.ts';
import { flag, helpText, parseArgs, type OptionSpec } from '../lib/args.ts';
import { startRolloutLab, type MutableSpec, type RolloutLab } from './rollout-lab.ts';

const options = {
  json: { type: 'boolean', help: 'print the summary as JSON at the end' },
  help: { type: 'boolean', help: 'show this help' },
} satisfies Record<string, OptionSpec>;

export const rolloutDemoHelp = helpText(
  'nexus demo [--json]',
  'The product in one command, on this machine, no cluster needed: starts a real Kubernetes control plane\n' +
    '(kube-apiserver, etcd, controller-manager, scheduler; built from the Go modules on first use and cached)\n' +
    'with a local node agent that runs engine pods as processes, installs the TradingEngine CRD, runs the operator,\n' +
    'a market-data feed and an order sink, then rolls out three versions of a user\'s strategy module (written on\n' +
    'the strategy SDK, examples/strategies/demo/) with a latency-gated canary: v1 (first), v2 (a new exit: promoted)\n' +
    'and v3 (a median filter that re-sorts its whole window on every trade: aborted by the gate and rolled back\n' +
    'automatically, orders cut first). The strategy orders only now and then; the gate samples the decision latency of\n' +
    'every trade. Each pod trades only the symbols of the shards the operator\n' +
    'gives it, and the canary takes a share of them. Prints the timeline with the measured p99 values and which\n' +
    'symbols each revision owns; the summary says whether any order was duplicated. Ends by itself and cleans up.',
  options,
);

const name = 'demo';
const thresholdMicros = 5_000;
/** The user's strategy module, three versions (examples/strategies/demo/), as the pods load them by path. */
const strategyModule = (version: number): string => fileURLToPath(new URL(`../../examples/strategies/demo/rsi-band-v${version}.ts`, import.meta.url));

/** The engine's strategies: the user's module of `version`, reading the RSI, with its band. */
function userStrategy(version: number): (spec: MutableSpec) => void {
  return (spec) => {
    spec.engine.strategies = [{ name: 'rsi-band', module: strategyModule(version), indicators: ['rsi-14'], params: { low: 30, high: 70 } }] as MutableSpec['engine']['strategies'];
  };
}

interface Phase {
  readonly label: string;
  readonly revision: string;
  readonly outcome: 'promoted' | 'aborted' | 'stable';
  readonly startedMs: number;
  readonly endedMs: number;
  readonly p99Micros: readonly number[];
  readonly firstBreachMs?: number;
  readonly ordersOffMs?: number;
  readonly ordersOffRoundTripMs?: number;
}

export async function rolloutDemoCommand(argv: readonly string[]): Promise<number> {
  const values = parseArgs(argv, options);
  if (flag(values, 'help')) {
    console.log(rolloutDemoHelp);
    return 0;
  }
  const started = Date.now();
  const at = (ms: number): string => `[${((ms - started) / 1000).toFixed(1).padStart(5)}s]`;
  const say = (line: string): void => console.log(`${at(Date.now())} ${line}`);
  const quietLog: string[] = [];
  say('Starting a local Kubernetes control plane, the node agent, a market-data feed, an order sink and the operator...');
  let lab: RolloutLab | undefined;
  const interrupted = new Promise<'interrupted'>((resolve) => {
    process.once('SIGINT', () => resolve('interrupted'));
    process.once('SIGTERM', () => resolve('interrupted'));
  });
  try {
    lab = await startRolloutLab({ log: (line) => quietLog.push(line) });
    say(`Control plane up, TradingEngine CRD installed, operator running (KUBECONFIG=${lab.kubeconfigPath})`);
    const timeline = new Timeline(lab, at);
    const phases: Phase[] = [];
    const run = async (): Promise<void> => {
      phases.push(await rollout(lab as RolloutLab, timeline, 'v1', 'the strategy module, version 1 (rsi-band-v1.ts): no canary, stable when ready', userStrategy(1), 'stable'));
      phases.push(await rollout(lab as RolloutLab, timeline, 'v2', 'version 2 adds an exit (rsi-band-v2.ts): canary 50%, latency gate, 100%', userStrategy(2), 'promoted'));
      phases.push(await rollout(lab as RolloutLab, timeline, 'v3', 'version 3 adds a median filter that re-sorts 65,536 prices on every trade (rsi-band-v3.ts)', userStrategy(3), 'aborted'));
    };
    const outcome = await Promise.race([run().then(() => 'done' as const), interrupted]);
    if (outcome === 'interrupted') {
      say('Interrupted: cleaning up');
      return 130;
    }
    printSummary(phases);
    console.log(`  the engines ran the user's RSI band module on the regime price path (trends lasting about a minute): the order gateway received ${lab.sink.counts.orders} orders over the run, and the gate sampled the decision of every trade (the samples above, per 2 s window)`);
    const { duplicates, staleEpoch } = lab.sink.counts;
    console.log(`  symbol ownership: each symbol was traded by one pod at a time and rollouts moved symbols, not copies: ` +
      `${duplicates === 0 ? 'no order was duplicated' : `${duplicates} DUPLICATE ORDERS`} (orders answering a tick another order answered: ${duplicates}), ` +
      `${staleEpoch} refused by the gateway for a superseded shard epoch`);
    if (flag(values, 'json')) console.log(JSON.stringify({ thresholdMicros, phases }, null, 2));
    const expected = phases.every((phase) => phase.outcome === (phase.label === 'v3' ? 'aborted' : phase.label === 'v2' ? 'promoted' : 'stable'));
    return expected && duplicates === 0 ? 0 : 1;
  } catch (error) {
    console.error(`Demo failed: ${(error as Error).message}\nLast log lines:\n${quietLog.slice(-20).join('\n')}`);
    return 1;
  } finally {
    say('Stopping the operator, engines, feed, sink and control plane...');
    await lab?.stop();
    say('Done.');
  }
}

/** Applies one revision and follows it to its end (stable, promoted or aborted), printing the timeline. */
async function rollout(
  lab: RolloutLab,
  timeline: Timeline,
  label: string,
  what: string,
  edit: (spec: MutableSpec) => void,
  expected: Phase['outcome'],
): Promise<Phase> {
  console.log(`\n=== ${label}: ${what}`);
  const startedMs = Date.now();
  const before = await lab.read(name);
  await lab.apply(lab.manifest(name, edit));
  const deadline = startedMs + 180_000;
  let engine: TradingEngine | undefined;
  for (;;) {
    engine = await lab.read(name);
    await timeline.print(engine);
    const status = engine?.status;
    const fresh = status?.observedGeneration === engine?.metadata.generation && status?.updateRevision !== before?.status?.updateRevision;
    if (fresh && status?.phase === 'Aborted') break;
    if (fresh && status?.phase === 'Healthy' && status.stableRevision === status.updateRevision) break;
    if (Date.now() > deadline) throw new Error(`${label} did not finish within 180 s (phase ${status?.phase ?? '-'}: ${status?.message ?? ''})`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const revision = engine?.status?.updateRevision ?? '';
  // An aborted canary keeps its pods (orders cut) for abortScaleDownDelaySeconds: follow it to zero.
  const scaledDown = `Scaled ReplicaSet ${name}-${revision} from`;
  const settleUntil = Date.now() + (engine?.status?.phase === 'Aborted' ? 20_000 : 500);
  while (Date.now() < settleUntil) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    await timeline.print(await lab.read(name));
    if (timeline.eventsOf('ScalingReplicaSet').some((event) => event.message?.startsWith(scaledDown) === true && event.message.endsWith(' to 0'))) break;
  }
  const measured = timeline.measurementsOf(revision);
  const breach = measured.find((m) => m.result === 'Breach');
  const ordersOff = timeline.eventsOf('OrdersOff').find((event) => event.message?.includes(revision) === true);
  const roundTrip = /round trip ([0-9.]+) ms/.exec(ordersOff?.message ?? '')?.[1];
  const outcome: Phase['outcome'] = engine?.status?.phase === 'Aborted' ? 'aborted' : expected === 'stable' ? 'stable' : 'promoted';
  return {
    label, revision, outcome, startedMs, endedMs: Date.now(),
    p99Micros: measured.map((m) => m.p99Micros ?? 0),
    ...(breach?.time === undefined ? {} : { firstBreachMs: Date.parse(breach.time) }),
    ...(ordersOff === undefined ? {} : { ordersOffMs: eventMs(ordersOff) }),
    ...(roundTrip === undefined ? {} : { ordersOffRoundTripMs: Number(roundTrip) }),
  };
}

function printSummary(phases: readonly Phase[]): void {
  console.log('\n=== Summary');
  console.log(`  revision    outcome    took     gate p99 µs (threshold ${thresholdMicros})`);
  for (const phase of phases) {
    const took = `${((phase.endedMs - phase.startedMs) / 1000).toFixed(1)} s`;
    const values = phase.p99Micros.length === 0 ? '-' : phase.p99Micros.join(', ');
    console.log(`  ${`${phase.label} ${phase.revision}`.padEnd(11).slice(0, 11)} ${phase.outcome.padEnd(10)} ${took.padStart(7)}  ${values}`);
  }
  const slow = phases.find((phase) => phase.outcome === 'aborted');
  if (slow?.ordersOffMs !== undefined) {
    const fromStart = ((slow.ordersOffMs - slow.startedMs) / 1000).toFixed(1);
    const fromBreach = slow.firstBreachMs === undefined ? '-' : ((slow.ordersOffMs - slow.firstBreachMs) / 1000).toFixed(1);
    console.log(`  ${slow.label}: orders cut ${fromStart} s after the apply (pod start, warm-up, gate delay included), ` +
      `${fromBreach} s after the first breaching measurement; control round trip ${slow.ordersOffRoundTripMs ?? '-'} ms`);
  }
}

function eventMs(event: CoreV1Event): number {
  return Date.parse(String(event.eventTime ?? event.lastTimestamp ?? event.firstTimestamp ?? ''));
}

/** Prints each new Event and each new gate measurement once, in time order. */
class Timeline {
  private readonly seenEvents = new Set<string>();
  private readonly seenMeasurements = new Set<string>();
  private readonly measurements: Measurement[] = [];
  private readonly events: CoreV1Event[] = [];
  private ownership = '';

  constructor(private readonly lab: RolloutLab, private readonly at: (ms: number) => string) {}

  /** Which symbols each revision's pods own now (status.shards), or undefined while it is unchanged. */
  private ownershipChange(engine: TradingEngine | undefined): string | undefined {
    const byRevision = new Map<string, string[]>();
    for (const shard of engine?.status?.shards ?? []) {
      if (shard.owner === undefined || shard.granted !== true) continue;
      // Pods are named <engine>-<revision>-<suffix>, after their ReplicaSet.
      const revision = shard.owner.slice(name.length + 1).split('-')[0] ?? '';
      byRevision.set(revision, [...(byRevision.get(revision) ?? []), ...shard.symbols]);
    }
    const text = [...byRevision].sort(([a], [b]) => a.localeCompare(b)).map(([revision, symbols]) => `${revision}: ${symbols.sort().join(', ')}`).join(' | ');
    if (text === '' || text === this.ownership) return undefined;
    this.ownership = text;
    return text;
  }

  async print(engine: TradingEngine | undefined): Promise<void> {
    const lines: Array<{ ms: number; text: string }> = [];
    for (const event of await this.lab.events(name)) {
      const key = event.metadata?.uid ?? event.metadata?.name ?? '';
      if (this.seenEvents.has(key)) continue;
      this.seenEvents.add(key);
      this.events.push(event);
      lines.push({ ms: eventMs(event), text: `${(event.type === 'Warning' ? '!' : ' ')} ${(event.reason ?? '').padEnd(18)} ${event.message ?? ''}` });
    }
    for (const measurement of engine?.status?.analysis?.history ?? []) {
      const key = `${measurement.revision ?? ''}@${measurement.time ?? ''}`;
      if (this.seenMeasurements.has(key)) continue;
      this.seenMeasurements.add(key);
      this.measurements.push(measurement);
      const streak = engine?.status?.analysis;
      lines.push({
        ms: Date.parse(measurement.time ?? ''),
        text: `  gate ${(measurement.result ?? '').padEnd(13)} ${measurement.message ?? ''}${measurement === streak?.lastMeasurement ? ` [passes ${streak.consecutiveSuccesses ?? 0}, breaches ${streak.consecutiveBreaches ?? 0}]` : ''}`,
      });
    }
    const owned = this.ownershipChange(engine);
    if (owned !== undefined) lines.push({ ms: Date.now(), text: `  owns ${''.padEnd(13)} ${owned}` });
    for (const line of lines.sort((a, b) => a.ms - b.ms)) console.log(`${this.at(line.ms)} ${line.text}`);
  }

  measurementsOf(revision: string): Measurement[] {
    return this.measurements.filter((m) => m.revision === revision);
  }

  eventsOf(reason: string): CoreV1Event[] {
    return this.events.filter((event) => event.reason === reason);
  }
}
