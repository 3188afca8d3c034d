import type { OwnershipMode } from '../ownership/symbol-ownership.ts';
import { ConfigError } from '../config-error.ts';
import { barPanelBytes, PANEL_SLACK_BARS } from '../bars/bar-panel.ts';
import { createIndicator, longestWarmup } from '../indicators/registry.ts';
import { validateRiskLimits, type RiskLimits } from '../risk/risk-engine.ts';
import { OVERFLOW_POLICIES, type OverflowPolicy } from '../ring/spsc-ring.ts';
import { WAIT_STRATEGY_NAMES, type WaitStrategyName } from '../ring/wait-strategy.ts';
import { createStrategy } from '../strategy/factory.ts';
import {
  asArray,
  asObject,
  describe,
  optionalObject,
  readEnum,
  readInteger,
  readOptionalString,
  readString,
  rejectUnknownKeys,
  type RawObject,
} from './validate.ts';

/**
 * The engine's configuration: what the operator renders into the engine ConfigMap (`spec.engine` of a
 * TradingEngine) and what `nexus engine --config` reads. `parseEngineConfig` is pure: raw object in, a fully
 * defaulted and validated config out, or a ConfigError naming the first offending field.
 */
export interface IndicatorSpec {
  readonly name: string;
  readonly type: string;
  readonly params: Readonly<Record<string, unknown>>;
}

export interface StrategySpec {
  readonly name: string;
  /** A built-in strategy type; absent when `module` names a strategy module. */
  readonly type?: string;
  /** The path of a strategy module (docs/strategy-sdk.md), loaded at start; absent for a built-in type. */
  readonly module?: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly indicators: readonly string[];
}

export type EndpointRole = 'marketData' | 'orders' | 'signals' | 'control';
export const endpointRoles: readonly EndpointRole[] = ['marketData', 'orders', 'signals', 'control'];

/** A ZeroMQ endpoint: the engine either connects to `address` or binds `bind`. */
export interface EndpointSpec {
  readonly name: string;
  readonly role: EndpointRole;
  /** Connect to this ZeroMQ address (tcp://host:port, ipc://path). */
  readonly connect?: string;
  /** Bind this ZeroMQ address. `bindPort: N` in the raw config means `tcp://<bindHost>:N`. */
  readonly bind?: string;
  /** Market data only: topic prefixes to subscribe. Default: the configured symbol names. */
  readonly topics?: readonly string[];
}

export type PipelineLayout = 'inline' | 'workers';

export interface PipelineConfig {
  readonly layout: PipelineLayout;
  readonly workers: number;
  readonly ringCapacity: number;
  /** Input rings of the workers layout when full (the ring's own policies, spsc-ring.ts). */
  readonly overflow: OverflowPolicy;
  /** How a worker waits on its rings (the ring's own strategy names, wait-strategy.ts). */
  readonly waitStrategy: WaitStrategyName;
  /** Continuous processing budget before the feed loop yields to the event loop (metrics, control). */
  readonly yieldEveryMicros: number;
}

export interface MetricsConfig {
  readonly port: number;
  readonly host: string;
  readonly windowSeconds: number;
  readonly windowIntervals: number;
}

/**
 * Fault injection, for tests and demos of latency-gated rollouts only: real, busy-waited latency on the
 * tick-to-order path, so a latency regression can be produced on purpose. Present only when the config has a
 * `faultInjection` section; absent means no fault injection and no cost on the hot path (pipeline/fault-injection.ts).
 */
export interface FaultInjectionConfig {
  /** Busy-wait before each risk-accepted order is handed on, in microseconds (0 .. 1 000 000). */
  readonly extraLatencyMicros: number;
  /** Plus a uniform extra delay from 0 to this many microseconds, drawn from a seeded PRNG (0 .. 1 000 000). */
  readonly jitterMicros: number;
  /** Share of orders delayed, in percent (0 .. 100): below 100 the latency distribution gets a tail. */
  readonly affectedPercent: number;
  /** Seed of the mulberry32 generator behind affectedPercent and jitterMicros (0 .. 2^32 - 1, default 1). */
  readonly seed: number;
}

/**
 * Warm start from history (docs/warm-start.md): before the engine reports ready, its indicators are brought to the
 * state they would have after streaming the history's trades, and its strategies run over the last few trades
 * of each symbol (orders suppressed) to rebuild their own state; absent means a cold start.
 */
