/**
 * Memoized link verification (UCAN-style): an LRU from a link's SHA-256 to its parsed form and the
 * public key its signature verified with. A repeated token then costs map lookups instead of JSON
 * parsing and Ed25519. Only links of chains that verified completely are stored (and a leaf's seal
 * with it); time, revocation, key liveness and the depth limit are still evaluated by the verifier
 * on every call, so a revocation or a retired key takes effect at once, memo or not.
 *
 * Two things make a hit cheap:
 * - an index by the link's exact TEXT in front of the hash-keyed LRU, so a hot token costs neither
 *   SHA-256 nor a scan of its alphabet (a text hit compares the whole text, so it vouches for
 *   exactly the bytes that were verified);
 * - the chain rule between a child and its parent is remembered on the child's entry: a child binds
 *   to exactly one parent (its `phs` is the SHA-256 of the parent's bytes), so "this link is a
 *   valid narrowing of the parent it names" never changes (the depth limit, time, revocation and
 *   key liveness stay per call).
 *
 * Entries are slim: only what a hit reads (hash, header, claims, constraints, holder key) is kept;
 * the link text, its signing input and its signature are dropped (links served by the memo carry
 * `raw: ''` and empty byte arrays). If the key under a link's kid ever differs from the one that
 * verified it, the verifier re-parses and re-verifies the link from the token in hand.
 *
 * Bounded cost: the memo is budgeted in BYTES (`maxBytes`), because an entry's size is chosen by
 * whoever signed the link (a holder can sign ~4 KB children offline). Each entry is charged an
 * estimate of the heap it retains (estimateHeapBytes: every string, array, object and key it
 * references, counted as if nothing were shared, so the estimate stays an upper bound when
 * sharing does not happen). The budget is split: 7/8 for entries, 1/16 for the text index, 1/16
 * for the tables that share repeated values between entries. `bytes` never exceeds `maxBytes`.
 *
 * Fairness (an enforcer serves every tenant): entries and indexed texts are kept in one LRU (text:
 * FIFO) list per tenant. A tenant holds at most `tenantShare` of each budget, evicting its own
 * oldest first; when the whole budget is full, the tenant that is inserting pays if it holds more
 * than an equal share, otherwise the tenant holding the most does. So a tenant flooding the memo
 * with distinct valid chains only ever evicts its own entries while others stay within an equal
 * share.
 *
 * A memo hit skips parsing, hence the per-link size limits: share one memo only among verifiers
 * using the same EnvelopeLimits.
 */
import type { EnvelopeClaims } from './claims';
import type { ParsedLink } from './link';

/** Default byte budget of the memo (entries, text index and shared tables together). */
export const DEFAULT_MEMO_BYTES = 64 * 1024 * 1024;
/** Default share of each budget one tenant may hold. */
export const DEFAULT_MEMO_TENANT_SHARE = 0.25;
/** Smallest accepted budget (a few of the largest links must fit in one tenant's share). */
export const MIN_MEMO_BYTES = 1024 * 1024;

/** Characters of a link's tail (its signature) that key the text index. */
const TEXT_KEY_CHARS = 43;

const EMPTY = new Uint8Array(0);

// ---------------------------------------------------------------------------------------------
// Heap estimates (V8 on x64 without pointer compression, Node 20), rounded up so that the estimate
// bounds what a value retains. Verified by packages/core/bench/memo-flood.ts (heap delta per entry
// after a full GC, for small shared links and for the largest distinct links).

/** A string's header (map, hash, length) plus alignment. */
const STRING_HEADER = 24;
/** A plain object's header (map, properties, elements) plus slack. */
const OBJECT_HEADER = 40;
/** One property: its slot, in the object or in an out-of-object property array. */
const PROPERTY = 16;
/** An array: the JSArray and its backing store's header. */
const ARRAY_HEADER = 56;
const ELEMENT = 8;
/** A number outside the small-integer range is a boxed HeapNumber. */
const HEAP_NUMBER = 16;
/** A Uint8Array with its ArrayBuffer and backing store, excluding its bytes. */
const TYPED_ARRAY = 240;
/** One entry of a JS Map (key, value, chain link, bucket) with the table's growth slack. */
const MAP_SLOT = 64;
/** A StoredEntry and the slim ParsedLink object, with their own fields. */
const ENTRY_OBJECTS = 2 * OBJECT_HEADER + 18 * PROPERTY;
/** A TextSlot object. */
const TEXT_SLOT_OBJECT = OBJECT_HEADER + 4 * PROPERTY;

