/**
 * Envelope and policy constraints (ARCHITECTURE §3, seed-behaviour §3): strict parsing, the
 * canonical wire form, evaluation against a request, narrowing checks and merging.
 *
 * Unlike the original, which silently ignored unknown keys and accepted an empty dict, an unknown
 * key, a wrong type, an alias given twice or an empty object is refused with an error naming it.
 */
import { closestName } from './suggest';
import { AuthorityError, type Reason } from './errors';
import {
  MAX_GLOB_INPUT_LENGTH,
  MAX_GLOB_PATTERN_LENGTH,
  globMatch,
  findUncoveredPattern,
  newGlobWorkBudget,
} from './glob';
import { resourcePatternProblem } from './resource';

export interface Constraints {
  requirePurpose: boolean;
  /** fnmatch globs; a resource matching any of them is refused. */
  deniedResources: string[];
  /** Positive integer; absent means no limit. */
  maxRecordsPerRequest?: number;
  writeRequiresApproval: boolean;
  /**
   * `pop: required`: every check must carry a per-request proof of possession signed by the
   * leaf's holder key (a seal alone is not enough), so a token cannot be replayed.
   */
  popRequired?: boolean;
  /** Explicit "none apply" declaration; it never relaxes the other constraints. */
  unconstrained: boolean;
}

/**
 * The actions that need no approval under `write_requires_approval`; every other action needs one
 * (an allow list, so `put`, `patch`, `upsert` or an action nobody thought of cannot slip through).
 * The request's action is case-folded before the lookup. The verbs are the read-only ones of common
 * APIs: HTTP GET/HEAD, REST list/get, SQL-ish query/search, cloud describe, UI view. A tenant
 * replaces the list with its policy's top-level `read_only_actions`.
 */
export const DEFAULT_READ_ONLY_ACTIONS: ReadonlySet<string> = new Set([
  'read',
  'list',
  'get',
  'query',
  'search',
  'view',
  'describe',
  'head',
]);

/** Most entries of a policy's `read_only_actions`. */
export const MAX_READ_ONLY_ACTIONS = 64;

/**
 * A read-only action name: lower case (requests are case-folded, so an upper-case entry could
 * never match), ASCII letters, digits, `_`, `.` and `-`, at most 64 characters (the longest
 * action a request may name). No wildcards: each entry is one exact action.
 */
export const READ_ONLY_ACTION_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

/** Why `name` is not a valid `read_only_actions` entry, or undefined when it is. */
export function readOnlyActionProblem(name: string): string | undefined {
  if (READ_ONLY_ACTION_PATTERN.test(name)) return undefined;
  if (name !== name.toLowerCase() && READ_ONLY_ACTION_PATTERN.test(name.toLowerCase())) {
    return `read-only action ${JSON.stringify(name)} must be lower case (request actions are case-folded): write ${JSON.stringify(name.toLowerCase())}`;
  }
  return `invalid read-only action ${JSON.stringify(name)}: use 1-64 lower-case letters, digits, '_', '.' or '-' (exact names, no wildcards)`;
}

/**
 * A purpose must say something: at least one letter or digit (`\p{L}` or `\p{N}`) that is not a
 * Unicode default-ignorable code point. The exclusion matters: the Hangul fillers U+115F, U+1160,
 * U+3164 and U+FFA0 are letters (`Lo`) that render as nothing, and they are exactly the letters
 * and digits that are default-ignorable; zero-width and format characters (U+200B, U+2060, U+FEFF,
 * bidi controls) are no letters at all.
 */
const VISIBLE_LETTER_OR_DIGIT = /(?!\p{Default_Ignorable_Code_Point})[\p{L}\p{N}]/u;

/** True when `purpose` meets `require_purpose` (see VISIBLE_LETTER_OR_DIGIT). */
export function isMeaningfulPurpose(purpose: unknown): boolean {
  return typeof purpose === 'string' && VISIBLE_LETTER_OR_DIGIT.test(purpose);
}

export const MAX_DENIED_RESOURCES = 256;

/** Constraints that declare none apply (what the original's helpers default to). */
export function declareUnconstrained(): Constraints {
  return {
    requirePurpose: false,
    deniedResources: [],
    writeRequiresApproval: false,
    unconstrained: true,
  };
}

const KNOWN_KEYS = new Set([
  'require_purpose',
  'denied_resources',
  'max_records_per_request',
  'max_records',
  'write_requires_approval',
  'require_approval',
  'pop',
  'unconstrained',
]);

