import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { syntheticTicks } from '../../engine/backtest/strategy-testing.ts';
import { TICK_CSV_HEADER } from '../../engine/sim/tick-csv.ts';
import { parseArgs as parseCommandLine } from 'node:util';
import { helpText, UsageError, type OptionSpec } from '../lib/args.ts';

const options = {
  dir: { type: 'string', help: 'where to create the project directory (default: the current directory)' },
  force: { type: 'boolean', help: 'write into an existing directory, replacing the scaffold\'s files' },
  help: { type: 'boolean', help: 'show this help' },
} satisfies Record<string, OptionSpec>;

export const strategyHelp = helpText(
  'nexus strategy init NAME [--dir PATH] [--force]',
  'Scaffolds a strategy project written on the strategy SDK (docs/strategy-sdk.md): NAME.ts (a trend strategy\n' +
    'confirmed by the RSI, to edit), NAME.test.ts (runs it through the engine\'s pipeline: `npm test`), engine.yaml and\n' +
    'ticks.csv (`npm run backtest`), a Dockerfile that puts it in an engine image, and tradingengine.yaml that runs\n' +
    'it behind a latency-gated canary. The project passes its own test as created.',
  options,
);

export async function strategyCommand(argv: readonly string[]): Promise<number> {
  const [action, ...rest] = argv;
  if (action === undefined || action === '--help' || action === '-h') {
    console.log(strategyHelp);
    return 0;
  }
  if (action !== 'init') throw new UsageError(`unknown action ${JSON.stringify(action)} (known: init)`);
  let parsed: { values: { dir?: string; force?: boolean; help?: boolean }; positionals: string[] };
  try {
    parsed = parseCommandLine({ args: [...rest], options: { dir: { type: 'string' }, force: { type: 'boolean' }, help: { type: 'boolean' } }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (parsed.values.help === true) {
    console.log(strategyHelp);
    return 0;
  }
  const [name, ...extra] = parsed.positionals;
  if (name === undefined) throw new UsageError('a strategy name is required: nexus strategy init NAME');
  if (extra.length > 0) throw new UsageError(`one name only, got also ${extra.join(' ')}`);
  if (!/^[a-z][a-z0-9-]{0,62}$/.test(name)) throw new UsageError(`the name must be lower case letters, digits and dashes, starting with a letter (it names files and a Kubernetes object), got ${JSON.stringify(name)}`);
  const dir = resolve(parsed.values.dir ?? '.', name);
  if (existsSync(dir) && parsed.values.force !== true) throw new UsageError(`${dir} exists: pick another name or --dir, or pass --force to replace the scaffold's files in it`);
  mkdirSync(dir, { recursive: true });
  const files = scaffold(name);
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  console.log(`Created ${dir}: ${Object.keys(files).join(', ')}`);
  console.log(`Next: cd ${dir} && npm install && npm test && npm run backtest`);
  return 0;
}

/** This Nexus installation (the package root, above dist/ when compiled): the scaffold's `nexus-trading` dependency. */
const twoUp = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');
const packageRoot = basename(twoUp) === 'dist' ? dirname(twoUp) : twoUp;

/** The project's files by name. */
export function scaffold(name: string): Record<string, string> {
  const symbols = ['AAPL', 'MSFT', 'NVDA', 'AMZN'];
  const ticks = syntheticTicks({ symbols, trades: 20_000, seed: 7 });
  const csv = [TICK_CSV_HEADER.join(',')];
  for (let i = 0; i < ticks.count; i++) csv.push(`${BigInt(ticks.exchangeTsNs[i])},${symbols[ticks.symbolIndex[i]]},trade,${ticks.price[i].toFixed(6)},${ticks.size[i]}`);
  return {
    'package.json': `${JSON.stringify({
      name, private: true, type: 'module',
      scripts: {
        test: `node --import tsx --test ${name}.test.ts`,
        backtest: 'nexus backtest --config engine.yaml --ticks ticks.csv',
      },
      // The SDK of the Nexus installation that made the project (the package is not on a registry).
      devDependencies: { 'nexus-trading': `file:${packageRoot}`, tsx: '^4.20.0' },
    }, null, 2)}\n`,
    [`${name}.ts`]: strategySource(name),
    [`${name}.test.ts`]: testSource(name),
    'engine.yaml': engineYaml(name, symbols),
    'ticks.csv': `${csv.join('\n')}\n`,
    Dockerfile: dockerfile(name),
    'tradingengine.yaml': tradingEngineYaml(name, symbols),
    'README.md': readme(name),
  };
}

function strategySource(name: string): string {
  return `import { defineStrategy } from 'nexus-trading/strategy';

/**
 * ${name}: trend following confirmed by momentum. Buys when the fast EMA crosses above the slow one while the RSI
 * is above \`buyAbove\`, sells on the opposite cross while it is below \`sellBelow\`; at most one lot either way.
 * Memory per symbol: [0] 1 once a spread has been seen, [1] the previous spread (fast - slow).
 *
 * Hot path rules: onTrade runs for every trade of every symbol; allocate nothing in it, keep memory in ctx.state.
 */
export default defineStrategy({
  description: 'EMA crossover confirmed by the RSI, one lot at most',
  params: {
    buyAbove: { type: 'number', min: 0, max: 100, default: 55, description: 'Buy a bullish cross only above this RSI' },
    sellBelow: { type: 'number', min: 0, max: 100, default: 45, description: 'Sell a bearish cross only below this RSI' },
  },
  indicators: { fast: 'ema', slow: 'ema', rsi: 'rsi' },
  state: 2,
  check: (params) => (params.sellBelow <= params.buyAbove ? undefined : { param: 'sellBelow', message: \`must not be above buyAbove (\${params.buyAbove})\` }),
  onTrade(ctx) {
    const { fast, slow, rsi } = ctx.indicators;
    if (!slow.isStable || !rsi.isStable) return;
    const spread = fast.values[0] - slow.values[0];
    const state = ctx.state;
    const seen = state[0];
    const previous = state[1];
    state[0] = 1;
    state[1] = spread;
    if (seen === 0) return;
    const momentum = rsi.values[0];
    if (previous <= 0 && spread > 0 && ctx.position <= 0 && momentum > ctx.params.buyAbove) ctx.buy();
    else if (previous >= 0 && spread < 0 && ctx.position >= 0 && momentum < ctx.params.sellBelow) ctx.sell();
  },
});
`;
}

function testSource(name: string): string {
  return `import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backtestStrategy, syntheticTicks } from 'nexus-trading/strategy/testing';

// The strategy through the engine's own pipeline (indicators, risk, order encoding), as it runs live.
const indicators = [
  { name: 'ema-12', type: 'ema', params: { period: 12 } },
  { name: 'ema-26', type: 'ema', params: { period: 26 } },
  { name: 'rsi-14', type: 'rsi', params: { period: 14 } },
];
const run = () => backtestStrategy({
  module: new URL('./${name}.ts', import.meta.url),
  indicators,
  bind: ['ema-12', 'ema-26', 'rsi-14'],
  ticks: syntheticTicks({ symbols: ['AAPL', 'MSFT'], trades: 20_000 }),
});

test('trades the trends, holds at most one lot per symbol, never faults', async () => {
  const result = await run();
  assert.ok(result.total.orders > 10, \`only \${result.total.orders} orders\`);
  assert.equal(result.strategyFaults, 0);
  for (const [symbol, book] of Object.entries(result.bySymbol)) assert.ok(Math.abs(book.position) <= 1, \`\${symbol} holds \${book.position}\`);
});

test('decides the same way on every run (byte-identical orders)', async () => {
  assert.equal((await run()).ordersSha256, (await run()).ordersSha256);
});

test('refuses a sell level above the buy level, naming the parameter', async () => {
  await assert.rejects(backtestStrategy({
    module: new URL('./${name}.ts', import.meta.url), indicators, bind: ['ema-12', 'ema-26', 'rsi-14'],
    params: { sellBelow: 90 }, ticks: syntheticTicks({ symbols: ['AAPL'], trades: 10 }),
  }), /strategies\\[0\\]\\.params\\.sellBelow: must not be above buyAbove \\(55\\)/);
});
`;
}

function engineYaml(name: string, symbols: readonly string[]): string {
  return `# For \`npm run backtest\` (nexus backtest): the engine configuration the strategy runs in. The module path is
# relative to this directory; in a pod it is the path in the image (see Dockerfile and tradingengine.yaml).
symbols: [${symbols.join(', ')}]
indicators:
  - {name: ema-12, type: ema, params: {period: 12}}
  - {name: ema-26, type: ema, params: {period: 26}}
  - {name: rsi-14, type: rsi, params: {period: 14}}
strategies:
  - {name: ${name}, module: ./${name}.ts, indicators: [ema-12, ema-26, rsi-14], params: {orderQuantity: 1}}
risk: {maxOrderQty: 100, maxPosition: 1000, maxNotional: 10000000, priceBandBps: 1000, ordersEnabled: true}
zeromq:
  endpoints:
    - {name: md, role: marketData, address: "tcp://127.0.0.1:5555"}
    - {name: orders, role: orders, address: "tcp://127.0.0.1:5556"}
`;
}

function dockerfile(name: string): string {
  return `# ${name} in an engine image: docker build -t registry.example.com/desk/${name}:0.1.0 .
# A new tag is a new revision of your TradingEngine, rolled out through its canary and latency gate.
FROM ghcr.io/nexus-trading/nexus-engine:0.1.0
COPY --chown=65532:65532 ${name}.ts /app/strategies/${name}.ts
`;
}

function tradingEngineYaml(name: string, symbols: readonly string[]): string {
  return `# ${name} on Kubernetes: kubectl apply -f tradingengine.yaml (the image built from the Dockerfile here).
apiVersion: trading.nexus.dev/v1alpha1
kind: TradingEngine
metadata:
  name: ${name}
spec:
  replicas: 2
  template:
    image: registry.example.com/desk/${name}:0.1.0
    resources: {cpu: "1", memory: 512Mi}
  engine:
    symbols: [${symbols.join(', ')}]
    indicators:
      - {name: ema-12, type: ema, params: {period: 12}}
      - {name: ema-26, type: ema, params: {period: 26}}
      - {name: rsi-14, type: rsi, params: {period: 14}}
    strategies:
      - {name: ${name}, module: /app/strategies/${name}.ts, indicators: [ema-12, ema-26, rsi-14], params: {orderQuantity: 10}}
    zeromq:
      endpoints:
        - {name: md, role: marketData, address: "tcp://market-data-gateway:5555"}
        - {name: orders, role: orders, address: "tcp://order-gateway:5556"}
        - {name: control, role: control, bindPort: 5560}
  strategy:
    type: Canary
    canary:
      steps: [{setWeight: 50}, {analysis: {}}, {setWeight: 100}]
  analysis:
    latency: {metric: Decision, quantile: "0.99", thresholdMicros: 2000, interval: 30s, window: 30s}
`;
}

function readme(name: string): string {
  return `# ${name}

A trading strategy written on the Nexus strategy SDK (docs/strategy-sdk.md in the Nexus repository).

- \`${name}.ts\`: the strategy. Its params, indicator roles and memory are declared; it acts through \`ctx\` only.
- \`npm test\`: ${name}.test.ts runs it through the engine's own pipeline (\`nexus-trading/strategy/testing\`).
- \`npm run backtest\`: replays ticks.csv (exchange_ts_ns,symbol,kind,price,size) with engine.yaml and prints orders,
  position and PnL per symbol, and a SHA-256 of the orders (the same input always gives the same orders).
- \`Dockerfile\`: an engine image with the strategy in it; \`tradingengine.yaml\` runs it behind a latency-gated
  canary. Each new image tag is a new revision: a slower version is caught by the gate and rolled back.
`;
}
