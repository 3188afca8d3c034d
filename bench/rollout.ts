/**
 * Rollout decision benchmark: quality and speed of the latency gate, through the operator's real `decide` (canary
 * planner, gate, verdict, abort) on a manual clock, over a seeded simulation of canaries.
 *
 *   for each canary (half healthy, half regressed 1.2x..3x):
 *     stable revision created and made Healthy by decide, its 4 pods' windows filled with 60 s of samples
 *     new revision applied at t=0, then the reconciler's loop, exactly:
 *       plan = decide(observed, now)
 *       needs.measure -> the revisions' pod windows read as the pod-scrape provider would -> decide again
 *       needs.control -> orders-off answered ok (the pod stops ordering)            -> decide again
 *       needs.ownership -> no foreign object (the simulated API server holds only the engine's children) -> again
 *       status written, children applied to the simulated cluster (bench/rollout-world.ts)
 *       now = min(now + requeueAfterMs, next child event + 10 ms informer lag, own write + 10 ms, now + max step)
 *     until promoted, or aborted and scaled down, or the time cap
 *
 * Reports false aborts (healthy canaries aborted), detection by regression size, time from regression onset to
 * orders-off (the simulated time when a plan first asks for it), time to promotion, and the CPU cost of decide().
 * Baselines in the same run: per regressed canary the lower bound on detection, (consecutiveBreaches - 1) x
 * interval after the first second at which the true window would be judged a breach (the window fill delay, read
 * from the same windows); and a naive Argo-style gate (total failure count, missing data counted as a failure)
 * judged on the same measurements.
 *
 * Every reconcile also checks the rollout invariants of docs/rollouts.md (stable never below replicas; after an abort, orders off
 * before any canary scale-down, none before abortScaleDownDelaySeconds, the Service on stable; a settled engine
 * reconciles with zero writes) and prints any violation. Decisions are level-based, so the extra reconciles of a
 * smaller --max-step-ms change nothing but the call count (checked: 1000 and 5000 ms give identical runs).
 *
 *   npm run bench:rollout [-- --canaries 200] [--seed 1] [--max-step-ms 1000]
 *       races the threshold method (the baseline) and the Mann-Whitney method on the same seed, each in its own
 *       process with its recommended settings; prints both reports, the comparison, and its JSON as the last line
 *   npm run bench:rollout -- --method Threshold|MannWhitney [--tolerance 15] [--confidence 0.99]
 *       [--consecutive-breaches 2] [--window 60] [--min-samples 10] [--json]     one method alone
 *
 *   npm run bench:rollout -- --method Threshold --window 60 --min-samples 1000   (the gpu-canary example's window)
 *   npm run bench:rollout -- --method Threshold --sample-rate 0.05               (a gate on tick-to-order under a strategy that orders
 *                                                              three times a minute per pod; the default, a sample
 *                                                              per trade, is what decision latency gives any strategy)
 *
 * The two methods, seeds 1/2/3 (docs/rollouts.md, "Statistical mode"): false aborts 0/0/1 (Threshold) against
 * 0/0/0 (MannWhitney); 1.2x-1.3x caught 29, 32, 26 of 40 against 34, 40, 39; mid-analysis onset -> orders-off p50
 * 19.7/18.4/15.7 s against 11.3/11.0/10.9 s, p90 166/120/134 s against 23.6/18.4/27.8 s.
 *
 * The threshold method alone, before the intervals were aligned to the wall clock (seed 1, 200 canaries, ~60 s on
 * 2 busy cores; the gate counts a canary over the threshold while stable is over it too and within the relative
 * limit as Inconclusive, fleet-wide, not a breach):
 *   window 20 s (default): 0/100 false aborts; 1.5x, 2x, 3x all caught (1.3x 19/20, 1.2x 8/20); median onset ->
 *     orders-off 19.7 s for mid-analysis onsets against a 14.5 s lower bound (2x/3x: 14.7/14.3 s).
 *   window 60 s: 1/100 false aborts (canary 828 µs, stable 799 µs: a burst just under the threshold on stable);
 *     median 25.0 s against a 20.8 s bound (the window fills slowly for 1.3-1.5x regressions).
 *   window 5 s, minSamples 200: 0 false aborts but 1.5x only 17/20 and a median of 113 s: at ~80 orders/s per
 *     pod a 5 s window holds ~400 samples, its p99 is too noisy and the streaks keep breaking.
 * decide() costs ~0.75 ms per call, about half of it rendering the ConfigMap's YAML on every pass.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LatencyAnalysis, TradingEngine } from '../operator/api/types.ts';
import type { MeasureResult, MeasureTarget } from '../operator/analysis/provider.ts';
import { aggregateWorstPod, type PodWindow } from '../operator/analysis/pod-scrape.ts';
import { judge } from '../operator/analysis/verdict.ts';
import { parseDurationMs } from '../operator/api/duration.ts';
import { decide } from '../operator/decide/decide.ts';
import { settleSync } from '../operator/decide/settle.ts';
import type { Observed, Plan } from '../operator/plan/plan.ts';
import { canonicalJson } from '../operator/render/canonical-json.ts';
import { revisionOf } from '../operator/render/revision.ts';
import type { ControlOutcome, TakenMeasurement } from '../operator/plan/needs.ts';
import { exampleEngine, withSpec } from '../test/support/engines.ts';
import { describeModel, latencyModel, Market, naiveGate, Rng, setEngineWindow, setGateSampleRate, type MeasurementResult, type Regression } from './rollout-model.ts';
import { TimedWorld } from './rollout-world.ts';
import { selectWindow, type ArrivedReport } from '../operator/analysis/window-report.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const index = args.indexOf(name);
  return index >= 0 ? Number(args[index + 1]) : fallback;
};
const json = args.includes('--json');
const textOption = (name: string): string | undefined => {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : undefined;
};
/** The gate's method; without --method the bench races both on the same seed (compareMethods). */
const methodArg = textOption('--method');
if (methodArg !== undefined && methodArg !== 'Threshold' && methodArg !== 'MannWhitney') {
  process.stderr.write(`--method must be Threshold or MannWhitney, got ${JSON.stringify(methodArg)}\n`);
  process.exit(2);
}
const method: 'Threshold' | 'MannWhitney' = methodArg ?? 'Threshold';
const statistical = method === 'MannWhitney';
const canaryCount = option('--canaries', 200);
const seed = option('--seed', 1);
const maxStepMs = option('--max-step-ms', 1_000);
/** The gate's window and minSamples (the engine's window follows the gate's, as the operator renders it). */
/** The Mann-Whitney gate keeps a longer window: it only grows to it while the data is too thin to decide. */
const windowSeconds = option('--window', statistical ? 60 : 20);
/** Per window: the threshold method's sliding window needs many samples for a stable p99; the Mann-Whitney
 * method's bounds widen with fewer samples on their own, so its minimum only stops a near-empty window. */
