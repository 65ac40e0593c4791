/**
 * Envelope and policy constraints (ARCHITECTURE §3, seed-behaviour §3): strict parsing, the
 * canonical wire form, evaluation against a request, narrowing checks and merging.
 *
 * Unlike the original, which silently ignored unknown keys and accepted an empty dict, an unknown
 * key, a wrong type, an alias given twice or an empty object is refused with an error naming it.
 */
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

/** Actions that need approval under `write_requires_approval` (exact, case-sensitive names). */
export const WRITE_ACTIONS: ReadonlySet<string> = new Set(['write', 'create', 'update', 'delete']);

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
      throw new AuthorityError(reason, `unknown constraint '${key}' in ${field}`, `${field}.${key}`);
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
  recordCount?: number;
}

export interface ConstraintViolation {
  reason: Reason;
  /** The wire name of the violated constraint, e.g. `denied_resources`. */
  constraint: string;
  message: string;
}

export interface ConstraintOutcome {
  violations: ConstraintViolation[];
  /** True only when there are no violations (violations beat approval). */
  approvalRequired: boolean;
}

function deniedResourceViolation(c: Constraints, resource: string | undefined): ConstraintViolation | undefined {
  // Like the original: an absent or empty resource is not checked against the deny list.
  if (resource === undefined || resource === '' || c.deniedResources.length === 0) return undefined;
  if (resource.length > MAX_GLOB_INPUT_LENGTH) {
    // globMatch refuses to look at it; a deny list must fail closed, not open.
    return {
      reason: 'DENIED_RESOURCE',
      constraint: 'denied_resources',
      message: `Constraint 'denied_resources': resource is ${resource.length} characters long, over the ${MAX_GLOB_INPUT_LENGTH} that can be checked against denied patterns`,
    };
  }
  for (const pattern of c.deniedResources) {
    // An over-long pattern (possible only in hand-built Constraints) is treated as matching.
    if (pattern.length > MAX_GLOB_PATTERN_LENGTH || globMatch(pattern, resource)) {
      return {
        reason: 'DENIED_RESOURCE',
        constraint: 'denied_resources',
        message: `Constraint 'denied_resources': resource '${resource}' matches denied pattern '${pattern}'`,
      };
    }
  }
  return undefined;
}

/**
 * Evaluates constraints against one request, collecting every violation in a fixed order
 * (denied_resources, require_purpose, max_records_per_request). Approval is required for a write
 * action under write_requires_approval, but only when nothing was violated.
 */
export function evaluateConstraints(c: Constraints, req: ConstraintRequest): ConstraintOutcome {
  const violations: ConstraintViolation[] = [];

  const denied = deniedResourceViolation(c, req.resource);
  if (denied !== undefined) violations.push(denied);

  if (c.requirePurpose && (typeof req.purpose !== 'string' || req.purpose.trim() === '')) {
    violations.push({
      reason: 'PURPOSE_REQUIRED',
      constraint: 'require_purpose',
      message: "Constraint 'require_purpose': access must include a non-empty purpose",
    });
  }

  const limit = c.maxRecordsPerRequest;
  const count = req.recordCount;
  if (limit !== undefined && count !== undefined) {
    if (!Number.isSafeInteger(count) || count < 0) {
      // NaN or a negative count would slip past `count > limit`; refuse it instead.
      violations.push({
        reason: 'MAX_RECORDS_EXCEEDED',
        constraint: 'max_records_per_request',
        message: `Constraint 'max_records_per_request': record count must be a non-negative integer, got ${describe(count)}`,
      });
    } else if (count > limit) {
      violations.push({
        reason: 'MAX_RECORDS_EXCEEDED',
        constraint: 'max_records_per_request',
        message: `Constraint 'max_records_per_request': requested ${count} records but limit is ${limit}`,
      });
    }
  }

  // Case-folded: scope segments are case-sensitive, so a wildcard grant could otherwise reach an
  // action spelled `WRITE` and skip the approval the original's lower-case list demands.
  const approvalRequired =
    violations.length === 0 && c.writeRequiresApproval && WRITE_ACTIONS.has(req.action.toLowerCase());
  return { violations, approvalRequired };
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
