import type {
  ControlOutcome, ForeignObject, MeasureRequest, OwnershipRequest, PodControlRequest, PromotionConfirmOutcome, PromotionConfirmRequest, ShardOutcome, ShardsRequest,
  StrategyProbeOutcome, StrategyProbeRequest, TakenMeasurement,
} from '../plan/needs.ts';
import type { Observed, Plan } from '../plan/plan.ts';
import { decide } from './decide.ts';

/**
 * The most decide passes in one reconcile: the plan, then with a measurement, then with orders-off outcomes, then
 * with the confirm-promotion webhook's answer, then with the shard hand-overs' answers, then with the strategy
 * probe's answers, then with what was found under the names of children to create.
 */
export const maxPasses = 7;

/** One effect a plan needs before it is final, as the executor must perform it. */
export type NeededEffect =
  | { readonly kind: 'measure'; readonly request: MeasureRequest }
  | { readonly kind: 'control'; readonly request: PodControlRequest }
  | { readonly kind: 'shards'; readonly request: ShardsRequest }
  | { readonly kind: 'probe'; readonly request: StrategyProbeRequest }
  | { readonly kind: 'confirm'; readonly request: PromotionConfirmRequest }
  | { readonly kind: 'ownership'; readonly request: OwnershipRequest };

/** What the executor hands back for a NeededEffect of the same kind. */
export type EffectResult =
  | { readonly kind: 'measure'; readonly measurement: TakenMeasurement }
  | { readonly kind: 'control'; readonly outcomes: readonly ControlOutcome[] }
  | { readonly kind: 'shards'; readonly outcomes: readonly ShardOutcome[] }
  /** The pods' answers, or `skipped` when the executor probed this engine recently (its status stands). */
  | { readonly kind: 'probe'; readonly outcomes: readonly StrategyProbeOutcome[] | 'skipped' }
  | { readonly kind: 'confirm'; readonly outcome: PromotionConfirmOutcome }
  | { readonly kind: 'ownership'; readonly foreign: readonly ForeignObject[] };

export interface Settled {
  /** The final plan: it needs nothing more. */
  readonly plan: Plan;
  /** Every decide of this reconcile, in order; only the last has no needs. */
  readonly passes: readonly Plan[];
}

/**
 * Decides until the plan is final, as a generator of the effects it needs: decide, and while the plan needs
 * effects, yield one (measure, then control, then shards, then ownership), take its result into Observed and decide
 * again at the same `nowMs`. Every decision stays a pure function of its inputs; the executor (the reconciler over the network, the
 * rollout test world and the rollout benchmark in simulation) only performs effects, through `settle` or
 * `settleSync`. Throws when a plan still needs effects after `maxPasses` decides, or needs an effect that cannot
 * be performed (none of measure, control, confirm, shards, probe and ownership).
 */
export function* settlePasses(start: Observed, nowMs: number, decideOnce: (observed: Observed, nowMs: number) => Plan = decide): Generator<NeededEffect, Settled, EffectResult> {
  let observed = start;
  const passes: Plan[] = [];
  let plan = decideOnce(observed, nowMs);
  passes.push(plan);
  while (plan.needs !== undefined) {
    if (passes.length >= maxPasses) throw new Error(`still needs effects after ${maxPasses} passes: ${JSON.stringify(plan.needs)}`);
    const { measure, control, confirm, shards, probe, ownership } = plan.needs;
    let result: EffectResult;
    if (measure !== undefined) result = yield { kind: 'measure', request: measure };
    else if (control !== undefined) result = yield { kind: 'control', request: control };
    else if (confirm !== undefined) result = yield { kind: 'confirm', request: confirm };
    else if (shards !== undefined) result = yield { kind: 'shards', request: shards };
    else if (probe !== undefined) result = yield { kind: 'probe', request: probe };
    else if (ownership !== undefined) result = yield { kind: 'ownership', request: ownership };
    else throw new Error(`needs an effect that cannot be performed: ${JSON.stringify(plan.needs)}`);
    observed = withResult(observed, result);
    plan = decideOnce(observed, nowMs);
    passes.push(plan);
  }
  return { plan, passes };
}

/** Observed with an effect's result added, for the next decide. */
function withResult(observed: Observed, result: EffectResult): Observed {
  switch (result.kind) {
    case 'measure': return { ...observed, measurement: result.measurement };
    case 'control': return { ...observed, control: result.outcomes };
    case 'shards': return { ...observed, shards: result.outcomes };
    case 'probe': return { ...observed, strategyProbe: result.outcomes };
    case 'confirm': return { ...observed, promotionConfirmation: result.outcome };
    case 'ownership': return { ...observed, foreign: result.foreign };
  }
}

/** `settlePasses` with effects performed asynchronously (the reconciler). */
export async function settle(
  observed: Observed,
  nowMs: number,
  perform: (effect: NeededEffect) => Promise<EffectResult>,
): Promise<Settled> {
  const passes = settlePasses(observed, nowMs);
  let step = passes.next();
  while (step.done !== true) step = passes.next(await perform(step.value));
  return step.value;
}

/** `settlePasses` with effects performed at once (simulations on a manual clock: the rollout test world, bench/rollout.ts). */
export function settleSync(
  observed: Observed,
  nowMs: number,
  perform: (effect: NeededEffect) => EffectResult,
  decideOnce?: (observed: Observed, nowMs: number) => Plan,
): Settled {
  const passes = settlePasses(observed, nowMs, decideOnce);
  let step = passes.next();
  while (step.done !== true) step = passes.next(perform(step.value));
  return step.value;
}
