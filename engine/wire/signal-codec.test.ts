import { describe, expect, it } from 'vitest';
import { FrameHeader, decodeFrameHeader } from './frame-header.ts';
import { DECODE_OK, HEADER_BYTES, MessageType, RejectReason, SIGNAL_BYTES, SignalSide } from './layout.ts';
import { SignalFrameWriter, SignalSlot, decodeSignal } from './signal-codec.ts';

function decodeOne(frame: Uint8Array): { status: number; signal: SignalSlot } {
  const header = new FrameHeader();
  expect(decodeFrameHeader(frame, MessageType.SignalBatch, SIGNAL_BYTES, header)).toBe(DECODE_OK);
  const signal = new SignalSlot();
  return { status: decodeSignal(frame, 0, header, signal), signal };
}

function oneSignal(side: number, price: number, strength: number): Buffer {
  const writer = new SignalFrameWriter(1);
  writer.begin(3, 9);
  writer.append(0xffffffff, 0xffff, side, price, strength, 2 ** 53 - 1, 2 ** 53);
  return writer.finish(77);
}

describe('signal frames', () => {
  it('round-trip edge values, a sell side as byte 0xff', () => {
    const frame = oneSignal(SignalSide.Sell, Number.MIN_VALUE, -0);
    expect(frame[HEADER_BYTES + 6]).toBe(0xff);
    const { status, signal } = decodeOne(frame);
    expect(status).toBe(DECODE_OK);
    expect(signal.symbolId).toBe(0xffffffff);
    expect(signal.strategyId).toBe(0xffff);
    expect(signal.side).toBe(-1);
    expect(signal.price).toBe(Number.MIN_VALUE);
    expect(Object.is(signal.strength, -0)).toBe(true);
    expect(signal.tickPublishMonoNs).toBe(2 ** 53 - 1);
    expect(signal.signalMonoNs).toBe(2 ** 53);
    expect(signal.sequence).toBe(9);
  });

  it('round-trip a buy side with a huge price', () => {
    const { status, signal } = decodeOne(oneSignal(SignalSide.Buy, Number.MAX_VALUE, 1e300));
    expect(status).toBe(DECODE_OK);
    expect([signal.side, signal.price, signal.strength]).toEqual([1, Number.MAX_VALUE, 1e300]);
  });

  it('re-encode a decoded slot to the same bytes', () => {
    const frame = oneSignal(SignalSide.Sell, 101.25, 0.75);
    const { signal } = decodeOne(frame);
    const writer = new SignalFrameWriter(1);
    writer.begin(3, 9);
    writer.appendSlot(signal);
    expect(writer.finish(77).equals(frame)).toBe(true);
  });

  it.each([
    ['side 0', oneSignal(0, 1, 1), RejectReason.UnknownKind],
    ['side 2', oneSignal(2, 1, 1), RejectReason.UnknownKind],
    ['price 0', oneSignal(1, 0, 1), RejectReason.BadPrice],
    ['price NaN', oneSignal(1, NaN, 1), RejectReason.BadPrice],
    ['strength Infinity', oneSignal(1, 1, Infinity), RejectReason.BadSize],
    ['strength -0.5', oneSignal(-1, 1, -0.5), RejectReason.BadSize],
  ])('reject a signal with %s', (_name, frame, reason) => {
    expect(decodeOne(frame).status).toBe(reason);
  });
});