const ONE_BYTE = /^[\0-\xff]*$/;

/** Heap bytes of a string (one byte per character when every character is Latin-1, else two). */
export function stringHeapBytes(s: string): number {
  return STRING_HEADER + (ONE_BYTE.test(s) ? s.length : 2 * s.length);
}

/**
 * An upper estimate of the heap a value retains (strings, numbers, arrays, plain objects, byte
 * arrays), counting every reference as if it were not shared. Keys of plain objects are not
 * counted: claims and constraints have a fixed set of names (unknown ones are refused), which V8
 * keeps once.
 */
export function estimateHeapBytes(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return stringHeapBytes(value);
    case 'number':
      return Number.isInteger(value) && value >= -(2 ** 31) && value < 2 ** 31 ? 0 : HEAP_NUMBER;
    case 'object': {
      if (value === null) return 0;
      if (ArrayBuffer.isView(value)) return TYPED_ARRAY + value.byteLength;
      if (Array.isArray(value)) {
        let bytes = ARRAY_HEADER + ELEMENT * value.length;
        for (const item of value as unknown[]) bytes += estimateHeapBytes(item);
        return bytes;
      }
      let bytes = OBJECT_HEADER;
      for (const key in value) {
        bytes += PROPERTY + estimateHeapBytes((value as Record<string, unknown>)[key]);
      }
      return bytes;
    }
    default:
      return 0;
  }
}

/** What an entry is charged: everything it references, as if nothing were shared. */
function entryHeapBytes(link: ParsedLink, verifiedKey: Uint8Array): number {
  return (
    ENTRY_OBJECTS +
    2 * MAP_SLOT + // the hash index and the tenant's LRU list
    stringHeapBytes(link.hash) +
    estimateHeapBytes(link.header) +
    estimateHeapBytes(link.claims) +
    estimateHeapBytes(link.constraints) +
    estimateHeapBytes(link.holderKey) +
    estimateHeapBytes(verifiedKey)
  );
}

/** What an indexed text is charged: its copy, its key, the slot and two map entries. */
export function textSlotHeapBytes(chars: number): number {
  return STRING_HEADER + chars + STRING_HEADER + TEXT_KEY_CHARS + TEXT_SLOT_OBJECT + 2 * MAP_SLOT;
}

// ---------------------------------------------------------------------------------------------

export interface MemoEntry {
  /** The memoized link: `raw`, `signingInput` and `signature` are empty (see the module comment). */
  readonly link: ParsedLink;
  /** The public key the link's signature verified with. */
  readonly verifiedKey: Uint8Array;
  /**
   * True once the link was found to be a valid narrowing of the parent its `phs` names (every
   * chain rule except the depth limit, which depends on the verifier's settings).
   */
  narrowsParent: boolean;
  /**
   * The exact seal text that verified for this link as a leaf (Ed25519 is deterministic: one
   * holder key and one leaf give one seal), or undefined. Set with LinkMemo.rememberSeal.
   */
  readonly seal: string | undefined;
}

/** What the memo keeps per entry: its tenant, its charge, its indexed text and its liveness. */
interface StoredEntry extends MemoEntry {
  seal: string | undefined;
  readonly tenant: string;
  /** Bytes charged to the tenant (the entry, and its seal once remembered). */
  bytes: number;
  /** The key of its slot in the text index, when indexed. */
  textKey: string | undefined;
  /** False once evicted (a caller may still hold it). */
  live: boolean;
}

interface TextSlot {
  /** The exact link text (a flat copy, so it never pins the token it came from). */
  readonly text: string;
  readonly entry: StoredEntry;
  readonly tenant: string;
  readonly bytes: number;
}

export interface MemoStats {
  hits: number;
  misses: number;
  /** Entries dropped to stay within the budget (not counting revocations and replacements). */
  evictions: number;
  /** Hits served by the text index (no hashing); included in `hits`. */
  textHits: number;
  /** Links not remembered because one entry alone would exceed a tenant's share. */
  oversized: number;
}

export interface LinkMemoOptions {
  /**
   * Byte budget of everything the memo holds (default DEFAULT_MEMO_BYTES, at least
   * MIN_MEMO_BYTES): 7/8 for entries, 1/16 for the text index, 1/16 for shared values.
   */
  maxBytes?: number;
  /** Share (0 < share ≤ 1) of the entry and text budgets one tenant may hold (default 0.25). */
  tenantShare?: number;
  /** Disable the text index (every hit then hashes the link). Default true. */
  textIndex?: boolean;
}

