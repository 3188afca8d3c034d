/**
 * The heap guard of JavaScript/TypeScript strategy modules (docs/strategy-sdk.md, "Memory").
 *
 * Such a module runs in the engine's own heap: one that keeps what it allocates (a history array, a map that only
 * grows) would take the whole engine to V8's heap limit and down with "JavaScript heap out of memory", every other
 * strategy with it. V8 gives no per-module limit, so the guard finds the module instead:
 *
 * 1. Every `checkEveryMs` it reads the heap (about a microsecond). Below `markFraction` of the limit it does nothing
 *    more.
 * 2. Over the mark, it samples allocations (V8's sampling heap profiler) for `sampleMs`, or until the heap has
 *    grown by 5% of the limit (a confirming window, step 3: twice `minLiveBytes`), then forces one full collection
 *    and reads which sampled allocations are still alive, each with the stack that made it.
 * 3. Live bytes are charged to the innermost strategy module on that stack (its own file, or anything it called).
 *    A module charged with at least `minLiveBytes` and at least half of everything kept in the window is a
 *    suspect, and a second window follows at once. If it blames the same module and the heap after that window's
 *    collection has grown by at least `minLiveBytes` more than after the first, the module is growing: its
 *    strategies are disabled (orders off, counted as a fault, the reason naming the module and the figures), and
 *    every other strategy keeps trading. Two windows and net growth, because one window cannot tell growth from a
 *    bounded cache that replaces what it holds, or from a one-off allocation at its first bars.
 * 4. A window that finds nobody (the engine itself, or garbage) backs off, doubling up to a minute, and the backoff
 *    only resets once the heap has stayed under the mark for a minute (the guard's own collections push it under),
 *    so a heap that hovers at the mark costs one sampling window now and then, never a collection per check.
 *
 * What it cannot see: memory outside V8's heap (ArrayBuffer and Buffer contents) does not count toward the heap
 * limit either; a module that hoards those meets the container's memory limit (OOMKilled, shown by the operator).
 * Memory a disabled module already holds stays held (a loaded module cannot be unloaded), but it grows no more.
 *
 * Pure: the heap readings, the profiler and the clock are injected (HeapSampler: heap-sampler.ts is the real one).
 */

/** One node of V8's sampling heap profile: a call frame, bytes still alive allocated by it, and its callees. */
export interface SampledNode {
  readonly callFrame: { readonly url: string };
  readonly selfSize: number;
  readonly children: readonly SampledNode[];
}

export interface HeapReadings {
  readonly usedBytes: number;
  /** The lower of V8's heap limit and the container's memory limit. */
  readonly limitBytes: number;
}

/** What a sampling window leaves, read after a full collection. */
export interface LiveSamples {
  /** The samples taken since `start` whose objects are still alive. */
  readonly head: SampledNode;
  /** The heap in use right after the collection. */
  readonly usedAfterCollection: number;
}

/** The outside boundary: heap figures and V8's sampling heap profiler, synchronous (they run between frames). */
export interface HeapSampler {
  read(): HeapReadings;
  start(): void;
  /** Forces a full collection, then reads what the window kept. */
  liveSamples(): LiveSamples;
  /** Stops sampling; harmless when not sampling. */
  stop(): void;
}

/** A strategy module as the guard charges it: the file URL its frames carry, and the strategies it serves. */
export interface GuardedModule {
  readonly url: string;
  /** What the reason calls it, e.g. `module /strategies/pairs.js`. */
  readonly label: string;
  /** Strategy indexes loaded from this module (one file may serve several configured strategies). */
  readonly strategies: readonly number[];
}

export interface ModuleHeapGuardOptions {
  readonly modules: readonly GuardedModule[];
  readonly sampler: HeapSampler;
  readonly nowMs: () => number;
  readonly disable: (strategy: number, reason: string) => void;
  /** A line for the log when a window over the mark finds no module to blame. */
  readonly warn: (line: string) => void;
  readonly markFraction?: number;
  readonly checkEveryMs?: number;
  readonly sampleMs?: number;
  readonly minLiveBytes?: number;
}

export const HEAP_GUARD_DEFAULTS = Object.freeze({
  markFraction: 0.4,
  checkEveryMs: 10,
  sampleMs: 250,
  minLiveBytes: 4 * 1024 * 1024,
});

