// Configuration of the gateway. Every variable is documented with .describe(); docs/gateway.md
// lists them with their defaults. The mapping file is read and validated here, so a bad mapping
// stops the process with every problem and its line and column.
import { readFileSync, statSync } from 'node:fs';
import { z } from 'zod';
import { PolicyValidationError } from '@authority/core';
import {
  apiKeySecret,
  bool,
  duration,
  integer,
  logLevel,
  LOG_LEVELS,
  port,
  secret,
  text,
  type ConfigCheck,
} from '@authority/platform';
import { parseMapping, type GatewayMapping } from './mapping';

export const GATEWAY_DEFAULT_PORT = 8765;
export const GATEWAY_TRANSPORTS = ['http', 'stdio'] as const;
export type GatewayTransport = (typeof GATEWAY_TRANSPORTS)[number];

/** A mapping file: read and validated at start. */
export function mappingFile() {
  return z.string().transform((s, ctx): GatewayMapping => {
    const p = s.trim();
    let content: string;
    try {
      if (!statSync(p).isFile()) throw new Error('not a regular file');
      content = readFileSync(p, 'utf8');
    } catch {
      ctx.issues.push({ code: 'custom', message: 'file not found or not readable', input: s });
      return z.NEVER;
    }
    try {
      return parseMapping(content);
    } catch (err) {
      const message =
        err instanceof PolicyValidationError
          ? err.message.replace(/^policy is invalid/, 'mapping is invalid')
          : String(err);
      ctx.issues.push({ code: 'custom', message, input: s });
      return z.NEVER;
    }
  });
}

function transport() {
  return z.string().transform((s, ctx): GatewayTransport => {
    const t = s.trim().toLowerCase();
    if ((GATEWAY_TRANSPORTS as readonly string[]).includes(t)) return t as GatewayTransport;
    ctx.issues.push({ code: 'custom', message: `expected one of ${GATEWAY_TRANSPORTS.join(', ')}`, input: s });
    return z.NEVER;
  });
}

export const GATEWAY_COMPILERS = ['deterministic', 'openai', 'anthropic', 'ollama'] as const;
export type GatewayCompiler = (typeof GATEWAY_COMPILERS)[number];

function compiler() {
  return z.string().transform((s, ctx): GatewayCompiler => {
    const t = s.trim().toLowerCase();
    if ((GATEWAY_COMPILERS as readonly string[]).includes(t)) return t as GatewayCompiler;
    ctx.issues.push({ code: 'custom', message: `expected one of ${GATEWAY_COMPILERS.join(', ')}`, input: s });
    return z.NEVER;
  });
}

function httpUrl() {
  return z.string().transform((s, ctx): string => {
    try {
      const u = new URL(s.trim());
      if (u.protocol === 'http:' || u.protocol === 'https:') return u.toString().replace(/\/$/, '');
    } catch {
      // reported below
    }
    ctx.issues.push({ code: 'custom', message: 'expected an http(s) URL', input: s });
    return z.NEVER;
  });
}

