// Token buckets per tenant and agent, in bounded memory. `allows(key)` peeks without charging;
// `charge(key)` takes one token (a bucket may go empty, never negative). The gateway peeks the
// identity a token CLAIMS before asking the enforcer, and charges only the identity the enforcer
// VERIFIED: a forged token naming someone else can never drain their bucket.
export interface RateLimitOptions {
  /** Tokens added per second. */
  ratePerSecond: number;
  /** Bucket capacity (the burst). */
  burst: number;
  /** Most buckets kept; beyond it the least recently used is dropped (it comes back full). */
  maxKeys: number;
  /** Milliseconds (tests inject a clock). */
  clock?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly clock: () => number;
  /** Calls refused because their bucket was empty. */
  rejected = 0;

  constructor(private readonly opts: RateLimitOptions) {
    if (!(opts.ratePerSecond > 0) || !(opts.burst >= 1) || !(opts.maxKeys >= 1)) {
      throw new RangeError('RateLimiter: ratePerSecond > 0, burst >= 1 and maxKeys >= 1 are required');
    }
    this.clock = opts.clock ?? Date.now;
  }

  get size(): number {
    return this.buckets.size;
  }

  private refreshed(key: string): Bucket | undefined {
    const b = this.buckets.get(key);
    if (b === undefined) return undefined;
    const now = this.clock();
    b.tokens = Math.min(this.opts.burst, b.tokens + (Math.max(0, now - b.at) / 1000) * this.opts.ratePerSecond);
    b.at = now;
    // Most recently used last (Map keeps insertion order).
    this.buckets.delete(key);
    this.buckets.set(key, b);
    return b;
  }

  /** True when `key` has at least one token; counts a rejection otherwise. Does not charge. */
  allows(key: string): boolean {
    const b = this.refreshed(key);
    if (b === undefined || b.tokens >= 1) return true;
    this.rejected++;
    return false;
  }

  /** Seconds until `key` has a token again (0 when it has one). */
  retryAfterSeconds(key: string): number {
    const b = this.refreshed(key);
    if (b === undefined || b.tokens >= 1) return 0;
    return Math.ceil((1 - b.tokens) / this.opts.ratePerSecond);
  }

  /** Takes one token from `key`'s bucket (created full on first use). */
  charge(key: string): void {
    let b = this.refreshed(key);
    if (b === undefined) {
      b = { tokens: this.opts.burst, at: this.clock() };
      this.buckets.set(key, b);
      while (this.buckets.size > this.opts.maxKeys) {
        const oldest = this.buckets.keys().next().value as string;
        this.buckets.delete(oldest);
      }
    }
    b.tokens = Math.max(0, b.tokens - 1);
  }
}

/** The bucket key of an agent: tenant and agent id, unambiguous whatever characters they hold. */
export function rateKey(tenant: string, agent: string): string {
  return JSON.stringify([tenant, agent]);
}
