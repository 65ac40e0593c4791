// Shared bits of the auditor benchmarks: machine facts, JSON lines on stdout, notes on stderr,
// the infrastructure from the environment, a unique prefix/database per run, event generation.
import { randomBytes } from 'node:crypto';
import { bench } from '@authority/test-helpers';
import { eventSigningKey, type EventSigningKey } from '@authority/core';
import { cloudEventHeaders, withEventBatchSignature, withEventSignature, type EventMessage } from '@authority/platform';
import { createMessage, encodeEvent, pb, timestampFromDate } from '@authority/proto';

/** The database server the figures were measured on, with the machine facts. */
const SERVER = { mongodb_server: process.env['AUDITOR_BENCH_SERVER'] ?? 'FerretDB 1.24.2 (SQLite) via MONGODB_URI' };

export const machine = () => bench.machine(SERVER);
export const report = (result: Record<string, unknown>) => bench.report(result, SERVER);
export const { note, round } = bench;

export function requireInfra(): { brokers: string; mongo: string } {
  const brokers = process.env['KAFKA_BROKERS'];
  const mongo = process.env['MONGODB_URI'];
  if (!brokers || !mongo)
    throw new Error('the auditor benchmarks need KAFKA_BROKERS and MONGODB_URI (source .infra/env)');
  return { brokers, mongo };
}

/** A positive integer from the environment, or the default. */
export function envInt(name: string, def: number): number {
  const v = Number(process.env[name] ?? '');
  return Number.isSafeInteger(v) && v > 0 ? v : def;
}

export function runId(): string {
  return randomBytes(4).toString('hex');
}

const AGENTS = ['advisor', 'registrar', 'finaid', 'tutor', 'counselor', 'admissions', 'library', 'housing'];
const DOMAINS = ['student-records', 'student-health', 'financial-aid', 'housing'];

/**
 * Which agents and resources the events name. 'distinct': 8 agents in turn and a different
 * resource for each of 5,000 events in a row (the worst case for the aggregates' grouping);
 * 'zipf': `agents` agents and `resources` resources, each drawn with Zipf (s = 1) popularity,
 * independently (a few hot agents and resources, a long tail; the shape of real access logs).
 */
export type BenchShape = { kind: 'distinct' } | { kind: 'zipf'; agents: number; resources: number };

/** BENCH_RESOURCES: 'distinct', or the number of resources (Zipf, default 1,000) over BENCH_AGENTS (default 100). */
export function benchShape(): BenchShape {
  const r = process.env['BENCH_RESOURCES'] ?? '';
  if (r === 'distinct') return { kind: 'distinct' };
  return { kind: 'zipf', agents: envInt('BENCH_AGENTS', 100), resources: envInt('BENCH_RESOURCES', 1000) };
}

