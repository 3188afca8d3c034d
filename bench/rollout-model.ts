/**
 * The latency model behind bench/rollout.ts: seeded market activity and per-pod tick-to-order latency samples,
 * recorded into the engine's own sliding-window quantile (engine/metrics/sliding-window.ts, the structure the
 * pod-scrape gate reads), plus the naive Argo-style gate the bench races the operator's gate against.
 *
 *   market (shared by every pod of one run)      pod (one per engine pod)
 *   per second: activity x noise, bursts,        samples/s ~ Poisson(rate x activity)
 *   one quiet period in some runs          --->  each sample: pod speed x (lognormal body | heavy tail)
 *                                                  x burst latency x regression (canary, after onset)
 *                                                --> SlidingWindowQuantiles (60 s as 12 x 5 s) --> p99, samples
 *
 * Everything is a pure function of the seed: the same seed gives the same samples on every machine.
 */
import { Mulberry32 } from '../engine/random/mulberry32.ts';
import { NormalDeviates } from '../engine/sim/random-walk.ts';
import { gateWindowReport, type GateWindowReport } from '../engine/metrics/gate-window.ts';
import { createWindowSnapshot, SlidingWindowQuantiles, windowIntervalMs, type WindowSnapshot } from '../engine/metrics/sliding-window.ts';
import type { Measurement } from '../operator/api/types.ts';

/** The model's constants, printed with the report so a reader knows what was simulated. */
export const latencyModel = {
  /** Mean orders (tick-to-order samples) per pod per second in normal trading. */
  ordersPerPodPerSecond: 80,
  /** Per-second market activity noise, shared by all pods: rate x exp(N(0, sigma)). */
  activitySigma: 0.15,
  /** Latency body: lognormal with this median and sigma (p99 of the body = median x e^(2.326 sigma) ~ 467 µs). */
  bodyMedianMicros: 280,
  bodySigma: 0.22,
  /** Heavy tail (GC pauses, interrupts, cache misses): this share of samples from a wider lognormal. */
  tailProbability: 0.004,
  tailMedianMicros: 650,
  tailSigma: 0.45,
  /** Per-pod static speed (hardware, NUMA placement): latency x exp(N(0, sigma)). */
  podSigma: 0.04,
  /** Market bursts: Poisson arrivals, each raising the order rate and every pod's latency (queueing) for a while. */
  burstMeanGapSeconds: 45,
  burstSeconds: [2, 8] as const,
  burstRate: [2, 4] as const,
  burstLatency: [1.1, 1.45] as const,
  /** A quiet market (few orders: minSamples not met, the gate is Inconclusive) in this share of runs. */
  quietProbability: 0.3,
  /** When it starts (seconds after the new revision is applied) and how long it lasts. */
  quietStartSeconds: [-60, 90] as const,
  quietSeconds: [60, 240] as const,
  quietRate: 0.03,
  /** Each scrape of one revision fails (timeout, refused) with this probability: an Error, never a breach. */
  scrapeErrorProbability: 0.01,
  /** Pod start: container start (image cached, GPU runtime) then engine warm-up until Ready; then minReadySeconds. */
  containerStartSeconds: [2, 6] as const,
  warmUpSeconds: [1, 4] as const,
} as const;

/**
 * The engine's sliding window (the gate's `window`): by default as in examples/gpu-canary.yaml, 60 s in 12
 * intervals of 5 s; `--window S` sets S seconds (intervals of at most 5 s, at least 1 s).
 */
export const engineWindow = { windowSeconds: 60, windowIntervals: 12 };

/**
 * The gate's samples per pod per second in normal trading. Default: `ordersPerPodPerSecond`, which is both the
 * `probe` strategy's order rate (an order per trade) and the trade rate, so also the decision-latency sample rate
 * of any strategy (a decision per trade, ordering or not). `--sample-rate R` models a gate on tick-to-order
 * latency under a strategy that orders R times per second per pod (e.g. 0.05: three orders a minute).
 */
export const gateSamples = { perPodPerSecond: latencyModel.ordersPerPodPerSecond as number };

export function setGateSampleRate(perPodPerSecond: number): void {
  gateSamples.perPodPerSecond = perPodPerSecond;
}

/** Sets the engine window to `seconds`, in intervals of at most 5 s, or of 1 s (at most 120) as the operator renders it for the Mann-Whitney gate. */
export function setEngineWindow(seconds: number, oneSecondIntervals = false): void {
  engineWindow.windowSeconds = seconds;
  engineWindow.windowIntervals = oneSecondIntervals ? Math.min(120, seconds) : Math.max(1, Math.min(seconds, Math.ceil(seconds / 5)));
}

