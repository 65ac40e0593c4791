// Policy documents for the policy tests: large ones, shared by the parsing-cost tests
// (policy-cost.test.ts) and the benchmark that times them (bench/policy-parse.ts), so both speak of
// the same documents; and the issues a refused document gets.
import assert from 'node:assert/strict';
import { PolicyValidationError, parsePolicy, type PolicyIssue } from '../src/policy';

/** Joins lines, so positions in the tests read as line numbers. */
export const y = (...lines: string[]): string => `${lines.join('\n')}\n`;

/** The issues of a document that must be refused (fails the test when it is accepted). */
export function issuesOf(text: string, opts?: Parameters<typeof parsePolicy>[1]): readonly PolicyIssue[] {
  try {
    parsePolicy(text, opts);
  } catch (err) {
    assert.ok(err instanceof PolicyValidationError, `expected PolicyValidationError, got ${String(err)}`);
    return err.issues;
  }
  assert.fail('expected the policy to be refused');
}

/** `head`, then `unit(0)`, `unit(1)`, ... as long as the document stays within `bytes`, then `tail`. */
export function fill(head: string, unit: (i: number) => string, tail: string, bytes: number): string {
  const parts: string[] = [];
  let size = head.length + tail.length;
  for (let i = 0; ; i++) {
    const u = unit(i);
    if (size + u.length > bytes) break;
    parts.push(u);
    size += u.length;
  }
  return head + parts.join('') + tail;
}

/** A policy with `n` data classifications (flow or block mappings) and one agent. */
export function classifications(n: number, style: 'block' | 'flow' = 'flow'): string {
  const lines = ['organization: A', 'data_classifications:'];
  for (let i = 0; i < n; i++) {
    lines.push(style === 'block' ? `  d${i}:\n    sensitivity: internal` : `  d${i}: {sensitivity: internal}`);
  }
  lines.push('agents:', '  a: {scopes: [a:b]}');
  return `${lines.join('\n')}\n`;
}
