import { createServer, type Server } from 'node:net';

/** The port a node agent listens on, at the .1 address of its block, to hold its claim. */
const claimPort = 9079;
/** Blocks tried: 127.0.0.0/24 first, then 127.0.1.0/24 and so on. */
const maxBlocks = 256;

export interface LoopbackBlock {
  /** The first three octets, e.g. `127.0.0`: the block's pod addresses are `${prefix}.2` to `${prefix}.254`. */
  readonly prefix: string;
  /** Gives the block back. */
  release(): Promise<void>;
}

/**
 * Claims a /24 of the loopback range for one node agent's pods. Every address in 127.0.0.0/8 is local on Linux, and
 * each engine pod listens on its own address at fixed ports (metrics, control), so two agents on one machine (test
 * files running in parallel, a demo beside the tests) must not hand out the same addresses. An agent claims a block
 * by listening on the block's .1 address at a fixed port: the kernel refuses a second listener there
 * (EADDRINUSE), so the claim is a lock between processes that ends when the agent stops or its process exits.
 * The first agent gets 127.0.0.0/24.
 */
export async function claimLoopbackBlock(): Promise<LoopbackBlock> {
  for (let block = 0; block < maxBlocks; block++) {
    const prefix = `127.0.${block}`;
    const server = await listen(`${prefix}.1`);
    if (server === undefined) continue;
    server.unref();
    return { prefix, release: () => new Promise((resolve) => server.close(() => resolve())) };
  }
  throw new Error(`no free loopback block: 127.0.0.0/24 to 127.0.${maxBlocks - 1}.0/24 are all claimed (port ${claimPort})`);
}

/** A listener on `host`:claimPort, or undefined when the address is taken. */
function listen(host: string): Promise<Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => (error.code === 'EADDRINUSE' ? resolve(undefined) : reject(error)));
    server.listen(claimPort, host, () => resolve(server));
  });
}
