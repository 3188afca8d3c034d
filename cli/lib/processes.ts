import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/**
 * The `nexus` executable (bin/nexus.mjs), so local processes (demo, bench, tests) start exactly what a user runs.
 * It registers tsx itself, so it works from any working directory.
 */
export const nexusBin = fileURLToPath(new URL('../../bin/nexus.mjs', import.meta.url));

/** Starts `nexus <args>` as a child process; stdout/stderr are piped to the caller. */
export function spawnNexus(args: readonly string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  return spawn(process.execPath, [nexusBin, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A TCP port that was free on 127.0.0.1 a moment ago (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Resolves with the first line of `stream` (stdout by default) matching `pattern`; rejects if the process exits or
 * `timeoutMs` passes.
 */
export function waitForLine(
  child: ChildProcess,
  pattern: RegExp,
  timeoutMs: number,
  stream: 'stdout' | 'stderr' = 'stdout',
): Promise<string> {
  const source = stream === 'stdout' ? child.stdout : child.stderr;
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs} ms waiting for ${pattern}`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      const line = lines.find((candidate) => pattern.test(candidate));
      if (line !== undefined) finish(undefined, line);
    };
    const onExit = (code: number | null): void => finish(new Error(`process exited (code ${code}) before printing ${pattern}`));
    function finish(error: Error | undefined, line?: string): void {
      clearTimeout(timer);
      source?.off('data', onData);
      child.off('exit', onExit);
      if (error !== undefined) reject(error);
      else resolve(line ?? '');
    }
    source?.on('data', onData);
    child.once('exit', onExit);
  });
}

/** Resolves with the exit code once the child exits; SIGKILLs it if it has not exited after `timeoutMs`. */
export function waitForExit(child: ChildProcess, timeoutMs: number): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}
