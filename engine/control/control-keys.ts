import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { curveKeyPair } from 'zeromq';
import { ConfigError } from '../config-error.ts';
import { isZ85Key } from './z85.ts';

/**
 * The CURVE key files of the control channel, as the operator's per-TradingEngine Secret holds them (one Z85 key
 * per file, a trailing newline allowed), and as a directory of files named after the Secret's data keys:
 *
 *   server.key  the engine's secret key        (mounted into the engine pod)
 *   server.pub  the engine's public key        (mounted; clients need it)
 *   client.pub  the one client key authorised  (mounted; the operator's public key)
 *   client.key  that client's secret key       (never mounted: only the operator and `nexus ctl` read it)
 */
export const controlKeyFiles = {
  serverSecret: 'server.key',
  serverPublic: 'server.pub',
  clientPublic: 'client.pub',
  clientSecret: 'client.key',
} as const;

/** What the engine's control socket needs to run CURVE and authorise its one client. */
export interface ControlServerKeys {
  readonly serverPublicKey: string;
  readonly serverSecretKey: string;
  readonly clientPublicKey: string;
}

/** What a control client needs: the engine's public key and its own key pair. */
export interface ControlClientKeys {
  readonly serverPublicKey: string;
  readonly clientPublicKey: string;
  readonly clientSecretKey: string;
}

/** A fresh set of control keys (libzmq's CURVE key generator), by file name. */
export function generateControlKeys(): Readonly<Record<string, string>> {
  const server = curveKeyPair();
  const client = curveKeyPair();
  return {
    [controlKeyFiles.serverSecret]: server.secretKey,
    [controlKeyFiles.serverPublic]: server.publicKey,
    [controlKeyFiles.clientPublic]: client.publicKey,
    [controlKeyFiles.clientSecret]: client.secretKey,
  };
}

/** Writes a fresh set of control keys into `dir` (owner-only), for an engine run without the operator. */
export function writeControlKeys(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const [file, key] of Object.entries(generateControlKeys())) writeFileSync(join(dir, file), `${key}\n`, { mode: 0o600 });
}

/** A set of control keys by file name (`generateControlKeys`, a Secret's data decoded), whole or in part. */
export type ControlKeySet = Readonly<Record<string, string>>;

/** The engine side of a key set (a missing key is '', which no socket accepts). */
export function serverKeysOf(keys: ControlKeySet): ControlServerKeys {
  return {
    serverPublicKey: keys[controlKeyFiles.serverPublic] ?? '',
    serverSecretKey: keys[controlKeyFiles.serverSecret] ?? '',
    clientPublicKey: keys[controlKeyFiles.clientPublic] ?? '',
  };
}

/** The client side of a key set (a missing key is '', which no socket accepts). */
export function clientKeysOf(keys: ControlKeySet): ControlClientKeys {
  return {
    serverPublicKey: keys[controlKeyFiles.serverPublic] ?? '',
    clientPublicKey: keys[controlKeyFiles.clientPublic] ?? '',
    clientSecretKey: keys[controlKeyFiles.clientSecret] ?? '',
  };
}

/** The engine side's keys from a directory (the mounted Secret); a clear error naming the file otherwise. */
export function readControlServerKeys(dir: string): ControlServerKeys {
  return serverKeysOf(readKeys(dir, [controlKeyFiles.serverPublic, controlKeyFiles.serverSecret, controlKeyFiles.clientPublic]));
}

/** The client side's keys from a directory (the Secret's `server.pub`, `client.pub`, `client.key`; docs/wire.md). */
export function readControlClientKeys(dir: string): ControlClientKeys {
  return clientKeysOf(readKeys(dir, [controlKeyFiles.serverPublic, controlKeyFiles.clientPublic, controlKeyFiles.clientSecret]));
}

function readKeys(dir: string, files: readonly string[]): ControlKeySet {
  return Object.fromEntries(files.map((file) => [file, readKey(dir, file)]));
}

/** One key file; a ConfigError naming the file (the CLI prints it and exits 2) when it is missing or not a key. */
function readKey(dir: string, file: string): string {
  const path = join(dir, file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, `the control key cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  const key = text.trim();
  if (!isZ85Key(key)) throw new ConfigError(path, 'is not a 40-character Z85 CURVE key');
  return key;
}
