// Canonical resources for checks (docs/resources.md). Build the resource a tool will touch from its
// parts instead of pasting a model-chosen id into a string: an id such as '../student-health/s-1'
// is refused here, so a check can never be for one object while the tool reaches another.
import {
  AuthorityError,
  appendResourceSegments,
  encodeResourceSegment,
  resourceFromSegments,
  resourceProblem,
} from '@authority/core';

// The checks themselves, for tools that validate resources they are handed.
export {
  isCanonicalResource,
  resourceProblem,
  resourcePatternProblem,
  parseResource,
  type ResourceParts,
} from '@authority/core';

/**
 * A resource, or a part of one, that is not canonical. It is a RangeError, so an `enforced` tool
 * whose resource function throws it is reported as INVALID_REQUEST and never runs.
 */
export class InvalidResourceError extends RangeError {
  override readonly name = 'InvalidResourceError';
  /** The request field at fault. */
  readonly field = 'resource';
  /** The reason code the enforcer would answer for such a resource. */
  readonly reason = 'INVALID_REQUEST';
}

function sdkErrors<T>(build: () => T): T {
  try {
    return build();
  } catch (err) {
    if (err instanceof AuthorityError) throw new InvalidResourceError(err.message, { cause: err });
    throw err;
  }
}

/**
 * `scheme://authority/segment/...`, each segment percent-encoded (UTF-8, uppercase hex; letters,
 * digits and `- . _ ~ ! $ & ' ( ) , = @` stay as they are):
 * `resource('slos', 'vaults', 'student-records', studentId)`. Throws InvalidResourceError for a
 * scheme or authority that is not lowercase and canonical, and for a segment that is empty, `.`,
 * `..`, ends with `.`, contains `/` `\` `%` `:` `;` `?` `#`, whitespace or control characters, or
 * is not NFKC-normalized. Nothing is dropped, folded or normalized for you.
 */
export function resource(scheme: string, authority: string, ...segments: string[]): string {
  return sdkErrors(() => resourceFromSegments(scheme, authority, ...segments));
}

/**
 * A canonical `base` with more segments appended, encoded as by `resource`:
 * `childResource('slos://vaults/student-records', studentId)`. Throws InvalidResourceError when
 * `base` is not canonical or a segment is refused.
 */
export function childResource(base: string, ...segments: string[]): string {
  return sdkErrors(() => appendResourceSegments(base, ...segments));
}

/** One segment in canonical spelling (the encoding `resource` applies); throws InvalidResourceError. */
export function resourceSegment(segment: string): string {
  return sdkErrors(() => encodeResourceSegment(segment));
}

/**
 * Returns `resource` when it is canonical, else throws InvalidResourceError naming what is wrong:
 * for resources that arrive whole (configuration, another service). It never repairs one.
 */
export function canonicalResource(resource: string): string {
  const problem = resourceProblem(resource);
  if (problem !== undefined) throw new InvalidResourceError(`resource: ${problem}`);
  return resource;
}
