import type { ParamSchema, ParamValues, StrategyDefinition } from './sdk.ts';

/**
 * A configured strategy: a definition written on the SDK (built in, or a user's module), its validated params and
 * the indicators bound to its roles. The tick processor runs it per symbol through one context
 * (strategy-context.ts); nothing here changes after construction.
 *
 *   indicators (per symbol) --roles--> definition.onTrade(context) --buy/sell--> ownership --> risk --> order
 */
export type { IndicatorReader } from './sdk.ts';

/** The strategy types built into the engine, each written on the SDK (engine/strategy/*.ts). */
export const strategyTypes = ['macdCross', 'rsiReversion', 'bollingerBreakout', 'probe'] as const;
export type StrategyType = (typeof strategyTypes)[number];

/** Where a configured strategy comes from, as messages, logs and the control Status name it. */
export function strategyOrigin(spec: { readonly type?: string; readonly module?: string }): string {
  return spec.module === undefined ? spec.type ?? '' : `module ${spec.module}`;
}

export interface ConfiguredStrategy {
  /** The configured strategy name (metric label `strategy`). */
  readonly name: string;
  /** Where it comes from, for messages: a built-in type (`macdCross`) or `module /path/to/file.mjs`. */
  readonly origin: string;
  readonly definition: StrategyDefinition;
  readonly params: ParamValues<ParamSchema>;
  /** Its roles, in declaration order, and the configured indicator bound to each. */
  readonly roles: readonly string[];
  readonly indicatorNames: readonly string[];
  /** Numbers of memory per symbol and shared by all symbols. */
  readonly stateSize: number;
  readonly sharedSize: number;
}
