// What the fault-injection suite does around each fault: tenants and their tokens, gRPC clients
// that follow a container's published port, the invariants (every ALLOW a client received is in
// its tenant's chain exactly once, no event twice, every chain verifies against its checkpoints,
// the stack back to SERVING), the Kafka cluster as its admin API reports it (kafka-admin.ts), and
// the one JSON line per fault with the measured recovery times and refusal counts.
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { Admin } from 'kafkajs';
import { loadAuthorityProto } from '@authority/proto';
import type {
  CheckResponse__Output,
  CreateCredentialResponse__Output,
  CreateTenantResponse__Output,
  GetCheckpointResponse__Output,
  MintResponse__Output,
  QueryEventsResponse__Output,
  VerifyChainResponse__Output,
} from '@authority/proto';
import { rpc } from '../src/stack';
import type { ContainerStack } from '../src/containers';
import { now, tally, isRefusal, type LoadAnswer, type LoadCheck, type LoadRun, type Tally } from '../src/load';
import { authorityTopics, isrComplete, uncommitted } from './kafka-admin';

const REPO_ROOT = join(__dirname, '..', '..', '..');
/** One JSON line per fault is appended here (and printed). */
export const RESULTS_FILE = process.env['AUTHORITY_FAULTS_RESULTS'] ?? join(REPO_ROOT, '.infra', 'fault-results.jsonl');
/** The containers' logs are written here when the suite ends. */
export const LOGS_DIR = join(REPO_ROOT, '.infra', 'fault-logs');

type ServiceName = 'IssuerService' | 'EnforcerService' | 'AuditorService';

/** gRPC clients by service and address: a container restarted on another port gets a new one. */
export class Clients {
  private readonly clients = new Map<string, grpc.Client>();

  constructor(private readonly stack: ContainerStack) {}

