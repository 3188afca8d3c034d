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
}

export function createIntakeCounters(): IntakeCounters {
  return {
    framesReceived: 0,
    ticksReceived: 0,
    ticksAccepted: 0,
    framesRejected: new Float64Array(rejectReasonNames.length),
    ticksRejected: new Float64Array(rejectReasonNames.length),
    ticksLost: 0,
  };
}

/** `accept`'s topic id when a frame came without a topic (tests, in-process callers): one stream space, no topic check. */
export const NO_TOPIC = -1;

/** Receives each validated tick with the dense index of its symbol. */
export interface TickHandler {
  onTick(symbolIndex: number, tick: TickSlot): void;
}

/**
 * The engine's front door: validates a market-data frame and each tick in it, then hands accepted ticks on.
 *
 * Guarantees (docs/wire.md): a malformed frame (truncated, wrong version/type/length) is counted by reason and
 * dropped whole; so is a frame whose firstSequence is behind what its stream already delivered (`out_of_order`:
 * a replay or reorder; the stream's expectation is kept). A stream is its ZeroMQ topic and its streamId; sequence
 * gaps per stream are counted as lost ticks. A bad tick (NaN/Inf/non-positive price, bad size, unknown kind,
 * unknown symbol, a symbol other than its symbol topic's (`bad_topic`), exchange time going backwards for its
 * symbol) is counted by reason and dropped alone. Nothing here throws on input and nothing allocates per tick (one
 * TickSlot is reused; a map entry is made only for a stream seen for the first time).
 */
export class FrameIntake {
  private readonly header = new FrameHeader();
  private readonly tick = new TickSlot();
  /** The next expected sequence by topic id, then streamId. */
  private readonly nextSequence = new Map<number, Map<number, number>>();
  private readonly lastExchangeTsNs: Float64Array;

  constructor(
    private readonly symbols: SymbolTable,
    private readonly handler: TickHandler,
    readonly counters: IntakeCounters,
  ) {
    this.lastExchangeTsNs = new Float64Array(symbols.size);
  }

  /**
   * `topicId` is the symbol id (FNV-1a) of the message's topic part: `symbolIdOfBytes(topic)`. When it is a
   * configured symbol, every record must be that symbol's; any other topic is a channel batching many symbols.
   */
  accept(frame: Uint8Array, topicId: number = NO_TOPIC): void {
    const counters = this.counters;
    counters.framesReceived++;
    const header = this.header;
    const frameReason = decodeFrameHeader(frame, MessageType.MarketDataBatch, TICK_BYTES, header);
    if (frameReason !== 0) {
      counters.framesRejected[frameReason]++;
      return;
    }
    if (!this.trackSequence(topicId, header.streamId, header.firstSequence, header.recordCount)) {
      counters.framesRejected[RejectReason.OutOfOrder]++;
      return;
    }
    const topicSymbol = topicId !== NO_TOPIC && this.symbols.indexOfId(topicId) >= 0 ? topicId : NO_TOPIC;
    const tick = this.tick;
    const count = header.recordCount;
    counters.ticksReceived += count;
    for (let i = 0; i < count; i++) {
      const reason = decodeTick(frame, i, header, tick);
      if (reason !== 0) {
        counters.ticksRejected[reason]++;
        continue;
      }
      if (topicSymbol !== NO_TOPIC && tick.symbolId !== topicSymbol) {
        counters.ticksRejected[RejectReason.BadTopic]++;
        continue;
      }
      const symbolIndex = this.symbols.indexOfRecord(tick);
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

  /**
   * Advances the stream's expectation and counts a gap as lost ticks; false for a frame behind the expectation
   * (out of order), which leaves it unchanged. The first frame of a stream sets it, so a late joiner counts no gap.
   */
  private trackSequence(topicId: number, streamId: number, firstSequence: number, count: number): boolean {
    let streams = this.nextSequence.get(topicId);
    if (streams === undefined) {
      streams = new Map<number, number>();
      this.nextSequence.set(topicId, streams);
    }
    const expected = streams.get(streamId);
    if (expected !== undefined) {
      if (firstSequence < expected) return false;
      if (firstSequence > expected) this.counters.ticksLost += firstSequence - expected;
    }
    streams.set(streamId, firstSequence + count);
    return true;
  }
}