export interface HistoryConfig {
  /** A tick CSV (the backtest's format: exchange_ts_ns,symbol,kind,price,size): a file in the image or a mounted volume. */
  readonly path: string;
  /** Use at most the last this many trades of each symbol (older ones are skipped). */
  readonly maxTradesPerSymbol: number;
  /** Of those, the last this many of each symbol (and the quotes among them) also run through the strategies. */
  readonly strategyReplayTrades: number;
  /**
   * A missing, unreadable, malformed or short history (a symbol with fewer trades than its indicators' longest
   * warm-up): `fail` (the engine does not start; the error names the file, row and column or the symbol) or
   * `coldStart` (a warning and the nexus_engine_warm_start metrics; a malformed file is not used at all, a short
   * symbol is seeded with the trades it has).
   */
  readonly onError: 'fail' | 'coldStart';
}

/**
 * Bars and universe scans (docs/scans.md): trades into OHLCV bars of `barIntervalMs` of market time, and at each
 * bar close a scan on its own thread: the named indicators per bar for every symbol, rank and z-score across
 * symbols, and optionally the rolling correlation of returns; reported on the signals socket (topic `scan`) and
 * in metrics.
 */
export interface ScansConfig {
  readonly barIntervalMs: number;
  /** Bars kept per symbol (the panel's window). */
  readonly panelBars: number;
  /** Names of `indicators` computed per bar (separate instances from the per-trade ones); default all. */
  readonly indicators: readonly string[];
  /** The correlation matrix of returns of the first `symbols` symbols over the last `window` bars. */
  readonly correlation?: { readonly symbols: number; readonly window: number };
  /** Symbols a scan report names at each end of the return cross-section. */
  readonly topSymbols: number;
}

export interface EngineConfig {
  readonly symbols: readonly string[];
  readonly indicators: readonly IndicatorSpec[];
  readonly strategies: readonly StrategySpec[];
  readonly risk: RiskLimits;
  readonly endpoints: readonly EndpointSpec[];
  readonly metrics: MetricsConfig;
  readonly pipeline: PipelineConfig;
  /** Synthetic ticks run through a scratch pipeline at start-up so the JIT has compiled the hot path. */
  readonly warmupTicks: number;
  readonly shutdown: { readonly drainTimeoutMs: number };
  /** Tests and demos only; undefined (the default) means no fault injection. */
  readonly faultInjection?: FaultInjectionConfig;
  /**
   * Which symbols the engine sends orders for: `all` (default; a standalone engine, unfenced) or `assigned` (only
   * the shards the operator grants over the control socket, each order stamped with its shard's epoch).
   */
  readonly ownership: { readonly mode: OwnershipMode; readonly book: number };
  /** Warm start from history; undefined (the default) means the engine starts with cold indicators. */
  readonly history?: HistoryConfig;
  /** Bars and universe scans; undefined (the default) means none. */
  readonly scans?: ScansConfig;
  /**
   * The batch backend for the work that runs on one (the scans' correlation matrix, docs/scans.md): a name, or
   * `auto` (default: the faster on this machine by the measured calibration). `NEXUS_INDICATOR_BACKEND`, which
   * the operator sets from the TradingEngine's `spec.engine.backend`, takes precedence (load.ts).
   */
  readonly backend: IndicatorBackendChoice;
}

/** The backends a config may name (engine/batch/create-backend.ts: BackendChoice; the config does not import it). */
export const INDICATOR_BACKEND_CHOICES = ['auto', 'js', 'wasm', 'workers', 'gpu'] as const;
export type IndicatorBackendChoice = (typeof INDICATOR_BACKEND_CHOICES)[number];

const topLevelKeys = [
  'symbols', 'indicators', 'strategies', 'risk', 'zeromq', 'metrics', 'pipeline', 'warmupTicks', 'shutdown',
  'faultInjection', 'ownership', 'history', 'scans', 'backend',
] as const;
const symbolPattern = /^[A-Za-z0-9._:/-]{1,32}$/;
const namePattern = /^[a-z0-9]([-a-z0-9_]{0,61}[a-z0-9])?$/i;

