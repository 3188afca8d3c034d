import type { V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import type { TradingEngine, TradingEngineStatus } from '../api/types.ts';
import type { DesiredCondition } from '../plan/conditions.ts';
import type { ControlOutcome, PlanNeeds, PromotionConfirmOutcome, TakenMeasurement } from '../plan/needs.ts';
import type { EventIntent } from '../plan/plan.ts';

/** The rollout planners' input: one TradingEngine (spec defaulted) mid-rollout from stable to `revision`. */
export interface RolloutInput {
  readonly engine: TradingEngine;
  readonly revision: string;
  readonly stableRevision: string;
  readonly replicaSets: ReadonlyMap<string, V1ReplicaSet>;
  readonly pods: readonly V1Pod[];
  readonly measurement?: TakenMeasurement;
  readonly control?: readonly ControlOutcome[];
  /** Every promotion waits for the confirm-promotion webhook (OperatorSettings.confirmPromotion). */
  readonly confirmPromotion?: boolean;
  /** The webhook's answer, when this reconcile asked it (Plan.needs.confirm). */
  readonly promotionConfirmation?: PromotionConfirmOutcome;
  /** The revision this operator saw the webhook confirm for this engine (its memory; see confirmedBefore). */
  readonly confirmedRevision?: string;
  readonly nowMs: number;
}

/**
 * The replace planner's input: the same, except that there may be no stable revision yet (first create) and no
 * strategy at all.
 */
export type ReplaceInput = Omit<RolloutInput, 'stableRevision'> & { readonly stableRevision: string | undefined };

/** The rollout-owned part of the status. */
export type RolloutStatus = Pick<TradingEngineStatus,
  'currentStepIndex' | 'canary' | 'blueGreen' | 'abort' | 'abortedAt' | 'abortReason' | 'promoteFull' | 'promotedStep' |
  'pauseConditions' | 'analysis' | 'stableHistory' | 'progressStartedAt' | 'promotionConfirmation' | 'rolloutStartedAt'>;

/**
 * What a planner (replace.ts, canary.ts, bluegreen.ts) decides for one reconcile; decide's shared assembly turns it
 * into applies, deletes, Events and the status.
 */
export interface RolloutPlan {
  /**
   * Desired ReplicaSet sizes by revision; other revisions scale to 0. The update revision's ConfigMap and
   * ReplicaSet are applied only when it is listed (a replace held by spec.paused does not start it).
   */
  readonly replicas: ReadonlyMap<string, number>;
  /** The revision the engine Service selects; undefined selects every engine pod. */
  readonly serviceRevision?: string;
  /** The revision the preview Service selects (blue-green only). */
  readonly previewRevision?: string;
  /** Undefined only before the first revision became stable. */
  readonly stableRevision?: string;
  readonly status: RolloutStatus;
  readonly phase: NonNullable<TradingEngineStatus['phase']>;
  /** The Ready condition when the planner defines it (replace: the update revision's pods); else the pods in all. */
  readonly ready?: DesiredCondition;
  readonly progressing: DesiredCondition;
  /** status.message when it is not the Progressing condition's message. */
  readonly message?: string;
  readonly latencyHealthy?: DesiredCondition;
  readonly events: readonly EventIntent[];
  readonly needs?: PlanNeeds;
  readonly requeueAfterMs?: number;
}

/** status.abortReason values. */
export type AbortReason = NonNullable<TradingEngineStatus['abortReason']>;
