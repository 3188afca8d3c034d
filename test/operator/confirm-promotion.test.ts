import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRolloutLab, type MutableSpec, type RolloutLab } from '../../cli/commands/rollout-lab.ts';
import { freePort } from '../../cli/lib/processes.ts';
import type { TradingEngine } from '../../operator/api/types.ts';
import { eventually } from '../support/eventually.ts';

/**
 * The confirm-promotion webhook end to end: the operator (configured with NEXUS_CONFIRM_PROMOTION_URL's client) runs
 * against a real API server and real engines, and asks a real local HTTP receiver before it promotes a canary. The
 * receiver is first down (nothing listens), then refuses (409, a change freeze), then confirms: the canary holds at
 * its weight through the first two, with the answers in the status and one Event each, and is promoted after the
 * third.
 */
let lab: RolloutLab | undefined;
let receiver: Server | undefined;
let port = 0;
/** What the receiver answers now. */
let answer = { status: 409, body: 'change freeze until 18:00' };
const asked: unknown[] = [];
const lines: string[] = [];
const tail = (): string => lines.slice(-30).join('\n');
const name = 'approved';

beforeAll(async () => {
  port = await freePort();
  lab = await startRolloutLab({ log: (line) => lines.push(line), confirmPromotionUrl: `http://127.0.0.1:${port}/approve` });
}, 180_000);

afterAll(async () => {
  receiver?.closeAllConnections();
  receiver?.close();
  await lab?.stop();
}, 60_000);

/** The lab's engine with a one-step canary (50 %, no gate: only the webhook can hold the promotion). */
function manifest(image: string): TradingEngine {
  if (lab === undefined) throw new Error('no lab');
  return lab.manifest(name, (spec: MutableSpec) => {
    spec.template.image = image;
    spec.strategy = { type: 'Canary', canary: { steps: [{ setWeight: 50 }], abortScaleDownDelaySeconds: 5 } } as MutableSpec['strategy'];
    delete spec.analysis;
  });
}

describe('the confirm-promotion webhook against a real API server, real engines and a real HTTP receiver', () => {
  it('holds a canary while the receiver is down or refuses, and promotes once it confirms', async () => {
    await lab?.apply(manifest('nexus/engine:v1'));
    const v1 = await eventually(() => lab?.read(name), { until: (e) => e?.status?.phase === 'Healthy', timeoutMs: 90_000, what: 'v1 Healthy (a first revision is not a promotion)', context: tail });
    const stable = v1?.status?.stableRevision ?? '';

    await lab?.apply(manifest('nexus/engine:v2'));
    // Nothing listens on the receiver's port: the promotion waits, saying why.
    const down = await eventually(() => lab?.read(name), {
      until: (e) => e?.status?.promotionConfirmation?.message?.includes('ECONNREFUSED') === true, timeoutMs: 90_000, what: 'waiting on a receiver that is down', context: tail,
    });
    expect(down?.status).toMatchObject({ phase: 'Progressing', stableRevision: stable, promotionConfirmation: { confirmed: false }, canary: { weight: 50 } });
    expect(down?.status?.message).toContain('awaits the confirm-promotion webhook');
    const revision = down?.status?.updateRevision ?? '';

    // The receiver comes up and refuses: the next question (within 5 s) gets its answer into the status.
    receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        asked.push(JSON.parse(body));
        response.statusCode = answer.status;
        response.end(answer.body);
      });
    });
    await new Promise<void>((resolve) => receiver?.listen(port, '127.0.0.1', resolve));
    const refused = await eventually(() => lab?.read(name), {
      until: (e) => e?.status?.promotionConfirmation?.message === 'HTTP 409: change freeze until 18:00', timeoutMs: 30_000, what: 'the refusal recorded', context: tail,
    });
    expect(refused?.status).toMatchObject({ phase: 'Progressing', stableRevision: stable, canary: { weight: 50 } });
    expect(asked[0]).toMatchObject({ engine: { namespace: lab?.namespace, name }, revision, stableRevision: stable, strategy: 'Canary' });

    answer = { status: 200, body: 'CHG-1042 approved' };
    await eventually(() => lab?.read(name), { until: (e) => e?.status?.phase === 'Healthy' && e.status.stableRevision === revision, timeoutMs: 60_000, what: 'v2 promoted', context: tail });
    // The record belongs to the rollout: it goes with it (the promoting reconcile's own status may still show it; the
    // next one has not), and the confirmation stays in the Event.
    const settled = await eventually(() => lab?.read(name), { until: (e) => e?.status?.promotionConfirmation === undefined, timeoutMs: 30_000, what: 'the record gone with the rollout', context: tail });
    expect(settled?.status?.stableRevision).toBe(revision);
    const events = (await lab?.events(name) ?? []).filter((event) => event.reason?.startsWith('Promotion') === true);
    expect(events.map((event) => event.reason).sort()).toEqual(['PromotionConfirmed', 'PromotionNotConfirmed', 'PromotionNotConfirmed']);
    expect(events.find((event) => event.reason === 'PromotionConfirmed')?.message).toContain('CHG-1042 approved');
  }, 300_000);
});