const MAX_BACKOFF_MS = 60_000;
/** How long the heap must stay under the mark before a backoff resets. */
const CALM_MS = 60_000;
/** A window also ends once the heap grew by this share of the limit (or twice `minLiveBytes`, if more). */
const WINDOW_GROWTH_FRACTION = 0.05;
const MIB = 1024 * 1024;

/**
 * Live sampled bytes per module (indexed like `urls`) and in all (`total`, modules or not): each node's bytes go
 * to the innermost frame on its stack whose URL is a module's.
 */
export function liveBytesByModule(head: SampledNode, urls: readonly string[]): { readonly byModule: Float64Array; readonly total: number } {
  const byModule = new Float64Array(urls.length);
  let total = 0;
  // Iterative: a deep recursion in user code makes a deep profile tree.
  const nodes: SampledNode[] = [head];
  const owners: number[] = [-1];
  while (nodes.length > 0) {
    const node = nodes.pop() as SampledNode;
    const inherited = owners.pop() as number;
    const own = node.callFrame.url === '' ? -1 : urls.indexOf(withoutQuery(node.callFrame.url));
    const owner = own >= 0 ? own : inherited;
    total += node.selfSize;
    if (owner >= 0) byModule[owner] += node.selfSize;
    for (const child of node.children) {
      nodes.push(child);
      owners.push(owner);
    }
  }
  return { byModule, total };
}

/** A frame's URL without its query: a TypeScript module loaded through tsx carries `?tsx-namespace=...`. */
function withoutQuery(url: string): string {
  const query = url.indexOf('?');
  return query < 0 ? url : url.slice(0, query);
}

/** The suspect: the module holding at least `minLiveBytes` and at least half of `total`, or -1. */
export function growingModule(byModule: Float64Array, total: number, minLiveBytes: number): number {
  let best = -1;
  for (let m = 0; m < byModule.length; m++) if (best < 0 || byModule[m] > byModule[best]) best = m;
  if (best < 0 || byModule[best] < minLiveBytes || byModule[best] * 2 < total) return -1;
  return best;
}

export class ModuleHeapGuard {
  private readonly options: ModuleHeapGuardOptions;
  private readonly urls: string[];
  private readonly markFraction: number;
  private readonly checkEveryMs: number;
  private readonly sampleMs: number;
  private readonly minLiveBytes: number;
  /** Modules already disabled: charged no more. */
  private readonly stopped: Set<number> = new Set();
  private nextCheckMs = 0;
  /** When the current sampling window began, or -1 while not sampling. */
  private samplingSinceMs = -1;
  private samplingFromBytes = 0;
  private backoffMs: number;
  /** Set when the heap or the profiler could not be read. */
  private off = false;
  /** Since when the heap has been under the mark (-1: it is over). */
  private calmSinceMs = -1;
  /** The module the last window blamed (-1: none), and the heap after that window's collection. */
  private suspect = -1;
  private suspectSettledBytes = 0;

  constructor(options: ModuleHeapGuardOptions) {
    this.options = options;
    this.urls = options.modules.map((module) => module.url);
    this.markFraction = options.markFraction ?? HEAP_GUARD_DEFAULTS.markFraction;
    this.checkEveryMs = options.checkEveryMs ?? HEAP_GUARD_DEFAULTS.checkEveryMs;
    this.sampleMs = options.sampleMs ?? HEAP_GUARD_DEFAULTS.sampleMs;
    this.minLiveBytes = options.minLiveBytes ?? HEAP_GUARD_DEFAULTS.minLiveBytes;
    this.backoffMs = this.checkEveryMs;
  }

  /**
   * Call between frames, as often as convenient: it acts at most every `checkEveryMs`. Never throws: if the heap
   * or the profiler cannot be read, it says why once and stays off (the engine trades on, unguarded).
   */
  poll(): void {
    if (this.off) return;
    const now = this.options.nowMs();
    if (now < this.nextCheckMs) return;
    this.nextCheckMs = now + this.checkEveryMs;
    try {
      this.look(now);
    } catch (error) {
      this.off = true;
      this.stopQuietly();
      this.options.warn(`Heap guard off: ${(error as Error).message}; strategy modules are no longer watched for heap growth`);
    }
  }

