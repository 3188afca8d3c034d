import { parseDurationMs } from '../api/duration.ts';
import type { FaultInjectionSpec, ScansSpec, TradingEngineSpec } from '../api/types.ts';
import { windowIntervalMs } from '../../engine/metrics/sliding-window.ts';
import { symbolId } from '../../engine/wire/symbol-id.ts';
import { moduleFileName, moduleSourceKey, noModuleSources, type ModuleSources } from './module-sources.ts';

/** The engine configuration document (docs/engine-config.md) rendered from a spec, before the engine validates it. */
export interface EngineConfigDocument {
  readonly symbols: readonly string[];
  readonly indicators: ReadonlyArray<{ name: string; type: string; params: Record<string, number> }>;
  readonly strategies: ReadonlyArray<{ name: string; type?: string; module?: string; indicators: readonly string[]; params: Record<string, number | boolean> }>;
  readonly risk: Readonly<Record<string, number | boolean>>;
  readonly zeromq: { readonly endpoints: ReadonlyArray<Record<string, unknown>> };
  readonly metrics: { readonly port: number; readonly windowSeconds: number; readonly windowIntervals: number };
  readonly pipeline: Readonly<Record<string, string | number>>;
  readonly warmupTicks: number;
  readonly shutdown: { readonly drainTimeoutMs: number };
  /** Present only when the spec has `engine.faultInjection` (tests and demos). */
  readonly faultInjection?: FaultInjectionSpec;
  /** `assigned` whenever the engine binds a control socket: the operator grants it shards (docs/ownership.md). */
  readonly ownership?: { readonly mode: 'assigned'; readonly book: number };
  /**
   * Present only when the spec has `engine.history`: the warm start (docs/warm-start.md). A file in a history volume
   * is named relative: the engine resolves it against NEXUS_HISTORY_DIR, the volume's mount (renderPodSpec).
   */
  readonly history?: { readonly path: string; readonly maxTradesPerSymbol: number; readonly strategyReplayTrades: number; readonly onError: string };
  /** Present only when the spec has `engine.scans` (docs/scans.md). */
  readonly scans?: ScansSpec;
}

/** Where `spec.engine.history.volume` is mounted in the engine container (read-only), set as NEXUS_HISTORY_DIR. */
export const historyMountPath = '/var/lib/nexus-history';

/** The engine's default latency window when nothing else decides it (engine/config). */
const defaultWindowSeconds = 30;

/**
 * Renders `spec.engine` into the document the engine reads from its ConfigMap. Pure and total: integer-or-string
 * parameters become numbers (`"2.5"` -> 2.5; a non-numeric string becomes NaN, which the engine's own validation
 * then names), and the latency window defaults to the analysis window when the gate scrapes the pods, so the
 * gate measures exactly the window the user asked for. Examples: window `60s`, no metrics.windowSeconds -> 60;
 * metrics.windowSeconds 20 -> 20 (validation reports the mismatch); no analysis -> 30. `faultInjection` is passed
 * through only when the spec has it, so engines without it render (and hash into revisions) exactly as before.
 * An engine with a bound control socket trades only the shards the operator grants it (`ownership.mode:
 * assigned`); without one the operator cannot grant any, and it trades every symbol unfenced. A history in a
 * volume keeps its relative path: the engine finds it under NEXUS_HISTORY_DIR, where renderPodSpec mounts it.
 */
