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
 * `raw: ''` and empty byte arrays). What a tenant's links repeat (agent ids, scope and resource
 * lists, constraints, header, verifying key) is shared between its entries. If the key under a
 * link's kid ever differs from the one that verified it, the verifier re-parses and re-verifies
 * the link from the token in hand.
 *
 * Bounded cost: the memo is budgeted in BYTES (`maxBytes`), because an entry's size is chosen by
 * whoever signed the link (a holder can sign ~4 KB children offline). Each entry is charged an
 * upper estimate of the heap it retains (estimateHeapBytes over everything it references); a
 * shared value is charged once, to its tenant, while some entry of that tenant references it
 * (reference counts). 15/16 of the budget hold entries and shared values, 1/16 the text index;
 * `bytes` never exceeds `maxBytes`. packages/core/bench/memo-flood.ts checks the estimate against
 * the heap actually retained.
 *
 * Fairness (an enforcer serves every tenant): entries and indexed texts are kept in one LRU (text:
 * FIFO) list per tenant. A tenant holds at most `tenantShare` of each budget, evicting its own
 * oldest first; when the whole budget is full, the tenant that is inserting pays if it holds at
 * least an equal share, otherwise the tenant holding the most does (max-min fairness). So a tenant
 * flooding the memo with distinct valid chains only ever evicts its own entries while the others
 * stay within an equal share.
 *
 * A memo hit skips parsing, hence the per-link size limits: share one memo only among verifiers
 * using the same EnvelopeLimits.
 *
 * Size: the LRU, its byte and per-tenant accounting and the hit path stay together, because the
 * invariant above depends on all three.
 */
import type { EnvelopeClaims } from './claims';
import type { ParsedLink } from './link';

/** Default byte budget of the memo (entries, shared values and text index together). */
export const DEFAULT_MEMO_BYTES = 64 * 1024 * 1024;
/** Default share of each budget one tenant may hold. */
export const DEFAULT_MEMO_TENANT_SHARE = 0.25;
/** Smallest accepted budget. */
export const MIN_MEMO_BYTES = 1024 * 1024;

/** Characters of a link's tail (its signature) that key the text index. */
const TEXT_KEY_CHARS = 43;

const EMPTY = new Uint8Array(0);

// ---------------------------------------------------------------------------------------------
// Heap estimates: V8 on x64 without pointer compression (Node 20 as shipped), rounded up so that
// an estimate bounds what a value retains. Checked by packages/core/bench/memo-flood.ts (heap
// retained per entry after a full GC, for typical links and for the largest distinct links).

/** A string's header (map, hash, length: 16 bytes) and its alignment to 8 bytes, rounded up. */
const STRING_HEADER = 28;
/** A plain object's header (map, properties, elements) and slack. */
const OBJECT_HEADER = 32;
/** One property: its slot in the object or in an out-of-object property array. */
const PROPERTY = 12;
/** An array: the JSArray and the header of its backing store. */
const ARRAY_HEADER = 48;
const ELEMENT = 8;
/** A number outside the small-integer range is a boxed HeapNumber. */
const HEAP_NUMBER = 16;
/** A Uint8Array (its ArrayBuffer and backing store, when off-heap), excluding its bytes. */
const TYPED_ARRAY = 160;
/** One entry of a JS Map (key, value, chain link, bucket) and the table's growth slack. */
const MAP_SLOT = 48;
/** A StoredEntry and the slim ParsedLink object, with their fields. */
const ENTRY_OBJECTS = 2 * OBJECT_HEADER + 18 * PROPERTY;
/** A shared value's record (key, value, count, size). */
const POOLED_RECORD = OBJECT_HEADER + 4 * PROPERTY;
/** A TextSlot object. */
const TEXT_SLOT_OBJECT = OBJECT_HEADER + 4 * PROPERTY;

const ONE_BYTE = /^[\0-\xff]*$/;

/** Heap bytes of a string (one byte per character when every character is Latin-1, else two). */
export function stringHeapBytes(s: string): number {
  return STRING_HEADER + (ONE_BYTE.test(s) ? s.length : 2 * s.length);
}

/**
 * An upper estimate of the heap a value retains (strings, numbers, arrays, plain objects, byte
 * arrays), counting every reference as if it were not shared. Property names are not counted:
 * claims and constraints have a fixed set of names (unknown ones are refused), kept once by V8.
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
      for (const key in value) bytes += PROPERTY + estimateHeapBytes((value as Record<string, unknown>)[key]);
      return bytes;
    }
    default:
      return 0;
  }
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

/** A value shared by entries of one tenant, with its reference count. */
interface Pooled {
  readonly key: string;
  readonly value: unknown;
  refs: number;
  readonly bytes: number;
}

