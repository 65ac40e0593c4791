// The gateway's mapping file: which upstream MCP servers to connect to, and for each upstream tool
// that is exposed, the checks a call needs (scope, action, resource template over the call's
// arguments). Read with core's hardened YAML reader, so every problem comes with line and column.
// A tool that is not in the file is not exposed. Pure: no I/O (the caller reads the file).
import {
  DEFAULT_POLICY_LIMITS,
  PolicyValidationError,
  isValidScope,
  readYamlDocument,
  type MapEntry,
  type PolicyIssue,
  type YamlNode,
  type YamlReader,
} from '@authority/core';
import { parseTemplate, type ResourceTemplate } from './template';

/** How the gateway reaches an upstream MCP server. */
export type UpstreamTransport =
  | { kind: 'stdio'; command: string; args: string[]; env: Record<string, string>; cwd?: string }
  | { kind: 'http'; url: string };

/** One check a tool call needs; all checks of a call must be allowed. */
export interface ToolCheck {
  scope: string;
  action?: string;
  /** Absent: the check names no resource (scope-only). */
  resource?: ResourceTemplate;
}

export interface ToolMapping {
  /** The upstream's own name of the tool. */
  name: string;
  checks: ToolCheck[];
}

/**
 * Upstream resources an agent may read: URIs matching `pattern` (`{name}` one `/`-free part,
 * `{name*}` the rest), checked with `checks` whose templates read the pattern's variables.
 */
export interface ResourceMapping {
  /** The URI pattern as written (also matched against the upstream's resource templates). */
  pattern: string;
  matcher: RegExp;
  variables: string[];
  checks: ToolCheck[];
}

/**
 * `shared`: one connection for every agent (tools, resources, prompts; nothing the upstream sends
 * on its own reaches an agent). `per-agent`: one connection per agent session, so logging,
 * sampling, elicitation, roots and subscriptions reach exactly that agent.
 */
export type UpstreamSessions = 'shared' | 'per-agent';

export interface UpstreamMapping {
  /** The key under `upstreams`. */
  name: string;
  /** Prefix of the exposed names: `<namespace>.<tool>`, `<namespace>.<prompt>`. */
  namespace: string;
  transport: UpstreamTransport;
  sessions: UpstreamSessions;
  tools: Map<string, ToolMapping>;
  /** Prompts (by the upstream's name), checked like tools over the prompt's arguments. */
  prompts: Map<string, ToolMapping>;
  resources: ResourceMapping[];
}

export interface GatewayMapping {
  upstreams: UpstreamMapping[];
}

/** Separator between an upstream's namespace and its tool names in the exposed names. */
export const NAMESPACE_SEPARATOR = '.';
const NAME = /^[A-Za-z0-9_-]{1,64}$/;
const TOOL_NAME = /^[A-Za-z0-9_.-]{1,128}$/;
/** The namespace of the gateway's own tools (authority.check_access, ...). */
export const RESERVED_NAMESPACE = 'authority';
/** Most checks one tool may need (each is an enforcer decision per call). */
export const MAX_CHECKS_PER_TOOL = 8;

const UPSTREAM_KEYS = [
  'namespace',
  'command',
  'args',
  'env',
  'cwd',
  'url',
  'sessions',
  'tools',
  'prompts',
  'resources',
] as const;
const TOOL_KEYS = ['scope', 'action', 'resource', 'checks'] as const;
const CHECK_KEYS = ['scope', 'action', 'resource'] as const;

