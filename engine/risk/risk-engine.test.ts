import { describe, expect, it } from 'vitest';
import { ConfigError } from '../config-error.ts';
import {
  ACCEPTED,
  DenyReason,
  defaultRiskLimits,
  denyReasonNames,
  DENY_REASON_SLOTS,
  RiskEngine,
  validateRiskLimits,
  withinPriceBand,
  type RiskLimits,
} from './risk-engine.ts';

const limits: RiskLimits = {
  maxOrderQty: 10,
  maxPosition: 15,
  maxNotional: 1_500,
  priceBandBps: 100, // ±1 %
  ordersEnabled: true,
};

/** A risk engine over 2 symbols whose symbol 0 last traded at 100. */
function engine(overrides: Partial<RiskLimits> = {}): RiskEngine {
  const risk = new RiskEngine({ ...limits, ...overrides }, 2);
  risk.onTrade(0, 100);
  return risk;
}

describe('withinPriceBand', () => {
  it.each([
    [100, 100, 100, true],
    [100, 101, 100, true],
    [100, 99, 100, true],
    [100, 101.01, 100, false],
    [100, 98.99, 100, false],
    [100, 100, 0, true],
    [100, 100.01, 0, false],
    [100, Number.NaN, 100, false],
    [100, Infinity, 100, false],
  ])('reference %d, price %d, band %d bps -> %s', (reference, price, band, expected) => {
    expect(withinPriceBand(reference, price, band)).toBe(expected);
  });
});

describe('RiskEngine.check', () => {
  it.each([
    // name, setup, symbol, side, quantity, price, expected
    ['accepts an order inside every limit', (_r: RiskEngine) => {}, 0, 1, 10, 100, ACCEPTED],
    ['accepts a sell', (_r: RiskEngine) => {}, 0, -1, 5, 99.5, ACCEPTED],
    ['denies while the kill switch is latched', (r: RiskEngine) => r.activateKillSwitch('test'), 0, 1, 1, 100, DenyReason.KillSwitch],
    ['denies the kill switch before orders disabled', (r: RiskEngine) => {
      r.setOrdersEnabled(false);
      r.activateKillSwitch('test');
    }, 0, 1, 1, 100, DenyReason.KillSwitch],
    ['denies while orders are disabled', (r: RiskEngine) => r.setOrdersEnabled(false), 0, 1, 1, 100, DenyReason.OrdersDisabled],
    ['denies orders disabled before a bad quantity', (r: RiskEngine) => r.setOrdersEnabled(false), 0, 1, -1, 100, DenyReason.OrdersDisabled],
    ['denies a zero side', (_r: RiskEngine) => {}, 0, 0, 1, 100, DenyReason.InvalidSide],
    ['denies a side of 2', (_r: RiskEngine) => {}, 0, 2, 1, 100, DenyReason.InvalidSide],
    ['denies a NaN quantity', (_r: RiskEngine) => {}, 0, 1, Number.NaN, 100, DenyReason.InvalidQuantity],
    ['denies a zero quantity', (_r: RiskEngine) => {}, 0, 1, 0, 100, DenyReason.InvalidQuantity],
    ['denies a negative quantity', (_r: RiskEngine) => {}, 0, -1, -3, 100, DenyReason.InvalidQuantity],
    ['denies an infinite quantity', (_r: RiskEngine) => {}, 0, 1, Infinity, 100, DenyReason.InvalidQuantity],
    ['denies a quantity above maxOrderQty', (_r: RiskEngine) => {}, 0, 1, 11, 100, DenyReason.MaxOrderQty],
    ['denies a symbol with no trade yet', (_r: RiskEngine) => {}, 1, 1, 1, 100, DenyReason.NoReferencePrice],
    ['denies a symbol index out of range', (_r: RiskEngine) => {}, 7, 1, 1, 100, DenyReason.NoReferencePrice],
    ['denies a price above the band', (_r: RiskEngine) => {}, 0, 1, 1, 101.5, DenyReason.PriceBand],
    ['denies a price below the band', (_r: RiskEngine) => {}, 0, -1, 1, 98, DenyReason.PriceBand],
    ['denies a NaN price', (_r: RiskEngine) => {}, 0, 1, 1, Number.NaN, DenyReason.PriceBand],
    ['denies a notional above maxNotional', (r: RiskEngine) => r.onTrade(0, 200), 0, 1, 8, 200, DenyReason.MaxNotional],
    ['denies an order that would take the position past maxPosition', (r: RiskEngine) => {
      r.check(0, 1, 10, 100);
    }, 0, 1, 6, 100, DenyReason.MaxPosition],
    ['denies a short past maxPosition', (r: RiskEngine) => {
      r.check(0, -1, 10, 100);
    }, 0, -1, 6, 100, DenyReason.MaxPosition],
    ['accepts an order that reaches maxPosition exactly', (r: RiskEngine) => {
      r.check(0, 1, 10, 100);
    }, 0, 1, 5, 100, ACCEPTED],
    ['accepts again after the kill switch is reset', (r: RiskEngine) => {
      r.activateKillSwitch('test');
      r.resetKillSwitch();
    }, 0, 1, 1, 100, ACCEPTED],
  ] as const)('%s', (_name, setup, symbol, side, quantity, price, expected) => {
    const risk = engine();
    setup(risk);
    expect(denyReasonNames[risk.check(symbol, side, quantity, price)]).toBe(denyReasonNames[expected]);
  });

  it('counts every accepted order into the position as if filled', () => {
    const risk = engine();
    expect(risk.check(0, 1, 10, 100)).toBe(ACCEPTED);
    expect(risk.check(0, -1, 4, 100)).toBe(ACCEPTED);
    expect(risk.position(0)).toBe(6);
    expect(risk.check(0, 1, 100, 100)).toBe(DenyReason.MaxOrderQty);
    expect(risk.position(0)).toBe(6);
    expect([...risk.positions()]).toEqual([6, 0]);
  });

  it('counts accepted orders and denials per reason', () => {
    const risk = engine();
    risk.check(0, 1, 1, 100);
    risk.check(0, 1, 1, 100);
    risk.check(1, 1, 1, 100);
    risk.check(0, 1, 0, 100);
    risk.check(0, 1, 0, 100);
    expect(risk.acceptedCount).toBe(2);
    expect(risk.denialCount(DenyReason.NoReferencePrice)).toBe(1);
    expect(risk.denialCount(DenyReason.InvalidQuantity)).toBe(2);
    expect(risk.deniedCount).toBe(3);
    expect(risk.denials[0]).toBe(0);
  });

  it('counts into shared storage when given one', () => {
    const shared = new Float64Array(DENY_REASON_SLOTS);
    const risk = new RiskEngine(limits, 1, shared);
    risk.check(0, 1, 1, 100);
    expect(shared[DenyReason.NoReferencePrice]).toBe(1);
    expect(() => new RiskEngine(limits, 1, new Float64Array(2))).toThrow(RangeError);
  });

  it('keeps the kill switch latched across orders-on and reports its reason', () => {
    const risk = engine();
    risk.activateKillSwitch('canary aborted');
    risk.setOrdersEnabled(true);
    expect(risk.ordersEnabled).toBe(false);
    expect(risk.killSwitchActive).toBe(true);
    expect(risk.killSwitchReason).toBe('canary aborted');
    expect(risk.check(0, 1, 1, 100)).toBe(DenyReason.KillSwitch);
    risk.resetKillSwitch();
    expect(risk.ordersEnabled).toBe(true);
    expect(risk.killSwitchReason).toBeNull();
  });

  it('starts with orders disabled when the limits say so', () => {
    const risk = engine({ ordersEnabled: false });
    expect(risk.ordersEnabled).toBe(false);
    expect(risk.check(0, 1, 1, 100)).toBe(DenyReason.OrdersDisabled);
    risk.setOrdersEnabled(true);
    expect(risk.check(0, 1, 1, 100)).toBe(ACCEPTED);
  });

  it('ignores trade prices that are not positive and finite', () => {
    const risk = engine();
    for (const price of [0, -5, Number.NaN, Infinity]) risk.onTrade(0, price);
    expect(risk.lastPrice(0)).toBe(100);
  });

  it('names every deny reason code', () => {
    expect(denyReasonNames).toHaveLength(Object.keys(DenyReason).length + 1);
    for (const code of Object.values(DenyReason)) expect(denyReasonNames[code]).toMatch(/^[a-z_]+$/);
  });
});