interface TenantList<V> {
  readonly items: Map<string, V>;
  bytes: number;
}

/**
 * Per-tenant ordered lists (oldest first) under one byte budget and one item bound, evicting
 * fairly (see the module comment). `dropped` is told about every item evicted here.
 */
class FairLists<V extends { readonly tenant: string; bytes: number }> {
  private readonly lists = new Map<string, TenantList<V>>();
  bytes = 0;
  size = 0;

  constructor(
    readonly budget: number,
    readonly tenantCap: number,
    private readonly maxItems: number,
    private readonly dropped: (key: string, value: V) => void,
  ) {}

  get tenants(): number {
    return this.lists.size;
  }

  tenantBytes(tenant: string): number {
    return this.lists.get(tenant)?.bytes ?? 0;
  }

  /**
   * Adds `value` as its tenant's youngest, then evicts until within bounds. Returns the number
   * of items evicted, or -1 (nothing added) when the value alone exceeds a tenant's cap.
   */
  add(key: string, value: V): number {
    if (value.bytes > this.tenantCap) return -1;
    let list = this.lists.get(value.tenant);
    if (list === undefined) {
      list = { items: new Map(), bytes: 0 };
      this.lists.set(value.tenant, list);
    }
    list.items.set(key, value);
    list.bytes += value.bytes;
    this.bytes += value.bytes;
    this.size++;
    let evicted = 0;
    while (list.bytes > this.tenantCap) {
      this.evictOldest(value.tenant, list);
      evicted++;
    }
    while (this.bytes > this.budget || this.size > this.maxItems) {
      const [tenant, victim] = this.victim(value.tenant, list);
      this.evictOldest(tenant, victim);
      evicted++;
    }
    return evicted;
  }

  /** Moves an item to its tenant's young end. */
  touch(key: string, value: V): void {
    const items = this.lists.get(value.tenant)?.items;
    if (items === undefined) return;
    items.delete(key);
    items.set(key, value);
  }

  /** Charges `extra` more bytes to an item already in a list (then evicts as `add` does). */
  grow(key: string, value: V, extra: number): void {
    const list = this.lists.get(value.tenant);
    if (list === undefined || list.items.get(key) !== value) return;
    value.bytes += extra;
    list.bytes += extra;
    this.bytes += extra;
    // Evict others first: the grown item is the youngest.
    this.touch(key, value);
    while (list.bytes > this.tenantCap && list.items.size > 1) this.evictOldest(value.tenant, list);
    while (this.bytes > this.budget) {
      const [tenant, victim] = this.victim(value.tenant, list);
      this.evictOldest(tenant, victim);
    }
  }

  /** Removes an item (not reported to `dropped`); true when it was there. */
  remove(key: string, value: V): boolean {
    const list = this.lists.get(value.tenant);
    if (list === undefined || list.items.get(key) !== value) return false;
    list.items.delete(key);
    this.uncharge(value.tenant, list, value.bytes);
    return true;
  }

  clear(): void {
    this.lists.clear();
    this.bytes = 0;
    this.size = 0;
  }

  /**
   * Who pays when the whole budget is full: the inserting tenant if it holds more than an equal
   * share, otherwise the tenant holding the most (max-min fairness).
   */
  private victim(tenant: string, list: TenantList<V>): [string, TenantList<V>] {
    if (list.bytes * this.lists.size >= this.bytes) return [tenant, list];
    let most: [string, TenantList<V>] = [tenant, list];
    for (const entry of this.lists) if (entry[1].bytes > most[1].bytes) most = entry;
    return most;
  }

  private evictOldest(tenant: string, list: TenantList<V>): void {
    const oldest = list.items.entries().next();
    if (oldest.done === true) return;
    const [key, value] = oldest.value;
    list.items.delete(key);
    this.uncharge(tenant, list, value.bytes);
    this.dropped(key, value);
  }

  private uncharge(tenant: string, list: TenantList<V>, bytes: number): void {
    list.bytes -= bytes;
    this.bytes -= bytes;
    this.size--;
    if (list.items.size === 0) this.lists.delete(tenant);
  }
}

/** A flat copy of a string: a substring from `split` may otherwise keep the whole token alive. */
function flatCopy(s: string): string {
  return Buffer.from(s, 'latin1').toString('latin1');
}