function readCheck(r: YamlReader, entries: MapEntry[], path: string, keyNode: YamlNode | null): ToolCheck | undefined {
  const get = (k: string) => entries.find((e) => e.key === k);
  const scopeEntry = get('scope');
  if (scopeEntry === undefined) {
    r.report(keyNode, path, `'scope' is required: the scope a call needs (e.g. files:docs:read)`);
    return undefined;
  }
  const scope = r.string(scopeEntry.value, scopeEntry.path, 'scope', { nonEmpty: true, keyNode: scopeEntry.keyNode });
  if (scope !== undefined && !isValidScope(scope)) {
    r.report(scopeEntry.value, scopeEntry.path, `scope '${scope}' is not a valid scope (segment:segment[:...])`);
    return undefined;
  }
  const check: ToolCheck = { scope: scope ?? '' };
  const actionEntry = get('action');
  if (actionEntry !== undefined) {
    const action = r.string(actionEntry.value, actionEntry.path, 'action', { nonEmpty: true });
    if (action !== undefined && !/^[A-Za-z0-9_.-]{1,64}$/.test(action)) {
      r.report(actionEntry.value, actionEntry.path, `action '${action}' must be 1-64 letters, digits, '_', '.' or '-'`);
    } else if (action !== undefined) check.action = action;
  }
  const resourceEntry = get('resource');
  if (resourceEntry !== undefined) {
    const text = r.string(resourceEntry.value, resourceEntry.path, 'resource', { nonEmpty: true });
    if (text !== undefined) {
      const t = parseTemplate(text);
      if ('problem' in t) r.report(resourceEntry.value, resourceEntry.path, `resource template: ${t.problem}`);
      else check.resource = t;
    }
  }
  return scope === undefined ? undefined : check;
}

const PATTERN_VARIABLE = /\{([A-Za-z_][A-Za-z0-9_]{0,63})(\*?)\}/g;

/** Compiles a resource URI pattern; returns what is wrong with it instead when it is not one. */
export function parseResourcePattern(
  pattern: string,
): Pick<ResourceMapping, 'matcher' | 'variables'> | { problem: string } {
  if (pattern.length > 1024) return { problem: 'a resource pattern is at most 1024 characters' };
  const variables: string[] = [];
  let source = '^';
  let last = 0;
  for (const m of pattern.matchAll(PATTERN_VARIABLE)) {
    const name = m[1] as string;
    if (variables.includes(name)) return { problem: `variable '${name}' is used twice` };
    variables.push(name);
    source += escapeRegExp(pattern.slice(last, m.index)) + (m[2] === '*' ? '(.+)' : '([^/]+)');
    last = (m.index ?? 0) + m[0].length;
  }
  const rest = pattern.slice(last);
  if (/[{}]/.test(pattern.replace(PATTERN_VARIABLE, ''))) {
    return { problem: "a variable is written {name} (one part without '/') or {name*} (the rest)" };
  }
  source += escapeRegExp(rest) + '$';
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(pattern)) return { problem: 'a resource pattern starts with a URI scheme' };
  return { matcher: new RegExp(source), variables };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The variables of `uri` when it matches `resource`'s pattern, undefined otherwise. */
export function matchResource(resource: ResourceMapping, uri: string): Record<string, string> | undefined {
  const m = resource.matcher.exec(uri);
  if (m === null) return undefined;
  const vars: Record<string, string> = {};
  resource.variables.forEach((v, i) => (vars[v] = m[i + 1] as string));
  return vars;
}

function readResource(r: YamlReader, e: MapEntry): ResourceMapping | undefined {
  const compiled = parseResourcePattern(e.key);
  if ('problem' in compiled) {
    r.report(e.keyNode, e.path, `resource pattern '${e.key}': ${compiled.problem}`);
    return undefined;
  }
  const checks = readTool(r, e)?.checks;
  if (checks === undefined) return undefined;
  for (const c of checks) {
    for (const n of c.resource?.names ?? []) {
      if (!compiled.variables.includes(n)) {
        r.report(
          e.keyNode,
          e.path,
          `resource template '${c.resource?.source ?? ''}' reads '${n}', which the pattern does not capture`,
        );
        return undefined;
      }
    }
  }
  return { pattern: e.key, ...compiled, checks };
}