export function parseEngineConfig(input: unknown, bindHost = '0.0.0.0'): EngineConfig {
  const raw = asObject(input, 'config');
  rejectUnknownKeys(raw, topLevelKeys, '');

  const symbols = parseSymbols(raw.symbols);
  const indicators = parseIndicators(raw.indicators);
  const strategies = parseStrategies(raw.strategies, indicators);
  const risk = validateRiskLimits(raw.risk ?? {}, 'risk');
  const endpoints = parseEndpoints(raw.zeromq, bindHost);

  const metricsRaw = optionalObject(raw, 'metrics', 'metrics');
  rejectUnknownKeys(metricsRaw, ['port', 'host', 'windowSeconds', 'windowIntervals'], 'metrics');
  const metrics: MetricsConfig = {
    port: readInteger(metricsRaw, 'port', 'metrics', { min: 0, max: 65535, fallback: 9100 }),
    host: readString(metricsRaw, 'host', 'metrics', bindHost),
    windowSeconds: readInteger(metricsRaw, 'windowSeconds', 'metrics', { min: 1, max: 3600, fallback: 30 }),
    windowIntervals: readInteger(metricsRaw, 'windowIntervals', 'metrics', { min: 1, max: 120, fallback: 6 }),
  };

  const pipelineRaw = optionalObject(raw, 'pipeline', 'pipeline');
  rejectUnknownKeys(
    pipelineRaw,
    ['layout', 'workers', 'ringCapacity', 'overflow', 'waitStrategy', 'yieldEveryMicros'],
    'pipeline',
  );
  const ringCapacity = readInteger(pipelineRaw, 'ringCapacity', 'pipeline', {
    min: 64, max: 1 << 22, fallback: 1 << 16,
  });
  if ((ringCapacity & (ringCapacity - 1)) !== 0) {
    throw new ConfigError('pipeline.ringCapacity', `must be a power of two, got ${ringCapacity}`);
  }
  const pipeline: PipelineConfig = {
    layout: readEnum(pipelineRaw, 'layout', 'pipeline', ['inline', 'workers'] as const, 'inline'),
    workers: readInteger(pipelineRaw, 'workers', 'pipeline', { min: 1, max: 64, fallback: 1 }),
    ringCapacity,
    overflow: readEnum(pipelineRaw, 'overflow', 'pipeline', OVERFLOW_POLICIES, 'block'),
    waitStrategy: readEnum(pipelineRaw, 'waitStrategy', 'pipeline', WAIT_STRATEGY_NAMES, 'yield'),
    yieldEveryMicros: readInteger(pipelineRaw, 'yieldEveryMicros', 'pipeline', {
      min: 50, max: 1_000_000, fallback: 2_000,
    }),
  };

  const shutdownRaw = optionalObject(raw, 'shutdown', 'shutdown');
  rejectUnknownKeys(shutdownRaw, ['drainTimeoutMs'], 'shutdown');
  const faultInjection = parseFaultInjection(raw.faultInjection);
  const history = parseHistory(raw.history, indicators);
  const scans = parseScans(raw.scans, symbols.length, indicators);
  const ownershipRaw = optionalObject(raw, 'ownership', 'ownership');
  rejectUnknownKeys(ownershipRaw, ['mode', 'book'], 'ownership');

  return {
    symbols,
    indicators,
    strategies,
    risk,
    endpoints,
    metrics,
    pipeline,
    warmupTicks: readInteger(raw, 'warmupTicks', '', { min: 0, max: 10_000_000, fallback: 20_000 }),
    shutdown: {
      drainTimeoutMs: readInteger(shutdownRaw, 'drainTimeoutMs', 'shutdown', { min: 0, max: 600_000, fallback: 5_000 }),
    },
    ...(faultInjection === undefined ? {} : { faultInjection }),
    ownership: {
      mode: readEnum(ownershipRaw, 'mode', 'ownership', ['all', 'assigned'] as const, 'all'),
      book: readInteger(ownershipRaw, 'book', 'ownership', { min: 0, max: 0xffff, fallback: 0 }),
    },
    ...(history === undefined ? {} : { history }),
    ...(scans === undefined ? {} : { scans }),
    backend: readEnum(raw, 'backend', '', INDICATOR_BACKEND_CHOICES, 'auto'),
  };
}

