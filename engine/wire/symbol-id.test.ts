import { describe, expect, it } from 'vitest';
import { SymbolTable, symbolId, symbolIdOfBytes } from './symbol-id.ts';
import { Mulberry32 } from '../random/mulberry32.ts';

/** Reference FNV-1a over TextEncoder's bytes, written independently of the module. */
function referenceFnv1a(name: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(name)) {
    hash ^= byte;
    hash = Number((BigInt(hash) * 16777619n) & 0xffffffffn);
  }
  return hash >>> 0;
}

/** Reproducible u32s. */
function mulberry32(seed: number): () => number {
  const rng = new Mulberry32(seed);
  return () => rng.nextU32();
}

describe('symbolId', () => {
  it.each([
    ['', 0x811c9dc5],
    ['a', 0xe40c292c],
    ['foobar', 0xbf9cf968],
    ['BTC-USD', 0x76ed0931],
    ['AAPL', 0x58cd330b],
    ['é', 0x1e9de8c1],
    ['日本', 0x9f26ee51],
    ['😀', 0x33a29608],
  ])('hashes %j to its FNV-1a 32-bit test vector', (name, expected) => {
    expect(symbolId(name)).toBe(expected);
    expect(symbolIdOfBytes(Buffer.from(name, 'utf8'))).toBe(expected);
  });

  it('matches FNV-1a over TextEncoder bytes for random strings, lone surrogates included', () => {
    const next = mulberry32(7);
    const pool = [0x41, 0x7a, 0x2d, 0x7f, 0x80, 0x7ff, 0x800, 0xd7ff, 0xd800, 0xdbff, 0xdc00, 0xdfff, 0xe000, 0xfffd, 0xffff];
    for (let n = 0; n < 2000; n++) {
      let name = '';
      const length = next() % 8;
      for (let i = 0; i < length; i++) {
        name += String.fromCharCode(next() % 2 === 0 ? pool[next() % pool.length] : next() % 0x10000);
      }
      expect(symbolId(name)).toBe(referenceFnv1a(name));
    }
  });

  it('hashes a byte range of a larger buffer', () => {
    const topic = Buffer.from('xxBTC-USDyy');
    expect(symbolIdOfBytes(topic, 2, 9)).toBe(symbolId('BTC-USD'));
  });
});

describe('SymbolTable', () => {
  it('maps names, dense indices and wire ids both ways', () => {
    const table = new SymbolTable(['BTC-USD', 'ETH-USD', 'AAPL']);
    expect(table.size).toBe(3);
    expect(table.indexOfName('ETH-USD')).toBe(1);
    expect(table.indexOfName('MSFT')).toBe(-1);
    expect(table.nameAt(2)).toBe('AAPL');
    expect(table.idAt(0)).toBe(0x76ed0931);
    expect(table.ids).toEqual(['BTC-USD', 'ETH-USD', 'AAPL'].map(symbolId));
    for (let i = 0; i < 3; i++) expect(table.indexOfId(table.idAt(i))).toBe(i);
    expect(table.indexOfId(symbolId('MSFT'))).toBe(-1);
  });

  it('finds every one of 10,000 symbols and no unconfigured id', () => {
    const names = Array.from({ length: 10_000 }, (_, i) => `SYM${i}`);
    const table = new SymbolTable(names);
    let misses = 0;
    for (let i = 0; i < names.length; i++) if (table.indexOfId(symbolId(names[i])) !== i) misses++;
    const configured = new Set(table.ids);
    const next = mulberry32(11);
    let wrongHits = 0;
    for (let n = 0; n < 100_000; n++) {
      const id = next();
      if (table.indexOfId(id) !== (configured.has(id) ? table.ids.indexOf(id) : -1)) wrongHits++;
    }
    expect({ misses, wrongHits }).toEqual({ misses: 0, wrongHits: 0 });
  });

  it('works with an empty configuration', () => {
    const table = new SymbolTable([]);
    expect(table.size).toBe(0);
    expect(table.indexOfId(0x811c9dc5)).toBe(-1);
  });

  it('refuses a name configured twice', () => {
    expect(() => new SymbolTable(['AAPL', 'MSFT', 'AAPL'])).toThrow(/"AAPL" is configured twice \(positions 0 and 2\)/);
  });

  it('refuses two names with the same wire id and names both', () => {
    expect(symbolId('LQNQX')).toBe(symbolId('ZAORB'));
    expect(() => new SymbolTable(['AAPL', 'LQNQX', 'ZAORB'])).toThrow(
      /Symbols "LQNQX" and "ZAORB" have the same wire id 0x671dc101/,
    );
  });
});