const minSamples = option('--min-samples', statistical ? 10 : 800);
/** maxIncreasePercent: the relative limit on p99 (Threshold) or the tolerance on the ratio (MannWhitney). */
const tolerancePercent = option('--tolerance', statistical ? 15 : 20);
const confidence = textOption('--confidence') ?? '0.99';
/** Non-overlapping windows each at the stated confidence need fewer breaches in a row than overlapping ones. */
const consecutiveBreaches = option('--consecutive-breaches', statistical ? 2 : 3);
setEngineWindow(windowSeconds, statistical);
/** The gate's samples per pod per second (rollout-model.ts gateSamples): default a sample per trade. */
const sampleRate = option('--sample-rate', latencyModel.ordersPerPodPerSecond);
setGateSampleRate(sampleRate);
const say = (line: string): void => {
  if (!json) console.log(line);
  else process.stderr.write(`${line}\n`);
};

/** Regression factors, spread over the regressed half. */
const factors = [1.2, 1.3, 1.5, 2, 3] as const;
/** Informer lag: a child event or the operator's own write is seen and re-queued this much later. */
const informerLagMs = 10;
/** Each canary's simulated time limit after the new revision is applied. */
const capMs = 1_200_000;
/** The naive gate's failure limit: as many failures as the real gate tolerates breaches in a row. */
const naiveFailureLimit = 2;
const T0 = Date.parse('2026-03-02T14:30:00.000Z');

// ---- the engine under test ----------------------------------------------------------------------------------

const steps = [{ setWeight: 25 }, { analysis: {} }, { setWeight: 100 }];
const latencySpec = {
  source: { type: 'PodScrape' },
  method,
  confidence,
  quantile: '0.99',
  thresholdMicros: 800,
  relativeToStable: { maxIncreasePercent: tolerancePercent },
  interval: '5s',
  window: `${windowSeconds}s`,
  initialDelay: '10s',
  minSamples,
  consecutiveBreaches,
  successfulIntervals: 24,
  maxConsecutiveErrors: 5,
  onInconclusive: 'Pause',
  inconclusiveTimeoutSeconds: 1800,
};
const engineA: TradingEngine = withSpec(exampleEngine('gpu-canary'), (spec) => {
  spec.strategy = { type: 'Canary', canary: { steps, abortScaleDownDelaySeconds: 30 } };
  spec.analysis = { latency: latencySpec };
  spec.engine.metrics.windowSeconds = windowSeconds;
});
const engineB: TradingEngine = {
  ...withSpec(engineA, (spec) => { spec.template.image = 'ghcr.io/nexus-trading/nexus-engine:0.2.0'; }),
  metadata: { ...engineA.metadata, generation: 2 },
};
const revA = revisionOf(engineA);
const revB = revisionOf(engineB);
const latency: LatencyAnalysis = engineB.spec.analysis?.latency ?? (() => { throw new Error('The bench engine has no latency gate'); })();
const intervalMs = parseDurationMs(latency.interval) ?? Number.NaN;
const initialDelayMs = parseDurationMs(latency.initialDelay) ?? Number.NaN;
const minReadySeconds = engineB.spec.minReadySeconds;
const replicas = engineB.spec.replicas;
const abortDelayMs = (engineB.spec.strategy?.canary?.abortScaleDownDelaySeconds ?? 30) * 1000;

// ---- one canary ---------------------------------------------------------------------------------------------

type Kind = 'healthy' | 'regressed';
type Onset = 'start' | 'mid';

interface CanaryRun {
  readonly index: number;
  readonly kind: Kind;
  readonly factor: number;
  readonly onset?: Onset;
  /** Relative ms: when the regression began (for 'start', when the first canary pod began ordering). */
  onsetMs?: number;
  quiet?: { startMs: number; endMs: number };
  outcome: 'promoted' | 'aborted' | 'timeout';
  abortReason?: string;
  abortMessage?: string;
  /** The stable revision's p99 in the measurement that aborted. */
  abortStableP99?: number;
  /** Relative ms when a plan first asked for orders-off. */
  ordersOffMs?: number;
  promotedMs?: number;
  analysisStartMs?: number;
  /** Relative ms of the first simulated second at whose end the true windows judge as a Breach (after onset). */
  firstBreachableMs?: number;
  readonly measurements: Array<{ atMs: number; result: MeasurementResult; p99?: number; stableP99?: number }>;
  reconciles: number;
  decides: number;
  writes: number;
}

