import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrometheusProvider } from './prometheus.ts';
import type { MeasureTarget } from './provider.ts';

/**
 * A Prometheus source on https with a private CA (caConfigMapRef), against a real TLS server: the provider trusts
 * the bundle it is given, and nothing else, and a bundle that is not PEM is a clear error. The certificates are
 * made with openssl (as the test control plane's are) in a temporary directory.
 */
let dir = '';
let server: Server | undefined;
let address = '';
let ca = '';
let otherCa = '';
const queries: string[] = [];

const target: MeasureTarget = {
  metric: 'Decision', namespace: 'prod', engineName: 'eng', revision: '7f9c', pods: [{ name: 'eng-7f9c-a', ip: '10.0.0.1' }],
  quantile: '0.99', windowSeconds: 60, metricsPort: 9100, timeoutMs: 3_000,
};

function openssl(args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nexus-tls-'));
  for (const name of ['ca', 'other-ca']) {
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-subj', `/CN=nexus-${name}`, '-days', '2']);
  }
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=prometheus']);
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'server.ext']);
  ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
  otherCa = readFileSync(join(dir, 'other-ca.crt'), 'utf8');
  // Answers every instant query with one value, as Prometheus does for a sum over series that exist.
  server = createServer({ cert: readFileSync(join(dir, 'server.crt')), key: readFileSync(join(dir, 'server.key')) }, (request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      queries.push(new URLSearchParams(body).get('query') ?? '');
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [1_765_000_000, '412'] }] } }));
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  address = `https://127.0.0.1:${(server?.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe('a Prometheus source on https with a private CA bundle', () => {
  it('measures through a server whose certificate the bundle signed', async () => {
    const measured = await createPrometheusProvider({ address, caBundle: ca }).measure(target);
    expect(measured).toEqual({ ok: true, value: { quantileMicros: 412, samples: 412, podsMeasured: 1 } });
    expect(queries.some((query) => query.startsWith('histogram_quantile(0.99'))).toBe(true);
  });

  it('refuses the same server without the bundle (the public roots do not know the CA) and with another CA', async () => {
    const without = await createPrometheusProvider({ address }).measure(target);
    expect(without.ok).toBe(false);
    expect(without.ok ? '' : without.error).toMatch(/certificate/);
    const wrong = await createPrometheusProvider({ address, caBundle: otherCa }).measure(target);
    expect(wrong.ok).toBe(false);
    expect(wrong.ok ? '' : wrong.error).toMatch(/certificate/);
  });

  it('makes a bundle that holds no certificate, or a broken one, an Error naming the revision and the cause', async () => {
    expect(await createPrometheusProvider({ address, caBundle: 'not a certificate' }).measure(target))
      .toEqual({ ok: false, error: 'revision 7f9c of prod/eng: the CA bundle holds no PEM certificate (-----BEGIN CERTIFICATE-----)' });
    const broken = await createPrometheusProvider({ address, caBundle: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----' }).measure(target);
    expect(broken.ok ? '' : broken.error).toMatch(/^revision 7f9c of prod\/eng: certificate 1 of the CA bundle does not parse: /);
  });
});
