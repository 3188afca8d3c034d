import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { monoNowNs } from '../clock/monotonic.ts';
import { probeConfig } from '../../test/support/engine-config.ts';
import { BusySpinWaitStrategy } from '../ring/wait-strategy.ts';
import { SpscRing } from '../ring/spsc-ring.ts';
import { createScanArrays } from '../scans/bar-scanner.ts';
import { loadStrategyModules } from '../strategy/strategy-modules.ts';
import { TickKind } from '../wire/layout.ts';
import { OrderIdSource } from './order.ts';
import { ShardWorker } from './shard-worker.ts';
import { PipelineControl } from './worker-control.ts';
import { WorkerCounters } from './worker-counters.ts';
import { DenyReason } from '../risk/risk-engine.ts';
import { BAR_RECORD, OUTPUT_SLOT_BYTES, OutputField, OutputRecord, TICK_SLOT_BYTES, writeTickSlot } from './worker-slots.ts';

const SYMBOLS = ['S0', 'S1', 'S2', 'S3'];

/**
 * Worker 1 of a workers layout of 2 (symbols S1 and S3), in this thread, running `strategies` (modules, loaded
 * here) with scans, so with bar records: its rings, its counters and the cells where it counts bar records run.
 */
async function secondOfTwoShards(strategies: ReadonlyArray<{ readonly name: string; readonly module: string }>): Promise<{
  shard: ShardWorker; input: SpscRing; output: SpscRing; counters: WorkerCounters; acks: Int32Array;
}> {
  await loadStrategyModules(strategies);
  const config = probeConfig({
    symbols: SYMBOLS, indicators: [], strategies, scans: { barIntervalMs: 1000, panelBars: 16 }, pipeline: { layout: 'workers', workers: 2 },
  });
  const spin = new BusySpinWaitStrategy();
  const input = SpscRing.create({ capacity: 64, slotBytes: TICK_SLOT_BYTES, overflow: 'drop', waitStrategy: spin });
  const output = SpscRing.create({ capacity: 256, slotBytes: OUTPUT_SLOT_BYTES, overflow: 'block', waitStrategy: spin });
  const counters = new WorkerCounters(strategies.length);
  const acks = new Int32Array(new SharedArrayBuffer(8));
  const slots = [0, 1].map(() => createScanArrays(SYMBOLS.length, 0, undefined, true));
  const shard = new ShardWorker({
    config, input, output, control: PipelineControl.create(true, false), counters, orderIds: new OrderIdSource(0), clockNs: monoNowNs,
    heapGuard: false, bars: { results: { slots, names: [], correlationSymbols: 0 }, workerIndex: 1, workers: 2, acks },
  });
  return { shard, input, output, counters, acks };
}

describe('ShardWorker: onBar in the workers layout', () => {
  it('runs a bar record in order with its ticks, decides for its own symbols only, and counts the record run', async () => {
    // Worker 1 of 2 holds S1 and S3. A JavaScript module that checks ctx.handles, and a WebAssembly one that asks to
    // sell every symbol it does not handle (NaN positionOf: its SDK's handles).
    const strategies = [
      { name: 'leader', module: fileURLToPath(new URL('../strategy/fixtures/bar-every-handled.mjs', import.meta.url)) },
      { name: 'shard', module: fileURLToPath(new URL('../../build/wasm/strategies/fixtures/bar-shard.wasm', import.meta.url)) },
    ];
    const { shard, input, output, acks } = await secondOfTwoShards(strategies);
    // The shard's own trades (risk's reference prices), then the bar record, then one more trade.
    let n = 0;
    const put = (symbolIndex: number, kind: number, price: number, size: number, stamp: number): void => {
      writeTickSlot(input, input.claimSlotAt(n++), symbolIndex, kind, price, size, stamp);
    };
    put(1, TickKind.Trade, 50, 1, 1);
    put(3, TickKind.Trade, 70, 1, 2);
    put(1, BAR_RECORD, 1_000_000_000, 0, 3); // result set 1, bar 0, starting at 1 s, closed by the trade stamped 3
    put(3, TickKind.Trade, 71, 1, 4);
    input.publishN(n);
    expect(shard.poll()).toBe(4);

    const orders: Array<{ strategy: number; symbol: number; side: number; stamp: number }> = [];
    for (let k = 0; k < output.available(); k++) {
      const base = output.slotIndexAt(k) * output.slotF64;
      if (output.i32[2 * base + OutputField.RecordI32] !== OutputRecord.Order) continue;
      orders.push({
        strategy: output.i32[2 * base + OutputField.StrategyIdI32], symbol: output.i32[2 * base + OutputField.SymbolIndexI32],
        side: output.i32[2 * base + OutputField.SideI32], stamp: output.f64[base + OutputField.TickPublishMonoNs],
      });
    }
    // Each strategy bought its shard's symbols, stamped with the closing trade; nothing for S0 or S2.
    expect(orders).toEqual([
      { strategy: 0, symbol: 1, side: 1, stamp: 3 }, { strategy: 0, symbol: 3, side: 1, stamp: 3 },
      { strategy: 1, symbol: 1, side: 1, stamp: 3 }, { strategy: 1, symbol: 3, side: 1, stamp: 3 },
    ]);
    expect(shard.counters.otherShardDecisions).toBe(2); // the WebAssembly module's sells of S0 and S2
    expect(shard.counters.strategyFaults.every((faults) => faults === 0)).toBe(true);
    expect(Atomics.load(acks, 1)).toBe(1);
    expect(Atomics.load(acks, 0)).toBe(0);
  });

  it('leaves onTrade\'s orders for another shard\'s symbol to risk, as before: the other-shard rule is onBar\'s', async () => {
    const strategies = [{ name: 'next', module: fileURLToPath(new URL('../strategy/fixtures/trade-next-symbol.mjs', import.meta.url)) }];
    const { shard, input, counters } = await secondOfTwoShards(strategies);
    writeTickSlot(input, input.claimSlotAt(0), 1, TickKind.Trade, 50, 1, 1); // S1's trade orders S2, worker 0's
    input.publishN(1);
    shard.poll();
    expect(shard.counters.ordersDenied).toBe(1);
    expect(counters.denials[DenyReason.NoReferencePrice]).toBe(1);
    expect(shard.counters.otherShardDecisions).toBe(0);
  });
});
