import { ConfigError } from '../../engine/config-error.ts';
import { parseEngineConfig } from '../../engine/config/engine-config.ts';
import { gateWindowSeconds, renderEngineConfig } from '../render/engine-config.ts';
import { TICK_TO_ORDER_BUCKETS_MICROS } from '../../engine/metrics/engine-metrics.ts';
import { reservedEnvNames } from '../render/pod-template.ts';
import { parseDurationMs } from '../api/duration.ts';
import type { OperatorSettings } from '../api/settings.ts';
import type { LatencyAnalysis, TradingEngineSpec } from '../api/types.ts';

/** One problem with a spec, named by its field path from the object root (`spec.engine.indicators[0].params`). */
export interface FieldError {
  readonly path: string;
  readonly message: string;
}

/** Quantiles the engine exports on its gate metric (docs/metrics.md); a pod-scrape gate can read only these. */
export const podScrapeQuantiles: readonly string[] = ['0.5', '0.9', '0.99', '0.999'];

/**
 * Validates what the CRD's OpenAPI schema and CEL rules cannot: the engine configuration as the engine itself
 * parses it (indicator parameters, strategy wiring), durations, the gate quantile against the engine's exported
 * quantiles, the latency window, port collisions, zero-sized resources, and a Prometheus address outside the
 * operator's allow-list (`settings.prometheusAddresses`). Pure; returns every problem found
 * (not just the first), each with its field path, in a stable order. An empty list means the spec is valid.
 * The spec is expected to carry its schema defaults (applySpecDefaults).
 */
export function validateSpec(spec: TradingEngineSpec, settings: OperatorSettings = {}): FieldError[] {
  const errors: FieldError[] = [];
  checkEngineConfig(spec, errors);
  checkPorts(spec, errors);
  checkResources(spec, errors);
  checkAnalysis(spec, errors);
  checkStrategy(spec, errors);
  checkPrometheusAddress(spec, settings, errors);
  checkReservedEnv(spec, errors);
  checkPins(spec, errors);
  return errors;
}

/**
 * Each pin names one of engine.symbols, pinned once, on a shard below spec.replicas (at replicas 0 there are no
 * shards and pins are not used, so scaling to zero never makes a spec invalid).
 */
function checkPins(spec: TradingEngineSpec, errors: FieldError[]): void {
  const listed = new Set(spec.engine.symbols);
  const seen = new Map<string, number>();
  (spec.ownership.pins ?? []).forEach((pin, i) => {
    const path = `spec.ownership.pins[${i}]`;
    if (spec.replicas > 0 && pin.shard >= spec.replicas) {
      errors.push({ path: `${path}.shard`, message: `shard ${pin.shard} does not exist: spec.replicas ${spec.replicas} makes shards 0..${spec.replicas - 1}` });
    }
    pin.symbols.forEach((symbol, j) => {
      if (!listed.has(symbol)) errors.push({ path: `${path}.symbols[${j}]`, message: `${JSON.stringify(symbol)} is not one of spec.engine.symbols` });
      const earlier = seen.get(symbol);
      if (earlier !== undefined) errors.push({ path: `${path}.symbols[${j}]`, message: `${symbol} is already pinned by spec.ownership.pins[${earlier}]` });
      else seen.set(symbol, i);
    });
  });
}

/** The operator's own variables (the config path, the control keys, the state directory) cannot be overridden. */
function checkReservedEnv(spec: TradingEngineSpec, errors: FieldError[]): void {
  (spec.template.env ?? []).forEach((entry, i) => {
    if (reservedEnvNames.includes(entry.name)) {
      errors.push({ path: `spec.template.env[${i}].name`, message: `${entry.name} is set by the operator and cannot be overridden (reserved: ${reservedEnvNames.join(', ')})` });
    }
  });
}

/**
 * The operator POSTs queries to the Prometheus a spec names, so a tenant could point it anywhere in the cluster
 * (server-side request forgery). With an allow-list configured, the address must be one of its entries (compared
 * without a trailing slash); nothing is ever sent to another.
 */
