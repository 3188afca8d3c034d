import { ConfigError } from '../config-error.ts';

/**
 * Small typed readers for untrusted configuration objects. Each throws a ConfigError naming the exact field
 * path, so a user sees `pipeline.workers: must be an integer between 1 and 64, got 0` and nothing else.
 */
export type RawObject = Readonly<Record<string, unknown>>;

export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

export function asObject(value: unknown, path: string): RawObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(path, `must be an object, got ${describe(value)}`);
  }
  return value as RawObject;
}

export function optionalObject(parent: RawObject, key: string, path: string): RawObject {
  const value = parent[key];
  return value === undefined ? {} : asObject(value, `${path}.${key}`);
}

export function asArray(value: unknown, path: string): readonly unknown[] {
  if (!Array.isArray(value)) throw new ConfigError(path, `must be a list, got ${describe(value)}`);
  return value;
}

/** Rejects keys the schema does not know, so a typo never silently falls back to a default. */
export function rejectUnknownKeys(object: RawObject, known: readonly string[], path: string): void {
  for (const key of Object.keys(object)) {
    if (!known.includes(key)) {
      throw new ConfigError(path === '' ? key : `${path}.${key}`, `unknown field (known: ${known.join(', ')})`);
    }
  }
}

export function readString(object: RawObject, key: string, path: string, fallback?: string): string {
  const value = object[key];
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'string' || value.length === 0) {
    throw new ConfigError(join(path, key), `must be a non-empty string, got ${describe(value)}`);
  }
  return value;
}

export function readOptionalString(object: RawObject, key: string, path: string): string | undefined {
  return object[key] === undefined ? undefined : readString(object, key, path);
}

export function readInteger(
  object: RawObject,
  key: string,
  path: string,
  bounds: { min: number; max: number; fallback?: number },
): number {
  const value = object[key];
  if (value === undefined && bounds.fallback !== undefined) return bounds.fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < bounds.min || value > bounds.max) {
    throw new ConfigError(
      join(path, key),
      `must be an integer between ${bounds.min} and ${bounds.max}, got ${describe(value)}`,
    );
  }
  return value;
}

export function readEnum<T extends string>(
  object: RawObject,
  key: string,
  path: string,
  allowed: readonly T[],
  fallback: T,
): T {
  const value = object[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(join(path, key), `must be one of ${allowed.join(', ')}, got ${describe(value)}`);
  }
  return value as T;
}

export function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}