const decideMicros: number[] = [];
/** Off while the stable revision is created: the cost figure is of decisions during rollouts. */
let timingDecides = false;
const anomalies: string[] = [];
const anomalyKeys = new Set<string>();
/** Records a violated invariant once per canary and text (at its first occurrence). */
const anomaly = (run: CanaryRun, nowMs: number, text: string): void => {
  const key = `${run.index} ${text}`;
  if (anomalyKeys.has(key)) return;
  anomalyKeys.add(key);
  if (anomalies.length < 50) anomalies.push(`canary ${run.index} (${run.kind}${run.kind === 'regressed' ? ` ${run.factor}x` : ''}) t=${((nowMs - T0) / 1000).toFixed(3)} s: ${text}`);
};

function timedDecide(run: CanaryRun, observed: Observed, nowMs: number): Plan {
  const started = performance.now();
  const plan = decide(observed, nowMs);
  if (timingDecides) {
    decideMicros.push((performance.now() - started) * 1000);
    run.decides++;
  }
  return plan;
}

function simulateCanary(index: number): CanaryRun {
  const kind: Kind = index % 2 === 0 ? 'healthy' : 'regressed';
  const slot = index >> 1;
  const factor = kind === 'healthy' ? 1 : factors[slot % factors.length];
  const onset: Onset | undefined = kind === 'healthy' ? undefined : Math.floor(slot / factors.length) % 3 === 0 ? 'start' : 'mid';
  const run: CanaryRun = { index, kind, factor, ...(onset === undefined ? {} : { onset }), outcome: 'timeout', measurements: [], reconciles: 0, decides: 0, writes: 0 };
  const runSeed = (seed * 0x9e3779b1 + index * 0x85ebca6b) >>> 0;
  const market = new Market(new Rng(runSeed ^ 0x1111), -70_000, capMs);
  if (market.quiet !== undefined) run.quiet = { ...market.quiet };
  const errorRng = new Rng(runSeed ^ 0x2222);
  const regression: Regression | undefined = kind === 'healthy' ? undefined
    : { factor, onsetMs: onset === 'start' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY };
  const regressions = new Map<string, Regression>(regression === undefined ? [] : [[revB, regression]]);
  let ordersOffAbs: number | undefined;

  // The oracle for the detection lower bound: after the onset, the first second at whose end the true windows
  // (the same ones the gate reads) would be judged a Breach.
  const onSecond = (endMs: number): void => {
    // The oracle is the threshold method's (the sliding window judged now); the Mann-Whitney gate has no such bound.
    if (statistical || regression === undefined || run.firstBreachableMs !== undefined || ordersOffAbs !== undefined) return;
    if (endMs - T0 < regression.onsetMs) return;
    const canary = windowsOf(revB, endMs);
    const stable = windowsOf(revA, endMs);
    if (canary.length === 0) return;
    const measured = judge({ canary: { ok: true, value: aggregateWorstPod(canary) }, stable: { ok: true, value: aggregateWorstPod(stable) } }, latency, revB, endMs);
    if (measured.result === 'Breach') run.firstBreachableMs = endMs - T0;
  };
  const world = new TimedWorld({ t0Ms: T0, minReadySeconds, rng: new Rng(runSeed ^ 0x3333), market, samplingFromMs: T0 - 65_000, regressions, onSecond });
  const windowsOf = (revision: string, nowMs: number): PodWindow[] =>
    world.scrapeablePods(revision, nowMs).flatMap((pod) => world.podWindow(pod.name, nowMs) ?? []);

  const measure = (target: MeasureTarget, nowMs: number): MeasureResult => {
    if (target.pods.length === 0) return { ok: false, error: `no running pods of revision ${target.revision}` };
    if (errorRng.uniform() < latencyModel.scrapeErrorProbability) {
      return { ok: false, error: `pod ${target.pods[0]?.name ?? ''}: timed out after ${target.timeoutMs} ms` };
    }
    const windows: PodWindow[] = [];
    const reports: ArrivedReport[] = [];
    for (const pod of target.pods) {
      const window = world.podWindow(pod.name, nowMs);
      const report = target.windowSinceMs === undefined ? undefined : world.podReport(pod.name, nowMs, target.windowSeconds * 1000);
      if (window === undefined) return { ok: false, error: `pod ${pod.name} at ${pod.ip}: connection refused` };
      windows.push(window);
      if (report !== undefined) reports.push({ pod: pod.name, report, arrivedMs: nowMs });
    }
    const value = aggregateWorstPod(windows);
    return { ok: true, value: target.windowSinceMs === undefined ? value : { ...value, window: selectWindow(reports, target.windowSinceMs, target.windowUntilMs) } };
  };

  // One reconcile, as operator/controller/reconciler.ts runs it (without the API round trips): the same settleSync.
  let engine: TradingEngine = engineA;
  const reconcileAt = (nowMs: number): { plan: Plan; wrote: boolean } => {
    world.advanceTo(nowMs);
    run.reconciles++;
    let plan: Plan | undefined;
    const decideTimed = (observed: Observed, at: number): Plan => (plan = timedDecide(run, observed, at));
    try {
      plan = settleSync(world.observe(engine, nowMs), nowMs, (effect) => {
        if (effect.kind === 'measure') {
          const request = effect.request;
          const taken: TakenMeasurement = {
            revision: request.canary.revision,
            canary: measure(request.canary, nowMs),
            ...(request.stable === undefined ? {} : { stable: measure(request.stable, nowMs) }),
          };
          return { kind: 'measure', measurement: taken };
        }
        // The simulated API server holds only the engine's own children: no name is taken by a foreign object.
        if (effect.kind === 'ownership') return { kind: 'ownership', foreign: [] };
        // Simulated engines take every hand-over at once (ownership is not what this benchmark races).
        if (effect.kind === 'shards') return { kind: 'shards', outcomes: effect.request.commands.map((command) => ({ pod: command.pod, ok: true, micros: 250, released: [] })) };
        if (effect.kind === 'probe') return { kind: 'probe', outcomes: effect.request.targets.map((target) => ({ pod: target.pod, ok: true, strategies: [] })) };
        // No confirm-promotion webhook is configured here (none is ever asked); a plan that asks gets a confirmation.
        if (effect.kind === 'confirm') return { kind: 'confirm', outcome: { confirmed: true, message: 'HTTP 200' } };
        if (ordersOffAbs === undefined) {
          ordersOffAbs = nowMs;
          run.ordersOffMs = nowMs - T0;
        }
        const outcomes: ControlOutcome[] = effect.request.targets.map((target) => {
          world.ordersOff(target.pod, nowMs);
          return { pod: target.pod, ok: true, micros: Math.round(300 + 600 * errorRng.uniform()) };
        });
        return { kind: 'control', outcomes };
      }, decideTimed).plan;
    } catch (error) {
      anomaly(run, nowMs, `reconcile would throw: ${(error as Error).message}`);
      if (plan === undefined) throw error;
      return { plan, wrote: false };
    }
    let writes = 0;
    if (canonicalJson(plan.status) !== canonicalJson(engine.status ?? {})) writes++;
    engine = { ...engine, status: plan.status };
    writes += world.apply(plan, nowMs);
    run.writes += writes;
    return { plan, wrote: writes > 0 };
  };
  const nextAt = (nowMs: number, plan: Plan, wrote: boolean): number => {
    let next = nowMs + maxStepMs;
    if (plan.requeueAfterMs !== undefined) {
      if (!(plan.requeueAfterMs > 0)) anomaly(run, nowMs, `requeueAfterMs ${plan.requeueAfterMs}`);
      next = Math.min(next, nowMs + Math.max(1, plan.requeueAfterMs));
    }
    const event = world.nextEventMs(nowMs);
    if (Number.isFinite(event)) next = Math.min(next, event + informerLagMs);
    if (wrote) next = Math.min(next, nowMs + informerLagMs);
    return next;
  };

  // The stable revision: first create, until decide reports it Healthy; its windows fill before t=0.
  let now = T0 - 900_000;
  for (let guard = 0; engine.status?.stableRevision !== revA || engine.status.phase !== 'Healthy'; guard++) {
    if (guard > 1000) throw new Error(`Stable revision ${revA} did not become Healthy: ${engine.status?.message ?? ''}`);
    const { plan, wrote } = reconcileAt(now);
    now = nextAt(now, plan, wrote);
  }
  run.reconciles = 0;
  run.writes = 0;
  timingDecides = true;

  // The new revision, applied at t=0.
  engine = { ...engineB, status: engine.status };
  now = T0;
  let abortedAbs: number | undefined;
  let lastMeasurementTime = '';
  while (now - T0 <= capMs) {
    const { plan, wrote } = reconcileAt(now);
    const status = plan.status;
    const analysis = status.analysis;
    if (analysis?.revision === revB && analysis.startedAt !== undefined && run.analysisStartMs === undefined) {
      run.analysisStartMs = Date.parse(analysis.startedAt) - T0;
      if (regression !== undefined && onset === 'mid') {
        regression.onsetMs = run.analysisStartMs + Math.round(5_000 + 55_000 * errorRng.uniform());
        run.onsetMs = regression.onsetMs;
      }
    }
    const last = analysis?.lastMeasurement;
    if (last?.revision === revB && last.time !== undefined && last.time !== lastMeasurementTime && last.result !== undefined) {
      lastMeasurementTime = last.time;
      run.measurements.push({
        atMs: Date.parse(last.time) - T0, result: last.result,
        ...(last.p99Micros === undefined ? {} : { p99: last.p99Micros }),
        ...(last.stableP99Micros === undefined ? {} : { stableP99: last.stableP99Micros }),
      });
    }
    // The rollout invariants (docs/rollouts.md), checked on every reconcile.
    if (status.stableRevision === revA && world.specReplicas(revA) < replicas) anomaly(run, now, `stable ReplicaSet at ${world.specReplicas(revA)} < replicas ${replicas}`);
    for (const pod of world.livePodsOf(revB, now)) {
      if (pod.deletingMs !== undefined && pod.deletingMs <= now && abortedAbs !== undefined && pod.readyMs <= pod.deletingMs && pod.ordersOffMs === undefined) {
        anomaly(run, now, `canary pod ${pod.name} scaled down with its orders still on`);
      }
    }
    if (abortedAbs !== undefined) {
      const selected = world.serviceRevision(engineB.metadata.name ?? '');
      if (selected !== revA) anomaly(run, now, `aborted, but the engine Service selects revision ${selected ?? '(every pod)'}`);
      for (const pod of world.livePodsOf(revB, now)) {
        if (pod.deletingMs !== undefined && pod.ordersOffMs !== undefined && pod.deletingMs < abortedAbs + abortDelayMs) {
          anomaly(run, now, `canary pod ${pod.name} (orders cut) scaled down ${((pod.deletingMs - abortedAbs) / 1000).toFixed(1)} s after the abort, before abortScaleDownDelaySeconds`);
        }
      }
    }
    if (status.stableRevision === revB) {
      run.outcome = 'promoted';
      run.promotedMs = now - T0;
      now = nextAt(now, plan, wrote);
      break;
    }
    if (status.abortedAt !== undefined && abortedAbs === undefined) {
      abortedAbs = now;
      run.outcome = 'aborted';
      run.abortReason = status.abortReason;
      run.abortMessage = status.message;
      run.abortStableP99 = analysis?.lastMeasurement?.stableP99Micros;
      if (run.ordersOffMs === undefined) anomaly(run, now, 'aborted without asking for orders-off');
    }
    if (abortedAbs !== undefined && world.specReplicas(revB) === 0 && world.livePodsOf(revB, now).length === 0) break;
    now = nextAt(now, plan, wrote);
  }
  timingDecides = false;
  // Settle: once nothing is left to happen, a reconcile must write nothing (a steady state is level, not edge).
  if (run.outcome !== 'timeout') {
    let settled = false;
    for (let i = 0; i < 200 && !settled; i++) {
      const { plan, wrote } = reconcileAt(now);
      settled = !wrote && !Number.isFinite(world.nextEventMs(now));
      now = nextAt(now, plan, wrote);
    }
    const left = run.outcome === 'promoted' ? revA : revB;
    if (!settled) anomaly(run, now, `no steady state after the rollout ${run.outcome === 'promoted' ? 'completed' : 'aborted'}: reconciles keep writing`);
    if (world.specReplicas(left) !== 0 || world.livePodsOf(left, now).length > 0) anomaly(run, now, `revision ${left} still has pods after the rollout ${run.outcome}`);
    if (world.specReplicas(run.outcome === 'promoted' ? revB : revA) !== replicas) anomaly(run, now, `the stable revision is not at ${replicas} replicas after the rollout ${run.outcome}`);
  }
  if (onset === 'start') run.onsetMs = Math.min(...world.pods.filter((pod) => pod.revision === revB).map((pod) => pod.readyMs)) - T0;
  return run;
}

