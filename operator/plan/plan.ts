import type { V1ConfigMap, V1NetworkPolicy, V1Pod, V1ReplicaSet, V1Secret, V1Service } from '@kubernetes/client-node';
import type { OperatorSettings } from '../api/settings.ts';
import type { LatencyGate, TradingEngine, TradingEngineStatus } from '../api/types.ts';
import type { ControlKeySet } from '../../engine/control/control-keys.ts';
import type { ResourceKind } from '../kube/resources.ts';
import { appliedHash } from '../render/owned.ts';
import type { ControlOutcome, ForeignObject, PlanNeeds, PromotionConfirmOutcome, ShardOutcome, StrategyProbeOutcome, TakenMeasurement } from './needs.ts';

/** What reconcile sees of one TradingEngine: the object and its owned children, from the informer caches. */
export interface Observed {
  readonly engine: TradingEngine;
  readonly replicaSets: readonly V1ReplicaSet[];
  readonly configMaps: readonly V1ConfigMap[];
  readonly services: readonly V1Service[];
  readonly pods: readonly V1Pod[];
  /** Owned Secrets (the control keys) and NetworkPolicies; absent is the same as none. */
  readonly secrets?: readonly V1Secret[];
  readonly networkPolicies?: readonly V1NetworkPolicy[];
  /** The operator's own settings (NetworkPolicy peers, Prometheus allow-list); absent: none of either. */
  readonly settings?: OperatorSettings;
  /**
   * A fresh control key set (randomness is an effect: the executor generates it), used only when the engine has a
   * control socket and no valid control Secret yet. decide throws when it needs one and none was given.
   */
  readonly newControlKeys?: ControlKeySet;
  /**
   * The gate definition spec.analysis.gateRef names, as the cache holds it (undefined when the spec names none or
   * it does not exist); decide resolves the analysis from it (operator/decide/gate-ref.ts).
   */
  readonly gate?: LatencyGate;
  /** A measurement the previous pass of this reconcile asked for (Plan.needs.measure). */
  readonly measurement?: TakenMeasurement;
  /** Control commands the previous pass asked for (Plan.needs.control), with their results. */
  readonly control?: readonly ControlOutcome[];
  /** The answers to the shard hand-overs the previous pass asked for (Plan.needs.shards). */
  readonly shards?: readonly ShardOutcome[];
  /**
   * The objects found under the names of the children the previous pass would create (Plan.needs.ownership) that
   * this TradingEngine does not control; empty when every name was free or already its own.
   */
  readonly foreign?: readonly ForeignObject[];
  /**
   * The ConfigMaps of the engine's namespace labelled as strategy modules (operator/render/module-sources.ts), from
   * which spec.engine.strategies[].moduleConfigMap reads; absent is the same as none.
   */
  readonly moduleConfigMaps?: readonly V1ConfigMap[];
  /** The strategy probe the previous pass asked for (Plan.needs.probe): the pods' answers, or skipped. */
  readonly strategyProbe?: readonly StrategyProbeOutcome[] | 'skipped';
  /** The confirm-promotion webhook's answer the previous pass asked for (Plan.needs.confirm). */
  readonly promotionConfirmation?: PromotionConfirmOutcome;
  /**
   * The revision the executor saw the webhook confirm for this engine, from its own memory (never from the status,
   * which users may patch); undefined after a restart.
   */
  readonly confirmedRevision?: string;
}

export interface ApplyIntent {
  readonly resource: ResourceKind;
  readonly object: { metadata?: { name?: string; namespace?: string; annotations?: Record<string, string> } };
  /** The observed object it replaces, when one exists (the executor skips the write if nothing changed). */
  readonly observed?: { metadata?: { annotations?: Record<string, string> } };
}

export interface DeleteIntent {
  readonly resource: ResourceKind;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

export interface EventIntent {
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
}

/** Everything one reconcile decides, computed purely from (Observed, now); the executor carries it out. */
export interface Plan {
  readonly applies: readonly ApplyIntent[];
  readonly deletes: readonly DeleteIntent[];
  readonly events: readonly EventIntent[];
  readonly status: TradingEngineStatus;
  /** Reconcile again after this long even if nothing changes (a deadline or a pause ends). */
  readonly requeueAfterMs?: number;
  /**
   * Effects needed before this plan is final (a due gate measurement, orders-off on pods). When set, the
   * executor performs them, adds the results to Observed and decides again; the rest of this plan is not applied.
   */
  readonly needs?: PlanNeeds;
}

/** An apply is needed when the object is new, its rendered content changed, or (ReplicaSets) its size differs. */
export function needsWrite(intent: ApplyIntent): boolean {
  if (intent.observed === undefined) return true;
  if (appliedHash(intent.object) !== appliedHash(intent.observed)) return true;
  const wanted = (intent.object as { spec?: { replicas?: number } }).spec?.replicas;
  const actual = (intent.observed as { spec?: { replicas?: number } }).spec?.replicas;
  return wanted !== undefined && wanted !== actual;
}
