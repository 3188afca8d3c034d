import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../config-error.ts';
import { readControlClientKeys, readControlServerKeys, writeControlKeys } from './control-keys.ts';

describe('control key files', () => {
  it('reads back what was written: the server side without the client secret key, the client side without the server secret key', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'nexus-keys-')), 'keys');
    writeControlKeys(dir);
    const server = readControlServerKeys(dir);
    const client = readControlClientKeys(dir);
    expect(client.serverPublicKey).toBe(server.serverPublicKey);
    expect(client.clientPublicKey).toBe(server.clientPublicKey);
    expect(Object.keys(server).sort()).toEqual(['clientPublicKey', 'serverPublicKey', 'serverSecretKey']);
    expect(Object.keys(client).sort()).toEqual(['clientPublicKey', 'clientSecretKey', 'serverPublicKey']);
  });

  it('names the file of a missing or malformed key (a ConfigError, which the CLI prints and exits 2 on)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nexus-keys-'));
    expect(() => readControlServerKeys(dir)).toThrow(new ConfigError(join(dir, 'server.pub'), 'the control key cannot be read (ENOENT)'));
    writeControlKeys(dir);
    writeFileSync(join(dir, 'client.pub'), 'not-a-key\n');
    expect(() => readControlServerKeys(dir)).toThrow(new ConfigError(join(dir, 'client.pub'), 'is not a 40-character Z85 CURVE key'));
  });
});