// ---- statistics and report ----------------------------------------------------------------------------------

interface Summary {
  readonly n: number;
  readonly p50: number;
  readonly p90: number;
  readonly max: number;
}

function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
  return { n: sorted.length, p50: at(0.5), p90: at(0.9), max: sorted[sorted.length - 1] ?? Number.NaN };
}

const seconds = (s: Summary): string => (s.n === 0 ? 'n/a' : `${(s.p50 / 1000).toFixed(1)} / ${(s.p90 / 1000).toFixed(1)} / ${(s.max / 1000).toFixed(1)} s (n=${s.n})`);
const percent = (part: number, whole: number): string => `${part}/${whole} (${whole === 0 ? 'n/a' : ((100 * part) / whole).toFixed(1)} %)`;

/** The naive gate on one canary's measurements, in time. */
function naiveOn(run: CanaryRun): { aborted: boolean; atMs?: number } {
  const verdict = naiveGate(run.measurements.map((m) => m.result), naiveFailureLimit);
  return verdict.abortIndex === undefined ? { aborted: false } : { aborted: true, atMs: run.measurements[verdict.abortIndex]?.atMs };
}

/** The lower bound on onset -> orders-off for one regressed canary (undefined when the windows never breached). */
function lowerBoundMs(run: CanaryRun): number | undefined {
  if (run.firstBreachableMs === undefined || run.onsetMs === undefined || run.analysisStartMs === undefined) return undefined;
  const firstMeasurable = run.analysisStartMs + initialDelayMs;
  return Math.max(run.firstBreachableMs, firstMeasurable) - run.onsetMs + (latency.consecutiveBreaches - 1) * intervalMs;
}