/** A short, JSON-ish rendering of an offending value for error messages. */
function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'bigint') return `${value}n`;
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    text = undefined;
  }
  if (text === undefined) text = String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function isPlainObject(raw: unknown): raw is Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return false;
  const proto: unknown = Object.getPrototypeOf(raw);
  return proto === Object.prototype || proto === null;
}

/**
 * Parses the JSON/YAML constraints object of an envelope request or policy. Throws
 * `AuthorityError(reason, message, field + '.' + key)` naming the offending key; a non-object or
 * empty object is refused with `field` itself.
 */
export function parseConstraints(raw: unknown, reason: Reason, field: string): Constraints {
  if (!isPlainObject(raw)) {
    throw new AuthorityError(reason, `constraints in ${field} must be an object, got ${describe(raw)}`, field);
  }
  const keys = Object.keys(raw);
  if (keys.length === 0) {
    throw new AuthorityError(
      reason,
      `empty constraints in ${field}: set {unconstrained: true} to declare that none apply`,
      field,
    );
  }
  for (const key of keys) {
    if (!KNOWN_KEYS.has(key)) {
      const near = closestName(key, KNOWN_KEYS);
      throw new AuthorityError(
        reason,
        `unknown constraint '${key}' in ${field}${near !== undefined ? `; did you mean '${near}'?` : ''}`,
        `${field}.${key}`,
      );
    }
  }
  const has = (key: string) => Object.prototype.hasOwnProperty.call(raw, key);
  const refuse = (key: string, message: string): never => {
    throw new AuthorityError(reason, message, `${field}.${key}`);
  };
  const aliasPair = (canonical: string, alias: string): string | undefined => {
    if (has(canonical) && has(alias)) {
      refuse(alias, `constraint '${canonical}' in ${field} is given twice (also as alias '${alias}')`);
    }
    return has(canonical) ? canonical : has(alias) ? alias : undefined;
  };
  const readBoolean = (key: string): boolean => {
    const value = raw[key];
    if (typeof value !== 'boolean') {
      refuse(key, `constraint '${key}' in ${field} must be a boolean, got ${describe(value)}`);
    }
    return value as boolean;
  };

  const result: Constraints = {
    requirePurpose: false,
    deniedResources: [],
    writeRequiresApproval: false,
    unconstrained: false,
  };

  if (has('unconstrained') && raw['unconstrained'] !== true) {
    refuse(
      'unconstrained',
      `constraint 'unconstrained' in ${field} must be literally true, got ${describe(raw['unconstrained'])}`,
    );
  }
  result.unconstrained = has('unconstrained');

  if (has('require_purpose')) result.requirePurpose = readBoolean('require_purpose');

  if (has('denied_resources')) {
    const value = raw['denied_resources'];
    if (!Array.isArray(value)) {
      refuse(
        'denied_resources',
        `constraint 'denied_resources' in ${field} must be an array of glob patterns, got ${describe(value)}`,
      );
    }
    const patterns = value as unknown[];
    if (patterns.length > MAX_DENIED_RESOURCES) {
      refuse(
        'denied_resources',
        `constraint 'denied_resources' in ${field} has ${patterns.length} patterns, at most ${MAX_DENIED_RESOURCES} allowed`,
      );
    }
    patterns.forEach((pattern, i) => {
      if (typeof pattern !== 'string' || pattern.length === 0) {
        refuse(
          'denied_resources',
          `constraint 'denied_resources' in ${field}: pattern at index ${i} must be a non-empty string, got ${describe(pattern)}`,
        );
      }
      if ((pattern as string).length > MAX_GLOB_PATTERN_LENGTH) {
        refuse(
          'denied_resources',
          `constraint 'denied_resources' in ${field}: pattern at index ${i} is longer than ${MAX_GLOB_PATTERN_LENGTH} characters`,
        );
      }
      const problem = resourcePatternProblem(pattern as string);
      if (problem !== undefined) {
        refuse(
          'denied_resources',
          `constraint 'denied_resources' in ${field}: pattern at index ${i} is not a canonical resource pattern: ${problem}`,
        );
      }
    });
    result.deniedResources = [...(patterns as string[])];
  }

  const maxKey = aliasPair('max_records_per_request', 'max_records');
  if (maxKey !== undefined) {
    const value = raw[maxKey];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
      refuse(maxKey, `constraint '${maxKey}' in ${field} must be a positive integer, got ${describe(value)}`);
    }
    result.maxRecordsPerRequest = value as number;
  }

  const approvalKey = aliasPair('write_requires_approval', 'require_approval');
  if (approvalKey !== undefined) result.writeRequiresApproval = readBoolean(approvalKey);

  if (has('pop')) {
    if (raw['pop'] !== 'required') {
      refuse('pop', `constraint 'pop' in ${field} must be 'required', got ${describe(raw['pop'])}`);
    }
    result.popRequired = true;
  }

  return result;
}