describe('validateRiskLimits', () => {
  it('fills defaults for an empty or absent block', () => {
    expect(validateRiskLimits({})).toEqual(defaultRiskLimits);
    expect(validateRiskLimits(undefined)).toEqual(defaultRiskLimits);
  });

  it('accepts a complete block', () => {
    const raw = { maxOrderQty: 5, maxPosition: 50, maxNotional: 12_500.5, priceBandBps: 0, ordersEnabled: false };
    expect(validateRiskLimits(raw)).toEqual(raw);
  });

  it.each([
    [[], 'risk', 'must be an object'],
    [{ maxOrderQty: 0 }, 'risk.maxOrderQty', 'between 1 and'],
    [{ maxOrderQty: 1.5 }, 'risk.maxOrderQty', 'integer'],
    [{ maxOrderQty: '10' }, 'risk.maxOrderQty', 'got "10"'],
    [{ maxPosition: -1 }, 'risk.maxPosition', 'between 1 and'],
    [{ maxNotional: 0 }, 'risk.maxNotional', 'positive finite'],
    [{ maxNotional: Infinity }, 'risk.maxNotional', 'got Infinity'],
    [{ priceBandBps: 10_000 }, 'risk.priceBandBps', 'between 0 and 9999'],
    [{ ordersEnabled: 'yes' }, 'risk.ordersEnabled', 'true or false'],
    [{ maxQty: 5 }, 'risk.maxQty', 'unknown field'],
  ])('rejects %j at %s', (raw, path, message) => {
    let error: unknown;
    try {
      validateRiskLimits(raw);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).path).toBe(path);
    expect((error as ConfigError).message).toContain(message);
  });

  it('names fields under the path it is given', () => {
    expect(() => validateRiskLimits({ maxOrderQty: 0 }, 'spec.engine.risk')).toThrow('spec.engine.risk.maxOrderQty:');
  });
});
