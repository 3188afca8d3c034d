import type { V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import type { TradingEngine, TradingEngineStatus } from '../api/types.ts';
import type { MeasureResult, MeasureTarget } from '../analysis/provider.ts';
import type { DesiredCondition } from '../controller/conditions.ts';
import type { EventIntent } from '../controller/observed.ts';

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

export interface ControlRequest {
  readonly command: 'orders-off';
  readonly targets: readonly ControlTarget[];
}

/** What happened when the executor sent a control command to one pod. */
export interface ControlResult {
  readonly pod: string;
  readonly ok: boolean;
  /** The refusal or transport error when not ok. */
  readonly error?: string;
  /** Round trip in microseconds. */
  readonly micros: number;
}

export interface MeasureRequest {
  readonly canary: MeasureTarget;
  /** Present when the relative-to-stable check needs the stable revision's figure. */
  readonly stable?: MeasureTarget;
}

/**
 * Effects a pure plan needs before it can be final. The executor fulfils them and decides again with the
 * results in `Observed` (measure first, then control), so every decision stays a pure function of its inputs.
 */
export interface RolloutNeeds {
  readonly measure?: MeasureRequest;
  readonly control?: ControlRequest;
}

/** The rollout planners' input: one TradingEngine (spec defaulted) mid-rollout from stable to `revision`. */
export interface RolloutInput {
  readonly engine: TradingEngine;
  readonly revision: string;
  readonly stableRevision: string;
  readonly replicaSets: ReadonlyMap<string, V1ReplicaSet>;
  readonly pods: readonly V1Pod[];
  readonly measurement?: TakenMeasurement;
  readonly control?: readonly ControlResult[];
  readonly nowMs: number;
}

/** The rollout-owned part of the status. */
export type RolloutStatus = Pick<TradingEngineStatus,
  'currentStepIndex' | 'canary' | 'blueGreen' | 'abort' | 'abortedAt' | 'abortReason' | 'promoteFull' | 'promotedStep' |
  'pauseConditions' | 'analysis' | 'stableHistory' | 'progressStartedAt'>;

export interface RolloutPlan {
  /** Desired ReplicaSet sizes by revision; revisions not listed scale to 0. */
  readonly replicas: ReadonlyMap<string, number>;
  /** The revision the engine Service selects; undefined selects every engine pod. */
  readonly serviceRevision?: string;
  /** The revision the preview Service selects (blue-green only). */
  readonly previewRevision?: string;
  readonly stableRevision: string;
  readonly status: RolloutStatus;
  readonly phase: NonNullable<TradingEngineStatus['phase']>;
  readonly progressing: DesiredCondition;
  readonly latencyHealthy?: DesiredCondition;
  readonly events: readonly EventIntent[];
  readonly needs?: RolloutNeeds;
  readonly requeueAfterMs?: number;
}

/** status.abortReason values. */
export type AbortReason = NonNullable<TradingEngineStatus['abortReason']>;