function readTool(r: YamlReader, e: MapEntry): ToolMapping | undefined {
  const entries = r.mapping(e.value, e.path, `tool '${e.key}'`, e.keyNode);
  if (entries === undefined) return undefined;
  r.refuseUnknownKeys(entries, TOOL_KEYS, `tool '${e.key}'`);
  const checksEntry = entries.find((x) => x.key === 'checks');
  if (checksEntry !== undefined) {
    const own = entries.filter((x) => (CHECK_KEYS as readonly string[]).includes(x.key));
    for (const x of own) r.report(x.keyNode, x.path, `'${x.key}' cannot be combined with 'checks'; put it in a check`);
    const items = r.sequence(checksEntry.value, checksEntry.path, 'checks', checksEntry.keyNode);
    if (items === undefined) return undefined;
    if (items.length === 0 || items.length > MAX_CHECKS_PER_TOOL) {
      r.report(checksEntry.value, checksEntry.path, `checks must hold 1 to ${MAX_CHECKS_PER_TOOL} checks`);
      return undefined;
    }
    const checks: ToolCheck[] = [];
    items.forEach((item, i) => {
      const p = `${checksEntry.path}[${i}]`;
      const ce = r.mapping(item, p, 'a check');
      if (ce === undefined) return;
      r.refuseUnknownKeys(ce, CHECK_KEYS, 'a check');
      const c = readCheck(r, ce, p, item);
      if (c !== undefined) checks.push(c);
    });
    return checks.length === items.length ? { name: e.key, checks } : undefined;
  }
  const check = readCheck(r, entries, e.path, e.keyNode);
  return check === undefined ? undefined : { name: e.key, checks: [check] };
}

function readTransport(r: YamlReader, entries: MapEntry[], e: MapEntry): UpstreamTransport | undefined {
  const get = (k: string) => entries.find((x) => x.key === k);
  const command = get('command');
  const url = get('url');
  if ((command === undefined) === (url === undefined)) {
    r.report(
      e.keyNode,
      e.path,
      `upstream '${e.key}' needs exactly one of 'command' (a stdio server) or 'url' (a streamable-HTTP server)`,
    );
    return undefined;
  }
  if (url !== undefined) {
    for (const k of ['args', 'env', 'cwd']) {
      const x = get(k);
      if (x !== undefined) r.report(x.keyNode, x.path, `'${k}' applies to stdio upstreams ('command') only`);
    }
    const text = r.string(url.value, url.path, 'url', { nonEmpty: true });
    if (text === undefined) return undefined;
    let parsed: URL;
    try {
      parsed = new URL(text);
    } catch {
      r.report(url.value, url.path, `url '${text}' is not a URL`);
      return undefined;
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      r.report(url.value, url.path, `url must be http: or https:, got ${parsed.protocol}`);
      return undefined;
    }
    if (parsed.username !== '' || parsed.password !== '') {
      // Credentials in a mapping file end up in logs and diffs; upstream auth is configured elsewhere.
      r.report(url.value, url.path, 'url must not carry credentials');
      return undefined;
    }
    return { kind: 'http', url: parsed.toString() };
  }
  const cmd = r.string(command!.value, command!.path, 'command', { nonEmpty: true });
  const argsEntry = get('args');
  const args = argsEntry === undefined ? [] : r.stringList(argsEntry.value, argsEntry.path, 'args');
  const envEntry = get('env');
  const env: Record<string, string> = {};
  if (envEntry !== undefined) {
    for (const v of r.mapping(envEntry.value, envEntry.path, 'env', envEntry.keyNode) ?? []) {
      const s = r.scalarText(v.value, v.path, `env ${v.key}`, v.keyNode);
      if (s !== undefined) env[v.key] = s;
    }
  }
  const cwdEntry = get('cwd');
  const cwd = cwdEntry === undefined ? undefined : r.string(cwdEntry.value, cwdEntry.path, 'cwd', { nonEmpty: true });
  if (cmd === undefined || args === undefined) return undefined;
  return { kind: 'stdio', command: cmd, args, env, ...(cwd !== undefined ? { cwd } : {}) };
}

/**
 * Parses and validates a mapping file. Throws PolicyValidationError listing every problem with its
 * line, column and path (the same error type and format as policies).
 */