/**
 * The canonical snake_case wire form: only constraints in force, in a fixed key order, and
 * `{unconstrained: true}` when nothing else is (so "no constraints" is always explicit).
 */
export function constraintsToWire(c: Constraints): Record<string, unknown> {
  const wire: Record<string, unknown> = {};
  if (c.requirePurpose) wire['require_purpose'] = true;
  if (c.deniedResources.length > 0) wire['denied_resources'] = [...c.deniedResources];
  if (c.maxRecordsPerRequest !== undefined) wire['max_records_per_request'] = c.maxRecordsPerRequest;
  if (c.writeRequiresApproval) wire['write_requires_approval'] = true;
  if (c.popRequired === true) wire['pop'] = 'required';
  if (c.unconstrained || Object.keys(wire).length === 0) wire['unconstrained'] = true;
  return wire;
}

export interface ConstraintRequest {
  action: string;
  resource?: string;
  purpose?: string;
  /** Absent means the request did not say; 0 is a real count. */
  recordCount?: number;
}

export interface ConstraintViolation {
  reason: Reason;
  /** The wire name of the violated constraint, e.g. `denied_resources`. */
  constraint: string;
  /** The request field at fault: `resource`, `context.purpose` or `context.record_count`. */
  field: string;
  message: string;
}

export interface ConstraintOutcome {
  /** Every violation, in VIOLATION_PRECEDENCE order. */
  violations: ConstraintViolation[];
  /** True only when there are no violations (violations beat approval). */
  approvalRequired: boolean;
}

/**
 * Which violation's reason a denial reports when a request violates several constraints (the
 * message and the structured list name them all): what data the call touches, then how much of it
 * (a count the request does not state is the unbounded case, so it comes before one over the
 * limit), then why. Resource first because no change of context can cure it.
 */
export const VIOLATION_PRECEDENCE: readonly Reason[] = [
  'DENIED_RESOURCE',
  'RECORD_COUNT_REQUIRED',
  'MAX_RECORDS_EXCEEDED',
  'PURPOSE_REQUIRED',
];

/** Rank of a violation's reason in VIOLATION_PRECEDENCE (unknown reasons last). */
export function violationRank(reason: Reason): number {
  const i = VIOLATION_PRECEDENCE.indexOf(reason);
  return i < 0 ? VIOLATION_PRECEDENCE.length : i;
}

/** Longest resource or pattern quoted in a violation message (a denial lists many of them). */
const MAX_QUOTED = 200;

function quote(text: string): string {
  return text.length <= MAX_QUOTED
    ? text
    : `${text.slice(0, MAX_QUOTED)}…[${text.length - MAX_QUOTED} more characters]`;
}

function deniedResourceViolation(c: Constraints, resource: string | undefined): ConstraintViolation | undefined {
  // Like the original: an absent or empty resource is not checked against the deny list.
  if (resource === undefined || resource === '' || c.deniedResources.length === 0) return undefined;
  if (resource.length > MAX_GLOB_INPUT_LENGTH) {
    // globMatch refuses to look at it; a deny list must fail closed, not open.
    return {
      reason: 'DENIED_RESOURCE',
      constraint: 'denied_resources',
      field: 'resource',
      message: `Constraint 'denied_resources': resource is ${resource.length} characters long, over the ${MAX_GLOB_INPUT_LENGTH} that can be checked against denied patterns`,
    };
  }
  for (const pattern of c.deniedResources) {
    // An over-long pattern (possible only in hand-built Constraints) is treated as matching.
    if (pattern.length > MAX_GLOB_PATTERN_LENGTH || globMatch(pattern, resource)) {
      return {
        reason: 'DENIED_RESOURCE',
        constraint: 'denied_resources',
        field: 'resource',
        message: `Constraint 'denied_resources': resource '${quote(resource)}' matches denied pattern '${quote(pattern)}'`,
      };
    }
  }
  return undefined;
}