function checkPrometheusAddress(spec: TradingEngineSpec, settings: OperatorSettings, errors: FieldError[]): void {
  const source = spec.analysis?.latency?.source;
  const allowed = settings.prometheusAddresses;
  if (source?.type === 'Prometheus' && allowed === undefined && source.prometheus?.bearerTokenSecretRef !== undefined) {
    // Without an allow-list the address is anyone's choice: the operator would read the Secret and send it there.
    errors.push({
      path: 'spec.analysis.latency.source.prometheus.bearerTokenSecretRef',
      message: 'needs the operator\'s Prometheus allow-list (Helm value analysis.prometheusAddresses, flag --prometheus-addresses): without one the token could be sent to any address',
    });
  }
  if (source?.type !== 'Prometheus' || allowed === undefined) return;
  const address = source.prometheus?.address ?? '';
  const normal = (url: string): string => url.trim().replace(/\/+$/, '');
  if (allowed.some((entry) => normal(entry) === normal(address))) return;
  errors.push({
    path: 'spec.analysis.latency.source.prometheus.address',
    message: allowed.length === 0
      ? 'this operator may query no Prometheus (its allow-list, Helm value analysis.prometheusAddresses, is empty): use source type PodScrape or ask the operator\'s administrators'
      : `${JSON.stringify(address)} is not one of the Prometheus addresses this operator may query (Helm value analysis.prometheusAddresses): ${allowed.join(', ')}`,
  });
}

/**
 * A rollout strategy aborts by cutting the new pods' orders through their control socket first, so it needs a
 * control endpoint the operator can reach on each pod (role control with bindPort).
 */
function checkStrategy(spec: TradingEngineSpec, errors: FieldError[]): void {
  if (spec.strategy === undefined) return;
  const control = spec.engine.zeromq.endpoints.find((endpoint) => endpoint.role === 'control');
  if (control?.bindPort === undefined) {
    errors.push({
      path: 'spec.engine.zeromq.endpoints',
      message: `a ${spec.strategy.type} strategy needs a control endpoint with bindPort (e.g. {name: control, role: control, bindPort: 5560}): an abort cuts the new pods' orders through it before anything else`,
    });
  }
}

/** `spec.engine.indicators[0]: ...; spec.template.resources.cpu: ...` */
export function describeErrors(errors: readonly FieldError[]): string {
  return errors.map((error) => `${error.path}: ${error.message}`).join('; ');
}

function checkEngineConfig(spec: TradingEngineSpec, errors: FieldError[]): void {
  try {
    parseEngineConfig(renderEngineConfig(spec));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    errors.push({ path: specPathOfEngineField(error.path), message: error.message.slice(error.path.length + 2) });
  }
}

/**
 * Maps a field path of the engine configuration document to the spec field it came from. Examples:
 * `indicators[0].params.period` -> `spec.engine.indicators[0].params.period`; `shutdown.drainTimeoutMs` ->
 * `spec.engine.drainTimeoutMs`; `` -> `spec.engine`.
 */
export function specPathOfEngineField(path: string): string {
  if (path === '') return 'spec.engine';
  if (path.startsWith('shutdown.')) return `spec.engine.${path.slice('shutdown.'.length)}`;
  return `spec.engine.${path}`;
}

function checkPorts(spec: TradingEngineSpec, errors: FieldError[]): void {
  const owner = new Map<number, string>([[spec.engine.metrics.port, 'spec.engine.metrics.port']]);
  spec.engine.zeromq.endpoints.forEach((endpoint, i) => {
    if (endpoint.bindPort === undefined) return;
    const path = `spec.engine.zeromq.endpoints[${i}].bindPort`;
    const taken = owner.get(endpoint.bindPort);
    if (taken !== undefined) errors.push({ path, message: `port ${endpoint.bindPort} is already used by ${taken}` });
    else owner.set(endpoint.bindPort, path);
  });
}

function checkResources(spec: TradingEngineSpec, errors: FieldError[]): void {
  const check = (resources: { cpu: number | string; memory: number | string }, path: string): void => {
    for (const name of ['cpu', 'memory'] as const) {
      const text = String(resources[name]);
      if (/^0+(\.0*)?m?$|^0+(Ki|Mi|Gi|Ti|k|M|G|T)?$/.test(text)) {
        errors.push({ path: `${path}.${name}`, message: `must be greater than zero, got ${text}` });
      }
    }
  };
  check(spec.template.resources, 'spec.template.resources');
  (spec.template.sidecars ?? []).forEach((sidecar, i) => check(sidecar.resources, `spec.template.sidecars[${i}].resources`));
}