/** What the memo keeps per entry. */
interface StoredEntry extends MemoEntry {
  seal: string | undefined;
  readonly tenant: string;
  /** Bytes charged for the entry itself (its seal included), shared values not included. */
  bytes: number;
  /** The shared values it references (released when it leaves). */
  readonly pooled: readonly Pooled[];
  /** The key of its slot in the text index, when indexed. */
  textKey: string | undefined;
  /** False once it left the memo (a caller may still hold it). */
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
   * MIN_MEMO_BYTES): 15/16 for entries and shared values, 1/16 for the text index.
   */
  maxBytes?: number;
  /** Share (0 < share ≤ 1) of each budget one tenant may hold (default 0.25). */
  tenantShare?: number;
  /** False disables the text index (every hit then hashes the link). Default true. */
  textIndex?: boolean;
}

interface TenantList<V> {
  readonly items: Map<string, V>;
  /** Bytes of the items, plus bytes charged to the tenant besides them (shared values). */
  bytes: number;
}

/**
 * Per-tenant ordered lists (oldest first) under one byte budget and one item bound, evicting
 * fairly (see the module comment). `dropped` is told about every item evicted here.
 */
class FairLists<V extends { readonly tenant: string; readonly bytes: number }> {
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

  /** Charges (or, negative, refunds) bytes to a tenant besides its items. */
  charge(tenant: string, delta: number): void {
    if (delta === 0) return;
    let list = this.lists.get(tenant);
    if (list === undefined) {
      list = { items: new Map(), bytes: 0 };
      this.lists.set(tenant, list);
    }
    list.bytes += delta;
    this.bytes += delta;
    if (list.items.size === 0 && list.bytes <= 0) this.lists.delete(tenant);
  }

  /**
   * Adds `value` as its tenant's youngest, then evicts until within bounds (possibly `value`
   * itself, when nothing else is left to evict).
   */
  add(key: string, value: V): void {
    let list = this.lists.get(value.tenant);
    if (list === undefined) {
      list = { items: new Map(), bytes: 0 };
      this.lists.set(value.tenant, list);
    }
    list.items.set(key, value);
    list.bytes += value.bytes;
    this.bytes += value.bytes;
    this.size++;
    this.evict(value.tenant, list);
  }

  /** Moves an item to its tenant's young end. */
  touch(key: string, value: V): void {
    const items = this.lists.get(value.tenant)?.items;
    if (items === undefined) return;
    items.delete(key);
    items.set(key, value);
  }

  /** Charges `extra` bytes to an item already listed (as its youngest), then evicts as `add` does. */
  grow(key: string, value: V & { bytes: number }, extra: number): void {
    const list = this.lists.get(value.tenant);
    if (list === undefined || list.items.get(key) !== value) return;
    value.bytes += extra;
    list.bytes += extra;
    this.bytes += extra;
    this.touch(key, value);
    this.evict(value.tenant, list);
  }

  /** Removes an item (not reported to `dropped`); true when it was listed. */
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

  /** The tenant's share first (its own oldest go), then the whole budget (see victim). */
  private evict(tenant: string, list: TenantList<V>): void {
    while (list.bytes > this.tenantCap && list.items.size > 0) this.evictOldest(tenant, list);
    while ((this.bytes > this.budget || this.size > this.maxItems) && this.size > 0) {
      const [victimTenant, victim] = this.victim(tenant, list);
      this.evictOldest(victimTenant, victim);
    }
  }

  /**
   * Who pays when the whole budget is full: the inserting tenant if it holds at least an equal
   * share (O(1): the usual case of a flood), otherwise the tenant holding the most (a scan of the
   * tenants in the memo, paid only by a tenant below an equal share inserting into a full memo).
   */
  private victim(tenant: string, list: TenantList<V>): [string, TenantList<V>] {
    if (list.items.size > 0 && list.bytes * this.lists.size >= this.bytes) return [tenant, list];
    let most: [string, TenantList<V>] | undefined;
    for (const entry of this.lists) {
      if (entry[1].items.size > 0 && (most === undefined || entry[1].bytes > most[1].bytes)) most = entry;
    }
    return most ?? [tenant, list];
  }

  private evictOldest(tenant: string, list: TenantList<V>): void {
    const oldest = list.items.entries().next();
    if (oldest.done === true) return;
    const [key, value] = oldest.value;
    list.items.delete(key);
    list.bytes -= value.bytes;
    this.bytes -= value.bytes;
    this.size--;
    this.dropped(key, value); // may refund shared values to the tenant
    if (list.items.size === 0 && list.bytes <= 0) this.lists.delete(tenant);
  }

