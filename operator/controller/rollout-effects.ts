import type { LatencySource } from '../api/types.ts';
import { createPodScrapeProvider } from '../analysis/pod-scrape.ts';
import { createPrometheusProvider } from '../analysis/prometheus.ts';
import type { LatencyProvider, MeasureResult } from '../analysis/provider.ts';
import { strategyProbeTimeoutMs } from '../decide/strategy-health.ts';
import type { PodControlRequest, ControlOutcome, EngineStrategy, MeasureRequest, ShardGrant, ShardOutcome, ShardsRequest, StrategyProbeOutcome, StrategyProbeRequest, TakenMeasurement } from '../plan/needs.ts';
import { sendControl } from '../../engine/control/control-client.ts';
import type { ControlClientKeys } from '../../engine/control/control-keys.ts';
import { ControlCommand, ControlStatus } from '../../engine/wire/layout.ts';

/**
 * The effects a rollout plan may need before it is final: measuring a revision's latency (pods' /metrics or
 * Prometheus), handing shards over and cutting pods' orders through their control sockets (the engine's own ZeroMQ client,
 * engine/control, over CURVE with the engine's control Secret). Injected into the reconciler so its decisions stay
 * pure and tests can observe the effects.
 */
export interface RolloutEffects {
  /**
   * The provider of a source. `credentials` are what the caller read for it: the bearer token (from the source's
   * Secret), sent with every query, and the CA bundle (from its ConfigMap) an https address is checked against.
   */
  providerFor(source: LatencySource, credentials?: SourceCredentials): LatencyProvider;
  /** The latched cut to one engine control socket, as the one client its keys authorise; never throws. */
  cut(address: string, keys: ControlClientKeys, timeoutMs: number): Promise<{ readonly ok: boolean; readonly error?: string }>;
  /** One set-ownership request (the shards the pod is to own); the answer's released shards; never throws. */
  setOwnership(address: string, keys: ControlClientKeys, shards: readonly ShardGrant[], timeoutMs: number): Promise<Omit<ShardOutcome, 'pod' | 'micros'>>;
  /** One Status request: the engine's strategies (docs/wire.md, "Status body"); never throws. */
  strategies(address: string, keys: ControlClientKeys, timeoutMs: number): Promise<Omit<StrategyProbeOutcome, 'pod'>>;
}



/** How long one cut may take before the pod counts as not cut (and is scaled down at once). */
export const ordersOffTimeoutMs = 2_000;

export function createRolloutEffects(): RolloutEffects {
  const providers = new Map<string, LatencyProvider>();
  return {
    providerFor(source, credentials = {}) {
      // A provider holding a token or a CA bundle is made per measurement (cheap; trusted-fetch.ts keeps one
      // connection pool per bundle): cached, every rotated token or bundle would stay in memory.
      if (credentials.token !== undefined || credentials.caBundle !== undefined) {
        return createPrometheusProvider({
          address: source.prometheus?.address ?? '', headers: prometheusHeaders(source, credentials.token),
          ...(credentials.caBundle === undefined ? {} : { caBundle: credentials.caBundle }),
        });
      }
      const key = JSON.stringify(source);
      let provider = providers.get(key);
      if (provider === undefined) {
        provider = source.type === 'Prometheus'
          ? createPrometheusProvider({ address: source.prometheus?.address ?? '', headers: prometheusHeaders(source, undefined) })
          : createPodScrapeProvider({ path: source.podScrape?.path ?? '/metrics' });
        providers.set(key, provider);
      }
      return provider;
    },
    async setOwnership(address, keys, shards, timeoutMs) {
      try {
        const reply = await sendControl(address, ControlCommand.SetOwnership, { timeoutMs, keys, body: { shards } });
        if (reply.status !== ControlStatus.Ok) return { ok: false, error: `refused (status ${reply.status}): ${JSON.stringify(reply.body)}` };
        const positions = numericEntries((reply.body as { positions?: unknown } | null)?.positions);
        return { ok: true, released: releasedOf(reply.body), ...(positions === undefined ? {} : { positions }) };
      } catch (error) {
        return { ok: false, error: (error as Error).message };
      }
    },
    async strategies(address, keys, timeoutMs) {
      try {
        const reply = await sendControl(address, ControlCommand.Status, { timeoutMs, keys });
        if (reply.status !== ControlStatus.Ok) return { ok: false, error: `refused (status ${reply.status}): ${JSON.stringify(reply.body)}` };
        return { ok: true, strategies: strategiesOf(reply.body) };
      } catch (error) {
        return { ok: false, error: (error as Error).message };
      }
    },
    async cut(address, keys, timeoutMs) {
      try {
        const reply = await sendControl(address, ControlCommand.Cut, { timeoutMs, keys });
        if (reply.status === ControlStatus.Ok) return { ok: true };
        return { ok: false, error: `refused (status ${reply.status}): ${JSON.stringify(reply.body)}` };
      } catch (error) {
        return { ok: false, error: (error as Error).message };
      }
    },
  };
}

/** The strategies of a Status answer (docs/wire.md), keeping only well-formed entries. */
function strategiesOf(body: unknown): EngineStrategy[] {
  const strategies = (body as { strategies?: unknown } | null)?.strategies;
  if (!Array.isArray(strategies)) return [];
  return strategies.flatMap((entry: unknown) => {
    const { name, origin, enabled, faults, reason } = (entry ?? {}) as Record<string, unknown>;
    if (typeof name !== 'string' || typeof enabled !== 'boolean') return [];
    return [{ name, origin: typeof origin === 'string' ? origin : '', enabled, faults: typeof faults === 'number' ? faults : 0, ...(typeof reason === 'string' ? { reason } : {}) }];
  });
}