export function renderEngineConfig(spec: TradingEngineSpec, book = 0, sources: ModuleSources = noModuleSources): EngineConfigDocument {
  const engine = spec.engine;
  return {
    symbols: [...engine.symbols],
    indicators: (engine.indicators ?? []).map((indicator) => ({
      name: indicator.name,
      type: indicator.type,
      params: numericParams(indicator.params),
    })),
    strategies: (engine.strategies ?? []).map((strategy) => ({
      name: strategy.name,
      ...(strategy.type === undefined ? {} : { type: strategy.type }),
      ...(strategy.module === undefined ? {} : { module: strategy.module }),
      // A ConfigMap's module: the copy in the revision's own ConfigMap, beside this configuration (module-sources.ts).
      ...(strategy.moduleConfigMap === undefined ? {} : { module: `./${moduleFileName(strategy.name, strategy.moduleConfigMap, sources.get(moduleSourceKey(strategy.moduleConfigMap)))}` }),
      indicators: [...(strategy.indicators ?? [])],
      params: strategyParams(strategy.params),
    })),
    risk: { ...engine.risk },
    zeromq: {
      endpoints: engine.zeromq.endpoints.map((endpoint) => {
        const out: Record<string, unknown> = { name: endpoint.name, role: endpoint.role };
        if (endpoint.address !== undefined) out.address = endpoint.address;
        if (endpoint.bindPort !== undefined) out.bindPort = endpoint.bindPort;
        if (endpoint.topics !== undefined) out.topics = [...endpoint.topics];
        return out;
      }),
    },
    metrics: renderMetrics(spec),
    pipeline: { ...engine.pipeline },
    warmupTicks: engine.warmupTicks,
    shutdown: { drainTimeoutMs: engine.drainTimeoutMs },
    ...(engine.faultInjection === undefined ? {} : { faultInjection: { ...engine.faultInjection } }),
    ...(engine.zeromq.endpoints.some((endpoint) => endpoint.role === 'control' && endpoint.bindPort !== undefined) ? { ownership: { mode: 'assigned' as const, book } } : {}),
    ...(engine.scans === undefined ? {} : { scans: structuredClone(engine.scans) }),
    ...(engine.history === undefined ? {} : {
      history: {
        path: engine.history.path,
        maxTradesPerSymbol: engine.history.maxTradesPerSymbol,
        strategyReplayTrades: engine.history.strategyReplayTrades,
        onError: engine.history.onError,
      },
    }),
  };
}

/**
 * The order book id of a TradingEngine (`ownership.book`, stamped on every order): FNV-1a 32 of `namespace/name`
 * folded to 16 bits, 1..65535 (0 means none). A gateway fences each (book, shard) on its own, so engines sending to
 * one gateway keep their shard epochs apart; two engines whose names fold to the same book (1 in 65,535 per pair)
 * can fence each other's orders (refused and counted by the gateway, never duplicated).
 * Example: ("trading", "alpha") -> the same value on every operator version (fixed by render.test.ts).
 */
export function orderBookOf(namespace: string, name: string): number {
  const hash = symbolId(`${namespace}/${name}`);
  const folded = ((hash >>> 16) ^ (hash & 0xffff)) >>> 0;
  return folded === 0 ? 1 : folded;
}

/**
 * The engine's metrics section. The latency window is the gate's window; under the Mann-Whitney gate it is cut
 * into 1 s intervals (at most 120, the engine's limit), the granularity at which that gate's consecutive windows
 * start and end, whatever metrics.windowIntervals says. Example: MannWhitney, window 20s -> 20 x 1 s.
 */
function renderMetrics(spec: TradingEngineSpec): EngineConfigDocument['metrics'] {
  const metrics = spec.engine.metrics;
  const windowSeconds = metrics.windowSeconds ?? gateWindowSeconds(spec) ?? defaultWindowSeconds;
  const statistical = spec.analysis?.latency?.method === 'MannWhitney';
  return { port: metrics.port, windowSeconds, windowIntervals: statistical ? Math.min(120, windowSeconds) : metrics.windowIntervals };
}

/** The length of one interval of the engine's latency window, ms, as the engine computes it from the rendered config. */
export function engineWindowIntervalMs(spec: TradingEngineSpec): number {
  const { windowSeconds, windowIntervals } = renderMetrics(spec);
  return windowIntervalMs(windowSeconds, windowIntervals);
}

/** The analysis window in whole seconds when the gate scrapes pods (rounded up), else undefined. */
export function gateWindowSeconds(spec: TradingEngineSpec): number | undefined {
  const latency = spec.analysis?.latency;
  if (latency === undefined || latency.source.type !== 'PodScrape') return undefined;
  const ms = parseDurationMs(latency.window);
  // Clamped to the engine's range (1..3600 s); validation reports a window outside it on the analysis field.
  return ms === undefined ? undefined : Math.min(3600, Math.max(1, Math.ceil(ms / 1000)));
}

function numericParams(params: Readonly<Record<string, number | string>> | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(params ?? {})) {
    out[key] = typeof value === 'number' ? value : /^-?[0-9]+(\.[0-9]+)?$/.test(value) ? Number(value) : Number.NaN;
  }
  return out;
}

/** A strategy's params: numbers as for indicators, and "true"/"false" as booleans (a module's boolean params). */
function strategyParams(params: Readonly<Record<string, number | string>> | undefined): Record<string, number | boolean> {
  const out: Record<string, number | boolean> = numericParams(params);
  for (const [key, value] of Object.entries(params ?? {})) if (value === 'true' || value === 'false') out[key] = value === 'true';
  return out;
}