export class LinkMemo {
  /** Every live entry by link hash (the tenant lists hold the LRU order and the charges). */
  private readonly entries = new Map<string, StoredEntry>();
  private readonly entryLists: FairLists<StoredEntry>;
  private readonly byText = new Map<string, TextSlot>();
  private readonly textLists: FairLists<TextSlot> | undefined;
  /** Shared copies of what links repeat, public keys included (see slim). */
  private readonly pool: Interner;
  readonly maxBytes: number;
  readonly tenantShare: number;
  readonly stats: MemoStats = { hits: 0, misses: 0, evictions: 0, textHits: 0, oversized: 0 };

  /**
   * `maxEntries` optionally bounds the number of entries too (and of indexed texts); the byte
   * budget applies either way.
   */
  constructor(
    readonly maxEntries: number = Number.MAX_SAFE_INTEGER,
    opts: LinkMemoOptions = {},
  ) {
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1)
      throw new RangeError(`memo size must be a positive integer, got ${maxEntries}`);
    const maxBytes = opts.maxBytes ?? DEFAULT_MEMO_BYTES;
    if (!Number.isSafeInteger(maxBytes) || maxBytes < MIN_MEMO_BYTES)
      throw new RangeError(`memo budget must be an integer of at least ${MIN_MEMO_BYTES} bytes, got ${maxBytes}`);
    const share = opts.tenantShare ?? DEFAULT_MEMO_TENANT_SHARE;
    if (!(share > 0 && share <= 1)) throw new RangeError(`memo tenant share must be in (0, 1], got ${share}`);
    this.maxBytes = maxBytes;
    this.tenantShare = share;
    const sixteenth = Math.floor(maxBytes / 16);
    const textBudget = opts.textIndex === false ? 0 : sixteenth;
    const entryBudget = maxBytes - textBudget - sixteenth;
    this.entryLists = new FairLists(entryBudget, Math.floor(entryBudget * share), maxEntries, (hash, entry) => {
      this.stats.evictions++;
      this.forget(hash, entry);
    });
    this.textLists =
      textBudget === 0
        ? undefined
        : new FairLists(textBudget, Math.floor(textBudget * share), maxEntries, (key, slot) => {
            this.byText.delete(key);
            if (slot.entry.textKey === key) slot.entry.textKey = undefined;
          });
    this.pool = new Interner(sixteenth);
  }

  /** Entries held. */
  get size(): number {
    return this.entries.size;
  }

  /** Entries of the text index (for tests and metrics). */
  get textSize(): number {
    return this.byText.size;
  }

  /** Bytes charged: entries, indexed texts and shared values (never more than maxBytes). */
  get bytes(): number {
    return this.entryLists.bytes + (this.textLists?.bytes ?? 0) + this.pool.bytes;
  }

  /** Bytes charged for entries alone. */
  get entryBytes(): number {
    return this.entryLists.bytes;
  }

  /** Tenants with at least one entry. */
  get tenants(): number {
    return this.entryLists.tenants;
  }

  /** Bytes charged to one tenant (its entries and its indexed texts). */
  tenantBytes(tenant: string): number {
    return this.entryLists.tenantBytes(tenant) + (this.textLists?.tenantBytes(tenant) ?? 0);
  }

  /** The entry for a link hash, refreshed as its tenant's most recently used. */
  get(hash: string): MemoEntry | undefined {
    const entry = this.entries.get(hash);
    if (entry === undefined) {
      this.stats.misses++;
      return undefined;
    }
    this.stats.hits++;
    this.entryLists.touch(hash, entry);
    return entry;
  }

  /**
   * The entry of a link by its exact text, without hashing, or undefined (not a statistic: the
   * caller falls back to `get(hash)`, which counts a miss). Only text that passed `splitToken` may
   * have been indexed. A hit counts in `stats` unless `count` is false.
   */
  getByText(raw: string, count = true): MemoEntry | undefined {
    if (raw.length <= TEXT_KEY_CHARS) return undefined;
    const slot = this.byText.get(raw.slice(raw.length - TEXT_KEY_CHARS));
    if (slot === undefined || slot.text !== raw || !slot.entry.live) return undefined;
    if (count) {
      this.stats.hits++;
      this.stats.textHits++;
    }
    return slot.entry;
  }

  /**
   * Indexes `raw` (the exact text of the memoized link `entry`, as split from a token) by text,
   * charged to the entry's tenant. Does nothing when the index is disabled, the entry is gone or
   * its text is already indexed.
   */
  indexText(raw: string, entry: MemoEntry): void {
    const lists = this.textLists;
    const stored = entry as StoredEntry;
    if (lists === undefined || raw.length <= TEXT_KEY_CHARS || !stored.live) return;
    const key = raw.slice(raw.length - TEXT_KEY_CHARS);
    const previous = this.byText.get(key);
    if (previous !== undefined) {
      if (previous.text === raw && previous.entry === stored) return;
      this.dropText(key, previous);
    }
    const slot: TextSlot = {
      text: flatCopy(raw),
      entry: stored,
      tenant: stored.tenant,
      bytes: textSlotHeapBytes(raw.length),
    };
    const flatKey = flatCopy(key);
    this.byText.set(flatKey, slot);
    if (lists.add(flatKey, slot) < 0) {
      this.byText.delete(flatKey);
      return;
    }
    if (stored.textKey !== undefined && stored.textKey !== flatKey) {
      const old = this.byText.get(stored.textKey);
      if (old !== undefined && old.entry === stored) this.dropText(stored.textKey, old);
    }
    // The slot may have been evicted at once (its tenant's text share is smaller than one text).
    if (this.byText.get(flatKey) === slot) stored.textKey = flatKey;
  }

  /**
   * Records that `link` verified with `publicKey` (only what a hit reads is kept), charged to its
   * tenant, evicting fairly when over budget. Returns the entry; it is not live (and not stored)
   * when it alone would exceed a tenant's share.
   */
  remember(link: ParsedLink, publicKey: Uint8Array): MemoEntry {
    const previous = this.entries.get(link.hash);
    if (previous !== undefined) {
      this.entryLists.remove(link.hash, previous);
      this.forget(link.hash, previous);
    }
    const slimLink = slim(link, this.pool);
    const entry: StoredEntry = {
      link: slimLink,
      verifiedKey: this.pool.key(publicKey),
      narrowsParent: false,
      seal: undefined,
      tenant: slimLink.claims.tnt,
      bytes: entryHeapBytes(link, publicKey),
      textKey: undefined,
      live: true,
    };
    this.entries.set(link.hash, entry);
    if (this.entryLists.add(link.hash, entry) < 0) {
      this.stats.oversized++;
      this.entries.delete(link.hash);
      entry.live = false;
    }
    return entry;
  }

  /** Remembers the seal that verified for `entry` as a leaf, charged to its tenant. */
  rememberSeal(entry: MemoEntry, seal: string): void {
    const stored = entry as StoredEntry;
    if (!stored.live || stored.seal === seal) return;
    const extra = stringHeapBytes(seal) - (stored.seal === undefined ? 0 : stringHeapBytes(stored.seal));
    stored.seal = flatCopy(seal);
    this.entryLists.grow(stored.link.hash, stored, extra);
  }

  /** Drops every entry whose link has this `jti`; returns how many (for memory hygiene on revocation). */
  evict(jti: string): number {
    return this.evictWhere((entry) => entry.link.claims.jti === jti);
  }

  /** Drops every entry whose link's `sub` is this agent (agent revocation). */
  evictAgent(agent: string): number {
    return this.evictWhere((entry) => entry.link.claims.sub === agent);
  }

  clear(): void {
    for (const entry of this.entries.values()) entry.live = false;
    this.entries.clear();
    this.entryLists.clear();
    this.byText.clear();
    this.textLists?.clear();
    this.pool.clear();
  }

  private evictWhere(match: (entry: StoredEntry) => boolean): number {
    let removed = 0;
    for (const [hash, entry] of this.entries) {
      if (match(entry)) {
        this.entryLists.remove(hash, entry);
        this.forget(hash, entry);
        removed++;
      }
    }
    return removed;
  }

  /** An entry leaves: not live, out of the hash index, its text slot dropped. */
  private forget(hash: string, entry: StoredEntry): void {
    entry.live = false;
    if (this.entries.get(hash) === entry) this.entries.delete(hash);
    const key = entry.textKey;
    if (key !== undefined) {
      const slot = this.byText.get(key);
      if (slot !== undefined && slot.entry === entry) this.dropText(key, slot);
      entry.textKey = undefined;
    }
  }

  private dropText(key: string, slot: TextSlot): void {
    this.byText.delete(key);
    this.textLists?.remove(key, slot);
    if (slot.entry.textKey === key) slot.entry.textKey = undefined;
  }
}