  private stopQuietly(): void {
    try {
      this.options.sampler.stop();
    } catch {
      // Already reported as the reason the guard is off.
    }
  }

  private look(now: number): void {
    const { sampler } = this.options;
    const heap = sampler.read();
    if (this.samplingSinceMs < 0) {
      if (heap.usedBytes < heap.limitBytes * this.markFraction) {
        if (this.calmSinceMs < 0) this.calmSinceMs = now;
        else if (now - this.calmSinceMs >= CALM_MS) this.backoffMs = this.checkEveryMs;
        this.suspect = -1;
        return;
      }
      this.calmSinceMs = -1;
      this.samplingSinceMs = now;
      this.samplingFromBytes = heap.usedBytes;
      sampler.start();
      return;
    }
    // A window ends after `sampleMs`, or sooner when the heap has grown enough to judge: a fast grower would
    // otherwise reach the limit inside the window.
    // A confirming window (a suspect is named) needs less: twice what it must find.
    const grown = heap.usedBytes - this.samplingFromBytes;
    const enough = this.suspect >= 0 ? 2 * this.minLiveBytes : Math.max(heap.limitBytes * WINDOW_GROWTH_FRACTION, 2 * this.minLiveBytes);
    if (now - this.samplingSinceMs < this.sampleMs && grown < enough) return;
    const windowMs = Math.round(now - this.samplingSinceMs);
    const live = sampler.liveSamples();
    this.samplingSinceMs = -1;
    sampler.stop();
    const { byModule, total } = liveBytesByModule(live.head, this.urls);
    // What disabled modules still allocate (a timer set at load) is neither blamed nor left to hide a grower.
    let charged = total;
    for (const m of this.stopped) {
      charged -= byModule[m];
      byModule[m] = 0;
    }
    const culprit = growingModule(byModule, charged, this.minLiveBytes);
    const suspect = this.suspect;
    const figures = `the engine's heap was at ${mib(heap.usedBytes)} of ${mib(heap.limitBytes)} MiB (the guard looks from ${Math.round(this.markFraction * 100)}%)`;
    if (culprit >= 0 && this.suspect < 0) {
      // A first suspicion: the confirming window starts now, whatever the mark says after this window's collection.
      this.suspect = culprit;
      this.suspectSettledBytes = live.usedAfterCollection;
      this.samplingSinceMs = now;
      this.samplingFromBytes = heap.usedBytes;
      sampler.start();
      return;
    }
    const growth = live.usedAfterCollection - this.suspectSettledBytes;
    if (culprit < 0 || culprit !== this.suspect || growth < this.minLiveBytes) {
      this.suspect = -1;
      this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
      this.nextCheckMs = now + this.backoffMs;
      this.options.warn(`Heap guard: ${figures}${this.verdictOf(culprit, suspect, growth, charged, windowMs)}; next look in ${this.backoffMs} ms`);
      return;
    }
    this.suspect = -1;
    this.stopped.add(culprit);
    this.backoffMs = this.checkEveryMs;
    const module = this.options.modules[culprit];
    const reason = `heap: ${module.label} kept ${mib(byModule[culprit])} MiB alive in ${windowMs} ms (of ${mib(charged)} MiB kept by the engine), ` +
      `and the heap grew by ${mib(growth)} MiB after a full collection since the window before, while ${figures}`;
    for (const strategy of module.strategies) this.options.disable(strategy, reason);
  }

  /** Why a window disabled nothing, for the warning. */
  private verdictOf(culprit: number, suspect: number, growth: number, charged: number, windowMs: number): string {
    if (culprit < 0) return `, and no strategy module kept most of the ${mib(charged)} MiB still alive from the last ${windowMs} ms`;
    const label = this.options.modules[culprit].label;
    if (culprit !== suspect) return `; the last two windows blamed two modules (${this.options.modules[suspect].label}, then ${label}): neither confirmed`;
    return `; ${label} kept most of what the last two windows allocated, but the heap did not grow (${mib(growth)} MiB after a full collection): a cache, not a leak`;
  }
}

function mib(bytes: number): string {
  return (bytes / MIB).toFixed(bytes < 10 * MIB ? 1 : 0);
}
