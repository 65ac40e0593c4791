/**
 * Scope strings (`segment:segment[:...]`): syntax, matching a granted scope against a required one,
 * and containment between granted scopes (ARCHITECTURE §3, seed-behaviour §2).
 *
 * A `*` is a wildcard only as a whole segment on the granted side; everything else is compared
 * exactly and case-sensitively, and segment counts must be equal.
 */

/** Two or more non-empty segments of `[a-zA-Z0-9_./*-]` (the original's mint-time regex). */
export const SCOPE_PATTERN: RegExp = /^[a-zA-Z0-9_./*-]+(?::[a-zA-Z0-9_./*-]+)+$/;

export const MAX_SCOPE_LENGTH = 256;
export const MAX_SCOPE_SEGMENTS = 16;

const WILDCARD = '*';

/** True when `s` is a well-formed scope: the syntax above, at most 256 chars and 16 segments. */
export function isValidScope(s: string): boolean {
  if (typeof s !== 'string' || s.length > MAX_SCOPE_LENGTH) return false;
  // Checked before the regex so the segment cap holds even for valid characters.
  if (s.split(':').length > MAX_SCOPE_SEGMENTS) return false;
  return SCOPE_PATTERN.test(s);
}

/**
 * Does the granted scope satisfy the required one? Equal segment counts, and at every position the
 * granted segment is `*` or equals the required segment. `fin*` is a literal; a required `*`
 * segment is satisfied only by a granted `*`. `'' ~ ''` holds (degenerate, as in the original).
 */
export function scopeMatches(granted: string, required: string): boolean {
  const grantedSegments = granted.split(':');
  const requiredSegments = required.split(':');
  if (grantedSegments.length !== requiredSegments.length) return false;
  for (let i = 0; i < grantedSegments.length; i++) {
    const g = grantedSegments[i];
    if (g !== WILDCARD && g !== requiredSegments[i]) return false;
  }
  return true;
}

/**
 * Does `parent` grant everything `child` grants? Same segment count, and at every position the
 * parent segment is `*` or equals the child segment (so a child `*` is contained only by a parent
 * `*`). This is the same per-segment rule as matching, read as a relation between grants.
 */
export function scopeContains(parent: string, child: string): boolean {
  return scopeMatches(parent, child);
}

/** The first granted scope that satisfies `required`, or undefined. */
export function findMatchingScope(granted: readonly string[], required: string): string | undefined {
  return granted.find((g) => scopeMatches(g, required));
}

/** The first child scope that no parent scope contains (undefined when the child is narrower). */
export function findUncoveredScope(parents: readonly string[], children: readonly string[]): string | undefined {
  return children.find((c) => !parents.some((p) => scopeContains(p, c)));
}