export const gatewayConfigSchema = z.object({
  AUTHORITY_SERVICE_NAME: text()
    .prefault('gateway')
    .describe('Service name used in logs, traces (service.name) and metrics.'),
  AUTHORITY_LOG_LEVEL: logLevel()
    .prefault('info')
    .describe(`Log level: ${LOG_LEVELS.join(', ')}. JSON lines on stdout (stderr with the stdio transport).`),
  AUTHORITY_SHUTDOWN_GRACE: duration()
    .prefault('10s')
    .describe('Deadline for graceful shutdown after SIGTERM (keep below terminationGracePeriodSeconds).'),
  AUTHORITY_GATEWAY_MAPPING: mappingFile().describe(
    'Path of the mapping file (YAML): the upstream MCP servers and, per exposed tool, its scope, action and resource template. Validated at start. Required.',
  ),
  AUTHORITY_GATEWAY_TRANSPORT: transport()
    .prefault('http')
    .describe(
      'http: streamable HTTP on AUTHORITY_GATEWAY_HOST:PORT, each agent presenting its envelope as bearer token. stdio: one agent on stdin/stdout, envelope from AUTHORITY_GATEWAY_ENVELOPE.',
    ),
  AUTHORITY_GATEWAY_HOST: text().prefault('0.0.0.0').describe('Address the HTTP server binds to.'),
  AUTHORITY_GATEWAY_PORT: port().prefault(String(GATEWAY_DEFAULT_PORT)).describe('Port of the HTTP server.'),
  AUTHORITY_GATEWAY_PUBLIC_URL: httpUrl()
    .optional()
    .describe(
      'The URL agents use to reach the gateway (behind an ingress); the protected-resource metadata names `<url>/mcp`. Default: http://<host>:<port>.',
    ),
  AUTHORITY_GATEWAY_AUDIENCE: text()
    .prefault('authority-gateway')
    .describe("This gateway's audience: every envelope link that carries `aud` must name it."),
  AUTHORITY_GATEWAY_REQUIRE_AUDIENCE: bool()
    .prefault('true')
    .describe('Refuse (401) envelopes that carry no `aud` at all, i.e. that are not bound to a gateway.'),
  AUTHORITY_GATEWAY_ENVELOPE: secret()
    .optional()
    .describe('stdio transport: the envelope of the one agent (sealed, or with its holder key elsewhere).'),
  AUTHORITY_ENFORCER_ADDR: text().describe('host:port of the enforcer (comma-separated replicas). Required.'),
  AUTHORITY_ENFORCER_API_KEY: apiKeySecret().describe(
    "Credential the gateway presents to the enforcer: a tenant's CHECKER credential (single-tenant gateway: other tenants are denied TENANT_MISMATCH) or the operator credential. Required.",
  ),
  AUTHORITY_ENFORCER_TLS: bool()
    .prefault('false')
    .describe('Call the enforcer (and the issuer and auditor, when configured) over TLS (system roots).'),
  AUTHORITY_ENFORCER_TIMEOUT: duration()
    .prefault('5s')
    .describe('Deadline of each check; on timeout the call is denied and never reaches the upstream.'),
  AUTHORITY_ISSUER_ADDR: text()
    .optional()
    .describe(
      'host:port of the issuer. With AUTHORITY_ISSUER_API_KEY, the tool authority.compile_intent is exposed (children are minted by Delegate).',
    ),
  AUTHORITY_ISSUER_API_KEY: apiKeySecret()
    .optional()
    .describe(
      "Credential the gateway presents to the issuer for Delegate: the operator credential, or one tenant's ADMIN credential for a gateway of that tenant.",
    ),
  AUTHORITY_ISSUER_TIMEOUT: duration().prefault('5s').describe('Deadline of each Delegate call.'),
  AUTHORITY_AUDITOR_ADDR: text()
    .optional()
    .describe(
      "host:port of the auditor. With AUTHORITY_AUDITOR_API_KEY, the tool authority.audit_log is exposed (the caller's own tenant, needs audit:read).",
    ),
  AUTHORITY_AUDITOR_API_KEY: apiKeySecret()
    .optional()
    .describe(
      "Credential the gateway presents to the auditor for QueryEvents: the operator credential, or one tenant's AUDITOR credential for a gateway of that tenant.",
    ),
  MONGODB_URI: secret()
    .optional()
    .describe(
      'MongoDB connection string of the document vault. When set, the tools authority.vault_list, vault_metadata, vault_read, vault_write and vault_query are exposed.',
    ),
  AUTHORITY_GATEWAY_VAULT_DB: text()
    .prefault('authority_vault')
    .describe('Database of the document vault (collections vault_domains and vault_documents).'),
  AUTHORITY_GATEWAY_COMPILER: compiler()
    .prefault('deterministic')
    .describe(
      'Who proposes the scopes of authority.compile_intent: deterministic (keyword matching), or a model through an openai-compatible, anthropic or ollama HTTP API. A proposal is clipped to the caller; a failed model falls back to deterministic.',
    ),
  AUTHORITY_GATEWAY_COMPILER_URL: httpUrl()
    .optional()
    .describe(
      'Base URL of the model API (e.g. https://api.openai.com/v1, https://api.anthropic.com, http://127.0.0.1:11434). Required unless the compiler is deterministic.',
    ),
  AUTHORITY_GATEWAY_COMPILER_MODEL: text()
    .optional()
    .describe('Model name for the compiler. Required unless the compiler is deterministic.'),
  AUTHORITY_GATEWAY_COMPILER_API_KEY: secret()
    .optional()
    .describe('API key of the model API (Bearer for openai, x-api-key for anthropic; none for ollama).'),
  AUTHORITY_GATEWAY_COMPILER_TIMEOUT: duration()
    .prefault('15s')
    .describe('Deadline of one model request; after it the deterministic compiler decides.'),
  AUTHORITY_GATEWAY_COMPILER_RATE: integer({ min: 1, max: 1_000_000 })
    .prefault('60')
    .describe(
      "Most model requests per minute for the whole gateway (bursts of as many). The model is asked before the issuer verifies the caller's envelope, so this bounds what forged envelopes can spend; beyond it the deterministic compiler decides and the answer says so.",
    ),
  AUTHORITY_UPSTREAM_TIMEOUT: duration()
    .prefault('60s')
    .describe('Deadline of each request to an upstream (reset by progress notifications).'),
  AUTHORITY_CLOCK_SKEW: duration()
    .prefault('30s')
    .describe('Clock-skew tolerance when refusing expired envelopes at the door (the enforcer applies its own).'),
  AUTHORITY_GATEWAY_RATE: integer({ min: 1, max: 1_000_000 })
    .prefault('20')
    .describe('Tool calls per second per tenant and agent (token bucket refill).'),
  AUTHORITY_GATEWAY_BURST: integer({ min: 1, max: 1_000_000 })
    .prefault('40')
    .describe('Token bucket capacity per tenant and agent.'),
  AUTHORITY_GATEWAY_RATE_KEYS: integer({ min: 1, max: 10_000_000 })
    .prefault('100000')
    .describe('Most (tenant, agent) buckets kept in memory; the least recently used is dropped beyond it.'),
  AUTHORITY_GATEWAY_MAX_SESSIONS: integer({ min: 1, max: 1_000_000 })
    .prefault('10000')
    .describe(
      'Most concurrent MCP sessions. A new session beyond it evicts the least recently used session whose envelope no service has verified yet; when every session is verified it is refused 503.',
    ),
  AUTHORITY_GATEWAY_SESSION_IDLE: duration()
    .prefault('15m')
    .describe('An MCP session with no request for this long is closed.'),
  AUTHORITY_GATEWAY_JSON_RESPONSE: bool()
    .prefault('false')
    .describe(
      "Answer each MCP POST with one JSON body instead of an SSE stream (cheaper per call). What the gateway sends during a call (progress, the approval elicitation, a per-agent upstream's requests) then travels on the agent's standalone GET stream, so the agent's client must keep one open (the SDK's client does).",
    ),
  AUTHORITY_GATEWAY_UPSTREAMS_PER_AGENT: integer({ min: 1, max: 1_000_000 })
    .prefault('8')
    .describe(
      'Most connections to `sessions: per-agent` upstreams one (tenant, agent) holds over all its sessions (each is a process for a stdio upstream); beyond it a call that needs a new one is refused UPSTREAM_LIMIT.',
    ),
  AUTHORITY_GATEWAY_UPSTREAMS_PER_TENANT: integer({ min: 1, max: 1_000_000 })
    .prefault('64')
    .describe('Most connections to `sessions: per-agent` upstreams the agents of one tenant hold together.'),
  AUTHORITY_GATEWAY_UPSTREAMS_MAX: integer({ min: 1, max: 1_000_000 })
    .prefault('256')
    .describe('Most connections to `sessions: per-agent` upstreams the gateway holds in total.'),
  AUTHORITY_GATEWAY_UPSTREAM_IDLE: duration()
    .prefault('5m')
    .describe(
      'A connection to a `sessions: per-agent` upstream with no request in flight and no subscription for this long is closed (the next allowed call opens it again).',
    ),
});