function recordCountViolation(c: Constraints, count: number | undefined): ConstraintViolation | undefined {
  const limit = c.maxRecordsPerRequest;
  if (limit === undefined) return undefined;
  if (count === undefined) {
    // Fail closed: a limit the request does not let us check is not a limit met.
    return {
      reason: 'RECORD_COUNT_REQUIRED',
      constraint: 'max_records_per_request',
      field: 'context.record_count',
      message: `Constraint 'max_records_per_request': the request must state how many records it touches in context.record_count (limit is ${limit})`,
    };
  }
  if (!Number.isSafeInteger(count) || count < 0) {
    // NaN or a negative count would slip past `count > limit`; refuse it instead.
    return {
      reason: 'MAX_RECORDS_EXCEEDED',
      constraint: 'max_records_per_request',
      field: 'context.record_count',
      message: `Constraint 'max_records_per_request': record count must be a non-negative integer, got ${describe(count)}`,
    };
  }
  if (count > limit) {
    return {
      reason: 'MAX_RECORDS_EXCEEDED',
      constraint: 'max_records_per_request',
      field: 'context.record_count',
      message: `Constraint 'max_records_per_request': requested ${count} records but limit is ${limit}`,
    };
  }
  return undefined;
}

/**
 * Evaluates constraints against one request, collecting every violation in VIOLATION_PRECEDENCE
 * order (denied_resources, max_records_per_request, require_purpose). Under
 * write_requires_approval every action outside `readOnlyActions` (case-folded) needs approval,
 * but only when nothing was violated.
 */
export function evaluateConstraints(
  c: Constraints,
  req: ConstraintRequest,
  readOnlyActions: ReadonlySet<string> = DEFAULT_READ_ONLY_ACTIONS,
): ConstraintOutcome {
  const violations: ConstraintViolation[] = [];

  const denied = deniedResourceViolation(c, req.resource);
  if (denied !== undefined) violations.push(denied);

  const records = recordCountViolation(c, req.recordCount);
  if (records !== undefined) violations.push(records);

  if (c.requirePurpose && !isMeaningfulPurpose(req.purpose)) {
    violations.push({
      reason: 'PURPOSE_REQUIRED',
      constraint: 'require_purpose',
      field: 'context.purpose',
      message: "Constraint 'require_purpose': access must include a purpose with at least one letter or digit",
    });
  }

  const approvalRequired = violations.length === 0 && actionNeedsApproval(c, req.action, readOnlyActions);
  return { violations, approvalRequired };
}

/**
 * Does `write_requires_approval` in `c` ask approval for `action`? Yes for every action outside
 * `readOnlyActions`, compared case-folded (so `READ` is as read-only as `read`, and `Write` needs
 * approval like `write`).
 */
export function actionNeedsApproval(
  c: Readonly<Constraints>,
  action: string,
  readOnlyActions: ReadonlySet<string> = DEFAULT_READ_ONLY_ACTIONS,
): boolean {
  return c.writeRequiresApproval && !readOnlyActions.has(action.toLowerCase());
}

/**
 * The wire name of the first constraint `child` weakens relative to `parent`, or undefined when the
 * child is at least as tight. Every parent deny pattern must be contained (soundly, see
 * globContains) in some child deny pattern. `unconstrained` is a declaration and never loosens.
 */
export function findLoosenedConstraint(parent: Constraints, child: Constraints): string | undefined {
  if (parent.requirePurpose && !child.requirePurpose) return 'require_purpose';
  // Each parent deny pattern is a "child" of some child deny pattern in the containment sense.
  if (findUncoveredPattern(child.deniedResources, parent.deniedResources, newGlobWorkBudget()) !== undefined) {
    return 'denied_resources';
  }
  if (
    parent.maxRecordsPerRequest !== undefined &&
    (child.maxRecordsPerRequest === undefined || child.maxRecordsPerRequest > parent.maxRecordsPerRequest)
  ) {
    return 'max_records_per_request';
  }
  if (parent.writeRequiresApproval && !child.writeRequiresApproval) return 'write_requires_approval';
  if (parent.popRequired === true && child.popRequired !== true) return 'pop';
  return undefined;
}

/**
 * The tightest combination of two constraint sets (e.g. policy constraints on top of an
 * envelope's): union of deny patterns, the smaller record limit, OR of the booleans; the result is
 * `unconstrained` only if both are.
 */
export function mergeConstraints(a: Constraints, b: Constraints): Constraints {
  const limits = [a.maxRecordsPerRequest, b.maxRecordsPerRequest].filter((n): n is number => n !== undefined);
  const merged: Constraints = {
    requirePurpose: a.requirePurpose || b.requirePurpose,
    deniedResources: [...new Set([...a.deniedResources, ...b.deniedResources])],
    writeRequiresApproval: a.writeRequiresApproval || b.writeRequiresApproval,
    unconstrained: a.unconstrained && b.unconstrained,
  };
  if (limits.length > 0) merged.maxRecordsPerRequest = Math.min(...limits);
  if (a.popRequired === true || b.popRequired === true) merged.popRequired = true;
  return merged;
}