/** The largest bar panel a config may ask for (scans.panelBars x symbols). */
const MAX_PANEL_BYTES = 2 * 2 ** 30;

/** The optional `scans` section; undefined when absent. Indicators are named from the config's `indicators`. */
function parseScans(value: unknown, symbolCount: number, indicators: readonly IndicatorSpec[]): ScansConfig | undefined {
  if (value === undefined) return undefined;
  const path = 'scans';
  const object = asObject(value, path);
  rejectUnknownKeys(object, ['barIntervalMs', 'panelBars', 'indicators', 'correlation', 'topSymbols'], path);
  const panelBars = readInteger(object, 'panelBars', path, { min: 2, max: 100_000, fallback: 256 });
  const panelBytes = barPanelBytes(symbolCount, panelBars + PANEL_SLACK_BARS);
  if (panelBytes > MAX_PANEL_BYTES) {
    const mib = (bytes: number): number => Math.ceil(bytes / 2 ** 20);
    throw new ConfigError('scans.panelBars', `a panel of ${symbolCount} symbols x ${panelBars} bars needs ${mib(panelBytes)} MiB of shared memory, at most ${mib(MAX_PANEL_BYTES)} MiB; keep fewer bars`);
  }
  const known = indicators.map((indicator) => indicator.name);
  const names = object.indicators === undefined ? known : asArray(object.indicators, 'scans.indicators').map((name, i) => {
    if (typeof name !== 'string' || !known.includes(name)) {
      throw new ConfigError(`scans.indicators[${i}]`, `must name one of indicators (${known.join(', ') || 'none configured'}), got ${describe(name)}`);
    }
    const first = (object.indicators as unknown[]).indexOf(name);
    if (first !== i) throw new ConfigError(`scans.indicators[${i}]`, `names ${name} again (already scans.indicators[${first}])`);
    return name;
  });
  let correlation: ScansConfig['correlation'];
  if (object.correlation !== undefined) {
    const raw = asObject(object.correlation, 'scans.correlation');
    rejectUnknownKeys(raw, ['symbols', 'window'], 'scans.correlation');
    correlation = {
      symbols: readInteger(raw, 'symbols', 'scans.correlation', { min: 2, max: symbolCount }),
      window: readInteger(raw, 'window', 'scans.correlation', { min: 2, max: panelBars - 1 }),
    };
  }
  return {
    barIntervalMs: readInteger(object, 'barIntervalMs', path, { min: 1, max: 86_400_000, fallback: 1_000 }),
    panelBars,
    indicators: names,
    ...(correlation === undefined ? {} : { correlation }),
    topSymbols: readInteger(object, 'topSymbols', path, { min: 1, max: 1_000, fallback: 10 }),
  };
}

/** Most trades per symbol a warm start reads (about 16 bytes each in memory). */
export const MAX_HISTORY_TRADES_PER_SYMBOL = 10_000_000;

/** The optional `history` section; undefined when absent. `path` is required in it. */
function parseHistory(value: unknown, indicators: readonly IndicatorSpec[]): HistoryConfig | undefined {
  if (value === undefined) return undefined;
  const path = 'history';
  const object = asObject(value, path);
  rejectUnknownKeys(object, ['path', 'maxTradesPerSymbol', 'strategyReplayTrades', 'onError'], path);
  const file = readString(object, 'path', path);
  if (file.trim() === '') throw new ConfigError('history.path', 'must name a tick CSV file, got an empty string');
  const maxTradesPerSymbol = readInteger(object, 'maxTradesPerSymbol', path, {
    min: 1, max: MAX_HISTORY_TRADES_PER_SYMBOL, fallback: 100_000,
  });
  // Fewer trades than an indicator's warm-up could never warm it: refuse that here rather than report every symbol short.
  const longest = longestWarmup(indicators);
  if (maxTradesPerSymbol < longest) {
    throw new ConfigError('history.maxTradesPerSymbol', `must be at least the longest indicator warm-up (${longest} trades), got ${maxTradesPerSymbol}`);
  }
  const strategyReplayTrades = readInteger(object, 'strategyReplayTrades', path, { min: 0, max: MAX_HISTORY_TRADES_PER_SYMBOL, fallback: 50 });
  if (strategyReplayTrades > maxTradesPerSymbol) {
    throw new ConfigError('history.strategyReplayTrades', `must be at most maxTradesPerSymbol (${maxTradesPerSymbol}), got ${strategyReplayTrades}`);
  }
  return {
    path: file,
    maxTradesPerSymbol,
    strategyReplayTrades,
    onError: readEnum(object, 'onError', path, ['fail', 'coldStart'] as const, 'fail'),
  };
}

