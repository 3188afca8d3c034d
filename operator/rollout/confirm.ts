import { summarizeMeasurement } from '../api/measurement-summary.ts';
import type { PromotionConfirmation } from '../api/types.ts';
import type { PromotionConfirmRequest } from '../plan/needs.ts';
import type { EventIntent } from '../plan/plan.ts';
import type { RolloutInput, RolloutPlan } from './types.ts';

/** How long after an answer that was not a confirmation the webhook is asked again. */
export const confirmRetryMs = 5_000;

/** The step's verdict: promote now, ask the webhook first, or keep waiting (the rollout holds where it is). */
export type ConfirmStep =
  | { readonly kind: 'confirmed'; readonly status?: PromotionConfirmation; readonly events: readonly EventIntent[] }
  | { readonly kind: 'ask'; readonly request: PromotionConfirmRequest }
  | { readonly kind: 'waiting'; readonly status: PromotionConfirmation; readonly hold: string; readonly dueMs: number; readonly events: readonly EventIntent[] };

/**
 * Whether this revision's promotion was confirmed earlier in this rollout attempt: the status records it AND the
 * operator itself saw the webhook confirm it (input.confirmedRevision, from its memory). The status alone is not
 * enough: whoever may patch the status subresource (the `nexus rollout` users) could write it.
 */
export function confirmedBefore(input: RolloutInput): boolean {
  if (input.confirmPromotion !== true) return true;
  const record = input.engine.status?.promotionConfirmation;
  return record?.revision === input.revision && record.confirmed === true && input.confirmedRevision === input.revision;
}

/**
 * The confirm-promotion gate, one pure step: before `input.revision` becomes stable (a canary's promotion, a
 * blue-green switch of the active Service), the change-management system behind the webhook must confirm it.
 *
 * - No webhook configured (input.confirmPromotion not true): confirmed, nothing recorded.
 * - Confirmed before in this attempt (`confirmedBefore`): confirmed; the webhook is asked once per attempt, not
 *   again while the promotion scales up over several reconciles. After an operator restart (its memory gone) or
 *   with a record it did not make, it asks again.
 * - This reconcile's answer (input.promotionConfirmation) is a 2xx: confirmed, recorded, PromotionConfirmed Event.
 * - Any other answer (a non-2xx status, a redirect, a timeout, a refused connection): waiting, recorded with the
 *   answer, asked again `confirmRetryMs` after; a PromotionNotConfirmed Event only when the kind of answer changes
 *   (its HTTP status, or why there was none), so a receiver that stays down, or puts a request id in each refusal,
 *   is one Event, not one every few seconds.
 * - No answer yet, or the last refusal is `confirmRetryMs` old: ask.
 * Waiting has no deadline: the rollout holds until the webhook confirms or a person (or the latency gate, which
 * keeps watching a canary) aborts it. A `nexus rollout promote` request waits too: the webhook is the authority on
 * promotions once configured. An abort forgets the confirmation, so a retry asks again.
 */
export function confirmStep(input: RolloutInput, strategy: PromotionConfirmRequest['strategy']): ConfirmStep {
  const { engine, revision, stableRevision, nowMs } = input;
  if (input.confirmPromotion !== true) return { kind: 'confirmed', events: [] };
  const recorded = engine.status?.promotionConfirmation?.revision === revision ? engine.status.promotionConfirmation : undefined;
  if (confirmedBefore(input)) return { kind: 'confirmed', ...(recorded === undefined ? {} : { status: recorded }), events: [] };
  // A confirmation this operator did not see (a restart, or a record written by someone else) counts for nothing.
  const previous = recorded?.confirmed === true ? undefined : recorded;
  const now = new Date(nowMs).toISOString();
  const answer = input.promotionConfirmation;
  if (answer !== undefined) {
    const status: PromotionConfirmation = { revision, confirmed: answer.confirmed, checkedAt: now, message: answer.message };
    if (answer.confirmed) {
      return { kind: 'confirmed', status, events: [{ type: 'Normal', reason: 'PromotionConfirmed', message: `Promotion of revision ${revision} confirmed by the confirm-promotion webhook: ${answer.message}` }] };
    }
    const changed = previous?.message === undefined || answerKind(previous.message) !== answerKind(answer.message);
    return {
      kind: 'waiting', status, hold: waitingFor(revision, answer.message), dueMs: nowMs + confirmRetryMs,
      events: changed ? [{ type: 'Warning', reason: 'PromotionNotConfirmed', message: `Promotion of revision ${revision} waits: the confirm-promotion webhook did not confirm it (${answer.message}); asking again every ${confirmRetryMs / 1000} s` }] : [],
    };
  }
  const askedMs = previous?.checkedAt === undefined ? Number.NaN : Date.parse(previous.checkedAt);
  if (previous !== undefined && nowMs < askedMs + confirmRetryMs) {
    return { kind: 'waiting', status: previous, hold: waitingFor(revision, previous.message ?? ''), dueMs: askedMs + confirmRetryMs, events: [] };
  }
  const last = engine.status?.analysis?.revision === revision ? engine.status.analysis.lastMeasurement : undefined;
  const measurement = last === undefined ? undefined : { ...(last.time === undefined ? {} : { time: last.time }), ...summarizeMeasurement(last) };
  return {
    kind: 'ask',
    request: {
      engine: { namespace: engine.metadata.namespace ?? '', name: engine.metadata.name ?? '' }, revision, stableRevision, strategy,
      ...(measurement === undefined ? {} : { measurement }),
    },
  };
}

/** The plan that is not final yet: it asks the webhook, and decide runs again with the answer. */
export function askingPlan(stableRevision: string, request: PromotionConfirmRequest): RolloutPlan {
  return {
    replicas: new Map(), stableRevision, status: {}, phase: 'Progressing', events: [], needs: { confirm: request },
    progressing: { type: 'Progressing', status: 'True', reason: 'RolloutProgressing', message: `asking the confirm-promotion webhook about ${request.revision}` },
  };
}

/** What kind of answer a message records: `HTTP 409`, or why there was none (`no answer: timed out`). */
function answerKind(message: string): string {
  return /^HTTP \d{3}/.exec(message)?.[0] ?? /^no answer: [a-z ]+?(?= after|:|$)/.exec(message)?.[0] ?? message;
}

function waitingFor(revision: string, message: string): string {
  return `promotion of ${revision} awaits the confirm-promotion webhook (last answer: ${message})`;
}
