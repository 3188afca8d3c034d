import type { DefaultsNode } from './generate.ts';
import { specDefaults, type TradingEngineSpec } from './generated.ts';

/**
 * Applies the CRD's schema defaults to a spec exactly as the API server does: a missing property with a default
 * gets a deep copy of it, then defaulting continues inside it (so `risk: {}` gains every risk default); present
 * values are never changed; array items and map values are defaulted one by one. Pure: returns a new object.
 * The defaults come from crds/tradingengine.yaml through the generated `specDefaults`, so they cannot drift.
 */
export function applySpecDefaults(spec: unknown): TradingEngineSpec {
  return applyDefaults(spec, specDefaults) as TradingEngineSpec;
}

export function applyDefaults(value: unknown, node: DefaultsNode): unknown {
  if (Array.isArray(value)) {
    const items = node.items;
    return items === undefined ? value.slice() : value.map((item: unknown) => applyDefaults(item, items));
  }
  if (value === null || typeof value !== 'object') return value;
  const source = value as Record<string, unknown>;
  const out: Record<string, unknown> = { ...source };
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    if (out[key] === undefined && child.default !== undefined) out[key] = structuredClone(child.default);
    if (out[key] !== undefined) out[key] = applyDefaults(out[key], child);
  }
  const mapValues = node.additionalProperties;
  if (mapValues !== undefined) {
    for (const key of Object.keys(out)) {
      if (node.properties?.[key] === undefined) out[key] = applyDefaults(out[key], mapValues);
    }
  }
  return out;
}
