/**
 * Memoized link verification (UCAN-style): a bounded LRU from a link's SHA-256 to its parsed form
 * and the public key its signature verified with. A repeated token then costs hashing and map
 * lookups instead of JSON parsing and Ed25519. Only signature-verified links are stored; time,
 * revocation, key liveness and chain narrowing are still evaluated by the verifier on every call,
 * so a revocation or a retired key takes effect at once, memo or not.
 *
 * A memo hit skips parsing, hence the per-link size limits: share one memo only among verifiers
 * using the same EnvelopeLimits.
 */
import type { ParsedLink } from './link';

export const DEFAULT_MEMO_ENTRIES = 100_000;

export interface MemoEntry {
  readonly link: ParsedLink;
  /** The public key the link's signature verified with. */
  readonly verifiedKey: Uint8Array;
}

export interface MemoStats {
  hits: number;
  misses: number;
  evictions: number;
}

export class LinkMemo {
  private readonly entries = new Map<string, MemoEntry>();
  readonly stats: MemoStats = { hits: 0, misses: 0, evictions: 0 };

  constructor(readonly maxEntries: number = DEFAULT_MEMO_ENTRIES) {
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) throw new RangeError(`memo size must be a positive integer, got ${maxEntries}`);
  }

  get size(): number {
    return this.entries.size;
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

  /** Records that `link` verified with `publicKey`; drops the least recently used entry when full. */
  remember(link: ParsedLink, publicKey: Uint8Array): void {
    this.entries.delete(link.hash);
    this.entries.set(link.hash, { link, verifiedKey: Uint8Array.from(publicKey) });
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) {
        this.entries.delete(oldest.value);
        this.stats.evictions++;
      }
    }
  }

  /** Drops every entry whose link has this `jti`; returns how many (for memory hygiene on revocation). */
  evict(jti: string): number {
    let removed = 0;
    for (const [hash, entry] of this.entries) {
      if (entry.link.claims.jti === jti) {
        this.entries.delete(hash);
        removed++;
      }
    }
    return removed;
  }

  /** Drops every entry whose link's `sub` is this agent (agent revocation). */
  evictAgent(agent: string): number {
    let removed = 0;
    for (const [hash, entry] of this.entries) {
      if (entry.link.claims.sub === agent) {
        this.entries.delete(hash);
        removed++;
      }
    }
    return removed;
  }

  clear(): void {
    this.entries.clear();
  }
}
