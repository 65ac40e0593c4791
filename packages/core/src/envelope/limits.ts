/**
 * Bounds on what one token may contain, so a hostile token costs bounded work (ARCHITECTURE §2).
 * Every limit is configurable; the defaults are the architecture's.
 */
export interface EnvelopeLimits {
  /** Whole token, in characters (a valid token is ASCII, so characters = bytes). */
  maxTokenBytes: number;
  /** Links in one token: the root plus at most maxDepth children. */
  maxLinks: number;
  /** One compact JWS link, in characters. */
  maxLinkBytes: number;
  /** Entries of `scp` in one link. */
  maxScopes: number;
  /** Entries of `res` in one link. */
  maxResources: number;
  /** Entries of `ctx` in one link. */
  maxContextFields: number;
  /** Shortest allowed lifetime `exp - nbf` of a link, in seconds. */
  minTtlSeconds: number;
  /** Longest allowed lifetime `exp - nbf` of a link, in seconds. */
  maxTtlSeconds: number;
}

export const DEFAULT_ENVELOPE_LIMITS: Readonly<EnvelopeLimits> = Object.freeze({
  maxTokenBytes: 16 * 1024,
  maxLinks: 9,
  maxLinkBytes: 4 * 1024,
  maxScopes: 64,
  maxResources: 64,
  maxContextFields: 64,
  minTtlSeconds: 60,
  maxTtlSeconds: 24 * 60 * 60,
});

/** Default maximum delegation depth (root is depth 0). */
export const DEFAULT_MAX_DEPTH = 8;
/** Default clock-skew tolerance, in seconds. */
export const DEFAULT_SKEW_SECONDS = 30;

/** Limits with the defaults filled in (returns the shared default object when nothing is overridden). */
export function resolveEnvelopeLimits(overrides?: Partial<EnvelopeLimits>): Readonly<EnvelopeLimits> {
  if (overrides === undefined) return DEFAULT_ENVELOPE_LIMITS;
  return { ...DEFAULT_ENVELOPE_LIMITS, ...overrides };
}
