/**
 * Reads untrusted YAML into the `yaml` package's node tree without letting the document choose
 * how much work that costs, and turns every problem into a positioned PolicyIssue.
 *
 * Defences, in the order they run (each refuses before the next, costlier, step):
 * 1. size: more than `maxBytes` UTF-8 bytes is refused before any parsing;
 * 2. a linear pre-scan refuses flow brackets nested deeper than `maxDepth` and lines that open
 *    more than `maxDepth` compact block levels (`- - - - x`): the only shapes that make the
 *    parser itself slow (seconds per MiB), since indentation-based nesting grows quadratically;
 * 3. the concrete syntax tree is walked iteratively: nesting deeper than `maxDepth` and more than
 *    `maxAliases` alias nodes are refused before the composer (which recurses) runs;
 * 4. composing: YAML 1.2 core schema, no merge keys, no YAML 1.1 tags, duplicate keys refused,
 *    more than one document refused, every error and warning reported;
 * 5. while the policy reader walks the tree, each alias use is expanded against a node budget
 *    (`maxNodes`) and the depth limit, so an alias bomb stops after a bounded number of steps.
 */
import {
  Composer,
  LineCounter,
  Parser,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  visit,
  type Alias,
  type CST,
  type Document,
  type Node as YamlNode,
  type Scalar,
  type YAMLMap,
  type YAMLSeq,
} from 'yaml';
import type { PolicyIssue } from './issues';
import type { PolicyLimits } from './keys';

export type { YamlNode };

/** Renders one path step: `.key` for plain names, `["odd key"]` otherwise; `[i]` for indexes. */
export function pathJoin(parent: string, step: string | number): string {
  if (typeof step === 'number') return `${parent}[${step}]`;
  if (/^[A-Za-z0-9_-]+$/.test(step)) return parent === '' ? step : `${parent}.${step}`;
  return `${parent}[${JSON.stringify(step)}]`;
}

function describeKind(node: YamlNode | null | undefined): string {
  if (node === null || node === undefined) return 'nothing';
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isAlias(node)) return 'an alias';
  if (isScalar(node)) {
    const v = node.value;
    if (v === null) return 'null';
    if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 37)}...` : v)}`;
    if (typeof v === 'number') return `the number ${node.source ?? String(v)}`;
    if (typeof v === 'boolean') return `the boolean ${String(v)}`;
    return `a ${typeof v}`;
  }
  return 'an unsupported node';
}

/**
 * Linear pre-scan for the nesting shapes that are slow to parse. Conservative: brackets inside
 * quoted strings and comments count too, so a document with more than `maxDepth` unbalanced `[`
 * or `{` characters in its text is refused even if they are inside strings.
 */
function prescanNesting(text: string, maxDepth: number): number | undefined {
  let flowDepth = 0;
  let atLineStart = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (atLineStart) {
      atLineStart = false;
      // Count compact block indicators (`- `, `? `, `: `) opening on this line, skipping
      // indentation, anchors and tags between them.
      let j = i;
      let opened = 0;
      for (;;) {
        while (j < text.length && text[j] === ' ') j++;
        const ch = text[j];
        const next = text[j + 1];
        const isIndicator =
          (ch === '-' || ch === '?' || ch === ':') &&
          (next === ' ' || next === '\n' || next === '\r' || next === undefined);
        if (isIndicator) {
          opened++;
          if (opened > maxDepth) return j;
          j += 1;
          continue;
        }
        if (ch === '&' || ch === '!') {
          while (j < text.length && text[j] !== ' ' && text[j] !== '\n') j++;
          continue;
        }
        break;
      }
    }
    if (c === 0x5b || c === 0x7b) {
      flowDepth++;
      if (flowDepth > maxDepth) return i;
    } else if (c === 0x5d || c === 0x7d) {
      if (flowDepth > 0) flowDepth--;
    } else if (c === 0x0a) {
      atLineStart = true;
    }
  }
  return undefined;
}

