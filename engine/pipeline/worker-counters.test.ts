import { describe, expect, it } from 'vitest';
import { createProcessorCounters } from './tick-processor.ts';
import { WorkerCounters, zeroScalars } from './worker-counters.ts';

describe('WorkerCounters', () => {
  it('carries every scalar counter from a worker to the totals, and totals summed again after zeroScalars do not grow', () => {
    const blocks = [new WorkerCounters(1), new WorkerCounters(1)];
    blocks.forEach((block, w) => {
      const counters = block.processorCounters();
      counters.ordersAccepted = 1 + w;
      counters.ordersDenied = 2 + w;
      counters.orderPoolExhausted = 3 + w;
      counters.tradesProcessed = 4 + w;
      counters.quotesProcessed = 5 + w;
      counters.unownedDecisions = 6 + w;
      counters.otherShardDecisions = 7 + w;
      block.publish(counters);
    });
    const totals = createProcessorCounters(1);
    const denials = new Float64Array(64);
    for (let refresh = 0; refresh < 3; refresh++) {
      zeroScalars(totals);
      for (const block of blocks) block.addInto(totals, denials);
      expect(totals).toMatchObject({
        ordersAccepted: 3, ordersDenied: 5, orderPoolExhausted: 7, tradesProcessed: 9, quotesProcessed: 11, unownedDecisions: 13, otherShardDecisions: 15,
      });
    }
  });
});