function main(): void {
  const started = performance.now();
  const cpuStarted = process.cpuUsage();
  const runs: CanaryRun[] = [];
  for (let i = 0; i < canaryCount; i++) runs.push(simulateCanary(i));
  const wallS = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuStarted);

  const healthy = runs.filter((run) => run.kind === 'healthy');
  const regressed = runs.filter((run) => run.kind === 'regressed');
  const falseAborts = healthy.filter((run) => run.outcome === 'aborted');
  const naiveFalse = healthy.filter((run) => naiveOn(run).aborted);
  const healthyWithGap = healthy.filter((run) => run.measurements.some((m) => m.result === 'Inconclusive' || m.result === 'Error'));
  const naiveBeforeOnset = regressed.filter((run) => {
    const naive = naiveOn(run);
    return naive.aborted && run.onsetMs !== undefined && (naive.atMs ?? 0) < run.onsetMs;
  });

  const byFactor = factors.map((factor) => {
    const group = regressed.filter((run) => run.factor === factor);
    const caught = group.filter((run) => run.outcome === 'aborted');
    const naiveCaught = group.filter((run) => {
      const naive = naiveOn(run);
      return naive.aborted && run.onsetMs !== undefined && (naive.atMs ?? 0) >= run.onsetMs;
    });
    const detection = (onset: Onset): Summary => summarize(caught.filter((run) => run.onset === onset && run.ordersOffMs !== undefined && run.onsetMs !== undefined)
      .map((run) => (run.ordersOffMs ?? 0) - (run.onsetMs ?? 0)));
    const bounds = summarize(caught.filter((run) => run.onset === 'mid').flatMap((run) => lowerBoundMs(run) ?? []));
    return { factor, regressed: group.length, caught: caught.length, naiveCaught: naiveCaught.length, mid: detection('mid'), start: detection('start'), midBound: bounds };
  });
  const caughtRuns = regressed.filter((run) => run.outcome === 'aborted' && run.ordersOffMs !== undefined && run.onsetMs !== undefined);
  const delay = (run: CanaryRun): number => (run.ordersOffMs ?? 0) - (run.onsetMs ?? 0);
  const midDelay = summarize(caughtRuns.filter((run) => run.onset === 'mid').map(delay));
  const startDelay = summarize(caughtRuns.filter((run) => run.onset === 'start').map(delay));
  const allDelay = summarize(caughtRuns.map(delay));
  const naiveMidDelay = summarize(regressed.filter((run) => run.onset === 'mid' && run.onsetMs !== undefined).flatMap((run) => {
    const naive = naiveOn(run);
    return naive.atMs !== undefined && naive.atMs >= (run.onsetMs ?? 0) ? [naive.atMs - (run.onsetMs ?? 0)] : [];
  }));
  const midBound = summarize(caughtRuns.filter((run) => run.onset === 'mid').flatMap((run) => lowerBoundMs(run) ?? []));
  const excess = summarize(caughtRuns.filter((run) => run.onset === 'mid').flatMap((run) => {
    const bound = lowerBoundMs(run);
    return bound === undefined ? [] : [delay(run) - bound];
  }));
  const promotion = summarize(healthy.filter((run) => run.promotedMs !== undefined).map((run) => run.promotedMs ?? 0));
  const promotionQuiet = summarize(healthy.filter((run) => run.promotedMs !== undefined && run.quiet !== undefined).map((run) => run.promotedMs ?? 0));
  const promotionFloorMs = 2 * ((latencyModel.containerStartSeconds[0] + latencyModel.warmUpSeconds[0]) * 1000 + minReadySeconds * 1000)
    + initialDelayMs + (latency.successfulIntervals - 1) * intervalMs;
  const decideCost = summarize(decideMicros);
  const decideMean = decideMicros.reduce((sum, value) => sum + value, 0) / Math.max(1, decideMicros.length);
  const regressedPromoted = regressed.filter((run) => run.outcome === 'promoted');
  const timeouts = runs.filter((run) => run.outcome === 'timeout');

  const healthyConclusive = healthy.flatMap((run) => run.measurements.filter((m) => m.result === 'Pass' || m.result === 'Breach'));
  const falseBreaches = healthyConclusive.filter((m) => m.result === 'Breach').length;
  const healthyMeasured = healthy.flatMap((run) => run.measurements.filter((m) => m.p99 !== undefined && m.stableP99 !== undefined && (m.result === 'Pass' || m.result === 'Breach')));
  const canaryP99 = summarize(healthyMeasured.map((m) => m.p99 ?? 0));
  const stableP99 = summarize(healthyMeasured.map((m) => m.stableP99 ?? 0));
  const stableOver = healthyMeasured.filter((m) => (m.stableP99 ?? 0) > latency.thresholdMicros).length;
  const stableToCanary = summarize(healthyMeasured.map((m) => (m.stableP99 ?? 0) / (m.p99 ?? 1)));
  const bigCaught = byFactor.filter((row) => row.factor >= 1.5).every((row) => row.regressed > 0 && row.caught === row.regressed);
  const targets = [
    { name: 'zero false aborts', met: falseAborts.length === 0, figure: percent(falseAborts.length, healthy.length) },
    { name: 'every regression >= 1.5x caught', met: bigCaught, figure: byFactor.filter((row) => row.factor >= 1.5).map((row) => `${row.factor}x ${row.caught}/${row.regressed}`).join(', ') },
    { name: 'p90 onset -> orders-off < 30 s (mid-analysis onsets)', met: midDelay.p90 < 30_000, figure: midDelay.n === 0 ? 'no mid-analysis detection' : `${(midDelay.p90 / 1000).toFixed(1)} s` },
    { name: 'median onset -> orders-off < 15 s (mid-analysis onsets)', met: midDelay.p50 < 15_000, figure: midDelay.n === 0 ? 'no mid-analysis detection' : `${(midDelay.p50 / 1000).toFixed(1)} s (2x and 3x alone: ${byFactor.filter((row) => row.factor >= 2).map((row) => `${(row.mid.p50 / 1000).toFixed(1)} s`).join(', ')})` },
  ];

  const pad = (text: string, width: number): string => text.padEnd(width);
  say(`Rollout decisions: ${runs.length} canaries through decide() on a manual clock (seed ${seed}, reconcile at requeueAfterMs, child events +${informerLagMs} ms, steps <= ${maxStepMs} ms)`);
  say(`Spec: replicas ${replicas}, steps [setWeight 25, analysis, setWeight 100], minReadySeconds ${minReadySeconds}; gate p99 <= ${latency.thresholdMicros} µs and <= stable + ${latency.relativeToStable?.maxIncreasePercent ?? 0} %, `
    + `interval ${latency.interval}, window ${latency.window}, initialDelay ${latency.initialDelay}, minSamples ${latency.minSamples}, consecutiveBreaches ${latency.consecutiveBreaches}, successfulIntervals ${latency.successfulIntervals}, onInconclusive ${latency.onInconclusive}`);
  say(`Model: ${describeModel()}`);
  say(`Canaries: ${healthy.length} healthy, ${regressed.length} regressed (${factors.map((f) => `${f}x`).join(', ')}; 1/3 from the start, 2/3 from 5-60 s into the analysis); quiet market in ${runs.filter((run) => run.quiet !== undefined).length} runs; simulated in ${wallS.toFixed(1)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU`);
  say(`Model check (healthy canaries, ${healthyMeasured.length} conclusive measurements): canary p99 p50/p90/max ${canaryP99.p50}/${canaryP99.p90}/${canaryP99.max} µs; `
    + `stable (worst of ${replicas} pods) p99 ${stableP99.p50}/${stableP99.p90}/${stableP99.max} µs, above ${latency.thresholdMicros} µs in ${percent(stableOver, healthyMeasured.length)}; stable/canary p99 p50 ${stableToCanary.p50.toFixed(3)}`);
  say('');
  say(`${pad('', 40)}${pad(`nexus ${method} (${consecutiveBreaches} breaches in a row)`, 36)}${pad(`naive Argo-style (> ${naiveFailureLimit} failures, missing = failure)`, 52)}target`);
  say(`${pad('false aborts (healthy)', 40)}${pad(percent(falseAborts.length, healthy.length), 36)}${pad(percent(naiveFalse.length, healthy.length), 52)}0`);
  say(`${pad('  breach measurements (healthy)', 40)}${pad(percent(falseBreaches, healthyConclusive.length), 36)}${pad('', 52)}`);
  say(`${pad('  healthy runs with Inconclusive/Error', 40)}${pad(String(healthyWithGap.length), 36)}${pad('', 52)}`);
  say(`${pad('  regressed aborted before the onset', 40)}${pad('0', 36)}${pad(String(naiveBeforeOnset.length), 52)}`);
  for (const row of byFactor) {
    say(`${pad(`detected ${row.factor}x`, 40)}${pad(percent(row.caught, row.regressed), 36)}${pad(percent(row.naiveCaught, row.regressed), 52)}${row.factor >= 1.5 ? 'all' : '-'}`);
  }
  say('');
  say(`${pad('onset -> orders-off', 40)}p50 / p90 / max`);
  say(`${pad('  mid-analysis onset, all sizes', 40)}${seconds(midDelay)}   target p50 < 15 s`);
  if (!statistical) say(`${pad('  lower bound (fill + 2 x interval)', 40)}${seconds(midBound)}   ratio p50 ${(midDelay.p50 / midBound.p50).toFixed(2)}x; excess over own bound p50/p90 ${(excess.p50 / 1000).toFixed(1)} / ${(excess.p90 / 1000).toFixed(1)} s`);
  say(`${pad('  naive gate, mid-analysis onset', 40)}${seconds(naiveMidDelay)}   (its abort measurement; it counts failures in total, not in a row)`);
  for (const row of byFactor) {
    if (row.mid.n === 0) continue;
    say(`${pad(`  mid, ${row.factor}x`, 40)}${pad(seconds(row.mid), 36)}${statistical ? '' : `bound p50 ${(row.midBound.p50 / 1000).toFixed(1)} s (${(row.mid.p50 / row.midBound.p50).toFixed(2)}x)`}`);
  }
  say(`${pad('  regressed from the start (pod ready)', 40)}${seconds(startDelay)}   (includes minReadySeconds ${minReadySeconds} s + initialDelay ${latency.initialDelay} + filling minSamples)`);
  say(`${pad('  all caught', 40)}${seconds(allDelay)}`);
  say(`${pad('time to promotion (healthy)', 40)}${seconds(promotion)}   floor ${(promotionFloorMs / 1000).toFixed(0)} s (fastest pod starts, minReady, initialDelay, ${latency.successfulIntervals} passes, 3 more pods); p50 ${(promotion.p50 / promotionFloorMs).toFixed(2)}x floor`);
  say(`${pad('  with a quiet market', 40)}${seconds(promotionQuiet)}`);
  say(`${pad('decide() CPU per call', 40)}mean ${decideMean.toFixed(0)} µs, p50 ${decideCost.p50.toFixed(0)} µs, p90 ${decideCost.p90.toFixed(0)} µs, max ${decideCost.max.toFixed(0)} µs over ${decideMicros.length} calls (${(runs.reduce((s, r) => s + r.decides, 0) / Math.max(1, runs.reduce((s, r) => s + r.reconciles, 0))).toFixed(2)} per reconcile)`);
  say(`${pad('API writes per rollout', 40)}p50 ${summarize(runs.map((run) => run.writes)).p50}, reconciles per rollout p50 ${summarize(runs.map((run) => run.reconciles)).p50}`);
  say('');
  for (const target of targets) say(`Target ${target.met ? 'MET    ' : 'NOT MET'} ${target.name}: ${target.figure}`);
  if (regressedPromoted.length > 0) say(`Regressions promoted: ${regressedPromoted.map((run) => `${run.factor}x`).join(', ')}`);
  if (timeouts.length > 0) say(`Hit the ${capMs / 1000} s cap: ${timeouts.map((run) => `#${run.index} ${run.kind}`).join(', ')}`);
  for (const run of falseAborts) say(`False abort: canary ${run.index} (${run.abortReason ?? ''}) ${run.abortMessage ?? ''}; stable p99 then ${run.abortStableP99 ?? '?'} µs`);
  say(anomalies.length === 0
    ? 'Invariants: none violated (<= 3 decide passes per reconcile; stable never below replicas; after an abort the Service selects stable, orders are off before any canary pod is scaled down and none goes before abortScaleDownDelaySeconds; once settled a reconcile writes nothing)'
    : `Invariant violations (${anomalies.length}):`);
  for (const line of anomalies) say(`  ${line}`);

  if (json) {
    const ms = (s: Summary): Record<string, number> => ({ n: s.n, p50Ms: s.p50, p90Ms: s.p90, maxMs: s.max });
    console.log(JSON.stringify({
      bench: 'rollout',
      node: process.version,
      method,
      seed,
      canaries: runs.length,
      maxStepMs,
      spec: { replicas, steps, latency: latencySpec, minReadySeconds },
      model: latencyModel,
      gateSamplesPerPodPerSecond: sampleRate,
      wallSeconds: wallS,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      falseBreachMeasurements: { breaches: falseBreaches, conclusive: healthyConclusive.length },
      falseAborts: { gate: falseAborts.length, naive: naiveFalse.length, healthy: healthy.length, healthyWithInconclusiveOrError: healthyWithGap.length, naiveBeforeOnset: naiveBeforeOnset.length },
      detection: byFactor.map((row) => ({ factor: row.factor, regressed: row.regressed, caught: row.caught, naiveCaught: row.naiveCaught, midOnset: ms(row.mid), midLowerBound: ms(row.midBound), fromStart: ms(row.start) })),
      onsetToOrdersOff: { mid: ms(midDelay), naiveMid: ms(naiveMidDelay), midLowerBound: ms(midBound), midExcessOverBound: ms(excess), fromStart: ms(startDelay), all: ms(allDelay) },
      promotion: { healthy: ms(promotion), quietMarket: ms(promotionQuiet), floorMs: promotionFloorMs },
      decide: { calls: decideMicros.length, meanMicros: decideMean, p50Micros: decideCost.p50, p90Micros: decideCost.p90, maxMicros: decideCost.max },
      modelCheck: { conclusiveHealthyMeasurements: healthyMeasured.length, canaryP99Micros: canaryP99, stableWorstPodP99Micros: stableP99, stableOverThreshold: stableOver, stableToCanaryP50: stableToCanary.p50 },
      targets,
      regressedPromoted: regressedPromoted.map((run) => run.factor),
      anomalies,
      runs: runs.map((run) => ({
        index: run.index, kind: run.kind, factor: run.factor, onset: run.onset, onsetMs: run.onsetMs, quiet: run.quiet, outcome: run.outcome,
        abortReason: run.abortReason, ordersOffMs: run.ordersOffMs, promotedMs: run.promotedMs, analysisStartMs: run.analysisStartMs,
        lowerBoundMs: lowerBoundMs(run), naiveAbortMs: naiveOn(run).atMs,
        measurements: run.measurements.map((m) => m.result[0]).join(''), reconciles: run.reconciles, decides: run.decides, writes: run.writes,
      })),
    }));
  }
}