type CstWalkProblem = { kind: 'depth' | 'aliases'; offset: number };

/** Iterative walk of the concrete syntax tree: nesting depth and alias count, before composing. */
function checkCst(tokens: readonly CST.Token[], limits: PolicyLimits): CstWalkProblem | undefined {
  const stack: { token: CST.Token; depth: number }[] = tokens.map((token) => ({ token, depth: 0 }));
  let aliases = 0;
  while (stack.length > 0) {
    const { token, depth } = stack.pop() as { token: CST.Token; depth: number };
    const isCollection = token.type === 'block-map' || token.type === 'block-seq' || token.type === 'flow-collection';
    const d = isCollection ? depth + 1 : depth;
    if (d > limits.maxDepth) return { kind: 'depth', offset: token.offset };
    if (token.type === 'alias') {
      aliases++;
      if (aliases > limits.maxAliases) return { kind: 'aliases', offset: token.offset };
    }
    if (token.type === 'document' && token.value !== undefined) stack.push({ token: token.value, depth: d });
    if (token.type === 'block-map' || token.type === 'block-seq' || token.type === 'flow-collection') {
      for (const item of token.items) {
        if ('key' in item && item.key) stack.push({ token: item.key, depth: d });
        if (item.value) stack.push({ token: item.value, depth: d });
      }
    }
  }
  return undefined;
}

export interface YamlReadResult {
  doc: Document.Parsed;
  reader: YamlReader;
}

/** Parses one YAML document defensively; returns the issues instead when it cannot be used. */
export function readYamlDocument(text: string, limits: PolicyLimits): YamlReadResult | PolicyIssue[] {
  const whole = (message: string): PolicyIssue[] => [{ path: '', line: 1, column: 1, message }];
  if (typeof text !== 'string') return whole(`policy must be YAML text, got ${typeof text}`);
  // UTF-16 length never exceeds the UTF-8 byte length, so the cheap test settles big inputs.
  const bytes = text.length > limits.maxBytes ? text.length : Buffer.byteLength(text, 'utf8');
  if (bytes > limits.maxBytes) {
    return whole(
      `policy is ${text.length > limits.maxBytes ? 'at least ' : ''}${bytes} bytes; the limit is ${limits.maxBytes} bytes`,
    );
  }
  const lineCounter = new LineCounter();
  const at = (offset: number, message: string): PolicyIssue[] => {
    const pos = linePosition(text, offset);
    return [{ path: '', line: pos.line, column: pos.column, message }];
  };
  const tooDeep = `YAML nested deeper than ${limits.maxDepth} levels; a policy never needs that, so it is refused`;
  const deepAt = prescanNesting(text, limits.maxDepth);
  if (deepAt !== undefined) return at(deepAt, tooDeep);

  const tokens = Array.from(new Parser(lineCounter.addNewLine).parse(text));
  const problem = checkCst(tokens, limits);
  if (problem !== undefined) {
    return at(
      problem.offset,
      problem.kind === 'depth'
        ? tooDeep
        : `more than ${limits.maxAliases} YAML aliases (*name); refused as a possible alias bomb`,
    );
  }

  const composer = new Composer({
    schema: 'core',
    merge: false,
    resolveKnownTags: false,
    uniqueKeys: true,
    strict: true,
    prettyErrors: false,
    logLevel: 'silent',
  });
  const docs = Array.from(composer.compose(tokens, true, text.length));
  const first = docs[0];
  const second = docs[1];
  if (first === undefined) return whole('policy is empty');
  if (second !== undefined) {
    return at(second.range[0], 'the file holds more than one YAML document; a policy is exactly one document');
  }
  const issues: PolicyIssue[] = [];
  for (const err of [...first.errors, ...first.warnings]) {
    const pos = lineCounter.linePos(err.pos[0]);
    issues.push({
      path: '',
      line: pos.line,
      column: pos.col,
      message: describeYamlError(text, err.code, err.pos, err.message),
    });
  }
  if (issues.length > 0) return issues;
  return { doc: first, reader: new YamlReader(first, lineCounter, limits) };
}