  private uncharge(tenant: string, list: TenantList<V>, bytes: number): void {
    list.bytes -= bytes;
    this.bytes -= bytes;
    this.size--;
    if (list.items.size === 0 && list.bytes <= 0) this.lists.delete(tenant);
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
  /** Per tenant: the values its entries share, by key. */
  private readonly pools = new Map<string, Map<string, Pooled>>();
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
    const textBudget = opts.textIndex === false ? 0 : Math.floor(maxBytes / 16);
    const entryBudget = maxBytes - textBudget;
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
  }

  /** Entries held. */
  get size(): number {
    return this.entries.size;
  }

  /** Entries of the text index (for tests and metrics). */
  get textSize(): number {
    return this.byText.size;
  }

  /** Bytes charged: entries, shared values and indexed texts (never more than maxBytes). */
  get bytes(): number {
    return this.entryLists.bytes + (this.textLists?.bytes ?? 0);
  }

  /** Bytes charged for entries and shared values. */
  get entryBytes(): number {
    return this.entryLists.bytes;
  }

  /** Tenants with at least one entry. */
  get tenants(): number {
    return this.entryLists.tenants;
  }

  /** Bytes charged to one tenant (its entries, shared values and indexed texts). */
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
   * charged to the entry's tenant. Does nothing when the index is disabled, the entry has left
   * the memo or its text is already indexed.
   */
  indexText(raw: string, entry: MemoEntry): void {
    const lists = this.textLists;
    const stored = entry as StoredEntry;
    if (lists === undefined || raw.length <= TEXT_KEY_CHARS || !stored.live) return;
    const tail = raw.slice(raw.length - TEXT_KEY_CHARS);
    const previous = this.byText.get(tail);
    if (previous !== undefined) {
      if (previous.text === raw && previous.entry === stored) return;
      this.dropText(tail, previous);
    }
    if (stored.textKey !== undefined) {
      const old = this.byText.get(stored.textKey);
      if (old !== undefined && old.entry === stored) this.dropText(stored.textKey, old);
    }
    const bytes = textSlotHeapBytes(raw.length);
    if (bytes > lists.tenantCap) return;
    const slot: TextSlot = { text: flatCopy(raw), entry: stored, tenant: stored.tenant, bytes };
    const key = flatCopy(tail);
    this.byText.set(key, slot);
    stored.textKey = key;
    lists.add(key, slot); // may drop the oldest texts of the tenant (or this one)
  }

  /**
   * Records that `link` verified with `publicKey` (only what a hit reads is kept), charged to its
   * tenant, evicting fairly when over budget. Returns the entry; it is not live (not stored) when
   * it alone would exceed a tenant's share.
   */
  remember(link: ParsedLink, publicKey: Uint8Array): MemoEntry {
    const previous = this.entries.get(link.hash);
    if (previous !== undefined) {
      this.entryLists.remove(link.hash, previous);
      this.forget(link.hash, previous);
    }
    const tenant = link.claims.tnt;
    let pool = this.pools.get(tenant);
    if (pool === undefined) {
      pool = new Map();
      this.pools.set(tenant, pool);
    }
    const sharing = new Sharing(pool);
    const slimLink = slim(link, sharing);
    const entry: StoredEntry = {
      link: slimLink,
      verifiedKey: sharing.key(publicKey),
      narrowsParent: false,
      seal: undefined,
      tenant: slimLink.claims.tnt,
      bytes: ownHeapBytes(slimLink),
      pooled: sharing.held,
      textKey: undefined,
      live: true,
    };
    if (entry.bytes + sharing.heldBytes > this.entryLists.tenantCap) {
      this.stats.oversized++;
      entry.live = false;
      this.release(entry);
      return entry;
    }
    this.entryLists.charge(tenant, sharing.addedBytes);
    this.entries.set(link.hash, entry);
    this.entryLists.add(link.hash, entry); // may evict the tenant's oldest, or others' (fairly)
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
    this.pools.clear();
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

  /** An entry leaves: not live, out of the hash index, its text dropped, its shared values released. */
  private forget(hash: string, entry: StoredEntry): void {
    entry.live = false;
    if (this.entries.get(hash) === entry) this.entries.delete(hash);
    const key = entry.textKey;
    if (key !== undefined) {
      const slot = this.byText.get(key);
      if (slot !== undefined && slot.entry === entry) this.dropText(key, slot);
      entry.textKey = undefined;
    }
    this.entryLists.charge(entry.tenant, -this.release(entry));
  }

  /** Releases an entry's shared values; returns the bytes freed (values no entry references any more). */
  private release(entry: StoredEntry): number {
    const pool = this.pools.get(entry.tenant);
    if (pool === undefined) return 0;
    let freed = 0;
    for (const p of entry.pooled) {
      if (--p.refs === 0 && pool.get(p.key) === p) {
        pool.delete(p.key);
        freed += p.bytes;
      }
    }
    if (pool.size === 0) this.pools.delete(entry.tenant);
    return freed;
  }

  private dropText(key: string, slot: TextSlot): void {
    this.byText.delete(key);
    this.textLists?.remove(key, slot);
    if (slot.entry.textKey === key) slot.entry.textKey = undefined;
  }
}

/**
 * The shared values one new entry takes from its tenant's pool: each is acquired (reference
 * counted), and what had to be created is the tenant's new charge. Everything shared is frozen.
 */
class Sharing {
  readonly held: Pooled[] = [];
  /** Bytes of every value held (what the entry would cost alone). */
  heldBytes = 0;
  /** Bytes of the values created for this entry. */
  addedBytes = 0;

