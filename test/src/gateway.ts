// What the MCP gateway's end-to-end tests share: a gateway started in-process on a free port in
// front of the stack's enforcer, envelopes minted for the gateway's audience, MCP clients that
// carry an envelope as bearer token (closed together at the end) and the denial a refused tool call
// carries in `_meta["authority/denial"]`.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { declareUnconstrained, generateEd25519KeyPair, mintRoot } from '@authority/core';
import { loadConfig } from '@authority/platform';
import { MongoClient } from 'mongodb';
import {
  MongoVaultStore,
  gatewayConfigSchema,
  startGateway,
  type Denial,
  type GatewayHandle,
} from '@authority/gateway';
import { mintEnvelope, type Stack, type StackTenant } from './stack';

/** The audience the tests' enforcers accept (`AUTHORITY_AUDIENCE`) and their envelopes name. */
export const GATEWAY_AUDIENCE = 'authority-gateway';

/**
 * A gateway on 127.0.0.1 (a free port, silent logs) serving the mapping file at `mapping`; `env`
 * adds or overrides variables (the enforcer's address and credential at least).
 */
export async function startTestGateway(mapping: string, env: Record<string, string>): Promise<GatewayHandle> {
  const config = loadConfig(
    gatewayConfigSchema,
    { AUTHORITY_GATEWAY_MAPPING: mapping, AUTHORITY_GATEWAY_HOST: '127.0.0.1', AUTHORITY_LOG_LEVEL: 'silent', ...env },
    [],
  );
  return startGateway({ ...config, AUTHORITY_GATEWAY_PORT: 0 });
}

/** A document vault in a database of its own (`db`) on the run's MongoDB; `drop()` removes it. */
export async function testVault(
  mongoUri: string,
  db: string,
): Promise<{ store: MongoVaultStore; drop(): Promise<void> }> {
  const mongo = new MongoClient(mongoUri);
  await mongo.connect();
  const store = new MongoVaultStore(mongo.db(db));
  await store.init();
  return {
    store,
    drop: async () => {
      await mongo
        .db(db)
        .dropDatabase()
        .catch(() => undefined);
      await mongo.close();
    },
  };
}

/** A temporary directory holding `mapping.yaml` with this text; `remove()` deletes both. */
export function mappingFile(prefix: string, yaml: string): { dir: string; path: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const path = join(dir, 'mapping.yaml');
  writeFileSync(path, yaml);
  return { dir, path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Mints a root envelope through the issuer (the tenant's ADMIN credential) for the gateway's
 * audience, unconstrained unless the grant says otherwise; returns its token.
 */
export async function mintToken(
  stack: Stack,
  tenant: StackTenant,
  agentId: string,
  grant: Record<string, unknown>,
  audience: string[] = [GATEWAY_AUDIENCE],
): Promise<string> {
  return (await mintEnvelope(stack, tenant, agentId, grant, { audience })).envelope?.token ?? '';
}

/** MCP clients connected to a gateway with an envelope as bearer token; `closeAll` ends them. */
export class McpClients {
  private readonly open: Client[] = [];

  constructor(private readonly name: string) {}

  async connect(gateway: GatewayHandle, token: string): Promise<Client> {
    const client = new Client({ name: this.name, version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(gateway.resource), {
        requestInit: { headers: { Authorization: `Bearer ${token}` } },
      }),
    );
    this.open.push(client);
    return client;
  }

  /** Closes this client with the others (one connected some other way, e.g. over stdio). */
  track(client: Client): Client {
    this.open.push(client);
    return client;
  }

  async closeAll(): Promise<void> {
    for (const c of this.open.splice(0)) await c.close().catch(() => undefined);
  }
}

/** tools/call with optional `_meta`. */
export async function callTool(
  client: Client,
  name: string,
  args: Record<string, unknown>,
  meta?: Record<string, unknown>,
): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args, ...(meta ? { _meta: meta } : {}) })) as CallToolResult;
}

/** The denial of a refused tool call (fails when the call was not refused or carries none). */
export function denialOf(result: CallToolResult): Denial {
  assert.equal(result.isError, true, `expected a denial, got ${JSON.stringify(result).slice(0, 300)}`);
  const d = result._meta?.['authority/denial'] as Denial | undefined;
  assert.ok(d !== undefined, 'the denial details are in _meta["authority/denial"]');
  return d;
}

/** An envelope naming TENANT and AGENT for the gateway, signed by a key no issuer knows (an attacker's). */
export function forgedEnvelope(tenant: string, agent: string): string {
  return mintRoot(
    {
      tenant,
      agent,
      scopes: ['demo:echo'],
      resources: [],
      context: [],
      constraints: declareUnconstrained(),
      ttlSeconds: 600,
      audience: GATEWAY_AUDIENCE,
    },
    { secretKey: generateEd25519KeyPair().secretKey, kid: 'forged', now: Math.floor(Date.now() / 1000) },
  ).token;
}
