import { describe, expect, it } from 'vitest';
import type { LatencySource } from '../api/types.ts';
import type { MeasureTarget } from '../analysis/provider.ts';
import { prometheusHeaders, takeMeasurement, type RolloutEffects } from './rollout-effects.ts';

const source: LatencySource = {
  type: 'Prometheus',
  prometheus: { address: 'http://mimir:8080', timeoutMillis: 1_000, headers: { 'X-Scope-OrgID': 'team-a' }, bearerTokenSecretRef: { name: 'reader', key: 'token' } },
};
const target = (revision: string): MeasureTarget => ({
  namespace: 'trading', engineName: 'alpha', revision, pods: [{ name: `alpha-${revision}-x`, ip: '10.0.0.1' }], metric: 'Decision', quantile: '0.99', windowSeconds: 10, metricsPort: 9100, timeoutMs: 1_000,
});

describe('takeMeasurement and the Prometheus credentials', () => {
  it('sends nothing without the token it needs: both measurements are Errors naming the Secret', async () => {
    const effects: RolloutEffects = {
      providerFor: () => { throw new Error('no provider may be asked without its token'); },
      cut: () => Promise.resolve({ ok: true }),
    };
    const taken = await takeMeasurement(effects, { source, canary: target('b'), stable: target('a') }, { error: 'the bearer token Secret trading/reader does not exist' });
    expect(taken).toEqual({
      revision: 'b',
      canary: { ok: false, error: 'the bearer token Secret trading/reader does not exist' },
      stable: { ok: false, error: 'the bearer token Secret trading/reader does not exist' },
    });
  });

  it('hands the token to the provider, which sends it beside the source headers', async () => {
    const tokens: Array<string | undefined> = [];
    const effects: RolloutEffects = {
      providerFor: (_source, token) => {
        tokens.push(token);
        return { measure: () => Promise.resolve({ ok: true, value: { quantileMicros: 300, samples: 900, podsMeasured: 1 } }) };
      },
      cut: () => Promise.resolve({ ok: true }),
    };
    const taken = await takeMeasurement(effects, { source, canary: target('b') }, { token: 't0ken' });
    expect(taken.canary).toEqual({ ok: true, value: { quantileMicros: 300, samples: 900, podsMeasured: 1 } });
    expect(tokens).toEqual(['t0ken']);
    expect(prometheusHeaders(source, 't0ken')).toEqual({ 'X-Scope-OrgID': 'team-a', authorization: 'Bearer t0ken' });
    expect(prometheusHeaders({ type: 'PodScrape' }, undefined)).toEqual({});
  });
});