/**
 * Shared copies of what many links repeat (tenant, agent and key ids, scope and resource lists,
 * constraints, public keys): 100,000 memoized links of a few agents would otherwise hold 100,000
 * copies of each. Everything shared is frozen. Bounded in bytes: a table is reset when it holds
 * more than a quarter of the budget (entries already built keep their copies, and are charged for
 * them: see entryHeapBytes).
 */
class Interner {
  private readonly strings = new PoolTable<string>();
  private readonly lists = new PoolTable<readonly string[]>();
  private readonly values = new PoolTable<unknown>();
  private readonly keys = new PoolTable<Uint8Array>();
  private readonly tableBudget: number;

  constructor(budget: number) {
    this.tableBudget = Math.floor(budget / 4);
  }

  get bytes(): number {
    return this.strings.bytes + this.lists.bytes + this.values.bytes + this.keys.bytes;
  }

  str(s: string): string {
    const hit = this.strings.map.get(s);
    if (hit !== undefined) return hit;
    this.strings.put(s, s, MAP_SLOT + stringHeapBytes(s), this.tableBudget);
    return s;
  }

  list(a: readonly string[]): readonly string[] {
    if (a.length === 0) return EMPTY_LIST;
    const key = JSON.stringify(a);
    const hit = this.lists.map.get(key);
    if (hit !== undefined) return hit;
    const shared = Object.freeze(a.map((s) => this.str(s)));
    this.lists.put(key, shared, MAP_SLOT + stringHeapBytes(key) + ARRAY_HEADER + ELEMENT * a.length, this.tableBudget);
    return shared;
  }