/** One line describing the model, for the report. */
export function describeModel(): string {
  const m = latencyModel;
  return [
    `per pod ~Poisson(${gateSamples.perPodPerSecond}/s x activity e^N(0,${m.activitySigma})) gate samples (${gateSamples.perPodPerSecond === m.ordersPerPodPerSecond ? 'a sample per trade: decision latency, or tick-to-order under probe' : 'tick-to-order of a strategy that orders this often'});`,
    `latency = pod e^N(0,${m.podSigma}) x [lognormal(median ${m.bodyMedianMicros} µs, sigma ${m.bodySigma}), ${m.tailProbability * 100}% tail lognormal(${m.tailMedianMicros} µs, ${m.tailSigma})]`,
    `x burst (every ~${m.burstMeanGapSeconds} s, ${m.burstSeconds[0]}-${m.burstSeconds[1]} s, rate x${m.burstRate[0]}-${m.burstRate[1]}, latency x${m.burstLatency[0]}-${m.burstLatency[1]})`,
    `x regression (canary, from onset); quiet market (rate x${m.quietRate}, ${m.quietSeconds[0]}-${m.quietSeconds[1]} s) in ${m.quietProbability * 100}% of runs;`,
    `${m.scrapeErrorProbability * 100}% scrape errors; engine window ${engineWindow.windowSeconds} s as ${engineWindow.windowIntervals} x ${engineWindow.windowSeconds / engineWindow.windowIntervals} s (HDR, reported p99 <= +0.78%);`,
    `pod Running after ${m.containerStartSeconds[0]}-${m.containerStartSeconds[1]} s, Ready (orders on) ${m.warmUpSeconds[0]}-${m.warmUpSeconds[1]} s later`,
  ].join(' ');
}

/** mulberry32 with the few distributions the model needs. */
export class Rng {
  private readonly source: Mulberry32;
  private readonly normals: NormalDeviates;

  constructor(seed: number) {
    this.source = new Mulberry32(seed);
    this.normals = new NormalDeviates(this.source);
  }

  uniform(): number {
    return this.source.next();
  }

  between(range: readonly [number, number]): number {
    return range[0] + (range[1] - range[0]) * this.source.next();
  }

  /** Standard normal (Box-Muller, the second value kept for the next call: the simulator's own NormalDeviates). */
  normal(): number {
    return this.normals.next();
  }

  /** Poisson: exact (Knuth) below a mean of 30, the rounded normal approximation above. */
  poisson(mean: number): number {
    if (mean <= 0) return 0;
    if (mean >= 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * this.normal()));
    const limit = Math.exp(-mean);
    let product = this.source.next();
    let count = 0;
    while (product > limit) {
      product *= this.source.next();
      count++;
    }
    return count;
  }

  /** Exponential with the given mean. */
  exponential(mean: number): number {
    return -mean * Math.log(1 - this.source.next());
  }
}

/** A quiet period of the market, in ms relative to when the new revision was applied. */
export interface QuietPeriod {
  readonly startMs: number;
  readonly endMs: number;
}

/**
 * One run's market, second by second from `fromMs` (relative ms, negative before the new revision): the order-rate
 * multiplier and the latency multiplier every pod sees in that second.
 */
export class Market {
  readonly quiet: QuietPeriod | undefined;
  private readonly fromSecond: number;
  private readonly rate: Float64Array;
  private readonly latency: Float64Array;

  constructor(rng: Rng, fromMs: number, toMs: number) {
    const m = latencyModel;
    this.fromSecond = Math.floor(fromMs / 1000);
    const seconds = Math.ceil(toMs / 1000) - this.fromSecond + 1;
    this.rate = new Float64Array(seconds);
    this.latency = new Float64Array(seconds).fill(1);
    for (let i = 0; i < seconds; i++) this.rate[i] = Math.exp(m.activitySigma * rng.normal() - (m.activitySigma * m.activitySigma) / 2);
    for (let at = rng.exponential(m.burstMeanGapSeconds); at < seconds; at += rng.exponential(m.burstMeanGapSeconds)) {
      const length = Math.round(rng.between(m.burstSeconds));
      const rate = rng.between(m.burstRate);
      const latency = rng.between(m.burstLatency);
      for (let i = Math.floor(at); i < Math.min(seconds, Math.floor(at) + length); i++) {
        this.rate[i] *= rate;
        this.latency[i] *= latency;
      }
    }
    if (rng.uniform() < m.quietProbability) {
      const startMs = Math.round(rng.between(m.quietStartSeconds)) * 1000;
      const endMs = startMs + Math.round(rng.between(m.quietSeconds)) * 1000;
      this.quiet = { startMs, endMs };
      for (let s = startMs / 1000; s < endMs / 1000; s++) {
        const i = s - this.fromSecond;
        if (i >= 0 && i < seconds) this.rate[i] *= m.quietRate;
      }
    }
  }