/** Longest configurable injected delay (base or jitter): one second per order already stalls any real feed. */
const maxFaultMicros = 1_000_000;

/** The optional `faultInjection` section; undefined when absent. `extraLatencyMicros` is required in it. */
function parseFaultInjection(value: unknown): FaultInjectionConfig | undefined {
  if (value === undefined) return undefined;
  const path = 'faultInjection';
  const object = asObject(value, path);
  rejectUnknownKeys(object, ['extraLatencyMicros', 'jitterMicros', 'affectedPercent', 'seed'], path);
  return {
    extraLatencyMicros: readInteger(object, 'extraLatencyMicros', path, { min: 0, max: maxFaultMicros }),
    jitterMicros: readInteger(object, 'jitterMicros', path, { min: 0, max: maxFaultMicros, fallback: 0 }),
    affectedPercent: readInteger(object, 'affectedPercent', path, { min: 0, max: 100, fallback: 100 }),
    seed: readInteger(object, 'seed', path, { min: 0, max: 0xffff_ffff, fallback: 1 }),
  };
}

function parseSymbols(value: unknown): string[] {
  const list = asArray(value, 'symbols');
  if (list.length === 0) throw new ConfigError('symbols', 'must list at least one symbol');
  const seen = new Set<string>();
  return list.map((item, i) => {
    if (typeof item !== 'string' || !symbolPattern.test(item)) {
      throw new ConfigError(`symbols[${i}]`, `must be 1-32 characters of A-Z a-z 0-9 . _ : / -, got ${describe(item)}`);
    }
    if (seen.has(item)) throw new ConfigError(`symbols[${i}]`, `duplicate symbol ${item}`);
    seen.add(item);
    return item;
  });
}

function parseName(object: RawObject, path: string, seen: Set<string>): string {
  const name = readString(object, 'name', path);
  if (!namePattern.test(name)) throw new ConfigError(`${path}.name`, `must be a DNS-label-like name, got ${describe(name)}`);
  if (seen.has(name)) throw new ConfigError(`${path}.name`, `duplicate name ${name}`);
  seen.add(name);
  return name;
}

function parseParams(object: RawObject, path: string): Readonly<Record<string, unknown>> {
  return object.params === undefined ? {} : asObject(object.params, `${path}.params`);
}

function parseIndicators(value: unknown): IndicatorSpec[] {
  const list = value === undefined ? [] : asArray(value, 'indicators');
  const seen = new Set<string>();
  return list.map((item, i) => {
    const path = `indicators[${i}]`;
    const object = asObject(item, path);
    rejectUnknownKeys(object, ['name', 'type', 'params'], path);
    const spec: IndicatorSpec = {
      name: parseName(object, path, seen),
      type: readString(object, 'type', path),
      params: parseParams(object, path),
    };
    createIndicator({ type: spec.type, params: { ...spec.params } }, path); // validates type and params
    return spec;
  });
}

/**
 * Builds every configured strategy once, as the pipeline will: for module strategies this is where their params and
 * indicators are checked, after `loadStrategyModules`. Throws the ConfigError of the first problem.
 */
export function checkStrategies(config: EngineConfig): void {
  const typeByName = new Map(config.indicators.map((indicator) => [indicator.name, indicator.type]));
  config.strategies.forEach((spec, i) => createStrategy({ ...spec, params: { ...spec.params }, indicators: [...spec.indicators] }, typeByName, `strategies[${i}]`));
}