/** Asks every pod for its strategies at once (each with its round trip dropped: the answer is what matters). */
export async function probeStrategies(effects: RolloutEffects, request: StrategyProbeRequest, keys: ControlClientKeys | undefined): Promise<StrategyProbeOutcome[]> {
  const outcomes = await onEachPod(request.targets, keys, (target, clientKeys) => effects.strategies(target.address, clientKeys, strategyProbeTimeoutMs));
  return outcomes.map(({ micros: _micros, ...outcome }) => outcome);
}

/** The released shards of a set-ownership answer (docs/wire.md), keeping only well-formed entries. */
function releasedOf(body: unknown): NonNullable<ShardOutcome['released']> {
  const released = (body as { released?: unknown } | null)?.released;
  if (!Array.isArray(released)) return [];
  return released.flatMap((entry: unknown) => {
    const { shard, epoch, positions } = (entry ?? {}) as { shard?: unknown; epoch?: unknown; positions?: unknown };
    const numeric = numericEntries(positions);
    if (typeof shard !== 'number' || typeof epoch !== 'number' || numeric === undefined) return [];
    return [{ shard, epoch, positions: numeric }];
  });
}

/** An object's finite numeric entries (symbol -> position), or undefined when it is not an object. */
function numericEntries(value: unknown): Record<string, number> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  return Object.fromEntries(Object.entries(value).filter((pair): pair is [string, number] => typeof pair[1] === 'number' && Number.isFinite(pair[1])));
}

/**
 * Sends every command of a shard hand-over at once (each pod gets one) and reports each answer with its round
 * trip. A command past its release deadline (`cutIfUnanswered`) that fails is followed by orders-off to the same
 * pod, reported in the outcome's `cut`. Without the engine's control keys no pod can be reached: each command is
 * reported unanswered.
 */
export async function handOverShards(effects: RolloutEffects, request: ShardsRequest, keys: ControlClientKeys | undefined): Promise<ShardOutcome[]> {
  return onEachPod(request.commands, keys, async (command, clientKeys) => {
    const outcome = await effects.setOwnership(command.address, clientKeys, command.shards, request.timeoutMs);
    if (outcome.ok || command.cutIfUnanswered !== true) return outcome;
    const cut = await effects.cut(command.address, clientKeys, ordersOffTimeoutMs);
    return { ...outcome, cut: { ok: cut.ok, ...(cut.error === undefined ? {} : { error: cut.error }) } };
  });
}

/** The headers a Prometheus source sends: its own (a tenant header) and the bearer token, when it has one. */
export function prometheusHeaders(source: LatencySource, bearerToken: string | undefined): Record<string, string> {
  return { ...(source.prometheus?.headers ?? {}), ...(bearerToken === undefined ? {} : { authorization: `Bearer ${bearerToken}` }) };
}

/** What a Prometheus source needs read from the cluster before it may be queried. */
export interface SourceCredentials {
  /** The bearer token from the source's bearerTokenSecretRef. */
  readonly token?: string;
  /** The PEM CA bundle from the source's caConfigMapRef. */
  readonly caBundle?: string;
}

/**
 * Takes the measurements a plan asked for (canary and, for the relative check, stable) in parallel. `credential`
 * is the source's bearer token and CA bundle as the caller read them, or why one could not be read: then both
 * measurements are Errors saying so (they hold the gate, never abort it), and nothing is sent without them.
 */
export async function takeMeasurement(
  effects: RolloutEffects, request: MeasureRequest, credential: SourceCredentials & { readonly error?: string } = {},
): Promise<TakenMeasurement> {
  if (credential.error !== undefined) {
    const failed: MeasureResult = { ok: false, error: credential.error };
    return { revision: request.canary.revision, canary: failed, ...(request.stable === undefined ? {} : { stable: failed }) };
  }
  const { error: _none, ...credentials } = credential;
  const provider = effects.providerFor(request.source, credentials);
  const safely = async (promise: Promise<MeasureResult>): Promise<MeasureResult> => promise.catch((error: unknown) => ({ ok: false, error: String(error) }));
  const [canary, stable] = await Promise.all([
    safely(provider.measure(request.canary)),
    request.stable === undefined ? Promise.resolve(undefined) : safely(provider.measure(request.stable)),
  ]);
  return { revision: request.canary.revision, canary, ...(stable === undefined ? {} : { stable }) };
}

/**
 * Sends the cut to every target at once and reports each pod's outcome with its round trip. Without the engine's
 * control keys (its Secret missing or unreadable) no pod can be reached: each is reported not cut.
 */
export async function cutOrdersOn(effects: RolloutEffects, request: PodControlRequest, keys: ControlClientKeys | undefined): Promise<ControlOutcome[]> {
  return onEachPod(request.targets, keys, (target, clientKeys) => effects.cut(target.address, clientKeys, ordersOffTimeoutMs));
}

/**
 * Sends one control request to every pod at once and reports each answer with the pod's name and its round trip.
 * Without the engine's control keys (its Secret missing or unreadable) no pod can be reached: each is reported
 * unanswered and nothing is sent.
 */
async function onEachPod<T extends { readonly pod: string; readonly address: string }, R extends { readonly ok: boolean; readonly error?: string }>(
  pods: readonly T[],
  keys: ControlClientKeys | undefined,
  send: (target: T, keys: ControlClientKeys) => Promise<R>,
): Promise<Array<(R | { readonly ok: false; readonly error: string }) & { readonly pod: string; readonly micros: number }>> {
  return Promise.all(pods.map(async (target) => {
    if (keys === undefined) return { pod: target.pod, ok: false as const, micros: 0, error: 'no control keys: the control Secret is missing or invalid' };
    const started = performance.now();
    const outcome = await send(target, keys);
    return { ...outcome, pod: target.pod, micros: Math.round((performance.now() - started) * 1000) };
  }));
}