export function parseMapping(text: string): GatewayMapping {
  const read = readYamlDocument(text, DEFAULT_POLICY_LIMITS);
  if (Array.isArray(read)) throw new PolicyValidationError(read);
  const r = read.reader;
  const top = r.mapping(r.root, '', 'the mapping file');
  const upstreams: UpstreamMapping[] = [];
  if (top !== undefined) {
    r.refuseUnknownKeys(top, ['upstreams'], 'the mapping file');
    const ups = top.find((e) => e.key === 'upstreams');
    if (ups === undefined) r.report(r.root, '', "'upstreams' is required");
    const namespaces = new Map<string, string>();
    for (const e of ups === undefined ? [] : (r.mapping(ups.value, ups.path, 'upstreams', ups.keyNode) ?? [])) {
      if (!NAME.test(e.key)) {
        r.report(e.keyNode, e.path, `upstream name '${e.key}' must be 1-64 letters, digits, '_' or '-'`);
        continue;
      }
      const entries = r.mapping(e.value, e.path, `upstream '${e.key}'`, e.keyNode);
      if (entries === undefined) continue;
      r.refuseUnknownKeys(entries, UPSTREAM_KEYS, `upstream '${e.key}'`);
      const nsEntry = entries.find((x) => x.key === 'namespace');
      let namespace = e.key;
      if (nsEntry !== undefined) {
        const ns = r.string(nsEntry.value, nsEntry.path, 'namespace', { nonEmpty: true });
        if (ns !== undefined && !NAME.test(ns))
          r.report(nsEntry.value, nsEntry.path, `namespace '${ns}' must be 1-64 letters, digits, '_' or '-'`);
        else if (ns !== undefined) namespace = ns;
      }
      if (namespace === RESERVED_NAMESPACE) {
        r.report(
          nsEntry?.value ?? e.keyNode,
          nsEntry?.path ?? e.path,
          `namespace '${RESERVED_NAMESPACE}' is reserved for the gateway's own tools; set another 'namespace'`,
        );
      }
      const clash = namespaces.get(namespace);
      if (clash !== undefined) {
        r.report(
          nsEntry?.value ?? e.keyNode,
          nsEntry?.path ?? e.path,
          `namespace '${namespace}' is used by '${clash}'`,
        );
      }
      namespaces.set(namespace, e.key);
      const transport = readTransport(r, entries, e);
      let sessions: UpstreamSessions = 'shared';
      const sessionsEntry = entries.find((x) => x.key === 'sessions');
      if (sessionsEntry !== undefined) {
        const v = r.string(sessionsEntry.value, sessionsEntry.path, 'sessions', { nonEmpty: true });
        if (v === 'shared' || v === 'per-agent') sessions = v;
        else if (v !== undefined)
          r.report(sessionsEntry.value, sessionsEntry.path, `sessions must be 'shared' or 'per-agent', got '${v}'`);
      }
      const toolsEntry = entries.find((x) => x.key === 'tools');
      const promptsEntry = entries.find((x) => x.key === 'prompts');
      const resourcesEntry = entries.find((x) => x.key === 'resources');
      const tools = new Map<string, ToolMapping>();
      const prompts = new Map<string, ToolMapping>();
      const resources: ResourceMapping[] = [];
      if (toolsEntry === undefined && promptsEntry === undefined && resourcesEntry === undefined) {
        r.report(
          e.keyNode,
          e.path,
          `upstream '${e.key}' has no 'tools', 'prompts' or 'resources': nothing without a mapping is exposed`,
        );
      }
      for (const [entry, into, what] of [
        [toolsEntry, tools, 'tool'],
        [promptsEntry, prompts, 'prompt'],
      ] as const) {
        if (entry === undefined) continue;
        for (const t of r.mapping(entry.value, entry.path, `${what}s`, entry.keyNode) ?? []) {
          if (!TOOL_NAME.test(t.key)) {
            r.report(t.keyNode, t.path, `${what} name '${t.key}' must be 1-128 letters, digits, '_', '.' or '-'`);
            continue;
          }
          const tool = readTool(r, t);
          if (tool !== undefined) into.set(t.key, tool);
        }
      }
      if (resourcesEntry !== undefined) {
        for (const x of r.mapping(resourcesEntry.value, resourcesEntry.path, 'resources', resourcesEntry.keyNode) ??
          []) {
          const res = readResource(r, x);
          if (res !== undefined) resources.push(res);
        }
      }
      if (transport !== undefined)
        upstreams.push({ name: e.key, namespace, transport, sessions, tools, prompts, resources });
    }
  }
  if (r.issues.length > 0) throw new PolicyValidationError(r.issues as PolicyIssue[]);
  return { upstreams };
}

/** `<namespace>.<tool>`: the name an agent sees. */
export function exposedName(upstream: Pick<UpstreamMapping, 'namespace'>, tool: string): string {
  return `${upstream.namespace}${NAMESPACE_SEPARATOR}${tool}`;
}