function checkAnalysis(spec: TradingEngineSpec, errors: FieldError[]): void {
  const latency = spec.analysis?.latency;
  if (latency === undefined) return;
  const base = 'spec.analysis.latency';
  const durations: Array<[string, string, number]> = [
    ['interval', latency.interval, 1_000],
    ['window', latency.window, 1_000],
    ['initialDelay', latency.initialDelay, 0],
  ];
  for (const [name, text, minimumMs] of durations) {
    const ms = parseDurationMs(text);
    // The engine keeps at most an hour of latency window (metrics.windowSeconds <= 3600).
    const maximumMs = name === 'window' && latency.source.type === 'PodScrape' ? 3_600_000 : 86_400_000;
    if (ms === undefined) errors.push({ path: `${base}.${name}`, message: `must be a duration such as 30s or 1m30s, got ${JSON.stringify(text)}` });
    else if (ms < minimumMs) errors.push({ path: `${base}.${name}`, message: `must be at least ${minimumMs / 1000}s, got ${text}` });
    else if (ms > maximumMs) errors.push({ path: `${base}.${name}`, message: `must be at most ${maximumMs / 3_600_000}h, got ${text}` });
  }
  if (latency.source.type === 'PodScrape') {
    if (!podScrapeQuantiles.includes(latency.quantile)) {
      errors.push({
        path: `${base}.quantile`,
        message: `the engine exports quantiles ${podScrapeQuantiles.join(', ')} for pod scraping, got ${latency.quantile}`,
      });
    }
    const gateWindow = gateWindowSeconds(spec);
    const engineWindow = spec.engine.metrics.windowSeconds;
    if (gateWindow !== undefined && engineWindow !== undefined && engineWindow !== gateWindow) {
      errors.push({
        path: 'spec.engine.metrics.windowSeconds',
        message: `is ${engineWindow} but spec.analysis.latency.window is ${latency.window}: the pod-scrape gate reads the engine's window, so set them equal or leave windowSeconds unset`,
      });
    }
  }
  if (latency.method === 'MannWhitney') checkComparison(latency, base, errors);
  const topBound = TICK_TO_ORDER_BUCKETS_MICROS[TICK_TO_ORDER_BUCKETS_MICROS.length - 1];
  if (latency.source.type === 'Prometheus' && latency.thresholdMicros >= topBound) {
    errors.push({
      path: `${base}.thresholdMicros`,
      message: `must be below ${topBound} with source Prometheus: that is the engine histogram's top bound, and histogram_quantile reports nothing above it, so the gate could never breach (got ${latency.thresholdMicros})`,
    });
  }
}

/** The Mann-Whitney gate (also in the CRD's CEL rules, for API servers that do not run them): its inputs. */
function checkComparison(latency: LatencyAnalysis, base: string, errors: FieldError[]): void {
  if (latency.relativeToStable?.maxIncreasePercent === undefined) {
    errors.push({ path: `${base}.relativeToStable.maxIncreasePercent`, message: 'method MannWhitney compares canary with stable and needs this tolerance' });
  }
  if (latency.source.type !== 'PodScrape') {
    errors.push({ path: `${base}.source.type`, message: "method MannWhitney reads each pod's latency samples and needs source type PodScrape" });
  }
  const confidence = Number(latency.confidence);
  if (!(confidence >= 0.5 && confidence < 1)) {
    errors.push({ path: `${base}.confidence`, message: `must be at least 0.5 and below 1, got ${JSON.stringify(latency.confidence)}` });
  }
  // The engine keeps `window` of completed intervals: a window under twice the interval loses intervals before a
  // measurement can judge them (and one of 1 s never completes an interval at all).
  const windowMs = parseDurationMs(latency.window);
  const intervalMs = parseDurationMs(latency.interval);
  if (windowMs !== undefined && intervalMs !== undefined && windowMs < Math.max(2_000, 2 * intervalMs)) {
    errors.push({ path: `${base}.window`, message: `method MannWhitney needs a window of at least twice the interval and 2s (interval ${latency.interval}), got ${latency.window}` });
  }
}
