import { X509Certificate } from 'node:crypto';
import { Agent, fetch as undiciFetch } from 'undici';

/**
 * A fetch that trusts the certificate authorities of one PEM bundle (a Prometheus source's caConfigMapRef) instead
 * of the public roots, for an https server whose certificate a private CA signed.
 *
 * Node's global fetch takes no CA option. undici (the library that global fetch is built on, here as a direct
 * dependency) does, through an Agent's TLS `connect` options; its own fetch is used with its own Agent, never
 * mixed with the global fetch's bundled copy, whose dispatcher interface differs between versions.
 *
 * Guarantees: `trustedFetch` checks the bundle first and throws a clear error when it holds no PEM certificate
 * or one that does not parse (the caller reports it as the measurement's Error). One Agent (a connection pool)
 * per distinct bundle is kept, at most `maxAgents`, least recently used first out; an evicted Agent is closed a
 * minute later, once a measurement that still holds it is long done, so rotating bundles never leak connections
 * and never cut a query short.
 */
const maxAgents = 16;
const closeEvictedAfterMs = 60_000;
const agents = new Map<string, { readonly agent: Agent; readonly fetch: typeof fetch }>();

export function trustedFetch(caBundle: string): typeof fetch {
  const known = agents.get(caBundle);
  if (known !== undefined) {
    // Most recently used last: a Map keeps insertion order.
    agents.delete(caBundle);
    agents.set(caBundle, known);
    return known.fetch;
  }
  checkBundle(caBundle);
  const agent = new Agent({ connect: { ca: caBundle } });
  // undici's fetch and Response match the web ones the provider uses (headers, status, a readable body).
  const bound = ((input: Parameters<typeof fetch>[0], init?: RequestInit) =>
    undiciFetch(input as Parameters<typeof undiciFetch>[0], { ...(init as Parameters<typeof undiciFetch>[1]), dispatcher: agent })) as unknown as typeof fetch;
  agents.set(caBundle, { agent, fetch: bound });
  while (agents.size > maxAgents) {
    const [oldest, entry] = agents.entries().next().value as [string, { agent: Agent }];
    agents.delete(oldest);
    setTimeout(() => void entry.agent.close().catch(() => undefined), closeEvictedAfterMs).unref();
  }
  return bound;
}

/** Throws unless `bundle` holds at least one PEM certificate and every one of them parses. */
function checkBundle(bundle: string): void {
  const blocks = bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new Error('the CA bundle holds no PEM certificate (-----BEGIN CERTIFICATE-----)');
  blocks.forEach((block, i) => {
    try {
      new X509Certificate(block);
    } catch (error) {
      throw new Error(`certificate ${i + 1} of the CA bundle does not parse: ${(error as Error).message}`);
    }
  });
}
