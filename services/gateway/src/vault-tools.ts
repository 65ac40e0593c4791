// The vault's MCP tools (authority.vault_*). Each is one enforcer check (a domain listing without
// a domain: one check per domain in one batch) with the canonical resource of what it touches;
// only a well-formed ALLOW of a verified chain opens the store, for the tenant the enforcer
// verified. The existence of a domain or a document is told only to a caller allowed to read it.
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { CheckRequest, CheckResponse__Output } from '@authority/proto';
import type { ClaimedCaller } from './auth';
import { denial, readCallMeta, refusal, type Denial, type Enforcement } from './enforce';
import {
  DOCUMENT_NAME,
  DOMAIN_NAME,
  MAX_DOCUMENT_CHARS,
  MAX_VAULT_RESULTS,
  documentResource,
  domainResource,
  vaultScope,
  type VaultStore,
} from './vault';

export const VAULT_LIST = 'authority.vault_list';
export const VAULT_METADATA = 'authority.vault_metadata';
export const VAULT_READ = 'authority.vault_read';
export const VAULT_WRITE = 'authority.vault_write';
export const VAULT_QUERY = 'authority.vault_query';

/** Most domains one listing checks. */
export const MAX_LISTED_DOMAINS = 64;

const domainArg = { type: 'string', description: 'The domain, e.g. finance' };
const nameArg = { type: 'string', description: 'The document name, e.g. q1-report.md' };
const purposeArg = { type: 'string', description: 'Why you act (for require_purpose)' };
const metaShape = {
  domain: { type: 'string' },
  name: { type: 'string' },
  title: { type: 'string' },
  sensitivity: { type: 'string' },
  size: { type: 'integer' },
  version: { type: 'integer' },
  updated_at: { type: 'string' },
  updated_by: { type: 'string' },
};

const TOOLS: Tool[] = [
  {
    name: VAULT_LIST,
    title: 'List the vault',
    description:
      'Without a domain: the domains you may read, with their sensitivity labels. With a domain: its documents (metadata only). Needs vault:<domain>:read.',
    inputSchema: {
      type: 'object',
      properties: {
        domain: domainArg,
        limit: {
          type: 'integer',
          minimum: 1,
          maximum: MAX_VAULT_RESULTS,
          description: 'At most this many documents (default 20)',
        },
      },
      additionalProperties: false,
    },
    annotations: { readOnlyHint: true, openWorldHint: false },
  },
  {
    name: VAULT_METADATA,
    title: 'Document metadata',
    description:
      "A document's metadata (title, sensitivity, size, version) without its content. Needs vault:<domain>:read.",
    inputSchema: {
      type: 'object',
      properties: { domain: domainArg, name: nameArg },
      required: ['domain', 'name'],
      additionalProperties: false,
    },
    outputSchema: { type: 'object', properties: metaShape, required: ['domain', 'name', 'sensitivity'] },
    annotations: { readOnlyHint: true, openWorldHint: false },
  },
  {
    name: VAULT_READ,
    title: 'Read a document',
    description: 'A document with its content. Needs vault:<domain>:read on slos://vaults/<domain>/<name>.',
    inputSchema: {
      type: 'object',
      properties: { domain: domainArg, name: nameArg, purpose: purposeArg },
      required: ['domain', 'name'],
      additionalProperties: false,
    },
    outputSchema: {
      type: 'object',
      properties: { ...metaShape, content: { type: 'string' } },
      required: ['domain', 'name', 'sensitivity', 'content'],
    },
    annotations: { readOnlyHint: true, openWorldHint: false },
  },
  {
    name: VAULT_WRITE,
    title: 'Write a document',
    description:
      "Creates or replaces a document in an existing domain (it takes the domain's sensitivity label). Needs vault:<domain>:write (action write).",
    inputSchema: {
      type: 'object',
      properties: {
        domain: domainArg,
        name: nameArg,
        content: { type: 'string', description: `At most ${MAX_DOCUMENT_CHARS} characters` },
        title: { type: 'string' },
        purpose: purposeArg,
      },
      required: ['domain', 'name', 'content'],
      additionalProperties: false,
    },
    outputSchema: { type: 'object', properties: metaShape, required: ['domain', 'name', 'version'] },
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  },
  {
    name: VAULT_QUERY,
    title: 'Search a domain',
    description:
      'Documents of a domain whose title or content contains the text (case-insensitive), with a snippet. Needs vault:<domain>:read.',
    inputSchema: {
      type: 'object',
      properties: {
        domain: domainArg,
        text: { type: 'string', description: 'What to look for (1-200 characters)' },
        limit: {
          type: 'integer',
          minimum: 1,
          maximum: MAX_VAULT_RESULTS,
          description: 'At most this many (default 10)',
        },
        purpose: purposeArg,
      },
      required: ['domain', 'text'],
      additionalProperties: false,
    },
    annotations: { readOnlyHint: true, openWorldHint: false },
  },
];

