import type { MeasureResult, MeasureTarget } from '../analysis/provider.ts';
import type { MeasurementSummary } from '../api/measurement-summary.ts';
import type { LatencySource } from '../api/types.ts';
import type { ResourceKind } from '../kube/resources.ts';

/**
 * Effects a pure plan may need before it is final: a latency measurement, orders-off on engine pods, shard
 * hand-overs on engine pods, and a look at the names of the children it would create. The executor (the
 * reconciler, the rollout test world, the rollout benchmark) fulfils them and decides again with the results in
 * `Observed` (measure, then control, then shards, then ownership), so every decision stays a pure function of its
 * inputs.
 */
export interface PlanNeeds {
  readonly measure?: MeasureRequest;
  readonly control?: PodControlRequest;
  /** set-ownership requests to engine pods: shards released or granted (operator/ownership/shard-plan.ts). */
  readonly shards?: ShardsRequest;
  /** Status requests to engine pods running strategy modules: which strategies a fault disabled. */
  readonly probe?: StrategyProbeRequest;
  /** The confirm-promotion webhook's answer before a revision is promoted (operator/rollout/confirm.ts). */
  readonly confirm?: PromotionConfirmRequest;
  readonly ownership?: OwnershipRequest;
}

/** What the confirm-promotion webhook is asked: may this revision become stable now? (The body it is POSTed.) */
export interface PromotionConfirmRequest {
  readonly engine: { readonly namespace: string; readonly name: string };
  readonly revision: string;
  readonly stableRevision: string;
  readonly strategy: 'Canary' | 'BlueGreen';
  /** The gate's last measurement of the revision, when it has one: quantile, stable's, threshold (µs), result. */
  readonly measurement?: MeasurementSummary & {
    /** When it was taken: a long wait makes it old. */
    readonly time?: string;
  };
}

/** The webhook's answer: confirmed on a 2xx, else what it said or why it said nothing. */
export interface PromotionConfirmOutcome {
  readonly confirmed: boolean;
  readonly message: string;
}

export interface StrategyProbeRequest {
  readonly targets: readonly ControlTarget[];
}

/** One strategy as an engine's Status answer lists it (docs/wire.md, "Status body"). */
export interface EngineStrategy {
  readonly name: string;
  readonly origin: string;
  readonly enabled: boolean;
  readonly faults: number;
  readonly reason?: string;
}

/** What a pod answered to a Status request. */
export interface StrategyProbeOutcome {
  readonly pod: string;
  readonly ok: boolean;
  readonly error?: string;
  readonly strategies?: readonly EngineStrategy[];
}

export interface ShardsRequest {
  readonly commands: readonly ShardCommand[];
  /** How long a pod may take to answer: its release is bounded by the engine's drainTimeoutMs. */
  readonly timeoutMs: number;
}

/** A grant in a command's body, as the engine's set-ownership takes it. */
export interface ShardGrant {
  readonly shard: number;
  readonly epoch: number;
  readonly symbols: readonly string[];
  readonly positions?: Readonly<Record<string, number>>;
}

/** One set-ownership request to one pod. */
export interface ShardCommand {
  readonly pod: string;
  readonly address: string;
  readonly shards: readonly ShardGrant[];
  /** Shards this command takes away from the pod, and shards it grants (reserved for the pod). */
  readonly releasing: readonly number[];
  readonly acquiring: readonly number[];
  /** The pod is past its release deadline: when this command fails, send it orders-off (it is then evicted). */
  readonly cutIfUnanswered?: boolean;
}

/** What a pod answered to a ShardCommand. */
export interface ShardOutcome {
  readonly pod: string;
  readonly ok: boolean;
  readonly error?: string;
  /** The released shards with each symbol's position, as the engine acknowledged them. */
  readonly released?: ReadonlyArray<{ readonly shard: number; readonly epoch: number; readonly positions: Readonly<Record<string, number>> }>;
  /** Every symbol the pod does not own after the command, with the position it last counted. */
  readonly positions?: Readonly<Record<string, number>>;
  readonly micros: number;
  /** The orders-off sent after a failed command that asked for it (`cutIfUnanswered`). */
  readonly cut?: { readonly ok: boolean; readonly error?: string };
}


/** A child the plan would create: is its name free, or taken by an object this TradingEngine does not control? */
export interface OwnershipTarget {
  readonly resource: ResourceKind;
  readonly namespace: string;
  readonly name: string;
}

export interface OwnershipRequest {
  readonly targets: readonly OwnershipTarget[];
}

/** An object found under the name of a child to create, controlled by something other than this TradingEngine. */
export interface ForeignObject extends OwnershipTarget {
  /** Its controller (`Kind/name`), or undefined when nothing controls it. */
  readonly controller?: string;
}

export interface MeasureRequest {
  /** Where to measure: the latency source of the analysis as decide resolved it (a named gate's, defaults applied). */
  readonly source: LatencySource;
  readonly canary: MeasureTarget;
  /** Present when the relative-to-stable check needs the stable revision's figure. */
  readonly stable?: MeasureTarget;
}

/** A measurement the executor took because a plan asked for it (`RolloutNeeds.measure`). */
export interface TakenMeasurement {
  readonly revision: string;
  readonly canary: MeasureResult;
  readonly stable?: MeasureResult;
}

/** One engine pod's control socket, to which the executor sends a command. */
export interface ControlTarget {
  readonly pod: string;
  readonly address: string;
}

/** The latched orders-off (`cut`) to engine pods of an aborted revision. */
export interface PodControlRequest {
  readonly command: 'cut';
  readonly targets: readonly ControlTarget[];
}

/** What happened when the executor sent a control command to one pod. */
export interface ControlOutcome {
  readonly pod: string;
  readonly ok: boolean;
  /** The refusal or transport error when not ok. */
  readonly error?: string;
  /** Round trip in microseconds. */
  readonly micros: number;
}