function describeYamlError(text: string, code: string, pos: [number, number], message: string): string {
  switch (code) {
    case 'DUPLICATE_KEY': {
      const m = /^\s*(?:"([^"\n]*)"|'([^'\n]*)'|([^:#\n]*?))\s*:/.exec(text.slice(pos[0], pos[0] + 200));
      const key = m === null ? '' : (m[1] ?? m[2] ?? m[3] ?? '');
      return `duplicate key${key ? ` '${key}'` : ''}: YAML keys must be unique`;
    }
    case 'TAG_RESOLVE_FAILED':
      return `${message}; policies use plain YAML 1.2 values only (no custom or YAML 1.1 tags)`;
    case 'RESOURCE_EXHAUSTION':
      return `YAML too deeply nested to read (${message})`;
    default:
      return `YAML syntax error: ${message}`;
  }
}

/** 1-based line and column of a UTF-16 offset, without a LineCounter (used before parsing). */
function linePosition(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/** One key/value pair of a mapping, with the key as a string. */
export interface MapEntry {
  key: string;
  keyNode: Scalar;
  value: YamlNode | null;
  path: string;
}

/**
 * Typed, positioned access to a composed document. Every accessor reports a problem as an issue
 * (and returns undefined) instead of throwing, so one pass collects all problems.
 */
export class YamlReader {
  readonly issues: PolicyIssue[] = [];
  private nodesVisited = 0;
  private exhausted = false;
  /** Each alias's target, found in one document-order pass (yaml's Alias.resolve rescans per call). */
  private readonly aliasTargets = new Map<Alias, YamlNode>();

  constructor(
    private readonly doc: Document.Parsed,
    private readonly lineCounter: LineCounter,
    private readonly limits: PolicyLimits,
  ) {
    // An alias refers to the latest node anchored with its name before it, in document order.
    const anchored = new Map<string, YamlNode>();
    visit(doc, {
      Node: (_key, node) => {
        if (isAlias(node)) {
          const target = anchored.get(node.source);
          if (target !== undefined) this.aliasTargets.set(node, target);
        } else if (node.anchor !== undefined) {
          anchored.set(node.anchor, node as YamlNode);
        }
      },
    });
  }

  get root(): YamlNode | null {
    return (this.doc.contents as YamlNode | null) ?? null;
  }

  /** True once the node budget or the issue cap is used up: callers stop walking. */
  get stopped(): boolean {
    return this.exhausted || this.issues.length >= this.limits.maxIssues;
  }

  position(node: YamlNode | null | undefined, fallback?: YamlNode | null): { line: number; column: number } {
    // An empty value (`key:` with nothing after it) has no text of its own: point at its key.
    const usable = (n: YamlNode | null | undefined): n is YamlNode =>
      n !== null &&
      n !== undefined &&
      n.range !== undefined &&
      n.range !== null &&
      !(isScalar(n) && n.source === '' && n.value === null);
    const target = usable(node) ? node : usable(fallback) ? fallback : undefined;
    if (target === undefined || !target.range) return { line: 1, column: 1 };
    const pos = this.lineCounter.linePos(target.range[0]);
    return { line: pos.line, column: pos.col };
  }

  report(node: YamlNode | null | undefined, path: string, message: string, fallback?: YamlNode | null): void {
    if (this.issues.length >= this.limits.maxIssues) return;
    const { line, column } = this.position(node, fallback);
    this.issues.push({ path, line, column, message });
    if (this.issues.length === this.limits.maxIssues) {
      this.issues.push({
        path: '',
        line,
        column,
        message: `stopped after ${this.limits.maxIssues} issues; fix these and validate again`,
      });
    }
  }

  /**
   * Follows an alias to its anchored node and charges the node budget. Returns undefined (after
   * reporting) for an alias without an anchor or once the budget is spent.
   */
  resolve(node: YamlNode | null, path: string): YamlNode | null | undefined {
    if (this.exhausted) return undefined;
    this.nodesVisited++;
    if (this.nodesVisited > this.limits.maxNodes) {
      this.exhausted = true;
      this.report(node, path, `document expands to more than ${this.limits.maxNodes} nodes (alias expansion); refused`);
      return undefined;
    }
    if (node !== null && isAlias(node)) {
      const target = this.aliasTargets.get(node);
      if (target === undefined) {
        this.report(node, path, `alias *${node.source} refers to no anchor &${node.source} defined before it`);
        return undefined;
      }
      return target;
    }
    return node;
  }

  /** The entries of a mapping; keys must be non-empty scalars. */
  mapping(raw: YamlNode | null, path: string, what: string, keyNode?: YamlNode | null): MapEntry[] | undefined {
    const node = this.resolve(raw, path);
    if (node === undefined) return undefined;
    if (node === null || !isMap(node)) {
      this.report(raw, path, `${what} must be a mapping, got ${describeKind(node)}`, keyNode);
      return undefined;
    }
    const entries: MapEntry[] = [];
    for (const pair of (node as YAMLMap<unknown, unknown>).items) {
      const k = pair.key as YamlNode | null;
      const v = (pair.value as YamlNode | null | undefined) ?? null;
      if (k === null || !isScalar(k) || k.value === null || k.value === '' || typeof k.value === 'object') {
        this.report(k ?? v, path, `${what} has a key that is not a plain name (${describeKind(k)})`, raw);
        continue;
      }
      const key = typeof k.value === 'string' ? k.value : (k.source ?? String(k.value));
      entries.push({ key, keyNode: k, value: v, path: pathJoin(path, key) });
    }
    return entries;
  }

  /** Reports every key not in `allowed`; the hint explains the refusal. */
  refuseUnknownKeys(entries: readonly MapEntry[], allowed: readonly string[], where: string): void {
    for (const e of entries) {
      if (allowed.includes(e.key)) continue;
      const hint =
        e.key === '<<'
          ? 'YAML merge keys (<<) are not supported; repeat the fields or use an alias for a whole value'
          : `allowed keys: ${allowed.join(', ')}. Unknown keys are refused (the original ignored them, so a misspelt key silently dropped a rule)`;
      this.report(e.keyNode, e.path, `unknown key '${e.key}' in ${where}; ${hint}`);
    }
  }

  /** The items of a list. */
  sequence(
    raw: YamlNode | null,
    path: string,
    what: string,
    keyNode?: YamlNode | null,
  ): (YamlNode | null)[] | undefined {
    const node = this.resolve(raw, path);
    if (node === undefined) return undefined;
    if (node === null || !isSeq(node)) {
      this.report(raw, path, `${what} must be a list, got ${describeKind(node)}`, keyNode);
      return undefined;
    }
    return (node as YAMLSeq<unknown>).items.map((item) => (item as YamlNode | null) ?? null);
  }

  /** A string scalar (optionally non-empty). */
  string(
    raw: YamlNode | null,
    path: string,
    what: string,
    opts: { nonEmpty?: boolean; keyNode?: YamlNode | null } = {},
  ): string | undefined {
    const node = this.resolve(raw, path);
    if (node === undefined) return undefined;
    if (node === null || !isScalar(node) || typeof node.value !== 'string') {
      this.report(raw, path, `${what} must be a string, got ${describeKind(node)}`, opts.keyNode);
      return undefined;
    }
    if (opts.nonEmpty === true && node.value.trim() === '') {
      this.report(raw, path, `${what} must not be empty`, opts.keyNode);
      return undefined;
    }
    return node.value;
  }

  /**
   * Any non-null scalar as the text it was written as (so `version: 1.0` is "1.0", not "1"), or
   * the string value for quoted scalars.
   */
  scalarText(raw: YamlNode | null, path: string, what: string, keyNode?: YamlNode | null): string | undefined {
    const node = this.resolve(raw, path);
    if (node === undefined) return undefined;
    if (node === null || !isScalar(node) || node.value === null || typeof node.value === 'object') {
      this.report(raw, path, `${what} must be a string or number, got ${describeKind(node)}`, keyNode);
      return undefined;
    }
    if (typeof node.value === 'string') return node.value;
    return node.source ?? String(node.value);
  }

  /** A safe integer within [min, max]. */
  integer(
    raw: YamlNode | null,
    path: string,
    what: string,
    min: number,
    max: number,
    keyNode?: YamlNode | null,
  ): number | undefined {
    const node = this.resolve(raw, path);
    if (node === undefined) return undefined;
    if (node === null || !isScalar(node) || typeof node.value !== 'number' || !Number.isSafeInteger(node.value)) {
      this.report(raw, path, `${what} must be an integer, got ${describeKind(node)}`, keyNode);
      return undefined;
    }
    if (node.value < min || node.value > max) {
      this.report(raw, path, `${what} must be between ${min} and ${max}, got ${node.value}`, keyNode);
      return undefined;
    }
    return node.value;
  }

  /** A list of strings; `check` reports per-item problems (return a message to refuse the item). */
  stringList(
    raw: YamlNode | null,
    path: string,
    what: string,
    opts: { keyNode?: YamlNode | null; check?: (value: string) => string | undefined } = {},
  ): string[] | undefined {
    const items = this.sequence(raw, path, what, opts.keyNode);
    if (items === undefined) return undefined;
    const out: string[] = [];
    let ok = true;
    items.forEach((item, i) => {
      if (this.stopped) {
        ok = false;
        return;
      }
      const itemPath = pathJoin(path, i);
      const value = this.string(item, itemPath, `${what} entry`, { nonEmpty: true });
      if (value === undefined) {
        ok = false;
        return;
      }
      const problem = opts.check?.(value);
      if (problem !== undefined) {
        this.report(item, itemPath, problem);
        ok = false;
        return;
      }
      out.push(value);
    });
    return ok ? out : undefined;
  }

  /**
   * Converts a subtree to plain JavaScript (null-prototype objects, arrays, scalars) for code that
   * validates plain values, charging the node budget and the depth limit as it goes.
   */
  toPlain(raw: YamlNode | null, path: string, depth = 0): { ok: true; value: unknown } | { ok: false } {
    if (depth > this.limits.maxDepth) {
      this.report(raw, path, `value nested deeper than ${this.limits.maxDepth} levels (through aliases); refused`);
      return { ok: false };
    }
    const node = this.resolve(raw, path);
    if (node === undefined) return { ok: false };
    if (node === null) return { ok: true, value: null };
    if (isScalar(node)) return { ok: true, value: node.value };
    if (isSeq(node)) {
      const out: unknown[] = [];
      for (const [i, item] of (node as YAMLSeq<unknown>).items.entries()) {
        const r = this.toPlain((item as YamlNode | null) ?? null, pathJoin(path, i), depth + 1);
        if (!r.ok) return r;
        out.push(r.value);
      }
      return { ok: true, value: out };
    }
    if (isMap(node)) {
      const entries = this.mapping(node, path, 'value');
      if (entries === undefined) return { ok: false };
      const out = Object.create(null) as Record<string, unknown>;
      for (const e of entries) {
        const r = this.toPlain(e.value, e.path, depth + 1);
        if (!r.ok) return r;
        out[e.key] = r.value;
      }
      return { ok: true, value: out };
    }
    this.report(raw, path, `unsupported YAML node (${describeKind(node)})`);
    return { ok: false };
  }
}