function parseStrategies(value: unknown, indicators: readonly IndicatorSpec[]): StrategySpec[] {
  const list = asArray(value ?? [], 'strategies');
  if (list.length > 0xffff) throw new ConfigError('strategies', 'at most 65535 strategies');
  const typeByName = new Map(indicators.map((indicator) => [indicator.name, indicator.type]));
  const seen = new Set<string>();
  return list.map((item, i) => {
    const path = `strategies[${i}]`;
    const object = asObject(item, path);
    rejectUnknownKeys(object, ['name', 'type', 'module', 'params', 'indicators'], path);
    const names = object.indicators === undefined ? [] : asArray(object.indicators, `${path}.indicators`);
    const module = readOptionalString(object, 'module', path);
    if (module === '') throw new ConfigError(`${path}.module`, 'must be the path of a strategy module');
    if (module !== undefined && object.type !== undefined) throw new ConfigError(`${path}.module`, 'a strategy has either a built-in type or a module, not both');
    const spec: StrategySpec = {
      name: parseName(object, path, seen),
      ...(module === undefined ? { type: readString(object, 'type', path) } : { module }),
      params: parseParams(object, path),
      indicators: names.map((name, j) => {
        if (typeof name !== 'string') throw new ConfigError(`${path}.indicators[${j}]`, `must be an indicator name`);
        return name;
      }),
    };
    // A module's strategy is checked once the module is loaded (checkStrategies, at engine start).
    if (module === undefined) createStrategy({ ...spec, params: { ...spec.params }, indicators: [...spec.indicators] }, typeByName, path);
    return spec;
  });
}

function parseEndpoints(value: unknown, bindHost: string): EndpointSpec[] {
  const zeromq = asObject(value, 'zeromq');
  rejectUnknownKeys(zeromq, ['endpoints'], 'zeromq');
  const list = asArray(zeromq.endpoints, 'zeromq.endpoints');
  const endpoints = list.map((item, i): EndpointSpec => {
    const path = `zeromq.endpoints[${i}]`;
    const object = asObject(item, path);
    rejectUnknownKeys(object, ['name', 'role', 'address', 'bind', 'bindPort', 'topics'], path);
    const role = readEnum(object, 'role', path, endpointRoles, 'marketData');
    if (object.role === undefined) throw new ConfigError(`${path}.role`, `must be one of ${endpointRoles.join(', ')}`);
    const address = readOptionalString(object, 'address', path);
    const bindPort = object.bindPort === undefined
      ? undefined
      : readInteger(object, 'bindPort', path, { min: 0, max: 65535 });
    const bindAddress = readOptionalString(object, 'bind', path);
    const given = [address, bindPort, bindAddress].filter((x) => x !== undefined).length;
    if (given !== 1) throw new ConfigError(path, 'set exactly one of address (connect), bind or bindPort');
    for (const [key, url] of [['address', address], ['bind', bindAddress]] as const) {
      if (url !== undefined && !/^(tcp|ipc|inproc):\/\/.+/.test(url)) {
        throw new ConfigError(`${path}.${key}`, `must be a ZeroMQ address like tcp://host:port, got ${describe(url)}`);
      }
    }
    const topics = object.topics === undefined
      ? undefined
      : asArray(object.topics, `${path}.topics`).map((topic, j) => {
        if (typeof topic !== 'string') throw new ConfigError(`${path}.topics[${j}]`, 'must be a string');
        return topic;
      });
    if (topics !== undefined && role !== 'marketData') {
      throw new ConfigError(`${path}.topics`, 'only a marketData endpoint subscribes to topics');
    }
    const bind = bindAddress ?? (bindPort === undefined ? undefined : `tcp://${bindHost}:${bindPort}`);
    if (role === 'control' && bind === undefined) {
      throw new ConfigError(path, 'a control endpoint must bind (bind or bindPort): the operator and nexus ctl connect to it');
    }
    return {
      name: readString(object, 'name', path, role),
      role,
      ...(address === undefined ? {} : { connect: address }),
      ...(bind === undefined ? {} : { bind }),
      ...(topics === undefined ? {} : { topics }),
    };
  });
  for (const role of ['marketData', 'orders'] as const) {
    const count = endpoints.filter((endpoint) => endpoint.role === role).length;
    if (count !== 1) throw new ConfigError('zeromq.endpoints', `needs exactly one ${role} endpoint, found ${count}`);
  }
  for (const role of ['signals', 'control'] as const) {
    if (endpoints.filter((endpoint) => endpoint.role === role).length > 1) {
      throw new ConfigError('zeromq.endpoints', `at most one ${role} endpoint`);
    }
  }
  return endpoints;
}

export function endpointFor(config: EngineConfig, role: EndpointRole): EndpointSpec | undefined {
  return config.endpoints.find((endpoint) => endpoint.role === role);
}
