/** Policy validation errors: every problem found, each with its position and path. */
import { AuthorityError } from '../errors';

export interface PolicyIssue {
  /** JSON-path-like location, e.g. `agents.academic-advisor.scopes[1]`; `""` for the whole document. */
  path: string;
  /** 1-based line of the offending key or value. */
  line: number;
  /** 1-based column of the offending key or value. */
  column: number;
  message: string;
}

function formatIssue(issue: PolicyIssue): string {
  return `${issue.line}:${issue.column} ${issue.path === '' ? '(document)' : issue.path}: ${issue.message}`;
}

/** Thrown by parsePolicy with every issue it found, sorted by position. */
export class PolicyValidationError extends Error {
  override readonly name = 'PolicyValidationError';
  readonly issues: readonly PolicyIssue[];

  constructor(issues: readonly PolicyIssue[]) {
    const sorted = [...issues].sort((a, b) => a.line - b.line || a.column - b.column);
    const count = sorted.length === 1 ? '1 issue' : `${sorted.length} issues`;
    super(`policy is invalid (${count}):\n${sorted.map((i) => `  ${formatIssue(i)}`).join('\n')}`);
    this.issues = sorted;
  }
}

/**
 * The AuthorityError a service returns for an invalid policy: reason INVALID_REQUEST, the full
 * message (every issue with line:column), and the first issue's path as the field.
 */
export function policyValidationToAuthorityError(err: PolicyValidationError): AuthorityError {
  const first = err.issues[0];
  return new AuthorityError(
    'INVALID_REQUEST',
    err.message,
    first === undefined || first.path === '' ? 'policy' : first.path,
  );
}