/** One method's figures as the comparison reads them from its run's JSON line. */
interface MethodReport {
  readonly method: string;
  readonly falseAborts: { readonly gate: number; readonly healthy: number };
  readonly falseBreachMeasurements: { readonly breaches: number; readonly conclusive: number };
  readonly detection: ReadonlyArray<{ readonly factor: number; readonly regressed: number; readonly caught: number }>;
  readonly onsetToOrdersOff: { readonly mid: { readonly n: number; readonly p50Ms: number; readonly p90Ms: number; readonly maxMs: number } };
  readonly promotion: { readonly healthy: { readonly p50Ms: number; readonly p90Ms: number } };
  readonly spec: { readonly latency: Record<string, unknown> };
  readonly anomalies: readonly string[];
}

/**
 * Without --method: the threshold method (the previous design, the baseline) and the Mann-Whitney method raced on
 * the same seed and canaries, one after the other (never two at once: the machine has two cores), each in its own
 * process with its recommended settings (every other option passed through); then the comparison, and its JSON as
 * the last line.
 */
function compareMethods(): void {
  const reports: MethodReport[] = [];
  for (const name of ['Threshold', 'MannWhitney']) {
    const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...args.filter((arg) => arg !== '--json'), '--method', name, '--json'], {
      encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 * 1024 * 1024,
    });
    process.stdout.write(`==== method ${name} ====\n${child.stderr}\n`);
    if (child.status !== 0) throw new Error(`bench:rollout --method ${name} exited ${child.status ?? child.signal ?? '?'}`);
    const lines = child.stdout.trim().split('\n');
    reports.push(JSON.parse(lines[lines.length - 1] ?? '{}') as MethodReport);
  }
  const [threshold, statisticalReport] = reports;
  const caught = (report: MethodReport, low: number, high: number): { caught: number; regressed: number } => {
    const rows = report.detection.filter((row) => row.factor >= low && row.factor <= high);
    return { caught: rows.reduce((sum, row) => sum + row.caught, 0), regressed: rows.reduce((sum, row) => sum + row.regressed, 0) };
  };
  const row = (label: string, value: (report: MethodReport) => string): void => {
    console.log(`${label.padEnd(44)}${value(threshold).padEnd(24)}${value(statisticalReport)}`);
  };
  const fraction = (part: { caught: number; regressed: number }): string => `${part.caught}/${part.regressed}`;
  const secondsOf = (ms: number): string => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : 'n/a');
  console.log(`Gate methods on the same ${canaryCount} canaries (seed ${seed}):`);
  row('', (report) => report.method);
  row('false aborts (healthy canaries)', (report) => `${report.falseAborts.gate}/${report.falseAborts.healthy}`);
  row('breach measurements on healthy canaries', (report) => `${report.falseBreachMeasurements.breaches}/${report.falseBreachMeasurements.conclusive}`);
  for (const factor of [1.2, 1.3, 1.5, 2, 3]) row(`caught ${factor}x`, (report) => fraction(caught(report, factor, factor)));
  row('caught 1.2x-1.3x', (report) => fraction(caught(report, 1.2, 1.3)));
  row('onset -> orders-off p50 (mid-analysis)', (report) => secondsOf(report.onsetToOrdersOff.mid.p50Ms));
  row('onset -> orders-off p90 (mid-analysis)', (report) => secondsOf(report.onsetToOrdersOff.mid.p90Ms));
  row('time to promotion p50 (healthy)', (report) => secondsOf(report.promotion.healthy.p50Ms));
  row('invariant violations', (report) => String(report.anomalies.length));
  const summary = (report: MethodReport): Record<string, unknown> => ({
    latency: report.spec.latency,
    falseAborts: report.falseAborts.gate,
    healthy: report.falseAborts.healthy,
    falseBreachMeasurements: report.falseBreachMeasurements,
    caught: Object.fromEntries(report.detection.map((entry) => [`${entry.factor}x`, entry.caught])),
    regressedPerFactor: report.detection[0]?.regressed ?? 0,
    caught12to13: caught(report, 1.2, 1.3).caught,
    onsetToOrdersOffP50Ms: report.onsetToOrdersOff.mid.p50Ms,
    onsetToOrdersOffP90Ms: report.onsetToOrdersOff.mid.p90Ms,
    promotionP50Ms: report.promotion.healthy.p50Ms,
    anomalies: report.anomalies.length,
  });
  console.log(JSON.stringify({
    bench: 'rollout-methods',
    seed,
    canaries: canaryCount,
    threshold: summary(threshold),
    mannWhitney: summary(statisticalReport),
    sameFalseAbortRate: threshold.falseAborts.gate === statisticalReport.falseAborts.gate,
    mannWhitneyCatchesMore12to13: caught(statisticalReport, 1.2, 1.3).caught > caught(threshold, 1.2, 1.3).caught,
  }));
}

if (methodArg === undefined) compareMethods();
else main();
