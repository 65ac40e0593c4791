/**
 * Reads untrusted YAML into the `yaml` package's node tree without letting the document choose
 * how much work that costs, and turns every problem into a positioned PolicyIssue.
 *
 * Defences, in the order they run (each refuses before the next, costlier, step):
 * 1. size: more than `maxBytes` UTF-8 bytes is refused before any parsing;
 * 2. a linear pre-scan refuses flow brackets nested deeper than `maxDepth` and lines that open
 *    more than `maxDepth` compact block levels (`- - - - x`): the only shapes that make the
 *    parser itself slow (seconds per MiB), since indentation-based nesting grows quadratically;
 * 3. the parser is driven one lexeme at a time: more than `maxTokens` lexemes are refused, and it
 *    stops as soon as a collection it is filling is far over its entry limit (parseCst);
 * 4. the concrete syntax tree is walked iteratively: more than `maxIssues` stray tokens, nesting
 *    deeper than `maxDepth`, more than `maxAliases` alias nodes, a mapping with more than
 *    `maxMappingKeys` keys and a list with more than `maxListItems` items are refused before the
 *    composer (which recurses) runs;
 * 5. composing: YAML 1.2 core schema, no merge keys, no YAML 1.1 tags, more than one document
 *    refused (composing stops at the second), errors and warnings reported (composing stops after
 *    `maxIssues`);
 * 6. one iterative pass over the composed tree refuses duplicate keys (a Set per mapping) and
 *    finds each alias's anchor;
 * 7. while the policy reader walks the tree, each alias use is expanded against a node budget
 *    (`maxNodes`) and the depth limit, so an alias bomb stops after a bounded number of steps.
 *
 * Every step is linear in the size of the text, and the constant is bounded by the limits. The
 * `yaml` library's own duplicate-key check (`uniqueKeys: true`) is off: it compares each new key
 * with every earlier key of its mapping (`items.some(...)` in compose/util-map-includes.js, called
 * from resolve-block-map.js and resolve-flow-collection.js), which is quadratic in the number of
 * keys: 30,000 `data_classifications` entries (1 MB) took 6-16 s and a 1 MiB flow mapping
 * `{k0: 0, k1: 1, ...}` about a minute. Step 6 finds the same duplicates in O(1) per key.
 * Positions come from the LineCounter the lexer fills (a binary search per lookup), and paths are
 * built only for reported problems.
 *
 * Size: the defences listed below, each with the positioned issues it reports; they run in one pass
 * over one tree and stay together.
 */
