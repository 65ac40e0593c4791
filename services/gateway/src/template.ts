// Resource templates: how a tool call's arguments become the canonical resource the enforcer
// checks. A template is a canonical resource (docs/resources.md) in which whole path segments may
// be placeholders:
//   {name}   one segment: the argument, encoded as one canonical segment (a `/` in it is refused);
//   {name*}  an absolute path: the argument must start with `/`; each of its `/`-separated parts
//            becomes one segment (one trailing `/` is ignored).
// Nothing is normalized: `.`, `..`, empty segments, backslashes, `%` and the other characters the
// canonical rules forbid are refused, so a traversal attempt in an argument can never render a
// resource that a grant glob matches while the upstream reaches another object. An argument that
// is a list renders one resource per item (one list argument per template).
import { AuthorityError, encodeResourceSegment, resourceProblem } from '@authority/core';

type Part = { kind: 'literal'; text: string } | { kind: 'segment' | 'path'; name: string };

export interface ResourceTemplate {
  /** The template as written. */
  source: string;
  /** `scheme://authority` or '' for a bare resource. */
  base: string;
  parts: Part[];
  /** Argument names the template reads. */
  names: string[];
}

/** Most items a list argument may expand to (each is one enforcer decision). */
export const MAX_LIST_ITEMS = 64;

const PLACEHOLDER = /^\{([A-Za-z_][A-Za-z0-9_]{0,63})(\*?)\}$/;

/** Parses a template; returns what is wrong with it instead when it is not one. */
export function parseTemplate(source: string): ResourceTemplate | { problem: string } {
  let base = '';
  let path = source;
  const sep = source.indexOf('://');
  if (sep >= 0) {
    const slash = source.indexOf('/', sep + 3);
    base = slash < 0 ? source : source.slice(0, slash);
    path = slash < 0 ? '' : source.slice(slash + 1);
    const p = resourceProblem(base);
    if (p !== undefined) return { problem: p };
    if (slash >= 0 && path === '') return { problem: 'a resource must not end with "/"' };
  }
  const parts: Part[] = [];
  const names: string[] = [];
  for (const seg of path === '' ? [] : path.split('/')) {
    const m = PLACEHOLDER.exec(seg);
    if (m !== null) {
      const name = m[1] as string;
      if (names.includes(name)) return { problem: `argument '${name}' is used twice` };
      names.push(name);
      parts.push({ kind: m[2] === '*' ? 'path' : 'segment', name });
      continue;
    }
    if (seg.includes('{') || seg.includes('}')) {
      return { problem: `segment '${seg}': a placeholder ({name} or {name*}) must be a whole segment` };
    }
    parts.push({ kind: 'literal', text: seg });
  }
  if (base === '' && parts.length === 0) return { problem: 'the template is empty' };
  // The literal parts must already be canonical: render with a harmless value in every placeholder.
  const sample = [base, ...parts.map((p) => (p.kind === 'literal' ? p.text : 'x'))].filter((s) => s !== '').join('/');
  const problem = resourceProblem(sample);
  if (problem !== undefined) return { problem };
  return { source, base, parts, names };
}

/** Why an argument cannot be rendered: the field (`arguments.<name>`) and what is wrong. */
export class TemplateArgumentError extends Error {
  override readonly name = 'TemplateArgumentError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

function scalar(name: string, v: unknown, field: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  if (v === undefined)
    throw new TemplateArgumentError(field, `argument '${name}' is required by the resource template`);
  throw new TemplateArgumentError(
    field,
    `argument '${name}' must be a string, got ${Array.isArray(v) ? 'a list' : typeof v}`,
  );
}

function segment(value: string, field: string): string {
  try {
    return encodeResourceSegment(value);
  } catch (err) {
    throw new TemplateArgumentError(field, err instanceof AuthorityError ? err.message : String(err));
  }
}

function renderOne(t: ResourceTemplate, values: ReadonlyMap<string, { value: unknown; field: string }>): string {
  const out: string[] = t.base === '' ? [] : [t.base];
  for (const p of t.parts) {
    if (p.kind === 'literal') {
      out.push(p.text);
      continue;
    }
    const { value, field } = values.get(p.name) as { value: unknown; field: string };
    const s = scalar(p.name, value, field);
    if (p.kind === 'segment') {
      if (s.includes('/'))
        throw new TemplateArgumentError(field, `argument '${p.name}' must be one path segment (no '/')`);
      out.push(segment(s, field));
      continue;
    }
    if (!s.startsWith('/')) {
      throw new TemplateArgumentError(field, `argument '${p.name}' must be an absolute path (starting with '/')`);
    }
    const rest = s.endsWith('/') && s.length > 1 ? s.slice(1, -1) : s.slice(1);
    if (rest === '') continue;
    for (const piece of rest.split('/')) {
      if (piece === '') throw new TemplateArgumentError(field, `argument '${p.name}' has an empty path segment ('//')`);
      out.push(segment(piece, field));
    }
  }
  const resource = out.join('/');
  const problem = resourceProblem(resource);
  if (problem !== undefined) throw new TemplateArgumentError(`arguments.${t.names[0] ?? ''}`, `resource: ${problem}`);
  return resource;
}

/**
 * The resources a call touches according to `t`: one, or one per item of a list argument. Throws
 * TemplateArgumentError naming the argument when it is missing, of the wrong type, or not a
 * canonical segment or absolute path.
 */
export function renderTemplate(t: ResourceTemplate, args: Readonly<Record<string, unknown>>): string[] {
  const listNames = t.names.filter((n) => Array.isArray(args[n]));
  if (listNames.length > 1) {
    throw new TemplateArgumentError(
      `arguments.${listNames[1] ?? ''}`,
      `only one list argument per resource template; got ${listNames.join(', ')}`,
    );
  }
  const values = new Map<string, { value: unknown; field: string }>();
  for (const n of t.names)
    values.set(n, { value: Object.hasOwn(args, n) ? args[n] : undefined, field: `arguments.${n}` });
  const listName = listNames[0];
  if (listName === undefined) return [renderOne(t, values)];
  const items = args[listName] as unknown[];
  if (items.length === 0)
    throw new TemplateArgumentError(`arguments.${listName}`, `argument '${listName}' is an empty list`);
  if (items.length > MAX_LIST_ITEMS) {
    throw new TemplateArgumentError(
      `arguments.${listName}`,
      `argument '${listName}' has more than ${MAX_LIST_ITEMS} items`,
    );
  }
  return items.map((item, i) => {
    values.set(listName, { value: item, field: `arguments.${listName}[${i}]` });
    return renderOne(t, values);
  });
}
