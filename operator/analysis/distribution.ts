/**
 * A revision's latency samples over one window, as counts in logarithmic bins: what the Mann-Whitney gate
 * compares (mann-whitney.ts). Pure.
 *
 *   engine buckets [upper edge ns, count] (0.78 % wide, gate-window.ts), from every pod's selected intervals
 *     --> bin = floor(log2(edge) x 64): 64 bins per octave, each 1.09 % wide
 *     --> LatencyDistribution { bins ascending, counts, samples }
 *
 * Why log bins: a latency regression is multiplicative (x1.3), which is a constant shift in log space, so the
 * difference of two bins is the log of a ratio and the comparison needs no sorting of pairs (a convolution of
 * the two count vectors). The bin width bounds the resolution of every ratio the gate reports (1.09 %).
 */

export const binsPerOctave = 64;

export interface LatencyDistribution {
  /** Bin indexes, ascending (bin b holds latencies in [2^(b/64), 2^((b+1)/64)) ns). */
  readonly bins: Int32Array;
  /** Samples per bin, parallel to `bins`; every count > 0. */
  readonly counts: Float64Array;
  /** The sum of `counts`. */
  readonly samples: number;
}

/** The bin of a latency in ns (values below 1 ns land in bin 0). Example: 1024 ns -> 640. */
export function binOf(ns: number): number {
  return ns <= 1 ? 0 : Math.floor(Math.log2(ns) * binsPerOctave);
}

/** The upper edge of bin `bin` in ns: the value the gate reports for a sample in it (erring high). */
export function binUpperNs(bin: number): number {
  return 2 ** ((bin + 1) / binsPerOctave);
}

/** The ratio that a difference of `offset` bins stands for: 2^(offset/64). Example: 64 -> 2. */
export function ratioOfOffset(offset: number): number {
  return 2 ** (offset / binsPerOctave);
}

/** Collects [ns, count] buckets from any number of pods and intervals into one distribution. */
export class DistributionBuilder {
  private readonly counts = new Map<number, number>();
  private total = 0;

  add(ns: number, count: number): void {
    if (!(count > 0)) return;
    const bin = binOf(ns);
    this.counts.set(bin, (this.counts.get(bin) ?? 0) + count);
    this.total += count;
  }

  build(): LatencyDistribution {
    const bins = Int32Array.from([...this.counts.keys()].sort((a, b) => a - b));
    const counts = Float64Array.from(bins, (bin) => this.counts.get(bin) ?? 0);
    return { bins, counts, samples: this.total };
  }
}

/**
 * The value at quantile `q` by nearest rank (the ceil(q x samples)-th smallest sample, at least the 1st), as its
 * bin's upper edge in µs; undefined when empty. Examples: 100 samples of 500 µs -> ~505 µs at any q.
 */
export function quantileMicros(distribution: LatencyDistribution, q: number): number | undefined {
  if (distribution.samples === 0) return undefined;
  const rank = Math.max(1, Math.ceil(q * distribution.samples));
  let seen = 0;
  for (let i = 0; i < distribution.bins.length; i++) {
    seen += distribution.counts[i];
    if (seen >= rank) return binUpperNs(distribution.bins[i]) / 1000;
  }
  return binUpperNs(distribution.bins[distribution.bins.length - 1]) / 1000;
}

/**
 * Samples in bins wholly above `ns`; a bin straddling it is not counted, so the count errs low at this resolution
 * (the engine's own bucket edges can still put a sample up to 0.78 % high into a bin).
 */
export function countAbove(distribution: LatencyDistribution, ns: number): number {
  let count = 0;
  for (let i = distribution.bins.length - 1; i >= 0; i--) {
    if (binUpperNs(distribution.bins[i] - 1) <= ns) break;
    count += distribution.counts[i];
  }
  return count;
}
