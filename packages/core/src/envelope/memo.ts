/**
 * Memoized link verification (UCAN-style): a bounded LRU from a link's SHA-256 to its parsed form
 * and the public key its signature verified with. A repeated token then costs map lookups instead
 * of JSON parsing and Ed25519. Only links of chains that verified completely are stored (and a
 * leaf's seal with it); time, revocation, key
 * liveness and the depth limit are still evaluated by the verifier on every call, so a revocation
 * or a retired key takes effect at once, memo or not.
 *
 * Two things make a hit cheap:
 * - a small, bounded index by the link's exact TEXT in front of the hash-keyed LRU, so a hot token
 *   costs neither SHA-256 nor a scan of its alphabet (a text hit compares the whole text, so it
 *   vouches for exactly the bytes that were verified);
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
 * A memo hit skips parsing, hence the per-link size limits: share one memo only among verifiers
 * using the same EnvelopeLimits.
 */
import type { EnvelopeClaims } from './claims';
import type { ParsedLink } from './link';

export const DEFAULT_MEMO_ENTRIES = 100_000;
/** Default bound of the text index, in characters of link text (≈ bytes: links are ASCII). */
export const DEFAULT_MEMO_TEXT_CHARS = 4 * 1024 * 1024;

/** Characters of a link's tail (its signature) that key the text index. */
const TEXT_KEY_CHARS = 43;

const EMPTY = new Uint8Array(0);

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
   * holder key and one leaf give one seal), or undefined.
   */
  seal: string | undefined;
}

/** What the memo keeps per entry, plus its liveness (false once evicted). */
interface StoredEntry extends MemoEntry {
  live: boolean;
}

interface TextSlot {
  /** The exact link text (a flat copy, so it never pins the token it came from). */
  readonly text: string;
  readonly entry: StoredEntry;
}

export interface MemoStats {
  hits: number;
  misses: number;
  evictions: number;
  /** Hits served by the text index (no hashing); included in `hits`. */
  textHits: number;
}

export interface LinkMemoOptions {
  /**
   * Bound of the text index in characters of link text (default 4 Mi, ≈ 4 MB); 0 disables it.
   * Each entry costs about its link's length; the index is FIFO.
   */
  maxTextChars?: number;
}

/** A flat copy of a string: a substring from `split` may otherwise keep the whole token alive. */
function flatCopy(s: string): string {
  return Buffer.from(s, 'latin1').toString('latin1');
}

export class LinkMemo {
  private readonly entries = new Map<string, StoredEntry>();
  private readonly byText = new Map<string, TextSlot>();
  private textChars = 0;
  private readonly maxTextChars: number;
  /** Public keys that verified links, shared by the entries (one copy per distinct key). */
  private readonly keys = new Map<string, Uint8Array>();
  /** Shared copies of what links repeat (see slim). */
  private readonly pool: Interner;
  readonly stats: MemoStats = { hits: 0, misses: 0, evictions: 0, textHits: 0 };