function ok(structured: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(structured) }], structuredContent: structured };
}

function invalid(message: string, field: string): Denial {
  return denial({ reason: 'INVALID_REQUEST', message, field });
}

function str(
  args: Record<string, unknown>,
  key: string,
  opts: { required?: boolean; max: number; pattern?: RegExp; what?: string },
): string | undefined | Denial {
  const v = args[key];
  if (v === undefined) return opts.required === true ? invalid(`'${key}' is required`, `arguments.${key}`) : undefined;
  if (typeof v !== 'string' || v === '' || v.length > opts.max)
    return invalid(`'${key}' must be a non-empty string of at most ${opts.max} characters`, `arguments.${key}`);
  if (opts.pattern !== undefined && !opts.pattern.test(v))
    return invalid(`'${key}' must be ${opts.what ?? 'well-formed'}`, `arguments.${key}`);
  return v;
}

function limitOf(args: Record<string, unknown>, fallback: number): number | Denial {
  const v = args['limit'] ?? fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1 || v > MAX_VAULT_RESULTS)
    return invalid(`'limit' must be an integer from 1 to ${MAX_VAULT_RESULTS}`, 'arguments.limit');
  return v;
}

const DOMAIN_RULE = { max: 63, pattern: DOMAIN_NAME, what: 'lowercase letters, digits and "-" (1-63)' };
const NAME_RULE = {
  max: 128,
  pattern: DOCUMENT_NAME,
  what: 'letters, digits, ".", "_" or "-" (1-128), not "." or ".."',
};

function isDenial(v: unknown): v is Denial {
  return typeof v === 'object' && v !== null && typeof (v as Denial).hint === 'string';
}

export class VaultTools {
  constructor(
    private readonly store: VaultStore,
    private readonly enforcement: Enforcement,
    private readonly clock: () => number = Date.now,
  ) {}

  list(): Tool[] {
    return TOOLS;
  }

  has(name: string): boolean {
    return TOOLS.some((t) => t.name === name);
  }