const zipfTables = new Map<number, Float64Array>();
/** The rank (0-based) of a Zipf(s = 1) draw over `size` items for u in [0, 1). */
function zipf(size: number, u: number): number {
  let cdf = zipfTables.get(size);
  if (cdf === undefined) {
    cdf = new Float64Array(size);
    let sum = 0;
    for (let k = 0; k < size; k++) cdf[k] = sum += 1 / (k + 1);
    for (let k = 0; k < size; k++) cdf[k] = (cdf[k] as number) / sum;
    zipfTables.set(size, cdf);
  }
  let lo = 0;
  let hi = size - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((cdf[mid] as number) < u) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
/** A deterministic uniform in [0, 1) from (n, salt) (a 32-bit integer hash). */
function unit(n: number, salt: number): number {
  let h = Math.imul(n ^ salt, 0x9e3779b1) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return ((h ^ (h >>> 16)) >>> 0) / 2 ** 32;
}

/** A realistic check event (about 600 bytes of proto3 JSON), deterministic in `n`. */
export function benchEvent(
  tenant: string,
  n: number,
  baseMs: number,
  shape: BenchShape = { kind: 'distinct' },
): pb.AuditEvent {
  let agent = AGENTS[n % AGENTS.length] as string;
  let domain = DOMAINS[(n >> 3) % DOMAINS.length] as string;
  let resource = `slos://vaults/${domain}/records/${n % 5000}`;
  if (shape.kind === 'zipf') {
    const a = zipf(shape.agents, unit(n, 0x5bd1e995));
    const r = zipf(shape.resources, unit(n, 0x27d4eb2f));
    agent = a < AGENTS.length ? (AGENTS[a] as string) : `agent-${a}`;
    domain = DOMAINS[r % DOMAINS.length] as string;
    resource = `slos://vaults/${domain}/records/${r}`;
  }
  const allow = n % 11 !== 0;
  return createMessage(pb.AuditEventSchema, {
    eventId: `${tenant}-${n}-${randomBytes(6).toString('hex')}`,
    tenant,
    time: timestampFromDate(new Date(baseMs + n * 10)),
    source: 'enforcer',
    actor: createMessage(pb.ActorSchema, {
      agentId: agent,
      jtiChain: [randomBytes(16).toString('base64url'), randomBytes(16).toString('base64url')],
      principal: 'checker-1',
    }),
    action: 'check',
    resource,
    decision: allow ? pb.Decision.ALLOW : pb.Decision.DENY,
    reason: allow ? pb.ReasonCode.ALLOWED : pb.ReasonCode.DENIED_RESOURCE,
    message: allow ? 'allowed' : `resource matches denied pattern slos://vaults/${domain}/*`,
    policyVersion: '7',
    traceId: randomBytes(16).toString('hex'),
    spanId: randomBytes(8).toString('hex'),
    detail: {
      case: 'check',
      value: createMessage(pb.CheckDetailSchema, {
        decisionId: randomBytes(16).toString('hex'),
        requiredScope: `vault:${domain}:read`,
        purpose: 'advising',
        enforcerId: 'enforcer-0',
      }),
    },
  });
}

/** The benchmarks' producer key (an enforcer's; await cryptoReady() first) and its trusted-key entry. */
export function benchEventKey(): EventSigningKey {
  return eventSigningKey(Buffer.alloc(32, 9), 'bench-enforcer');
}
export function benchTrustedKeys(): string {
  return `bench-enforcer=${Buffer.from(benchEventKey().publicKey).toString('base64url')};sources=enforcer`;
}

/** The Kafka record of a bench event, signed with `key` when given (what the auditor ingests). */
export function benchRecord(e: pb.AuditEvent, key?: EventSigningKey): EventMessage {
  const message: EventMessage = {
    key: e.tenant,
    value: encodeEvent(pb.AuditEventSchema, e),
    headers: cloudEventHeaders({
      id: e.eventId,
      type: 'authority.audit.v1',
      source: 'bench',
      subject: e.tenant,
      time: new Date(),
    }),
  };
  return key === undefined ? message : withEventSignature(message, key);
}

/**
 * The Kafka records of bench events signed as the enforcer signs them: `batch` records per
 * signature (one Ed25519 signature over their Merkle root; 1 = a signature per record).
 */
export function benchSignedRecords(events: pb.AuditEvent[], key: EventSigningKey, batch: number): EventMessage[] {
  const out: EventMessage[] = [];
  for (let i = 0; i < events.length; i += batch)
    out.push(
      ...withEventBatchSignature(
        events.slice(i, i + batch).map((e) => benchRecord(e)),
        key,
      ),
    );
  return out;
}

/** Resolves when `cond()` holds (checked every `everyMs`), rejects after `maxMs`. */
export async function until(
  cond: () => boolean | Promise<boolean>,
  what: string,
  maxMs: number,
  everyMs = 20,
): Promise<void> {
  const deadline = Date.now() + maxMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`benchmark bound exceeded waiting for ${what} (${maxMs} ms)`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
