import { describe, expect, it } from 'vitest';
import type { LatencySource } from '../api/types.ts';
import type { MeasureTarget } from '../analysis/provider.ts';
import { handOverShards, prometheusHeaders, takeMeasurement, type RolloutEffects, type SourceCredentials } from './rollout-effects.ts';

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
      setOwnership: () => Promise.resolve({ ok: true }),
      strategies: () => Promise.resolve({ ok: true, strategies: [] }),
    };
    const taken = await takeMeasurement(effects, { source, canary: target('b'), stable: target('a') }, { error: 'the bearer token Secret trading/reader does not exist' });
    expect(taken).toEqual({
      revision: 'b',
      canary: { ok: false, error: 'the bearer token Secret trading/reader does not exist' },
      stable: { ok: false, error: 'the bearer token Secret trading/reader does not exist' },
    });
  });

  it('hands the token and the CA bundle to the provider, which sends the token beside the source headers', async () => {
    const tokens: Array<SourceCredentials | undefined> = [];
    const effects: RolloutEffects = {
      providerFor: (_source, credentials) => {
        tokens.push(credentials);
        return { measure: () => Promise.resolve({ ok: true, value: { quantileMicros: 300, samples: 900, podsMeasured: 1 } }) };
      },
      cut: () => Promise.resolve({ ok: true }),
      setOwnership: () => Promise.resolve({ ok: true }),
      strategies: () => Promise.resolve({ ok: true, strategies: [] }),
    };
    const taken = await takeMeasurement(effects, { source, canary: target('b') }, { token: 't0ken', caBundle: '-----BEGIN CERTIFICATE-----...' });
    expect(taken.canary).toEqual({ ok: true, value: { quantileMicros: 300, samples: 900, podsMeasured: 1 } });
    expect(tokens).toEqual([{ token: 't0ken', caBundle: '-----BEGIN CERTIFICATE-----...' }]);
    expect(prometheusHeaders(source, 't0ken')).toEqual({ 'X-Scope-OrgID': 'team-a', authorization: 'Bearer t0ken' });
    expect(prometheusHeaders({ type: 'PodScrape' }, undefined)).toEqual({});
  });
});

describe('handOverShards', () => {
  const command = { pod: 'alpha-b-0', address: 'tcp://10.0.0.1:5560', shards: [{ shard: 1, epoch: 2, symbols: ['AAPL'], positions: { AAPL: 5 } }], releasing: [], acquiring: [1] };

  it('reports every command unanswered without the control keys, and sends nothing', async () => {
    const effects: RolloutEffects = {
      providerFor: () => { throw new Error('unused'); },
      cut: () => Promise.reject(new Error('unused')),
      setOwnership: () => Promise.reject(new Error('nothing may be sent without keys')),
      strategies: () => Promise.reject(new Error('nothing may be sent without keys')),
    };
    expect(await handOverShards(effects, { commands: [command], timeoutMs: 7_000 }, undefined)).toEqual([
      { pod: 'alpha-b-0', ok: false, micros: 0, error: 'no control keys: the control Secret is missing or invalid' },
    ]);
  });

  it('sends each pod its shards and reports its answer with the round trip', async () => {
    const sent: unknown[] = [];
    const effects: RolloutEffects = {
      providerFor: () => { throw new Error('unused'); },
      cut: () => Promise.reject(new Error('unused')),
      setOwnership: (address, _keys, shards) => {
        sent.push({ address, shards });
        return Promise.resolve({ ok: true, released: [] });
      },
      strategies: () => Promise.reject(new Error('unused')),
    };
    const keys = { serverPublicKey: 's', clientPublicKey: 'c', clientSecretKey: 'k' };
    const [outcome] = await handOverShards(effects, { commands: [command], timeoutMs: 7_000 }, keys);
    expect(sent).toEqual([{ address: 'tcp://10.0.0.1:5560', shards: command.shards }]);
    expect(outcome).toMatchObject({ pod: 'alpha-b-0', ok: true, released: [] });
    expect(outcome.micros).toBeGreaterThanOrEqual(0);
  });
});
