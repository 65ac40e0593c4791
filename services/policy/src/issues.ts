// How validation issues travel in an error: bounded in count and size, because the status message
// and trailers are HTTP/2 headers. ValidatePolicy returns every issue in its response body instead.
import { PolicyValidationError, type PolicyIssue } from '@authority/core';
import { InvalidArgumentError } from '@authority/platform';

/** At most this many issues go into a PutPolicy error (message and trailer). */
export const MAX_ERROR_ISSUES = 20;
const MAX_ERROR_TEXT = 6000;

/** The issues that fit in an error. */
export function issuesForError(issues: readonly PolicyIssue[]): { shown: PolicyIssue[]; omitted: number } {
  const shown: PolicyIssue[] = [];
  let size = 0;
  for (const issue of issues.slice(0, MAX_ERROR_ISSUES)) {
    const cost = issue.path.length + issue.message.length + 40;
    if (shown.length > 0 && size + cost > MAX_ERROR_TEXT) break;
    shown.push(issue);
    size += cost;
  }
  return { shown, omitted: issues.length - shown.length };
}

/** `policy is invalid (N issues):` then one `line:col path: message` per line (core's format). */
export function invalidPolicyMessage(issues: readonly PolicyIssue[]): string {
  const { shown, omitted } = issuesForError(issues);
  const body = new PolicyValidationError(shown).message.replace(/^[^\n]*\n?/, '');
  const head = `policy is invalid (${issues.length} ${issues.length === 1 ? 'issue' : 'issues'}):`;
  const text = body === '' ? head : `${head}\n${body}`;
  return omitted > 0 ? `${text}\n  ... and ${omitted} more (ValidatePolicy lists every issue)` : text;
}

/** INVALID_ARGUMENT for an invalid policy, carrying every issue (server.ts adds them as a trailer). */
export class PolicyInvalidError extends InvalidArgumentError {
  constructor(readonly issues: readonly PolicyIssue[]) {
    super(issues[0]?.path || 'yaml', invalidPolicyMessage(issues), 'INVALID_REQUEST');
  }
}