  get(service: ServiceName, member: string): grpc.Client {
    const address = this.stack.member(member).address;
    const key = `${service}@${address}`;
    let client = this.clients.get(key);
    if (client === undefined) {
      const v1 = loadAuthorityProto().grpcObject.authority.v1 as unknown as Record<
        string,
        new (address: string, credentials: grpc.ChannelCredentials, options: grpc.ChannelOptions) => grpc.Client
      >;
      client = new v1[service]!(address, grpc.credentials.createInsecure(), {
        'grpc.initial_reconnect_backoff_ms': 100,
        'grpc.max_reconnect_backoff_ms': 1000,
        'grpc.max_receive_message_length': 64 * 1024 * 1024,
      });
      this.clients.set(key, client);
    }
    return client;
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}

export interface Tenant {
  name: string;
  admin: string;
  checker: string;
  auditor: string;
  token: string;
}

/** Creates a tenant with CHECKER and AUDITOR credentials and a token for `vault:records:read`. */
export async function createTenant(stack: ContainerStack, clients: Clients, name: string): Promise<Tenant> {
  const issuer = clients.get('IssuerService', 'issuer');
  const created = await rpc<CreateTenantResponse__Output>(
    issuer,
    'CreateTenant',
    { tenant: name, displayName: name },
    stack.operatorKey,
  );
  const admin = created.adminCredential?.secret ?? '';
  const credential = async (kind: string): Promise<string> =>
    (await rpc<CreateCredentialResponse__Output>(issuer, 'CreateCredential', { tenant: name, kind }, admin)).credential
      ?.secret ?? '';
  return {
    name,
    admin,
    checker: await credential('CHECKER'),
    auditor: await credential('AUDITOR'),
    token: await mint(clients, name, admin),
  };
}

/** A root envelope for agent `records-reader`: read any record of the tenant's vault, for an hour. */
export async function mint(clients: Clients, tenant: string, admin: string): Promise<string> {
  const minted = await rpc<MintResponse__Output>(
    clients.get('IssuerService', 'issuer'),
    'Mint',
    {
      tenant,
      agentId: 'records-reader',
      grant: {
        scopes: ['vault:records:read'],
        resources: ['slos://vaults/records/*'],
        constraintsJson: '{"unconstrained":true}',
      },
      ttlSeconds: 3600,
    },
    admin,
  );
  const token = minted.envelope?.token ?? '';
  if (token === '') throw new Error(`Mint for ${tenant} returned no token`);
  return token;
}

/** The load's mix per tenant: four reads the token allows, one outside its resources. */
export function checksFor(tenants: readonly Tenant[]): LoadCheck[] {
  const checks: LoadCheck[] = [];
  for (let k = 0; k < 5; k++) {
    for (const t of tenants) {
      const allow = k < 4;
      checks.push({
        tenant: t.name,
        credential: t.checker,
        expect: allow ? 'ALLOW' : 'DENY',
        request: {
          token: t.token,
          requiredScope: 'vault:records:read',
          resource: allow ? `slos://vaults/records/r-${k}` : 'slos://vaults/other/r-1',
        },
      });
    }
  }
  return checks;
}

export async function check(
  clients: Clients,
  enforcer: string,
  tenant: Tenant,
  resource = 'slos://vaults/records/probe',
  token = tenant.token,
): Promise<CheckResponse__Output> {
  return rpc<CheckResponse__Output>(
    clients.get('EnforcerService', enforcer),
    'Check',
    { token, requiredScope: 'vault:records:read', resource },
    tenant.checker,
    { deadlineMs: 15_000 },
  );
}

/** Polls `probe` every `intervalMs` until it returns a value; fails naming `what` after `timeoutMs`. */
export async function waitFor<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  what: string,
  timeoutMs: number,
  intervalMs = 250,
): Promise<T> {
  const deadline = now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Resolves once every target received `count` ALLOWs for calls sent at or after `since`. */
export function allowsSince(
  run: LoadRun,
  targets: readonly string[],
  since: number,
  count: number,
): () => true | undefined {
  return () => {
    const seen = new Map<string, number>(targets.map((t) => [t, 0]));
    for (const a of run.answers) {
      if (a.sentAt >= since && a.outcome === 'ALLOW') seen.set(a.target, (seen.get(a.target) ?? 0) + 1);
    }
    return [...seen.values()].every((n) => n >= count) ? true : undefined;
  };
}

/**
 * Whether every target answered ALLOW to every call that expected one among the calls sent in the
 * `windowMs` before the last `settleMs` (calls that had time to be answered), and to at least
 * `min` of them.
 */
export function allowingNow(
  run: LoadRun,
  targets: readonly string[],
  windowMs = 3_000,
  settleMs = 2_000,
  min = 20,
): boolean {
  const to = now() - settleMs;
  const from = to - windowMs;
  const seen = new Map<string, number>(targets.map((t) => [t, 0]));
  for (let i = run.answers.length - 1; i >= 0; i--) {
    const a = run.answers[i]!;
    if (a.sentAt < from) break;
    if (a.sentAt > to || a.expect !== 'ALLOW' || !seen.has(a.target)) continue;
    if (a.outcome !== 'ALLOW') return false;
    seen.set(a.target, seen.get(a.target)! + 1);
  }
  return [...seen.values()].every((n) => n >= min);
}

// ---------------------------------------------------------------------------------------------
// The stack back to SERVING.

/** Names of the stack's members that are not SERVING (services) or not running (Kafka, MongoDB). */
export async function notServing(stack: ContainerStack): Promise<string[]> {
  const bad: string[] = [];
  await Promise.all(
    stack.members().map(async (m) => {
      if (m.kind === 'kafka' || m.kind === 'mongo') {
        if (!(await stack.state(m.name)).running) bad.push(`${m.name}: not running`);
      } else {
        const status = await stack.health(m.name);
        if (status !== 'SERVING') bad.push(`${m.name}: ${status}`);
      }
    }),
  );
  return bad.sort();
}

/** Waits until every service answers SERVING and every partition has its full ISR; returns when. */
export async function waitForStack(stack: ContainerStack, admin: Admin, timeoutMs: number): Promise<number> {
  await waitFor(
    async () => {
      const bad = await notServing(stack);
      if (bad.length > 0) throw new Error(bad.join('; '));
      return isrComplete(admin, authorityTopics());
    },
    'every service SERVING and every partition with its full ISR',
    timeoutMs,
  );
  return now();
}

// ---------------------------------------------------------------------------------------------
// The audit chains.

/**
 * Resolves once the auditors' consumer group has committed every audit record produced so far:
 * the auditor commits a batch only after chaining it, so every event acknowledged by Kafka before
 * this call is in its chain. Asks Kafka, not MongoDB (cheap to poll).
 */
export async function auditCommitted(admin: Admin, groupId: string, topic: string, timeoutMs: number): Promise<number> {
  await waitFor(
    async () => {
      const u = await uncommitted(admin, groupId, topic);
      const behind = Object.entries(u).filter(([, n]) => n > 0);
      if (behind.length > 0) throw new Error(`uncommitted audit records by partition: ${JSON.stringify(u)}`);
      return true;
    },
    'the auditors to commit every audit record',
    timeoutMs,
  );
  return now();
}

/**
 * The event ids in the tenant's chain with how often each occurs: every entry, or those whose
 * event time is at or after `sinceMs` (QueryEvents pages through the chain in seq order).
 */
export async function chainEventIds(
  clients: Clients,
  tenant: Tenant,
  sinceMs?: number,
  auditor = 'auditor-1',
): Promise<{ ids: Map<string, number>; headSeq: number }> {
  const ids = new Map<string, number>();
  let headSeq = 0;
  let pageToken = '';
  const startTime =
    sinceMs === undefined ? {} : { startTime: { seconds: String(Math.floor(sinceMs / 1000)), nanos: 0 } };
  do {
    const page = await rpc<QueryEventsResponse__Output>(
      clients.get('AuditorService', auditor),
      'QueryEvents',
      { tenant: tenant.name, pageSize: 1000, pageToken, ...startTime },
      tenant.auditor,
      { deadlineMs: 120_000 },
    );
    for (const e of page.entries) {
      const id = e.event?.eventId ?? '';
      ids.set(id, (ids.get(id) ?? 0) + 1);
      headSeq = Math.max(headSeq, Number(e.seq));
    }
    pageToken = page.nextPageToken;
  } while (pageToken !== '');
  return { ids, headSeq };
}

export interface ChainCheck {
  tenant: string;
  /** ALLOWs the clients received. */
  allowsReceived: number;
  /** Of those, not in the chain / in it more than once. */
  missing: string[];
  repeated: string[];
  /** Event ids in the chain (or the part read) more than once, whatever the decision. */
  duplicated: string[];
  /** Entries read. */
  entries: number;
  /** The highest seq read (the chain's head when the read started from before the newest entries). */
  headSeq: number;
}

/**
 * Reads each tenant's chain (from `sinceMs` on, by event time) and checks that every ALLOW the
 * clients received is in it exactly once and that no event id occurs twice. Call it once the
 * auditors committed everything (auditCommitted): it does not wait.
 */
export async function checkChains(
  clients: Clients,
  tenants: readonly Tenant[],
  answers: readonly LoadAnswer[],
  sinceMs?: number,
): Promise<ChainCheck[]> {
  const allowed = new Map<string, string[]>(tenants.map((t) => [t.name, []]));
  for (const a of answers) if (a.outcome === 'ALLOW') allowed.get(a.tenant)?.push(a.decisionId);
  const result: ChainCheck[] = [];
  for (const t of tenants) {
    const want = allowed.get(t.name) ?? [];
    const { ids, headSeq } = await chainEventIds(clients, t, sinceMs);
    result.push({
      headSeq,
      tenant: t.name,
      allowsReceived: want.length,
      missing: want.filter((id) => !ids.has(id)),
      repeated: want.filter((id) => (ids.get(id) ?? 0) > 1),
      duplicated: [...ids].filter(([, n]) => n > 1).map(([id]) => id),
      entries: [...ids.values()].reduce((a, b) => a + b, 0),
    });
  }
  return result;
}

/**
 * VerifyChain of each tenant, held to a checkpoint at its head: the whole chain is recomputed and
 * checked against every stored checkpoint. First waits (GetCheckpoint, cheap) until the auditors
 * signed a checkpoint at the head known from reading the chain (they do every few seconds), so one
 * verification usually does; when entries arrived meanwhile, waits for their checkpoint and
 * verifies again. A chain that does not verify is returned as is (the caller asserts).
 */
export async function verifyChains(
  clients: Clients,
  tenants: readonly Tenant[],
  heads: ReadonlyMap<string, number>,
  timeoutMs: number,
  verifiedHeads: ReadonlyMap<string, number> = new Map(),
): Promise<VerifyChainResponse__Output[]> {
  const out: VerifyChainResponse__Output[] = [];
  const auditor = () => clients.get('AuditorService', 'auditor-1');
  // From after the head an earlier fault verified (its checkpoint is the anchor, so the new entries
  // must chain onto that signed head), not from genesis: each fault reads only what it added.
  const verify = (t: Tenant) =>
    rpc<VerifyChainResponse__Output>(
      auditor(),
      'VerifyChain',
      { tenant: t.name, fromSeq: (verifiedHeads.get(t.name) ?? 0) + 1 },
      t.auditor,
      { deadlineMs: 120_000 },
    );
  const checkpointAt = (t: Tenant, head: number) =>
    waitFor(
      async () => {
        const cp = await rpc<GetCheckpointResponse__Output>(auditor(), 'GetCheckpoint', { tenant: t.name }, t.auditor);
        return Number(cp.checkpoint?.seq ?? 0) >= head ? true : undefined;
      },
      `a checkpoint at seq ${head} of ${t.name}'s chain`,
      timeoutMs,
      500,
    );
  for (const t of tenants) {
    await checkpointAt(t, heads.get(t.name) ?? 0);
    let v = await verify(t);
    if (v.ok && (v.checkpoint === null || Number(v.checkpoint.seq) < Number(v.headSeq))) {
      await checkpointAt(t, Number(v.headSeq));
      v = await verify(t);
    }
    out.push(v);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Results.

export interface FaultResult {
  fault: string;
  /** The container(s) the fault hit. */
  target: string;
  rate_per_s: number;
  load_ms: number;
  sent: number;
  allowed: number;
  denied: number;
  /** Calls a healthy stack would have allowed, answered DENY (fail closed), by reason. */
  refused: Record<string, number>;
  /** Calls that got no decision (connection refused, deadline), by gRPC status. */
  unanswered: Record<string, number>;
  refused_total: number;
  /** Calls the generator did not send because too many were in flight. */
  skipped: number;
  wrong_allows: number;
  /** Injection to the answer of the last refused or unanswered call (0: none). */
  refused_until_ms: number;
  /** Longest time a call waited for its answer, by outcome (ms). */
  answer_ms_max: Record<string, number>;
  /** Injection to every service SERVING and every partition with its full ISR again. */
  serving_after_ms: number;
  /** End of the load to the auditors having chained and committed every audit record. */
  chain_complete_after_ms: number;
  chain_entries: number;
  [extra: string]: unknown;
}

export function summarize(
  fault: string,
  target: string,
  rate: number,
  report: { startedAt: number; endedAt: number; answers: readonly LoadAnswer[]; skipped: number },
  injectedAt: number,
): FaultResult {
  const t: Tally = tally(report.answers);
  let lastRefusal = 0;
  const slowest: Record<string, number> = {};
  for (const a of report.answers) {
    if (isRefusal(a) && a.answeredAt > lastRefusal) lastRefusal = a.answeredAt;
    const key =
      a.outcome === 'ERROR'
        ? a.error
        : `${a.outcome ?? 'PENDING'}${a.reason && a.reason !== 'ALLOWED' ? ` ${a.reason}` : ''}`;
    slowest[key] = Math.max(slowest[key] ?? 0, Math.round(a.answeredAt - a.sentAt));
  }
  const refusedTotal =
    Object.values(t.refused).reduce((a, b) => a + b, 0) + Object.values(t.unanswered).reduce((a, b) => a + b, 0);
  return {
    fault,
    target,
    rate_per_s: rate,
    load_ms: Math.round(report.endedAt - report.startedAt),
    sent: t.sent,
    allowed: t.allowed,
    denied: t.denied,
    refused: t.refused,
    unanswered: t.unanswered,
    refused_total: refusedTotal,
    skipped: report.skipped,
    wrong_allows: t.wrongAllows,
    refused_until_ms: lastRefusal === 0 ? 0 : Math.max(0, Math.round(lastRefusal - injectedAt)),
    answer_ms_max: slowest,
    serving_after_ms: 0,
    chain_complete_after_ms: 0,
    chain_entries: 0,
    // For the invariants' report (removed before the line is printed).
    injected_at: injectedAt,
  };
}

/** Prints the result as one JSON line and appends it to RESULTS_FILE. */
export function emit(result: FaultResult): void {
  const line = JSON.stringify(result);
  console.log(line);
  try {
    mkdirSync(join(RESULTS_FILE, '..'), { recursive: true });
    appendFileSync(RESULTS_FILE, `${line}\n`);
  } catch {
    // printing is what counts; the file is a convenience
  }
}

/** Writes every container's log (all its runs) to LOGS_DIR, for the report of a failure. */
export function saveLogs(stack: ContainerStack): void {
  mkdirSync(LOGS_DIR, { recursive: true });
  for (const m of stack.members()) {
    const out = spawnSync('docker', ['logs', '--timestamps', m.container.getId()], {
      encoding: 'utf8',
      maxBuffer: 512 * 1024 * 1024,
    });
    if (out.status === 0) writeFileSync(join(LOGS_DIR, `${m.name}.log`), `${out.stdout}${out.stderr}`);
  }
}
