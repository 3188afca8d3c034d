import type { EngineConfig } from '../config/engine-config.ts';
import { GeneratedTick, RandomWalk } from '../feed/random-walk.ts';
import { RiskEngine } from '../risk/risk-engine.ts';
import { SymbolTable } from '../wire/symbol-id.ts';
import { TickFrameWriter } from '../wire/tick-codec.ts';
import { createIntakeCounters } from './frame-intake.ts';
import { InlinePipeline } from './inline-pipeline.ts';
import { OrderIdSource } from './order.ts';
import { createProcessorCounters } from './tick-processor.ts';

export interface WarmupReport {
  readonly ticks: number;
  readonly orders: number;
  readonly durationMs: number;
}

/**
 * JIT warm-up: runs `config.warmupTicks` synthetic ticks through a scratch pipeline built from the same config
 * (same classes, so V8 optimises the same functions), with its own risk state and a publisher that discards
 * everything. Nothing reaches a socket and the real pipeline's state is untouched; the first real tick then runs
 * optimised code instead of the interpreter.
 */
export function runWarmup(config: EngineConfig, clockNs: () => number): WarmupReport {
  const started = clockNs();
  const symbols = new SymbolTable(config.symbols);
  const processorCounters = createProcessorCounters(config.strategies.length);
  let orders = 0;
  const pipeline = new InlinePipeline({
    config,
    symbols,
    risk: new RiskEngine({ ...config.risk, ordersEnabled: true }, config.symbols.length),
    orderIds: new OrderIdSource(0),
    clockNs,
    intakeCounters: createIntakeCounters(),
    processorCounters,
    publisher: {
      publishOrders: (_frame, count) => {
        orders += count;
      },
      publishSignals: () => undefined,
    },
    recordLatency: () => undefined,
    ordersStreamId: 0,
    signalsStreamId: 1,
  });
  const walk = new RandomWalk({ symbolCount: config.symbols.length, seed: 12345, tradeRatio: 0.8, volatility: 0.002, startPrice: 100 });
  const tick = new GeneratedTick();
  const writer = new TickFrameWriter(64);
  const ids = symbols.ids;
  let sequence = 0;
  let exchangeTs = 1;
  for (let sent = 0; sent < config.warmupTicks; ) {
    writer.begin(1, sequence);
    while (!writer.isFull && sent < config.warmupTicks) {
      walk.next(tick);
      writer.append(ids[tick.symbolIndex], tick.kind, tick.price, tick.size, exchangeTs++, clockNs());
      sent++;
    }
    sequence += writer.count;
    pipeline.processFrame(writer.finishView(clockNs()));
  }
  return { ticks: config.warmupTicks, orders, durationMs: (clockNs() - started) / 1e6 };
}