  /** The order-rate multiplier in the second starting at relative ms `secondMs`. */
  rateAt(secondMs: number): number {
    return this.rate[Math.min(this.rate.length - 1, Math.max(0, Math.floor(secondMs / 1000) - this.fromSecond))];
  }

  /** The latency multiplier in the second starting at relative ms `secondMs`. */
  latencyAt(secondMs: number): number {
    return this.latency[Math.min(this.latency.length - 1, Math.max(0, Math.floor(secondMs / 1000) - this.fromSecond))];
  }
}

/** A revision's latency regression: every sample of its pods from `onsetMs` (relative) on is `factor` times slower. */
export interface Regression {
  readonly factor: number;
  /** Relative ms; Infinity until the onset is known. */
  onsetMs: number;
}

/**
 * One engine pod's tick-to-order latency: records the samples of each simulated second into the engine's own
 * sliding-window quantile and reads the window as the pod's /metrics gauges would report it.
 */
export class PodLatency {
  private readonly window: SlidingWindowQuantiles;
  private readonly speed: number;
  private readonly snapshotScratch: WindowSnapshot = createWindowSnapshot();

  constructor(rng: Rng, startMs: number) {
    const m = latencyModel;
    this.speed = Math.exp(m.podSigma * rng.normal());
    const intervalMs = windowIntervalMs(engineWindow.windowSeconds, engineWindow.windowIntervals);
    // Aligned to wall-clock multiples of the interval, as the engine aligns it (engine-metrics.ts).
    this.window = new SlidingWindowQuantiles({ intervalMs, intervals: engineWindow.windowIntervals, startMs: Math.floor(startMs / intervalMs) * intervalMs });
  }

  /** Records the samples of the second starting at relative ms `secondMs`. */
  recordSecond(rng: Rng, market: Market, secondMs: number, regression: Regression | undefined): void {
    const m = latencyModel;
    // The engine rotates its window on a timer: mid-second is where this second's samples land.
    this.window.rotate(secondMs + 500);
    const count = rng.poisson(gateSamples.perPodPerSecond * market.rateAt(secondMs));
    const scale = this.speed * market.latencyAt(secondMs);
    const bodyMu = Math.log(m.bodyMedianMicros);
    const tailMu = Math.log(m.tailMedianMicros);
    for (let i = 0; i < count; i++) {
      const tail = rng.uniform() < m.tailProbability;
      let micros = scale * Math.exp(tail ? tailMu + m.tailSigma * rng.normal() : bodyMu + m.bodySigma * rng.normal());
      if (regression !== undefined && secondMs + (i * 1000) / count >= regression.onsetMs) micros *= regression.factor;
      this.window.record(micros * 1000);
    }
  }

  /** The pod's window report now (engine/metrics/gate-window.ts), as its /gate/window endpoint would serve it. */
  report(nowMs: number, maxAgeMs: number): GateWindowReport {
    this.window.rotate(nowMs);
    return gateWindowReport(this.window, 'decision', maxAgeMs);
  }

  /** The pod's window now: the p99 in µs (undefined when empty) and the sample count, as its gauges report them. */
  read(nowMs: number): { quantileMicros: number | undefined; samples: number } {
    this.window.rotate(nowMs);
    const snapshot = this.window.snapshot(this.snapshotScratch);
    return { quantileMicros: snapshot.samples === 0 ? undefined : snapshot.p99Ns / 1000, samples: snapshot.samples };
  }
}

export type MeasurementResult = NonNullable<Measurement['result']>;

export interface NaiveVerdict {
  readonly aborted: boolean;
  /** Failures counted over the measurements seen (up to the abort). */
  readonly failures: number;
  /** Index of the measurement that aborted, when one did. */
  readonly abortIndex?: number;
}

/**
 * The naive gate the bench races, shaped like an Argo Rollouts AnalysisRun with failureLimit: every measurement
 * that is not a Pass is a failure (a breach, and also missing data: Inconclusive and Error), counted in total
 * rather than in a row, and the analysis aborts once failures exceed `failureLimit`. Pure.
 * Examples with failureLimit 2: [Pass, Breach, Pass, Inconclusive, Pass, Error] -> aborted at index 5;
 * [Breach, Breach, Pass, Pass] -> not aborted (2 failures).
 */
export function naiveGate(results: readonly MeasurementResult[], failureLimit: number): NaiveVerdict {
  let failures = 0;
  for (let i = 0; i < results.length; i++) {
    if (results[i] !== 'Pass') failures++;
    if (failures > failureLimit) return { aborted: true, failures, abortIndex: i };
  }
  return { aborted: false, failures };
}