export type GatewayConfig = z.output<typeof gatewayConfigSchema>;

/** The stdio transport serves one agent, whose envelope must be configured. */
export const checkStdioEnvelope: ConfigCheck = (config) =>
  config['AUTHORITY_GATEWAY_TRANSPORT'] === 'stdio' && config['AUTHORITY_GATEWAY_ENVELOPE'] === undefined
    ? [{ variable: 'AUTHORITY_GATEWAY_ENVELOPE', problem: 'required when AUTHORITY_GATEWAY_TRANSPORT is stdio' }]
    : [];

/** Delegate calls need both the issuer's address and a credential. */
export const checkIssuerSettings: ConfigCheck = (config) => {
  const addr = config['AUTHORITY_ISSUER_ADDR'] !== undefined;
  const key = config['AUTHORITY_ISSUER_API_KEY'] !== undefined;
  if (addr && !key)
    return [{ variable: 'AUTHORITY_ISSUER_API_KEY', problem: 'required when AUTHORITY_ISSUER_ADDR is set' }];
  if (key && !addr)
    return [{ variable: 'AUTHORITY_ISSUER_ADDR', problem: 'required when AUTHORITY_ISSUER_API_KEY is set' }];
  return [];
};

/** Audit queries need both the auditor's address and a credential. */
export const checkAuditorSettings: ConfigCheck = (config) => {
  const addr = config['AUTHORITY_AUDITOR_ADDR'] !== undefined;
  const key = config['AUTHORITY_AUDITOR_API_KEY'] !== undefined;
  if (addr && !key)
    return [{ variable: 'AUTHORITY_AUDITOR_API_KEY', problem: 'required when AUTHORITY_AUDITOR_ADDR is set' }];
  if (key && !addr)
    return [{ variable: 'AUTHORITY_AUDITOR_ADDR', problem: 'required when AUTHORITY_AUDITOR_API_KEY is set' }];
  return [];
};

/** A model compiler needs the API's URL and a model. */
export const checkCompilerSettings: ConfigCheck = (config) => {
  if (config['AUTHORITY_GATEWAY_COMPILER'] === 'deterministic') return [];
  const issues = [];
  for (const v of ['AUTHORITY_GATEWAY_COMPILER_URL', 'AUTHORITY_GATEWAY_COMPILER_MODEL']) {
    if (config[v] === undefined)
      issues.push({
        variable: v,
        problem: `required when AUTHORITY_GATEWAY_COMPILER is ${String(config['AUTHORITY_GATEWAY_COMPILER'])}`,
      });
  }
  return issues;
};

export function gatewayConfigChecks(): ConfigCheck[] {
  return [checkStdioEnvelope, checkIssuerSettings, checkAuditorSettings, checkCompilerSettings];
}