  constructor(private readonly pool: Map<string, Pooled>) {}

  private acquire<V>(key: string, make: () => V): V {
    let p = this.pool.get(key);
    if (p === undefined) {
      const value = make();
      p = { key, value, refs: 0, bytes: POOLED_RECORD + MAP_SLOT + stringHeapBytes(key) + estimateHeapBytes(value) };
      this.pool.set(key, p);
      this.addedBytes += p.bytes;
    }
    p.refs++;
    this.held.push(p);
    this.heldBytes += p.bytes;
    return p.value as V;
  }

  str(s: string): string {
    return this.acquire(`s${s}`, () => s);
  }

  list(a: readonly string[]): readonly string[] {
    return a.length === 0 ? EMPTY_LIST : this.acquire(`l${JSON.stringify(a)}`, () => Object.freeze([...a]));
  }

  /** A shared value for `key` (its JSON, so equal keys mean equal values). */
  value<T>(key: string, make: () => T): T {
    return this.acquire(key, make);
  }

  /** One frozen copy per distinct public key, shared by every entry it verified. */
  key(publicKey: Uint8Array): Uint8Array {
    const id = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString('base64');
    return this.acquire(`k${id}`, () => Uint8Array.from(publicKey));
  }
}

const EMPTY_LIST: readonly string[] = Object.freeze([]);

/** Fields of the slim ParsedLink and of the claims object that are not shared values. */
const OWN_FIELDS_OF_CLAIMS = ['jti', 'iat', 'nbf', 'exp', 'dep', 'prn', 'phs', 'cnf'] as const;

/**
 * What an entry is charged for itself: its objects (StoredEntry, link, claims), the two map
 * entries holding it, its hash and what is its own among the claims (ids, times, holder key); the
 * shared values are charged through the pool.
 */
function ownHeapBytes(link: ParsedLink): number {
  const c = link.claims as unknown as Record<string, unknown>;
  let bytes = ENTRY_OBJECTS + 2 * MAP_SLOT + OBJECT_HEADER + stringHeapBytes(link.hash);
  bytes += ARRAY_HEADER + 12 * ELEMENT; // the list of shared values it holds
  for (const name in c) {
    bytes += PROPERTY;
    if ((OWN_FIELDS_OF_CLAIMS as readonly string[]).includes(name)) bytes += estimateHeapBytes(c[name]);
  }
  return bytes + estimateHeapBytes(link.holderKey);
}

/**
 * What a memo hit reads, without the link text, signing input and signature, with repeated parts
 * shared through `sharing`. The claims keep the order validateClaims gives them.
 */
function slim(link: ParsedLink, sharing: Sharing): ParsedLink {
  const c = link.claims;
  const claims = {
    tnt: sharing.str(c.tnt),
    sub: sharing.str(c.sub),
    jti: c.jti,
    iat: c.iat,
    nbf: c.nbf,
    exp: c.exp,
    dep: c.dep,
    scp: sharing.list(c.scp),
    res: sharing.list(c.res),
    ctx: sharing.list(c.ctx),
    cns: sharing.value(`c${JSON.stringify(c.cns)}`, () => c.cns),
  } as EnvelopeClaims;
  if (c.iss !== undefined) claims.iss = sharing.str(c.iss);
  if (c.aud !== undefined)
    claims.aud = (typeof c.aud === 'string' ? sharing.str(c.aud) : sharing.list(c.aud)) as string | string[];
  if (c.prn !== undefined) claims.prn = c.prn;
  if (c.phs !== undefined) claims.phs = c.phs;
  claims.cnf = c.cnf;
  const kid = link.header.kid;
  return Object.freeze({
    raw: '',
    hash: link.hash,
    header: sharing.value(`h${JSON.stringify(kid)}`, () => link.header),
    claims: Object.freeze(claims),
    constraints: sharing.value(`n${JSON.stringify(link.constraints)}`, () => link.constraints),
    holderKey: link.holderKey,
    signingInput: EMPTY,
    signature: EMPTY,
  });
}
