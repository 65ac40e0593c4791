// Gateway overhead for a trivial tool (server-everything's `echo`), measured in one run against the
// same upstream called directly, so machine load affects both: over stdio (`direct`, the upstream
// the gateway itself uses) and over streamable HTTP (`direct_http`: one MCP-over-HTTP hop, like the
// agent's hop to the gateway):
//   gateway.echo.sequential: one caller; p50/p99 per call, direct and through the gateway, and the
//     p50 overhead (target ≤ 2 ms);
//   gateway.echo.closed-loop-16: 16 concurrent callers; calls per second, direct and through the
//     gateway, and the ratio (target ≥ 0.7);
//   gateway.components.sequential: where the overhead goes: the enforcer's Check alone, and an MCP
//     request through the gateway that needs neither check nor upstream (tools/list).
// `gateway_json` is a second gateway, same enforcer and mapping, with AUTHORITY_GATEWAY_JSON_RESPONSE
// (one JSON body per POST instead of an SSE stream): the transport's framing, measured side by
// side; the SSE and JSON gateways run in the order A B B A so drift in load hits both alike.
// The gateway path is MCP over streamable HTTP + a Check by a real enforcer (in this process, real
// Kafka; audit mode BENCH_AUDIT_MODE, default async) + the same stdio upstream. An issuer (real
// MongoDB) mints the envelope. Every loop is bounded in time; JSON lines on stdout.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { cryptoReady } from '@authority/core';
import { loadConfig, silentLogger, unaryCall } from '@authority/platform';
import { loadAuthorityProto, type CreateTenantResponse__Output, type MintResponse__Output } from '@authority/proto';
import { issuerConfigSchema, startIssuer } from '@authority/issuer';
import { enforcerConfigSchema, startEnforcer } from '@authority/enforcer';
import { MongoClient } from 'mongodb';
import { bench } from '@authority/test-helpers';
import { gatewayConfigSchema, startGateway } from '../src/index';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 5);
const AUDIT_MODE = process.env['BENCH_AUDIT_MODE'] ?? 'async';
const AUDIENCE = 'authority-gateway';

const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
// A closed loop (test-helpers): its CPU time per call is this process's (client, gateway, enforcer,
// issuer; not the upstream child), which barely moves with the load of the other processes.
const { closedLoop: loop, machine, note } = bench;

