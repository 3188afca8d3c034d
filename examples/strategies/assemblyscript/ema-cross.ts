// EMA crossover as a sandboxed WebAssembly strategy (AssemblyScript): the logic of examples/strategies/ema-cross.ts.
// Build: npm run build:wasm (this file -> build/wasm/strategies/ema-cross.wasm); docs/strategy-sdk.md.
import { buy, indicator, isStable, param, position, sell, setState, state } from '../../../assembly/strategy/sdk';
export { nexusIo, nexusSetup } from '../../../assembly/strategy/sdk';

/** The declarations the engine validates the configuration against, as JSON. */
export function nexusManifest(): string {
  return '{"description":"EMA(fast)/EMA(slow) crossover, one lot at most (WebAssembly)",' +
    '"params":{"minSpread":{"type":"number","min":0,"default":0}},' +
    '"indicators":{"fast":"ema","slow":"ema"},"state":2,"budgetMicros":1000}';
}

export function onTrade(): void {
  if (!isStable(0) || !isStable(1)) return;
  const spread = indicator(0) - indicator(1);
  const seen = state(0);
  const previous = state(1);
  setState(0, 1);
  setState(1, spread);
  if (seen == 0) return;
  const band = param(0);
  if (previous <= band && spread > band && position() <= 0) buy();
  else if (previous >= -band && spread < -band && position() >= 0) sell();
}