  constructor(
    readonly maxEntries: number = DEFAULT_MEMO_ENTRIES,
    opts: LinkMemoOptions = {},
  ) {
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1)
      throw new RangeError(`memo size must be a positive integer, got ${maxEntries}`);
    const maxText = opts.maxTextChars ?? DEFAULT_MEMO_TEXT_CHARS;
    if (!Number.isSafeInteger(maxText) || maxText < 0)
      throw new RangeError(`memo text bound must be a non-negative integer, got ${maxText}`);
    this.maxTextChars = maxText;
    this.pool = new Interner(Math.min(maxEntries, 65_536));
  }

  get size(): number {
    return this.entries.size;
  }

  /** Entries of the text index (for tests and metrics). */
  get textSize(): number {
    return this.byText.size;
  }

  /** The entry for a link hash, refreshed as most recently used. */
  get(hash: string): MemoEntry | undefined {
    const entry = this.entries.get(hash);
    if (entry === undefined) {
      this.stats.misses++;
      return undefined;
    }
    this.stats.hits++;
    // Re-insert to move it to the young end of the Map's insertion order.
    this.entries.delete(hash);
    this.entries.set(hash, entry);
    return entry;
  }

  /**
   * The entry of a link by its exact text, without hashing, or undefined (not a statistic: the
   * caller falls back to `get(hash)`, which counts a miss). Only text that passed `splitToken` may have been indexed.
   * A hit counts in `stats` unless `count` is false.
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
   * Indexes `raw` (the exact text of the memoized link `entry`, as split from a token) by text.
   * Does nothing when the index is disabled or the text is already indexed.
   */
  indexText(raw: string, entry: MemoEntry): void {
    if (this.maxTextChars === 0 || raw.length <= TEXT_KEY_CHARS || raw.length > this.maxTextChars) return;
    const stored = entry as StoredEntry;
    if (!stored.live) return;
    const key = flatCopy(raw.slice(raw.length - TEXT_KEY_CHARS));
    const previous = this.byText.get(key);
    if (previous !== undefined) {
      if (previous.text === raw && previous.entry === stored) return;
      this.byText.delete(key);
      this.textChars -= previous.text.length;
    }
    this.byText.set(key, { text: flatCopy(raw), entry: stored });
    this.textChars += raw.length;
    // FIFO: drop the oldest texts until within bounds.
    while (this.textChars > this.maxTextChars || this.byText.size > this.maxEntries) {
      const oldest = this.byText.entries().next();
      if (oldest.done === true) break;
      this.byText.delete(oldest.value[0]);
      this.textChars -= oldest.value[1].text.length;
    }
  }

  /**
   * Records that `link` verified with `publicKey` (only what a hit reads is kept); drops the least
   * recently used entry when full. Returns the new entry.
   */
  remember(link: ParsedLink, publicKey: Uint8Array): MemoEntry {
    const previous = this.entries.get(link.hash);
    if (previous !== undefined) {
      previous.live = false;
      this.entries.delete(link.hash);
    }
    const entry: StoredEntry = {
      link: slim(link, this.pool),
      verifiedKey: this.sharedKey(publicKey),
      narrowsParent: false,
      seal: undefined,
      live: true,
    };
    this.entries.set(link.hash, entry);
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.entries().next();
      if (oldest.done !== true) {
        oldest.value[1].live = false;
        this.entries.delete(oldest.value[0]);
        this.stats.evictions++;
      }
    }
    return entry;
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
    this.byText.clear();
    this.textChars = 0;
    this.keys.clear();
    this.pool.clear();
  }

  private evictWhere(match: (entry: StoredEntry) => boolean): number {
    let removed = 0;
    for (const [hash, entry] of this.entries) {
      if (match(entry)) {
        entry.live = false;
        this.entries.delete(hash);
        removed++;
      }
    }
    if (removed > 0) {
      for (const [key, slot] of this.byText) {
        if (!slot.entry.live) {
          this.byText.delete(key);
          this.textChars -= slot.text.length;
        }
      }
    }
    return removed;
  }

  /**
   * One frozen copy per distinct public key, shared by every entry it verified (a tenant has few
   * keys; 100,000 entries would otherwise hold 100,000 copies). Bounded: the pool is reset when it
   * grows past the entry bound (entries keep their copies).
   */
  private sharedKey(publicKey: Uint8Array): Uint8Array {
    const id = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString('base64');
    let key = this.keys.get(id);
    if (key === undefined) {
      if (this.keys.size >= this.maxEntries) this.keys.clear();
      key = Uint8Array.from(publicKey);
      this.keys.set(id, key);
    }
    return key;
  }
}

/**
 * Shared copies of what many links repeat (tenant, agent and key ids, scope and resource lists,
 * constraints): 100,000 memoized links of a few agents would otherwise hold 100,000 copies of each.
 * Everything shared is frozen. Bounded: a table is reset when it reaches `max` entries (entries
 * already built keep their copies).
 */
class Interner {
  private readonly strings = new Map<string, string>();
  private readonly lists = new Map<string, readonly string[]>();
  private readonly values = new Map<string, unknown>();

  constructor(private readonly max: number) {}

  str(s: string): string {
    const hit = this.strings.get(s);
    if (hit !== undefined) return hit;
    if (this.strings.size >= this.max) this.strings.clear();
    this.strings.set(s, s);
    return s;
  }

  list(a: readonly string[]): readonly string[] {
    if (a.length === 0) return EMPTY_LIST;
    const key = JSON.stringify(a);
    const hit = this.lists.get(key);
    if (hit !== undefined) return hit;
    if (this.lists.size >= this.max) this.lists.clear();
    const shared = Object.freeze(a.map((s) => this.str(s)));
    this.lists.set(key, shared);
    return shared;
  }

  /** A shared frozen value for `key` (its JSON, so equal keys mean equal values), made once. */
  value<T>(key: string, make: () => T): T {
    const hit = this.values.get(key);
    if (hit !== undefined) return hit as T;
    if (this.values.size >= this.max) this.values.clear();
    const made = make();
    this.values.set(key, made);
    return made;
  }

  clear(): void {
    this.strings.clear();
    this.lists.clear();
    this.values.clear();
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
