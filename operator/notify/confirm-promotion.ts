import { readBoundedBody } from '../analysis/bounded-body.ts';
import { describeFetchError } from '../analysis/pod-scrape.ts';
import type { PromotionConfirmOutcome, PromotionConfirmRequest } from '../plan/needs.ts';

/**
 * The confirm-promotion webhook: before a revision becomes stable, the operator POSTs the question to one URL (a
 * change-management system, an approval bot) and promotes only on a 2xx answer.
 *
 *   POST <url>  {"engine":{"namespace","name"},"revision","stableRevision","strategy","measurement"?,"time"}
 *     2xx                          -> confirmed
 *     other status (3xx included)  -> not confirmed: "HTTP 403: <the body's first 200 characters>" (redirects are not followed)
 *     no answer within timeoutMs   -> not confirmed: "no answer: timed out after 5000 ms"
 *     refused, DNS, TLS ...        -> not confirmed: "no answer: fetch failed: connect ECONNREFUSED ..."
 *
 * Guarantees: `confirm` never throws and never rejects; it takes at most timeoutMs (the body read included) and
 * reads at most 4 KiB of the answer, so a hostile receiver costs the reconcile that much and no more. The token is
 * sent as a bearer token and never appears in a message. Whether and when to ask is the rollout's decision
 * (operator/rollout/confirm.ts); this module only asks.
 */
export interface PromotionConfirmerOptions {
  readonly url: string;
  /** Sent as `Authorization: Bearer <token>` when given. */
  readonly token?: string;
  /** One POST's limit (connect, send, answer). Default 5000 ms. */
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
  /** The wall clock for the body's `time` (default Date.now). */
  readonly nowMs?: () => number;
}

/** The answer's bytes read at most. */
const maxAnswerBytes = 4_096;
/** The answer's characters quoted in the message at most. */
const quotedChars = 200;

export type PromotionConfirmer = (request: PromotionConfirmRequest) => Promise<PromotionConfirmOutcome>;

export function createPromotionConfirmer(options: PromotionConfirmerOptions): PromotionConfirmer {
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const nowMs = options.nowMs ?? Date.now;
  return async (request) => {
    try {
      const response = await fetchImpl(options.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
        },
        body: JSON.stringify({ ...request, time: new Date(nowMs()).toISOString() }),
        signal: AbortSignal.timeout(timeoutMs),
        // A redirect is not an answer: followed, a 302 to a login page that answers 200 would read as a yes.
        redirect: 'manual',
      });
      const body = await readBoundedBody(response, maxAnswerBytes);
      const said = body.ok ? oneLine(body.text) : body.error;
      const redirect = response.status >= 300 && response.status < 400 ? ' (a redirect is not a confirmation)' : '';
      const message = `HTTP ${response.status}${redirect}${said === '' ? '' : `: ${said}`}`;
      return { confirmed: response.status >= 200 && response.status < 300, message };
    } catch (error) {
      return { confirmed: false, message: `no answer: ${describeFetchError(error, timeoutMs)}` };
    }
  };
}

/** The answer's text on one line, quoted at most `quotedChars` long. */
function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= quotedChars ? flat : `${flat.slice(0, quotedChars)}...`;
}
