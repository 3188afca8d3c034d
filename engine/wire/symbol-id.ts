/**
 * Symbol ids: the 32-bit FNV-1a hash of a symbol name's UTF-8 bytes, so a publisher in any language computes the
 * same id from the name alone, with no registry to share. `SymbolTable` turns the engine's configured names into
 * dense indices 0..n-1 and answers "which index is this id?" in O(1) without allocating, and refuses a
 * configuration in which two names share an id.
 *
 * Test vectors: symbolId("") = 0x811c9dc5, symbolId("a") = 0xe40c292c, symbolId("foobar") = 0xbf9cf968,
 * symbolId("BTC-USD") = 0x76ed0931.
 */

const FNV_OFFSET_BASIS = 2166136261;
const FNV_PRIME = 16777619;

function fnvStep(hash: number, byte: number): number {
  return Math.imul(hash ^ byte, FNV_PRIME);
}

/**
 * FNV-1a 32-bit over the UTF-8 encoding of `name`, as an unsigned number. Encodes UTF-8 on the fly (no
 * allocation), exactly as `TextEncoder` would: a lone surrogate counts as U+FFFD.
 */
export function symbolId(name: string): number {
  let hash = FNV_OFFSET_BASIS;
  const length = name.length;
  for (let i = 0; i < length; i++) {
    let code = name.charCodeAt(i);
    if (code < 0x80) {
      hash = fnvStep(hash, code);
      continue;
    }
    if (code < 0x800) {
      hash = fnvStep(hash, 0xc0 | (code >> 6));
      hash = fnvStep(hash, 0x80 | (code & 0x3f));
      continue;
    }
    if (code >= 0xd800 && code <= 0xdfff) {
      const next = i + 1 < length ? name.charCodeAt(i + 1) : 0;
      if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        code = 0x10000 + ((code - 0xd800) << 10) + (next - 0xdc00);
        i++;
        hash = fnvStep(hash, 0xf0 | (code >> 18));
        hash = fnvStep(hash, 0x80 | ((code >> 12) & 0x3f));
        hash = fnvStep(hash, 0x80 | ((code >> 6) & 0x3f));
        hash = fnvStep(hash, 0x80 | (code & 0x3f));
        continue;
      }
      code = 0xfffd;
    }
    hash = fnvStep(hash, 0xe0 | (code >> 12));
    hash = fnvStep(hash, 0x80 | ((code >> 6) & 0x3f));
    hash = fnvStep(hash, 0x80 | (code & 0x3f));
  }
  return hash >>> 0;
}

/**
 * FNV-1a 32-bit over `bytes[start..end)`: the id of a symbol whose UTF-8 name is already in a buffer (a ZeroMQ
 * topic part), without decoding it to a string.
 */
export function symbolIdOfBytes(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let hash = FNV_OFFSET_BASIS;
  for (let i = start; i < end; i++) hash = fnvStep(hash, bytes[i]);
  return hash >>> 0;
}

/** Golden-ratio multiplier for Fibonacci hashing: spreads ids over the table whatever their distribution. */
const FIBONACCI_MULTIPLIER = 0x9e3779b1;
const EMPTY = -1;

/**
 * The engine's configured symbols: name <-> dense index <-> wire id.
 *
 * Built once at start (allocates); `indexOfId` is the hot-path lookup: an open-addressing table (linear probing,
 * load factor <= 1/2, power-of-two size) over two Int32Arrays, O(1) expected, no allocation, -1 for an id that is
 * not configured. The constructor throws when a name is listed twice or when two names hash to the same id, naming
 * both, since the wire could not tell them apart.
 */
const ID_SCRATCH = { symbolId: 0 };

export class SymbolTable {
  /** Number of configured symbols; indices are 0..size-1 in configuration order. */
  readonly size: number;
  /** Configured names, by index. */
  readonly names: readonly string[];
  /** Wire ids, by index (`ids[i] === symbolId(names[i])`). */
  readonly ids: readonly number[];
  private readonly byName: ReadonlyMap<string, number>;
  private readonly slotIds: Int32Array;
  private readonly slotIndices: Int32Array;
  private readonly slotMask: number;
  private readonly slotShift: number;

  constructor(names: readonly string[]) {
    this.size = names.length;
    this.names = Object.freeze([...names]);
    const ids: number[] = [];
    const byName = new Map<string, number>();

    let bits = 3;
    while (1 << bits < names.length * 2) bits++;
    const slots = 1 << bits;
    this.slotIds = new Int32Array(slots);
    this.slotIndices = new Int32Array(slots).fill(EMPTY);
    this.slotMask = slots - 1;
    this.slotShift = 32 - bits;

    for (let index = 0; index < names.length; index++) {
      const name = names[index];
      const earlier = byName.get(name);
      if (earlier !== undefined) {
        throw new Error(`Symbol "${name}" is configured twice (positions ${earlier} and ${index})`);
      }
      const id = symbolId(name);
      const clash = this.indexOfId(id);
      if (clash !== EMPTY) {
        throw new Error(
          `Symbols "${names[clash]}" and "${name}" have the same wire id 0x${hex32(id)} ` +
            '(FNV-1a 32-bit of the name); the engine cannot tell them apart, so configure only one of them',
        );
      }
      byName.set(name, index);
      ids.push(id);
      let slot = this.slotOf(id);
      while (this.slotIndices[slot] !== EMPTY) slot = (slot + 1) & this.slotMask;
      this.slotIds[slot] = id | 0;
      this.slotIndices[slot] = index;
    }
    this.byName = byName;
    this.ids = Object.freeze(ids);
  }

  /** Dense index of a wire symbol id, or -1 when the id is not configured. O(1), allocation-free. */
  indexOfId(id: number): number {
    ID_SCRATCH.symbolId = id;
    return this.indexOfRecord(ID_SCRATCH);
  }

  /**
   * `indexOfId(record.symbolId)`, the id read here: a u32 id above 2^30 is a double in V8, boxed when it is passed
   * to a call V8 does not inline (seen as 6.6 B/tick in some runs, from the ticks of the symbols with such ids).
   * The tick path's lookup (FrameIntake hands it the decoded TickSlot).
   */
  indexOfRecord(record: { readonly symbolId: number }): number {
    const id = record.symbolId;
    const key = id | 0;
    let slot = Math.imul(id, FIBONACCI_MULTIPLIER) >>> this.slotShift; // slotOf, written out for the same reason
    let index = this.slotIndices[slot];
    while (index !== EMPTY) {
      if (this.slotIds[slot] === key) return index;
      slot = (slot + 1) & this.slotMask;
      index = this.slotIndices[slot];
    }
    return EMPTY;
  }

  /** Dense index of a configured name, or -1 (a Map lookup: for setup and control paths). */
  indexOfName(name: string): number {
    return this.byName.get(name) ?? EMPTY;
  }

  /** The configured name at `index`. */
  nameAt(index: number): string {
    return this.names[index];
  }

  /** The wire id of the symbol at `index`. */
  idAt(index: number): number {
    return this.ids[index];
  }

  private slotOf(id: number): number {
    return Math.imul(id, FIBONACCI_MULTIPLIER) >>> this.slotShift;
  }
}

function hex32(value: number): string {
  return (value >>> 0).toString(16).padStart(8, '0');
}
