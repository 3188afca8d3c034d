import { describe, expect, it } from 'vitest';
import { ControlCommand } from '../wire/layout.ts';
import { ControlCounters, controlCommandLabels } from './control-counters.ts';
import { isPowerOfTen } from './zap-authenticator.ts';

describe('ControlCounters', () => {
  it('counts by command name and result, with codes outside the table as unknown', () => {
    const counters = new ControlCounters();
    counters.countCommand(ControlCommand.Cut, 'ok');
    counters.countCommand(ControlCommand.Cut, 'ok');
    counters.countCommand(ControlCommand.OrdersOn, 'rejected');
    counters.countCommand(99, 'unknown_command');
    expect(counters.commandCount('cut', 'ok')).toBe(2);
    expect(counters.commandCount('orders-on', 'rejected')).toBe(1);
    expect(counters.commandCount('unknown', 'unknown_command')).toBe(1);
    expect(controlCommandLabels).toEqual(['orders-on', 'orders-off', 'drain', 'status', 'cut', 'unlatch', 'set-ownership', 'unknown']);
  });

  it('counts refusals by reason and returns the running total', () => {
    const counters = new ControlCounters();
    expect(counters.countRefusal('not_curve')).toBe(1);
    expect(counters.countRefusal('not_curve')).toBe(2);
    expect(counters.countRefusal('unknown_key')).toBe(1);
  });
});

describe('isPowerOfTen', () => {
  it('picks the 1st, 10th, 100th ... occurrence', () => {
    expect([1, 2, 9, 10, 11, 100, 110, 1000].filter(isPowerOfTen)).toEqual([1, 10, 100, 1000]);
  });
});
