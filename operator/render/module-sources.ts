import { createHash } from 'node:crypto';
import type { ModuleConfigMapRef } from '../api/types.ts';

/**
 * Strategy modules kept in ConfigMaps (`spec.engine.strategies[].moduleConfigMap`; docs/strategy-sdk.md): their
 * sources as the operator read them, and where each lands in a revision.
 *
 * A source is copied into the revision's own immutable ConfigMap under a file name carrying a hash of its content,
 * and the engine configuration names that file (relative to the configuration, which the engine resolves against
 * its own directory). So the revision hash covers the source, a new source is a new revision that goes through the
 * canary, and the pods of a revision keep exactly the code they started with, whatever later happens to the user's
 * ConfigMap. TypeScript is written as `.mts` and JavaScript as `.mjs`: ES modules wherever they are mounted.
 * A WebAssembly module (a `.wasm` key) comes from the ConfigMap's binaryData and goes to the revision's binaryData,
 * kept as the API server gives it (base64), so it is hashed and copied byte for byte.
 */

/**
 * Sources by `configMapName/key`, read from the engine's namespace; a reference not in it is missing. A `.wasm`
 * key's value is its binaryData, base64; every other key's is its data, text.
 */
export type ModuleSources = ReadonlyMap<string, string>;

/** The label a ConfigMap needs for the operator to watch it (and so to see it at all). */
export const strategyModuleLabel = 'trading.nexus.dev/strategy-module';

export const noModuleSources: ModuleSources = new Map();

export function moduleSourceKey(ref: ModuleConfigMapRef): string {
  return `${ref.name}/${ref.key}`;
}

/**
 * The file name of strategy `strategy`'s module source in the revision: `strategy-<name>-<12 hex>.mts` (or `.mjs`
 * for JavaScript), the hex a SHA-256 of the reference (ConfigMap and key) and the source, so a copy names exactly
 * what it was made from. Without the source (validation before it is read) the hash part is `unread`.
 */
export function moduleFileName(strategy: string, ref: ModuleConfigMapRef, source: string | undefined): string {
  const hash = source === undefined ? 'unread' : createHash('sha256').update(`${ref.name}/${ref.key}\u0000${source}`).digest('hex').slice(0, 12);
  const extension = isWasmKey(ref.key) ? 'wasm' : /\.m?ts$/.test(ref.key) ? 'mts' : 'mjs';
  return `strategy-${strategy}-${hash}.${extension}`;
}

/** A key (or file name) that holds a WebAssembly module: it lives in binaryData, base64. */
export function isWasmKey(key: string): boolean {
  return key.endsWith('.wasm');
}

/**
 * The module entries of a ConfigMap, `key -> value` as ModuleSources keeps them: its data's text keys and its
 * binaryData's `.wasm` keys (a `.wasm` key in data, or a text key in binaryData, is not a module and is left out).
 */
export function moduleEntries(configMap: { readonly data?: Readonly<Record<string, string>>; readonly binaryData?: Readonly<Record<string, string>> }): Array<[string, string]> {
  return [
    ...Object.entries(configMap.data ?? {}).filter(([key]) => !isWasmKey(key)),
    ...Object.entries(configMap.binaryData ?? {}).filter(([key]) => isWasmKey(key)),
  ];
}
