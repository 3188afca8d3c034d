import { describe, expect, it } from 'vitest';
import { decodeControlRequest, decodeControlResponse } from './control-codec.ts';
import { FrameHeader, decodeFrameHeader, writeFrameHeader } from './frame-header.ts';
import {
  CONTROL_REQUEST_BYTES,
  CONTROL_RESPONSE_HEADER_BYTES,
  DECODE_OK,
  HEADER_BYTES,
  MAX_RECORDS_PER_FRAME,
  MessageType,
  REJECT_REASON_SLOTS,
  RejectReason,
  SIGNAL_BYTES,
  TICK_BYTES,
  rejectReasonName,
  rejectReasonNames,
} from './layout.ts';
import { decodeOrder, decodeOrderFrameHeader, OrderFrameWriter, OrderSlot } from './order-codec.ts';
import { TickFrameWriter, TickSlot, decodeTick } from './tick-codec.ts';

/** Reasons the engine decides (symbol lookup, sequence tracking, topic checks); no decoder here returns them. */
const ENGINE_REASONS: readonly number[] = [RejectReason.UnknownSymbol, RejectReason.OutOfOrder, RejectReason.BadTopic];

function tickFrame(price = 1, size = 1, kind = 1): Uint8Array {
  const writer = new TickFrameWriter(1);
  writer.begin(1, 1);
  writer.append(1, kind, price, size, 1, 1);
  return Uint8Array.from(writer.finish(1));
}

function tickStatus(frame: Uint8Array): number {
  const header = new FrameHeader();
  const status = decodeFrameHeader(frame, MessageType.MarketDataBatch, TICK_BYTES, header);
  return status !== DECODE_OK ? status : decodeTick(frame, 0, header, new TickSlot());
}

/** One crafted input per reason, each run through the decoder that owns it. */
const crafted: readonly (readonly [string, () => number])[] = [
  ['truncated', () => tickStatus(tickFrame().subarray(0, 10))],
  ['bad_length', () => tickStatus(tickFrame().subarray(0, HEADER_BYTES + TICK_BYTES - 1))],
  ['unknown_version', () => tickStatus(Object.assign(tickFrame(), { 0: 2 }))],
  ['unexpected_type', () => tickStatus(Object.assign(tickFrame(), { 1: MessageType.OrderBatch }))],
  ['empty_frame', () => tickStatus(Object.assign(tickFrame().subarray(0, HEADER_BYTES), { 2: 0 }))],
  [
    'too_many_records',
    () => {
      const frame = new Uint8Array(HEADER_BYTES + (MAX_RECORDS_PER_FRAME + 1) * TICK_BYTES);
      writeFrameHeader(frame, MessageType.MarketDataBatch, MAX_RECORDS_PER_FRAME + 1, 1, 1, 1);
      return tickStatus(frame);
    },
  ],
  ['bad_price', () => tickStatus(tickFrame(-1))],
  ['bad_size', () => tickStatus(tickFrame(1, NaN))],
  ['unknown_kind', () => tickStatus(tickFrame(1, 1, 9))],
  [
    'bad_body',
    () => {
      const decoded = decodeControlResponse(Buffer.from('0105010001000000' + '0000000002000000' + '7b5d', 'hex'));
      return decoded.ok ? DECODE_OK : decoded.reason;
    },
  ],
];

describe('reject reasons', () => {
  it('have stable snake_case names indexed by code, with 0 meaning ok', () => {
    expect(rejectReasonNames[DECODE_OK]).toBe('ok');
    expect(REJECT_REASON_SLOTS).toBe(Object.keys(RejectReason).length + 1);
    const byName = Object.entries(RejectReason).map(([key, code]) => [key, rejectReasonNames[code]]);
    expect(Object.fromEntries(byName)).toEqual({
      Truncated: 'truncated',
      BadLength: 'bad_length',
      UnknownVersion: 'unknown_version',
      UnexpectedType: 'unexpected_type',
      EmptyFrame: 'empty_frame',
      TooManyRecords: 'too_many_records',
      BadPrice: 'bad_price',
      BadSize: 'bad_size',
      UnknownKind: 'unknown_kind',
      UnknownSymbol: 'unknown_symbol',
      OutOfOrder: 'out_of_order',
      BadTopic: 'bad_topic',
      BadBody: 'bad_body',
    });
    expect(rejectReasonName(RejectReason.BadPrice)).toBe('bad_price');
    expect(rejectReasonName(99)).toBe('unknown');
  });

  it.each(crafted)('%s is produced by a crafted frame', (name, decode) => {
    expect(rejectReasonNames[decode()]).toBe(name);
  });

  it('every reason is either produced by a crafted frame here or decided by the engine', () => {
    const covered = new Set(crafted.map(([name]) => name));
    for (let code = 1; code < REJECT_REASON_SLOTS; code++) {
      expect(covered.has(rejectReasonNames[code]) !== ENGINE_REASONS.includes(code)).toBe(true);
    }
  });

  it('come from the order, signal and control decoders by the same rules', () => {
    const writer = new OrderFrameWriter(1);
    writer.begin(1, 1);
    writer.append(1, 1, 1, 1, 1, 1, 0, 1, 1);
    const frame = writer.finish(1);
    const header = new FrameHeader();
    expect(decodeOrderFrameHeader(frame, header)).toBe(DECODE_OK);
    expect(decodeOrder(frame, 0, header, new OrderSlot())).toBe(RejectReason.BadSize);
    // A signal receiver meets an order frame at its version byte (orders are version 2), before its type.
    expect(decodeFrameHeader(frame, MessageType.SignalBatch, SIGNAL_BYTES, header)).toBe(RejectReason.UnknownVersion);
    expect(decodeFrameHeader(frame, MessageType.SignalBatch, SIGNAL_BYTES, header, frame[0])).toBe(RejectReason.UnexpectedType);
    const request = decodeControlRequest(new Uint8Array(CONTROL_REQUEST_BYTES + 1).fill(1));
    expect(request.ok ? DECODE_OK : request.reason).toBe(RejectReason.UnexpectedType);
    expect(CONTROL_RESPONSE_HEADER_BYTES).toBe(16);
  });
});