import { closestName } from '../suggest';
import {
  CST,
  Composer,
  Lexer,
  LineCounter,
  Parser,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  type Alias,
  type Document,
  type Node as YamlNode,
  type Scalar,
  type YAMLError,
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

/**
 * Where a CST node sits, as a chain to the root: built for every collection entry (one small
 * object each) but rendered as a path only when a problem is reported.
 */
interface CstLink {
  up: CstLink | undefined;
  /** The key token (a mapping value) or the index (a list item) leading here from `up`. */
  step: CST.Token | number | undefined;
}

function cstPath(link: CstLink | undefined): string {
  const steps: (string | number)[] = [];
  for (let l = link; l !== undefined; l = l.up) {
    if (l.step === undefined) continue;
    if (typeof l.step === 'number') steps.push(l.step);
    else steps.push(CST.resolveAsScalar(l.step)?.value ?? '?');
  }
  return steps.reverse().reduce<string>((path, step) => pathJoin(path, step), '');
}

/** True for a collection item that holds an entry (not only comments or blank lines). */
function isEntry(item: CST.CollectionItem): boolean {
  if (item.key !== undefined || item.sep !== undefined || item.value !== undefined) return true;
  return item.start.some(
    (t) => t.type !== 'space' && t.type !== 'newline' && t.type !== 'comment' && t.type !== 'comma',
  );
}

type CstWalkProblem =
  | { kind: 'depth' | 'aliases'; offset: number }
  | { kind: 'keys' | 'items'; offset: number; path: string; count: number; token: CST.Token };

/**
 * Iterative walk of the concrete syntax tree before composing: nesting depth, alias count, keys
 * per mapping and items per list.
 */
function checkCst(tokens: readonly CST.Token[], limits: PolicyLimits): CstWalkProblem | undefined {
  type Frame = { token: CST.Token; depth: number; link: CstLink | undefined };
  const stack: Frame[] = tokens.map((token) => ({ token, depth: 0, link: undefined })).reverse();
  let aliases = 0;
  while (stack.length > 0) {
    const { token, depth, link } = stack.pop() as Frame;
    const isCollection = token.type === 'block-map' || token.type === 'block-seq' || token.type === 'flow-collection';
    const d = isCollection ? depth + 1 : depth;
    if (d > limits.maxDepth) return { kind: 'depth', offset: token.offset };
    if (token.type === 'alias') {
      aliases++;
      if (aliases > limits.maxAliases) return { kind: 'aliases', offset: token.offset };
    }
    if (token.type === 'document' && token.value !== undefined) stack.push({ token: token.value, depth: d, link });
    if (token.type === 'block-map' || token.type === 'block-seq' || token.type === 'flow-collection') {
      const isMapping = token.type === 'block-map' || (token.type === 'flow-collection' && token.start.source === '{');
      const max = isMapping ? limits.maxMappingKeys : limits.maxListItems;
      if (token.items.length > max) {
        let count = 0;
        for (const item of token.items) if (isEntry(item)) count++;
        if (count > max) {
          // Point at the key naming the collection (`agents:`), or at the collection itself.
          const offset = link !== undefined && typeof link.step === 'object' ? link.step.offset : token.offset;
          return { kind: isMapping ? 'keys' : 'items', offset, path: cstPath(link), count, token };
        }
      }
      // Pushed last entry first, so entries pop (and problems are found) in document order.
      for (let i = token.items.length - 1; i >= 0; i--) {
        const item = token.items[i] as CST.CollectionItem;
        const step = isMapping ? (item.key ?? undefined) : i;
        if (item.value) stack.push({ token: item.value, depth: d, link: { up: link, step } });
        if (item.key) stack.push({ token: item.key, depth: d, link: { up: link, step: undefined } });
      }
    }
  }
  return undefined;
}

/** Too many keys in the mapping (or items in the list) at `path`; a top-level section is named by itself. */
function tooManyEntries(
  kind: 'keys' | 'items',
  path: string,
  count: number,
  partial: boolean,
  limits: PolicyLimits,
): string {
  // When the parser was stopped while filling this collection, the count is of the entries read.
  const n = partial ? `at least ${count}` : String(count);
  if (kind === 'items') {
    const max = limits.maxListItems;
    return `too many items in ${path === '' ? 'the policy' : path}: ${n} (at most ${max}); no list in a policy may have more than ${max} items`;
  }
  const max = limits.maxMappingKeys;
  const what = path === '' ? 'keys in the policy' : /^[A-Za-z0-9_-]+$/.test(path) ? path : `keys in ${path}`;
  return `too many ${what}: ${n} (at most ${max}); no mapping in a policy may have more than ${max} keys`;
}

/** How many lexemes the parser reads between two looks at the collections it is filling. */
const CUT_CHECK_INTERVAL = 256;

type OpenCollection = CST.BlockMap | CST.BlockSequence | CST.FlowCollection;

/**
 * Runs the `yaml` parser (lexer + CST) lexeme by lexeme, like `Parser.parse`, but stops early:
 * - after `maxTokens` lexemes (`tooManyTokens` is the offset reached): the yaml parser and composer
 *   cost about a microsecond and a few hundred bytes per lexeme, and text made of the shortest
 *   tokens (`[a,a,a,...]`, blank lines) has one per byte or more, so without the budget the worst
 *   1 MiB document took seconds and half a gigabyte even though every step is linear;
 * - once a collection it is filling holds more than twice its limit of entries (`cut`): that
 *   document is refused anyway (by checkCst, which also finds the path), so a 1 MiB mapping of
 *   `a: 1` pairs need not be read to its end. Only the few innermost open collections are looked
 *   at, every CUT_CHECK_INTERVAL lexemes (entries are added to the collection on top of the
 *   parser's stack); a shape that evades the look is still refused by checkCst after the parse.
 */
function parseCst(
  text: string,
  lineCounter: LineCounter,
  limits: PolicyLimits,
): { tokens: CST.Token[]; cut?: OpenCollection; tooManyTokens?: number } {
  const parser = new Parser(lineCounter.addNewLine);
  lineCounter.addNewLine(0); // as Parser.parse does first
  const tokens: CST.Token[] = [];
  let cut: OpenCollection | undefined;
  let lexemes = 0;
  for (const lexeme of new Lexer().lex(text)) {
    if (++lexemes > limits.maxTokens) return { tokens, tooManyTokens: parser.offset };
    for (const token of parser.next(lexeme)) tokens.push(token);
    if (lexemes % CUT_CHECK_INTERVAL !== 0) continue;
    const stack = parser.stack;
    for (let i = stack.length - 1; i >= 0 && i >= stack.length - 4; i--) {
      const t = stack[i] as CST.Token;
      if (t.type !== 'block-map' && t.type !== 'block-seq' && t.type !== 'flow-collection') continue;
      const isMapping = t.type === 'block-map' || (t.type === 'flow-collection' && t.start.source === '{');
      if (t.items.length > 2 * (isMapping ? limits.maxMappingKeys : limits.maxListItems)) cut = t;
    }
    if (cut !== undefined) break;
  }
  for (const token of parser.end()) tokens.push(token);
  return cut === undefined ? { tokens } : { tokens, cut };
}

/**
 * Composes the first document of `tokens`, and whether a second one follows, stopping at the first
 * of: the second document, more than `maxIssues` errors and warnings. Without the stop, text full
 * of mistakes (`[,,,,` ...) makes the composer create one Error (with a captured stack trace) per
 * byte: seconds per MiB for a document that is refused anyway. `errors` is set when it stopped
 * early (exported for the test that checks the stop still works with the installed `yaml`).
 */
export function composeFirst(
  tokens: readonly CST.Token[],
  textLength: number,
  limits: PolicyLimits,
): { docs: Document.Parsed[]; errors: YAMLError[] | undefined } {
  const composer = new Composer({
    schema: 'core',
    merge: false,
    resolveKnownTags: false,
    // Off: the library's check is quadratic (see the top of this file); indexDocument does it.
    uniqueKeys: false,
    strict: true,
    prettyErrors: false,
    logLevel: 'silent',
  });
  // The composer reports every error through its (private) `onError` instance property, read at
  // each call; `yaml` is pinned (2.9.1), and a test checks the stop still happens. compose-node.js
  // catches whatever a collection throws and reports it (as RESOURCE_EXHAUSTION) through onError
  // again, so once stopped the hook rethrows without reporting, up through each nesting level.
  const hooked = composer as unknown as { onError: (...args: unknown[]) => void };
  const report = hooked.onError;
  if (typeof report !== 'function') throw new Error('yaml Composer has no onError: check composeFirst');
  const stop = new Error('too many YAML errors');
  let reported = 0;
  hooked.onError = (...args: unknown[]) => {
    if (reported > limits.maxIssues) throw stop;
    report(...args);
    if (++reported > limits.maxIssues) throw stop;
  };
  const docs: Document.Parsed[] = [];
  try {
    for (const doc of composer.compose(tokens, true, textLength)) {
      docs.push(doc);
      if (docs.length === 2) break;
    }
  } catch (err) {
    if (err !== stop) throw err;
    const { errors, warnings } = composer.streamInfo();
    return { docs, errors: [...(docs[0]?.errors ?? []), ...(docs[0]?.warnings ?? []), ...errors, ...warnings] };
  }
  return { docs, errors: undefined };
}

/**
 * An iterative pass over the composed tree in document order: duplicate keys (a Set of key values
 * per mapping, the equality the `yaml` library's own check uses: same type and value) and the
 * node each alias refers to (the latest node anchored with its name before it).
 */
function indexDocument(doc: Document.Parsed): {
  duplicates: Scalar[];
  aliasTargets: Map<Alias, YamlNode>;
} {
  const duplicates: Scalar[] = [];
  const aliasTargets = new Map<Alias, YamlNode>();
  const anchored = new Map<string, YamlNode>();
  const stack: unknown[] = [doc.contents];
  while (stack.length > 0) {
    const node = stack.pop();
    if (node === null || node === undefined || typeof node !== 'object') continue;
    if (isAlias(node)) {
      const target = anchored.get(node.source);
      if (target !== undefined) aliasTargets.set(node, target);
      continue;
    }
    if (!isScalar(node) && !isMap(node) && !isSeq(node)) continue;
    if (node.anchor !== undefined) anchored.set(node.anchor, node as YamlNode);
    if (isMap(node)) {
      const seen = new Set<unknown>();
      const children: unknown[] = [];
      for (const pair of node.items) {
        const key = pair.key;
        if (isScalar(key)) {
          if (seen.has(key.value)) duplicates.push(key);
          else seen.add(key.value);
        }
        children.push(key, pair.value);
      }
      // Pushed in reverse so they pop in document order (anchors before the aliases after them).
      for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
    } else if (isSeq(node)) {
      for (let i = node.items.length - 1; i >= 0; i--) stack.push(node.items[i]);
    }
  }
  return { duplicates, aliasTargets };
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

  const { tokens, cut, tooManyTokens } = parseCst(text, lineCounter, limits);
  if (tooManyTokens !== undefined) {
    const pos = lineCounter.linePos(tooManyTokens);
    return [
      {
        path: '',
        line: pos.line,
        column: pos.col,
        message: `more than ${limits.maxTokens} YAML tokens (values, punctuation, spaces, line breaks, comments); a document that large is refused to bound the cost of reading it`,
      },
    ];
  }
  const issues: PolicyIssue[] = [];
  const add = (offset: number, message: string, path = ''): void => {
    if (issues.length > limits.maxIssues) return;
    const pos = lineCounter.linePos(offset);
    const stopped = issues.length === limits.maxIssues;
    issues.push({
      path: stopped ? '' : path,
      line: pos.line,
      column: pos.col,
      message: stopped ? `stopped after ${limits.maxIssues} issues; fix these and validate again` : message,
    });
  };
  // The parser's own errors between documents reach the composer's error list directly (not
  // through onError), one per stray token: count them here, where it is cheap.
  for (const token of tokens) {
    if (token.type !== 'error') continue;
    add(
      token.offset,
      describeYamlError(
        'UNEXPECTED_TOKEN',
        token.source ? `${token.message}: ${JSON.stringify(token.source)}` : token.message,
      ),
    );
    if (issues.length > limits.maxIssues) return issues;
  }
  issues.length = 0;

  const problem = checkCst(tokens, limits);
  if (problem !== undefined) {
    if (problem.kind === 'keys' || problem.kind === 'items') {
      const partial = problem.token === cut;
      add(problem.offset, tooManyEntries(problem.kind, problem.path, problem.count, partial, limits), problem.path);
      return issues;
    }
    return at(
      problem.offset,
      problem.kind === 'depth'
        ? tooDeep
        : `more than ${limits.maxAliases} YAML aliases (*name); refused as a possible alias bomb`,
    );
  }

  if (cut !== undefined) {
    // Not expected (the walk finds the collection that stopped the parser), but never compose a cut tree.
    const kind =
      cut.type === 'block-seq' || (cut.type === 'flow-collection' && cut.start.source === '[') ? 'items' : 'keys';
    add(cut.offset, tooManyEntries(kind, '', cut.items.length, true, limits));
    return issues;
  }
  const { docs, errors } = composeFirst(tokens, text.length, limits);
  const first = docs[0];
  const second = docs[1];
  if (second !== undefined) {
    return at(second.range[0], 'the file holds more than one YAML document; a policy is exactly one document');
  }
  for (const err of errors ?? [...(first?.errors ?? []), ...(first?.warnings ?? [])]) {
    // An unclosed [ or { is noticed lines later, where the parser gives up: point at where it opens.
    const opener = /^Flow (sequence|map)/.test(err.message) ? unclosedFlowOpener(text, err.pos[0]) : undefined;
    if (opener !== undefined) {
      const open = text[opener] as '[' | '{';
      const noticed = lineCounter.linePos(err.pos[0]);
      add(
        opener,
        `YAML syntax error: the flow ${open === '[' ? 'sequence' : 'mapping'} '${open}' opened here is not closed with '${open === '[' ? ']' : '}'}' (the parser noticed at line ${noticed.line}, column ${noticed.col})`,
      );
    } else add(err.pos[0], describeYamlError(err.code, err.message));
  }
  if (issues.length > 0) return issues;
  if (first === undefined) return whole('policy is empty');
  const { duplicates, aliasTargets } = indexDocument(first);
  for (const key of duplicates) {
    const name = typeof key.value === 'string' ? key.value : (key.source ?? String(key.value));
    add(key.range?.[0] ?? 0, `duplicate key${name ? ` '${name}'` : ''}: YAML keys must be unique`);
  }
  if (issues.length > 0) return issues;
  return { doc: first, reader: new YamlReader(first, lineCounter, limits, aliasTargets) };
}

/**
 * The offset of the innermost flow collection (`[` or `{`) still open at `until`, by a scan that
 * skips comments and quoted scalars and counts a bracket only where a flow collection can start
 * (after `:`, `-`, `,`, another bracket, or at the start of a line). Undefined when none is open.
 */
function unclosedFlowOpener(text: string, until: number): number | undefined {
  const open: number[] = [];
  let prev = '\n'; // the last character that was not a space or tab
  for (let i = 0; i < until && i < text.length; i++) {
    const c = text[i] as string;
    if (c === ' ' || c === '\t') continue;
    const atValueStart = prev === '\n' || ':-,[{'.includes(prev);
    if (c === '#' && (i === 0 || /\s/.test(text[i - 1] as string))) {
      while (i < until && text[i] !== '\n') i++;
      prev = '\n';
      continue;
    }
    if ((c === '"' || c === "'") && atValueStart) {
      for (i++; i < until && i < text.length; i++) {
        if (c === '"' && text[i] === '\\') i++;
        else if (text[i] === c) {
          if (c === "'" && text[i + 1] === "'") i++;
          else break;
        }
      }
      prev = c;
      continue;
    }
    if ((c === '[' || c === '{') && atValueStart) open.push(i);
    else if ((c === ']' || c === '}') && open.length > 0) open.pop();
    prev = c;
  }
  return open.at(-1);
}

function describeYamlError(code: string, message: string): string {
  switch (code) {
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

  constructor(
    private readonly doc: Document.Parsed,
    private readonly lineCounter: LineCounter,
    private readonly limits: PolicyLimits,
    /** Each alias's target, found in one document-order pass (yaml's Alias.resolve rescans per call). */
    private readonly aliasTargets: ReadonlyMap<Alias, YamlNode>,
  ) {}

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
      const near = e.key === '<<' ? undefined : closestName(e.key, allowed);
      const hint =
        e.key === '<<'
          ? 'YAML merge keys (<<) are not supported; repeat the fields or use an alias for a whole value'
          : `${near !== undefined ? `did you mean '${near}'? ` : ''}allowed keys: ${allowed.join(', ')}. Unknown keys are refused (the original ignored them, so a misspelt key silently dropped a rule)`;
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