function rpc<Res>(client: grpc.Client, method: string, req: object, secret: string): Promise<Res> {
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${secret}`);
  const fn = (client as unknown as Record<string, (...a: unknown[]) => unknown>)[method] as (
    ...a: unknown[]
  ) => unknown;
  return unaryCall(fn.bind(client) as never, req, { metadata: md, deadlineMs: 20_000 }) as Promise<Res>;
}

async function main(): Promise<void> {
  const brokers = process.env['KAFKA_BROKERS'];
  const mongo = process.env['MONGODB_URI'];
  if (!brokers || !mongo) throw new Error('KAFKA_BROKERS and MONGODB_URI must be set (source .infra/env)');
  await cryptoReady();
  const id = randomBytes(4).toString('hex');
  const operatorKey = `op-${randomBytes(16).toString('hex')}`;
  const serviceKey = `svc-${randomBytes(16).toString('hex')}`;
  const base = {
    KAFKA_BROKERS: brokers,
    AUTHORITY_TOPIC_PREFIX: `bench-gw-${id}.`,
    AUTHORITY_OPERATOR_API_KEY: operatorKey,
    AUTHORITY_GRPC_HOST: '127.0.0.1',
    AUTHORITY_LOG_LEVEL: 'silent',
    AUTHORITY_SHUTDOWN_GRACE: '5s',
  };
  const signing = (kid: string) => ({
    AUTHORITY_EVENT_SIGNING_KEY: randomBytes(32).toString('base64url'),
    AUTHORITY_EVENT_SIGNING_KEY_ID: kid,
  });
  const db = `bench_gw_issuer_${id}`;
  const stops: (() => Promise<unknown>)[] = [];
  try {
    const issuer = await startIssuer(
      {
        ...loadConfig(issuerConfigSchema, {
          ...base,
          MONGODB_URI: mongo,
          AUTHORITY_ISSUER_DB: db,
          AUTHORITY_ISSUER_KEK: randomBytes(32).toString('base64'),
          AUTHORITY_SERVICE_API_KEY: serviceKey,
          ...signing(`issuer-${id}`),
        }),
        AUTHORITY_GRPC_PORT: 0,
      },
      { logger: silentLogger() },
    );
    stops.push(() => issuer.stop());
    const enforcer = await startEnforcer(
      {
        ...loadConfig(enforcerConfigSchema, {
          ...base,
          AUTHORITY_AUDIT_MODE: AUDIT_MODE,
          AUTHORITY_AUDIENCE: AUDIENCE,
          ...signing(`enforcer-${id}`),
        }),
        AUTHORITY_GRPC_PORT: 0,
      },
      { logger: silentLogger() },
    );
    stops.push(() => enforcer.stop());
    await enforcer.ready;
    const v1 = loadAuthorityProto().grpcObject.authority.v1;
    const issuerClient = new v1.IssuerService(issuer.address, grpc.credentials.createInsecure());
    const tenant = `bench-${id}`;
    const created = await rpc<CreateTenantResponse__Output>(
      issuerClient,
      'CreateTenant',
      { tenant, displayName: tenant },
      operatorKey,
    );
    const admin = created.adminCredential?.secret ?? '';
    const minted = await rpc<MintResponse__Output>(
      issuerClient,
      'Mint',
      {
        tenant,
        agentId: 'bench-agent',
        grant: { scopes: ['demo:echo'], contextFields: [], constraintsJson: '{"unconstrained":true}' },
        ttlSeconds: 3600,
        audience: [AUDIENCE],
      },
      admin,
    );
    issuerClient.close();
    const token = minted.envelope?.token ?? '';

    const everything = require
      .resolve('@modelcontextprotocol/server-everything/package.json')
      .replace(/package\.json$/, 'dist/index.js');
    const dir = mkdtempSync(join(tmpdir(), 'bench-gw-'));
    const mapping = join(dir, 'mapping.yaml');
    writeFileSync(
      mapping,
      `upstreams:\n  everything:\n    command: ${JSON.stringify(process.execPath)}\n    args: [${JSON.stringify(everything)}, stdio]\n    tools:\n      echo: { scope: "demo:echo" }\n`,
    );
    const newGateway = async (json: boolean) => {
      const g = await startGateway(
        {
          ...loadConfig(
            gatewayConfigSchema,
            {
              AUTHORITY_GATEWAY_MAPPING: mapping,
              AUTHORITY_GATEWAY_HOST: '127.0.0.1',
              AUTHORITY_ENFORCER_ADDR: `127.0.0.1:${enforcer.port}`,
              AUTHORITY_ENFORCER_API_KEY: operatorKey,
              AUTHORITY_GATEWAY_RATE: '1000000',
              AUTHORITY_GATEWAY_BURST: '1000000',
              AUTHORITY_GATEWAY_JSON_RESPONSE: String(json),
              AUTHORITY_LOG_LEVEL: 'silent',
            },
            [],
          ),
          AUTHORITY_GATEWAY_PORT: 0,
        },
        { logger: silentLogger() },
      );
      stops.push(() => g.stop());
      return g;
    };
    const gateway = await newGateway(false);
    const gatewayJson = await newGateway(true);

    const direct = new Client({ name: 'bench-direct', version: '1' });
    await direct.connect(
      new StdioClientTransport({ command: process.execPath, args: [everything, 'stdio'], stderr: 'pipe' }),
    );
    stops.push(() => direct.close());
    const viaGateway = new Client({ name: 'bench-gateway', version: '1' });
    await viaGateway.connect(
      new StreamableHTTPClientTransport(new URL(gateway.resource), {
        requestInit: { headers: { Authorization: `Bearer ${token}` } },
      }),
    );
    stops.push(() => viaGateway.close());
    const viaGatewayJson = new Client({ name: 'bench-gateway-json', version: '1' });
    await viaGatewayJson.connect(
      new StreamableHTTPClientTransport(new URL(gatewayJson.resource), {
        requestInit: { headers: { Authorization: `Bearer ${token}` } },
      }),
    );
    stops.push(() => viaGatewayJson.close());

    // The same upstream over streamable HTTP: one MCP-over-HTTP hop, like the agent → gateway hop.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const a = probe.address();
        probe.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 0));
      });
    });
    const httpUpstream = spawn(process.execPath, [everything, 'streamableHttp'], {
      env: { ...process.env, PORT: String(port) },
      stdio: 'ignore',
    });
    stops.push(async () => void httpUpstream.kill('SIGTERM'));
    const directHttp = new Client({ name: 'bench-direct-http', version: '1' });
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await directHttp.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`)));
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 200)); // the child is still starting: poll until it answers
      }
    }
    stops.push(() => directHttp.close());
    const callDirectHttp = async () => {
      const r = await directHttp.callTool({ name: 'echo', arguments: { message: 'x' } });
      if (r.isError) throw new Error('direct HTTP call failed');
    };

    const callDirect = async () => {
      const r = await direct.callTool({ name: 'echo', arguments: { message: 'x' } });
      if (r.isError) throw new Error('direct call failed');
    };
    const callGateway = async () => {
      const r = await viaGateway.callTool({ name: 'everything.echo', arguments: { message: 'x' } });
      if (r.isError) throw new Error(`gateway call failed: ${JSON.stringify(r.content)}`);
    };
    const callGatewayJson = async () => {
      const r = await viaGatewayJson.callTool({ name: 'everything.echo', arguments: { message: 'x' } });
      if (r.isError) throw new Error(`gateway (JSON) call failed: ${JSON.stringify(r.content)}`);
    };
    // Warm up every path (JIT, connections, the enforcer's memo).
    for (let i = 0; i < 200; i++) {
      await callDirect();
      await callDirectHttp();
      await callGateway();
      await callGatewayJson();
    }
    /** SSE and JSON gateways, each in two halves, in the order A B B A. */
    const bothGateways = async (concurrency: number) => {
      const a1 = await loop(concurrency, SECONDS / 2, callGateway);
      const b1 = await loop(concurrency, SECONDS / 2, callGatewayJson);
      const b2 = await loop(concurrency, SECONDS / 2, callGatewayJson);
      const a2 = await loop(concurrency, SECONDS / 2, callGateway);
      return { sse: [a1, a2], json: [b1, b2] };
    };
    const mean = (xs: number[]) => round(xs.reduce((a, b) => a + b, 0) / xs.length);

    // Where the overhead goes: the enforcer's Check alone (gRPC, the same token), and an MCP request
    // through the gateway that needs neither a check nor the upstream (tools/list).
    {
      const { EnforcerClient } = await import('@authority/sdk');
      const ec = new EnforcerClient(`127.0.0.1:${enforcer.port}`, { credential: operatorKey });
      const check = await loop(1, SECONDS / 2, async () => {
        const r = await ec.check({ token, requiredScope: 'demo:echo' });
        if (r.decision !== 'ALLOW') throw new Error(r.reason);
      });
      ec.close();
      const list = await loop(1, SECONDS / 2, async () => void (await viaGateway.listTools()));
      process.stdout.write(
        `${JSON.stringify({
          name: 'gateway.components.sequential',
          audit_mode: AUDIT_MODE,
          enforcer_check: check,
          gateway_tools_list: list,
          machine: machine(),
        })}\n`,
      );
    }
    note(`sequential, ${SECONDS}s each (audit ${AUDIT_MODE})`);
    const seqDirect = await loop(1, SECONDS, callDirect);
    const seqDirectHttp = await loop(1, SECONDS, callDirectHttp);
    const seqGateway = await loop(1, SECONDS, callGateway);
    const seqBoth = await bothGateways(1);
    process.stdout.write(
      `${JSON.stringify({
        name: 'gateway.echo.sequential',
        audit_mode: AUDIT_MODE,
        direct: seqDirect,
        direct_http: seqDirectHttp,
        gateway: seqGateway,
        p50_overhead_ms: round(seqGateway.p50_ms - seqDirect.p50_ms),
        p50_overhead_vs_http_ms: round(seqGateway.p50_ms - seqDirectHttp.p50_ms),
        gateway_sse_halves: seqBoth.sse,
        gateway_json_halves: seqBoth.json,
        p50_json_minus_sse_ms: round(mean(seqBoth.json.map((r) => r.p50_ms)) - mean(seqBoth.sse.map((r) => r.p50_ms))),
        target_p50_overhead_ms: 2,
        machine: machine(),
      })}\n`,
    );
    note(`closed loop, 16 callers, ${SECONDS}s each`);
    const clDirect = await loop(16, SECONDS, callDirect);
    const clDirectHttp = await loop(16, SECONDS, callDirectHttp);
    const clGateway = await loop(16, SECONDS, callGateway);
    const clBoth = await bothGateways(16);
    process.stdout.write(
      `${JSON.stringify({
        name: 'gateway.echo.closed-loop-16',
        audit_mode: AUDIT_MODE,
        direct: clDirect,
        direct_http: clDirectHttp,
        gateway: clGateway,
        throughput_ratio: round(clGateway.rps / clDirect.rps, 2),
        throughput_ratio_vs_http: round(clGateway.rps / clDirectHttp.rps, 2),
        gateway_sse_halves: clBoth.sse,
        gateway_json_halves: clBoth.json,
        throughput_json_over_sse: round(mean(clBoth.json.map((r) => r.rps)) / mean(clBoth.sse.map((r) => r.rps)), 2),
        throughput_ratio_json_vs_http: round(mean(clBoth.json.map((r) => r.rps)) / clDirectHttp.rps, 2),
        cpu_json_over_sse: round(
          mean(clBoth.json.map((r) => r.cpu_us_per_call)) / mean(clBoth.sse.map((r) => r.cpu_us_per_call)),
          2,
        ),
        target_ratio: 0.7,
        machine: machine(),
      })}\n`,
    );
  } finally {
    for (const s of stops.reverse()) await s().catch(() => undefined);
    const m = new MongoClient(mongo);
    await m
      .connect()
      .then(() => m.db(db).dropDatabase())
      .catch(() => undefined);
    await m.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
