// The deterministic intent compiler: which of the caller's scopes a task description needs.
// Keyword matching, no model: a scope is kept when one of its subject segments (all but the last)
// or a word of a mapped tool that needs it (name, description) appears in the intent, and its
// action segment fits the verbs of the intent (reading verbs → read-like actions; writing verbs →
// write-like actions; no verb → read only). A `*` action is narrowed to `read` when the intent only
// reads. The result is only a proposal: the issuer's Delegate verifies the caller's envelope and
// refuses anything it does not cover, so the caller's envelope is the upper bound. Pure.
import { isValidScope } from '@authority/core';

const READ_VERBS = new Set(
  'read view get list show summarize summarise fetch look find search check review analyze analyse see open inspect query report count'.split(
    ' ',
  ),
);
const WRITE_VERBS = new Set(
  'write update edit create modify delete remove change save add upload move rename set record store append put post'.split(
    ' ',
  ),
);
const READ_ACTIONS = new Set(['read', 'list', 'get', 'view', 'query', 'search']);
const WRITE_ACTIONS = new Set(['write', 'update', 'create', 'delete', 'edit', 'modify', 'put']);
const STOP = new Set(
  'the a an and or of to for in on at by with from my our your this that these those all any some it its is are be'.split(
    ' ',
  ),
);

/** Most characters of an intent considered (the rest is ignored, never an error). */
export const MAX_INTENT_LENGTH = 4000;

function stem(word: string): string {
  if (word.length > 4 && word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (word.length > 3 && word.endsWith('s') && !word.endsWith('ss')) return word.slice(0, -1);
  return word;
}

/** The lowercase, stemmed words of a text (letters and digits; `-`, `_`, `.` and `/` split words). */
export function words(text: string): Set<string> {
  const out = new Set<string>();
  for (const w of text
    .slice(0, MAX_INTENT_LENGTH)
    .toLowerCase()
    .split(/[^a-z0-9]+/)) {
    if (w.length >= 2 && !STOP.has(w)) out.add(stem(w));
  }
  return out;
}

export interface CompiledIntent {
  /** The child's scopes (kept, possibly with a `*` action narrowed to `read`). */
  scopes: string[];
  /** The caller's scopes the intent does not need. */
  dropped: string[];
  /** 1 - kept / total (1.0 when the caller has no scope), as the original reports it. */
  reductionRatio: number;
  /** Why each kept scope was kept. */
  reasons: Record<string, string>;
}

/**
 * Compiles `intent` against the caller's `scopes`. `toolWords` maps a scope to the words of the
 * mapped tools that need it (their names and descriptions), so "list my files" can match a scope
 * `fs:docs:read` through a tool `read_text_file` described as "Read a file".
 */
export function compileIntent(
  intent: string,
  scopes: readonly string[],
  toolWords: ReadonlyMap<string, ReadonlySet<string>> = new Map(),
): CompiledIntent {
  const w = words(intent);
  const reads = [...w].some((x) => READ_VERBS.has(x));
  const writes = [...w].some((x) => WRITE_VERBS.has(x));
  const wantsRead = reads || !writes;
  const kept: string[] = [];
  const dropped: string[] = [];
  const reasons: Record<string, string> = {};
  for (const scope of scopes) {
    if (!isValidScope(scope)) {
      dropped.push(scope);
      continue;
    }
    const segs = scope.split(':');
    const action = segs[segs.length - 1] as string;
    const subject = segs.slice(0, -1).flatMap((s) =>
      s === '*'
        ? []
        : s
            .toLowerCase()
            .split(/[-_./]+/)
            .map(stem),
    );
    const bySegment = subject.find((s) => w.has(s));
    const byTool =
      bySegment === undefined
        ? [...(toolWords.get(scope) ?? [])].find((x) => w.has(x) && !READ_VERBS.has(x) && !WRITE_VERBS.has(x))
        : undefined;
    const actionOk =
      action === '*' ||
      (READ_ACTIONS.has(action) && wantsRead) ||
      (WRITE_ACTIONS.has(action) && writes) ||
      (!READ_ACTIONS.has(action) && !WRITE_ACTIONS.has(action) && w.has(stem(action)));
    if ((bySegment === undefined && byTool === undefined) || !actionOk) {
      dropped.push(scope);
      continue;
    }
    const narrowed = action === '*' && !writes ? [...segs.slice(0, -1), 'read'].join(':') : scope;
    kept.push(narrowed);
    reasons[narrowed] =
      bySegment !== undefined
        ? `the intent names '${bySegment}'`
        : `the intent names '${byTool}' (a tool that needs this scope)`;
  }
  return {
    scopes: kept,
    dropped,
    reductionRatio: scopes.length === 0 ? 1 : Math.round((1 - kept.length / scopes.length) * 1000) / 1000,
    reasons,
  };
}