  /** A shared frozen value for `key` (its JSON, so equal keys mean equal values), made once. */
  value<T>(key: string, make: () => T): T {
    const hit = this.values.map.get(key);
    if (hit !== undefined) return hit as T;
    const made = make();
    this.values.put(key, made, MAP_SLOT + stringHeapBytes(key) + estimateHeapBytes(made), this.tableBudget);
    return made;
  }

  /**
   * One frozen copy per distinct public key, shared by every entry it verified (a tenant has few
   * keys; 100,000 entries would otherwise hold 100,000 copies).
   */
  key(publicKey: Uint8Array): Uint8Array {
    const id = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString('base64');
    const hit = this.keys.map.get(id);
    if (hit !== undefined) return hit;
    const copy = Uint8Array.from(publicKey);
    this.keys.put(id, copy, MAP_SLOT + stringHeapBytes(id) + estimateHeapBytes(copy), this.tableBudget);
    return copy;
  }

  clear(): void {
    this.strings.clear();
    this.lists.clear();
    this.values.clear();
    this.keys.clear();
  }
}

class PoolTable<V> {
  readonly map = new Map<string, V>();
  bytes = 0;

  put(key: string, value: V, bytes: number, budget: number): void {
    if (this.bytes + bytes > budget) this.clear();
    if (bytes > budget) return;
    this.map.set(key, value);
    this.bytes += bytes;
  }

  clear(): void {
    this.map.clear();
    this.bytes = 0;
  }
}

const EMPTY_LIST: readonly string[] = Object.freeze([]);

/**
 * What a memo hit reads, without the link text, signing input and signature, with repeated parts
 * shared through `pool`. The claims keep the order validateClaims gives them.
 */
function slim(link: ParsedLink, pool: Interner): ParsedLink {
  const c = link.claims;
  const claims = {
    tnt: pool.str(c.tnt),
    sub: pool.str(c.sub),
    jti: c.jti,
    iat: c.iat,
    nbf: c.nbf,
    exp: c.exp,
    dep: c.dep,
    scp: pool.list(c.scp),
    res: pool.list(c.res),
    ctx: pool.list(c.ctx),
    cns: pool.value(`cns${JSON.stringify(c.cns)}`, () => c.cns),
  } as EnvelopeClaims;
  if (c.iss !== undefined) claims.iss = pool.str(c.iss);
  if (c.aud !== undefined)
    claims.aud = (typeof c.aud === 'string' ? pool.str(c.aud) : pool.list(c.aud)) as string | string[];
  if (c.prn !== undefined) claims.prn = c.prn;
  if (c.phs !== undefined) claims.phs = c.phs;
  claims.cnf = c.cnf;
  const kid = link.header.kid;
  return Object.freeze({
    raw: '',
    hash: link.hash,
    header: pool.value(`kid${JSON.stringify(kid)}`, () => link.header),
    claims: Object.freeze(claims),
    constraints: pool.value(`con${JSON.stringify(link.constraints)}`, () => link.constraints),
    holderKey: link.holderKey,
    signingInput: EMPTY,
    signature: EMPTY,
  });
}
