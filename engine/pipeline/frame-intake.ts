import { FrameHeader, decodeFrameHeader } from '../wire/frame-header.ts';
import { MessageType, RejectReason, TICK_BYTES, rejectReasonNames } from '../wire/layout.ts';
import type { SymbolTable } from '../wire/symbol-id.ts';
import { TickSlot, decodeTick } from '../wire/tick-codec.ts';

/** Intake counters, incremented on the hot path and read by the metrics layer on scrape. */
export interface IntakeCounters {
  framesReceived: number;
  ticksReceived: number;
  ticksAccepted: number;
  /** Rejected frames by RejectReason code. */
  readonly framesRejected: Float64Array;
  /** Rejected ticks by RejectReason code. */
  readonly ticksRejected: Float64Array;
  /** Ticks missing from a stream's sequence (e.g. dropped at a PUB high-water mark). */
  ticksLost: number;
  /** Streams that restarted (sequence went backwards): the expectation is reset, nothing is counted as lost. */
  streamRestarts: number;
}

export function createIntakeCounters(): IntakeCounters {
  return {
    framesReceived: 0,
    ticksReceived: 0,
    ticksAccepted: 0,
    framesRejected: new Float64Array(rejectReasonNames.length),
    ticksRejected: new Float64Array(rejectReasonNames.length),
    ticksLost: 0,
    streamRestarts: 0,
  };
}

/** Receives each validated tick with the dense index of its symbol. */
export interface TickHandler {
  onTick(symbolIndex: number, tick: TickSlot): void;
}

/**
 * The engine's front door: validates a market-data frame and each tick in it, then hands accepted ticks on.
 *
 * Guarantees: a malformed frame (truncated, wrong version/type/length) is counted by reason and dropped whole;
 * a bad tick (NaN/Inf/non-positive price, bad size, unknown kind, unknown symbol, exchange time going backwards
 * for its symbol) is counted by reason and dropped alone; sequence gaps per stream are counted as lost ticks.
 * Nothing here throws on input and nothing allocates per tick (one TickSlot is reused).
 */
export class FrameIntake {
  private readonly header = new FrameHeader();
  private readonly tick = new TickSlot();
  private readonly nextSequenceByStream = new Map<number, number>();
  private readonly lastExchangeTsNs: Float64Array;

  constructor(
    private readonly symbols: SymbolTable,
    private readonly handler: TickHandler,
    readonly counters: IntakeCounters,
  ) {
    this.lastExchangeTsNs = new Float64Array(symbols.size);
  }

  accept(frame: Uint8Array): void {
    const counters = this.counters;
    counters.framesReceived++;
    const header = this.header;
    const frameReason = decodeFrameHeader(frame, MessageType.MarketDataBatch, TICK_BYTES, header);
    if (frameReason !== 0) {
      counters.framesRejected[frameReason]++;
      return;
    }
    this.trackSequence(header.streamId, header.firstSequence, header.recordCount);
    const tick = this.tick;
    const count = header.recordCount;
    counters.ticksReceived += count;
    for (let i = 0; i < count; i++) {
      const reason = decodeTick(frame, i, header, tick);
      if (reason !== 0) {
        counters.ticksRejected[reason]++;
        continue;
      }
      const symbolIndex = this.symbols.indexOfId(tick.symbolId);
      if (symbolIndex < 0) {
        counters.ticksRejected[RejectReason.UnknownSymbol]++;
        continue;
      }
      if (tick.exchangeTsNs < this.lastExchangeTsNs[symbolIndex]) {
        counters.ticksRejected[RejectReason.OutOfOrder]++;
        continue;
      }
      this.lastExchangeTsNs[symbolIndex] = tick.exchangeTsNs;
      counters.ticksAccepted++;
      this.handler.onTick(symbolIndex, tick);
    }
  }

  private trackSequence(streamId: number, firstSequence: number, count: number): void {
    const expected = this.nextSequenceByStream.get(streamId);
    if (expected !== undefined) {
      if (firstSequence > expected) this.counters.ticksLost += firstSequence - expected;
      else if (firstSequence < expected) this.counters.streamRestarts++;
    }
    this.nextSequenceByStream.set(streamId, firstSequence + count);
  }
}