  async call(
    name: string,
    caller: ClaimedCaller,
    args: Record<string, unknown>,
    rawMeta: Record<string, unknown> | undefined,
  ): Promise<CallToolResult | Denial> {
    const meta = readCallMeta(rawMeta);
    if ('reason' in meta) return meta;
    const purposeArgument = str(args, 'purpose', { max: 1024 });
    if (isDenial(purposeArgument)) return purposeArgument;
    const purpose = purposeArgument ?? meta.purpose;
    const domain = str(args, 'domain', { ...DOMAIN_RULE, required: name !== VAULT_LIST });
    if (isDenial(domain)) return domain;
    /** One check; the verified tenant when it is a well-formed ALLOW, the denial otherwise. */
    const check = async (req: Omit<CheckRequest, 'token'>): Promise<{ tenant: string; agent: string } | Denial> => {
      const request: CheckRequest = {
        token: caller.token,
        ...req,
        ...(purpose !== undefined || req.context !== undefined
          ? { context: { ...req.context, ...(purpose !== undefined ? { purpose } : {}) } }
          : {}),
        ...(meta.approvalId !== undefined ? { approvalId: meta.approvalId } : {}),
      };
      const res = await this.enforcement.checkOnce(caller, request);
      return 'hint' in res ? res : verified(res, request);
    };

    if (name === VAULT_LIST) {
      const limit = limitOf(args, 20);
      if (isDenial(limit)) return limit;
      if (domain === undefined) return this.listDomains(caller, purpose);
      const allowed = await check({
        requiredScope: vaultScope(domain, 'read'),
        resource: domainResource(domain),
        action: 'read',
        context: { recordCount: limit },
      });
      if (isDenial(allowed)) return allowed;
      const d = await this.store.domain(allowed.tenant, domain);
      if (d === undefined) return notFound('domain', domain);
      const documents = await this.store.documents(allowed.tenant, domain, limit);
      return ok({ domain: d.domain, sensitivity: d.sensitivity, description: d.description, documents });
    }
    const d = domain as string;
    if (name === VAULT_QUERY) {
      const text = str(args, 'text', { required: true, max: 200 });
      if (isDenial(text)) return text;
      const limit = limitOf(args, 10);
      if (isDenial(limit)) return limit;
      const allowed = await check({
        requiredScope: vaultScope(d, 'read'),
        resource: domainResource(d),
        action: 'read',
        context: { recordCount: limit },
      });
      if (isDenial(allowed)) return allowed;
      if ((await this.store.domain(allowed.tenant, d)) === undefined) return notFound('domain', d);
      const results = await this.store.query(allowed.tenant, d, text as string, limit);
      return ok({ domain: d, text, results });
    }
    const docName = str(args, 'name', { ...NAME_RULE, required: true });
    if (isDenial(docName)) return docName;
    const n = docName as string;
    if (name === VAULT_WRITE) {
      const content = args['content'];
      if (typeof content !== 'string' || content.length > MAX_DOCUMENT_CHARS)
        return invalid(`'content' must be a string of at most ${MAX_DOCUMENT_CHARS} characters`, 'arguments.content');
      const title = str(args, 'title', { max: 256 });
      if (isDenial(title)) return title;
      const allowed = await check({
        requiredScope: vaultScope(d, 'write'),
        resource: documentResource(d, n),
        action: 'write',
      });
      if (isDenial(allowed)) return allowed;
      const target = await this.store.domain(allowed.tenant, d);
      if (target === undefined) return notFound('domain', d);
      const stored = await this.store.putDocument(allowed.tenant, target, {
        name: n,
        title: title ?? n,
        content,
        by: allowed.agent,
        at: new Date(this.clock()),
      });
      return ok({ ...stored });
    }
    const allowed = await check({
      requiredScope: vaultScope(d, 'read'),
      resource: documentResource(d, n),
      action: 'read',
    });
    if (isDenial(allowed)) return allowed;
    const doc = await this.store.document(allowed.tenant, d, n);
    if (doc === undefined) return notFound('document', `${d}/${n}`);
    if (name === VAULT_METADATA) {
      const { content: _content, ...rest } = doc;
      return ok({ ...rest });
    }
    return ok({ ...doc });
  }

  /** The domains the caller may read: one batch of checks, one per domain of its verified tenant. */
  private async listDomains(caller: ClaimedCaller, purpose: string | undefined): Promise<CallToolResult | Denial> {
    // The tenant the token claims only picks the candidates; the checks decide, and a domain is
    // shown only when its check is an ALLOW for that very tenant.
    const candidates = (await this.store.domains(caller.tenant)).slice(0, MAX_LISTED_DOMAINS);
    if (candidates.length === 0) return ok({ domains: [] });
    const requests: CheckRequest[] = candidates.map((c) => ({
      token: caller.token,
      requiredScope: vaultScope(c.domain, 'read'),
      resource: domainResource(c.domain),
      action: 'read',
      ...(purpose !== undefined ? { context: { purpose } } : {}),
    }));
    const answers = await this.enforcement.checkMany(caller, requests);
    if (isDenial(answers)) return answers;
    const domains = candidates.filter((_, i) => {
      const v = verified(answers[i] as CheckResponse__Output, requests[i] as CheckRequest);
      return !isDenial(v) && v.tenant === caller.tenant;
    });
    return ok({ domains });
  }
}

/** The verified tenant and agent of an ALLOW, or the denial. */
function verified(res: CheckResponse__Output, req: CheckRequest): { tenant: string; agent: string } | Denial {
  const refused = refusal(res, req);
  if (refused !== undefined) return refused;
  if (res.tenant === '' || res.chainUnverified) {
    return denial({
      reason: 'CHECK_FAILED',
      message: 'the enforcer allowed without a verified tenant; refusing to open the vault',
    });
  }
  return { tenant: res.tenant, agent: res.agentId };
}

function notFound(what: 'domain' | 'document', id: string): Denial {
  return denial({
    reason: 'NOT_FOUND',
    message: `no ${what} '${id}' in your tenant's vault`,
    field: what === 'domain' ? 'arguments.domain' : 'arguments.name',
  });
}
