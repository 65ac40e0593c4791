// The compliance report as data (the JSON format; the HTML is rendered from the same object).
// Every section covers the same entries: the verified prefix of the tenant's chain, filtered to
// the same time window (inclusive, on the events' own time).
//
// - executive summary: events, allowed, denied, distinct agents, reasons, actions;
// - per-agent breakdown: an event counts for every agent on its delegation path (event-fields
//   `agentPath`), split into the events the agent acted in and those it delegated; a delegated
//   agent is shown with its lineage; events whose path a token only claimed (chain_unverified)
//   are counted on the claimed path and marked;
// - attestation matrix: agents (of the policy and of the window) × the policy's data
//   classifications; a classification `<domain>` stands for the resource pattern
//   `slos://vaults/<domain>/*` (the original's vault layout; the policy format has no field for a
//   pattern); cells count `check` decisions like Attest does (the agent's own and its delegates');
// - per-resource breakdown (the busiest resources, bounded);
// - approvals (who approved what, when, with which comment), revocations, and the denied events
//   with their decision ids (each list bounded, with a count of the rest);
// - chain verification status, with the checkpoint it rests on;
// - data classifications from the tenant's current policy.
//
// A report may be scoped to one agent (events on whose delegation path it is) or to a resource
// glob, and may be a summary (the lists left out). The window starts where the caller says, or at
// the chain's first entry (never at the epoch). The deny rate is over access checks only:
// administrative events (mint, revoke, approvals, ...) are counted apart.
//
// Size: the report's types, the one aggregator that counts every section in one pass over the
// entries (or their aggregates), and the builder; the sections are counted together so they cover
// the same entries, and the wire shape sits next to the counting that fills it.
import { globMatch, type Policy } from '@authority/core';
import { pb } from '@authority/proto';
import type { CurrentPolicy } from '@authority/views';
import type { SignedCheckpoint } from '@authority/core';
import { actingAgent, agentPath, agentRole, type EventFields } from '../event-fields';
import type { VerifyOutput } from '../read-types';
import { rowEventFields, type ChunkAggregate } from '../aggregates';

/** The resource pattern a data classification stands for in the attestation matrix. */
export function classificationPattern(domain: string): string {
  return `slos://vaults/${domain}/*`;
}

/** Distinct resources tracked per agent before the count is reported as a lower bound. */
export const MAX_DISTINCT_RESOURCES = 10_000;

/** Distinct delegation lineages listed per agent (more are counted in `delegatedByOmitted`). */
export const MAX_LINEAGES = 20;

/** Rows listed in each event list (approvals, revocations, denied events); more are counted. */
export const MAX_LISTED_EVENTS = 200;

/** Resources listed in the per-resource breakdown (the busiest first); more are counted. */
export const MAX_LISTED_RESOURCES = 100;

/** Distinct resources tracked for the per-resource breakdown; beyond it the list is marked partial. */
export const MAX_TRACKED_RESOURCES = 10_000;

/** The inclusive window a report covers, in ms since the epoch; no start = from the chain's first entry. */
export interface ReportWindow {
  startMs?: number;
  endMs: number;
}

/** What a report covers: the whole tenant, or one agent's events, or a resource glob's; a summary leaves the lists out. */
export interface ReportScope {
  agentId?: string;
  resourceGlob?: string;
  summary?: boolean;
}

export interface Count {
  key: string;
  count: number;
}

export interface AgentBreakdown {
  agentId: string;
  /** Events on whose delegation path the agent is: acted + delegated. */
  events: number;
  /** Of events: the agent acted itself (it is the event's agent). */
  acted: number;
  /** Of events: an agent it delegated to acted (it is earlier on the path). */
  delegated: number;
  /**
   * Of events: the path is only what a token that failed verification claimed
   * (chain_unverified); attempts, they prove nothing about who held the token.
   */
  unverifiedAttempts: number;
  /**
   * Who delegated to this agent, from verified paths: each entry the delegators before it, root
   * first, joined by ` → ` (e.g. `academic-advisor`). Empty for an agent only seen as a root.
   */
  delegatedBy: string[];
  /** Further distinct lineages beyond MAX_LINEAGES. */
  delegatedByOmitted: number;
  /** The agent with its lineage, e.g. `academic-advisor/summarizer, delegated by academic-advisor`. */
  lineage: string;
  allowed: number;
  denied: number;
  /** Of denied: denials because a link of the agent's envelope (or an ancestor's) was revoked. */
  revokedDenials: number;
  /** `check` decisions (accesses and attempts). */
  accessChecks: number;
  distinctResources: number;
  /** True when distinctResources hit MAX_DISTINCT_RESOURCES (it is then a lower bound). */
  distinctResourcesCapped: boolean;
  denyReasons: Count[];
  firstSeen: string | null;
  lastSeen: string | null;
  /** Whether the tenant's policy names this agent. */
  inPolicy: boolean;
  /**
   * The policy entry the agent's authority comes from: itself when the policy names it, else the
   * root of its delegation lineage when the policy names that root (a delegate holds a narrowing
   * of its root's grant); null when neither.
   */
  policyEntry: string | null;
}

export interface MatrixCell {
  domain: string;
  pattern: string;
  /** Allowed accesses by the agent or through it (allowedActed + allowedDelegated). */
  allowed: number;
  allowedActed: number;
  allowedDelegated: number;
  denied: number;
  /** No allowed access in the window (denied attempts touched nothing). */
  neverAccessed: boolean;
}

export interface ResourceBreakdown {
  resource: string;
  accessChecks: number;
  allowed: number;
  denied: number;
  /** Distinct acting agents. */
  agents: number;
}

export interface ApprovalRow {
  time: string;
  seq: number;
  /** approval.request, approval.decide or approval.consume. */
  action: string;
  approvalId: string;
  /** ApprovalStatus name after this step (PENDING, APPROVED, REJECTED, CONSUMED, EXPIRED_UNUSED). */
  status: string;
  agentId: string;
  resource: string;
  requiredScope: string;
  purpose: string;
  /** The credential that acted (the approver for a decision). */
  principal: string;
  /** The approver's comment (decisions only; '' when none). */
  comment: string;
}

export interface RevocationRow {
  time: string;
  seq: number;
  /** envelope.revoke or agent.revoke. */
  action: string;
  jti: string;
  agentId: string;
  reason: string;
  principal: string;
}

export interface DeniedEventRow {
  time: string;
  seq: number;
  eventId: string;
  /** The enforcer's decision id (checks); '' for administrative events. */
  decisionId: string;
  agentId: string;
  action: string;
  resource: string;
  reason: string;
  message: string;
}

export interface EventList<T> {
  rows: T[];
  /** Matching events beyond MAX_LISTED_EVENTS (not listed). */
  omitted: number;
}

export interface ComplianceReport {
  reportType: 'compliance';
  /**
   * 3: window from the first entry, deny rate over access checks, policy entry of delegates,
   * per-resource breakdown, approvals, revocations, denied events, scope.
   */
  formatVersion: 3;
  tenant: string;
  generatedAt: string;
  /** Whole tenant, one agent, a resource glob; summary = the lists are left out. */
  scope: { agentId: string | null; resourceGlob: string | null; summary: boolean };
  window: {
    start: string;
    end: string;
    /** requested: the caller's start; first-entry: the chain's first entry; empty-chain: no entries (start = end). */
    startBasis: 'requested' | 'first-entry' | 'empty-chain';
  };
  policy: {
    version: number;
    sha256: string;
    organization: string;
    policyVersion: string;
    complianceFrameworks: string[];
  } | null;
  /** The entries the report covers: fromSeq (1, or after an archived prefix) to verifiedThroughSeq (verified). */
  coverage: { fromSeq: number; verifiedThroughSeq: number; headSeq: number };
  executiveSummary: {
    totalEvents: number;
    allowed: number;
    denied: number;
    otherDecisions: number;
    /** `check` decisions: what an agent asked the enforcer. */
    accessChecks: number;
    accessAllowed: number;
    accessDenied: number;
    /** accessDenied / accessChecks (0 when there are none): administrative events are not in it. */
    denyRate: number;
    /** Every other event (mint, delegate, revoke, approvals, keys, policies, ...). */
    adminEvents: number;
    adminDenied: number;
    agents: number;
    reasons: Count[];
    actions: Count[];
  };
  agents: AgentBreakdown[];
  resources: { rows: ResourceBreakdown[]; omitted: number; partial: boolean };
  approvals: EventList<ApprovalRow>;
  revocations: EventList<RevocationRow>;
  deniedEvents: EventList<DeniedEventRow>;
  attestationMatrix: {
    basis: string;
    classifications: { domain: string; pattern: string }[];
    rows: { agentId: string; cells: MatrixCell[] }[];
  };
  chainVerification: {
    ok: boolean;
    fault: string;
    firstBadSeq: number;
    message: string;
    checked: number;
    headSeq: number;
    /** The signed checkpoint the report rests on (and its signature is bound to). */
    checkpoint: {
      tenant: string;
      seq: number;
      headHash: string;
      time: string;
      keyId: string;
      signature: string;
    } | null;
    /** Entries after the checkpoint: linked to it by hashes, not yet covered by a signature. */
    entriesAfterCheckpoint: number;
  };
  dataClassifications: {
    domain: string;
    sensitivity: string;
    piiFields: string[];
    retentionDays: number;
    description: string;
    pattern: string;
  }[];
}

interface AgentAcc {
  events: number;
  acted: number;
  delegated: number;
  unverified: number;
  /** Distinct lineages (delegators joined by ` → `), and how many more were seen beyond the cap. */
  lineages: Set<string>;
  lineagesOmitted: number;
  /** Roots of the verified paths the agent was delegated on. */
  roots: Set<string>;
  allowed: number;
  denied: number;
  revoked: number;
  accessChecks: number;
  resources: Set<string>;
  capped: boolean;
  denyReasons: Map<string, number>;
  firstMs: number;
  lastMs: number;
  cells: Map<string, { allowedActed: number; allowedDelegated: number; denied: number }>;
}

interface ResourceAcc {
  accessChecks: number;
  allowed: number;
  denied: number;
  agents: Set<string>;
}

function bump(m: Map<string, number>, key: string, n = 1): void {
  m.set(key, (m.get(key) ?? 0) + n);
}

function sortedCounts(m: Map<string, number>): Count[] {
  return [...m]
    .map(([key, count]) => ({ key, count }))
    .sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** The parts of an event the lists show beyond EventFields, read from its raw bytes when needed. */
export interface EventDetail {
  decisionId: string;
  /** IssuanceDetail.jti of a mint or delegation ('' otherwise). */
  issuanceJti: string;
  message: string;
  principal: string;
  approval?: { approvalId: string; status: string; requiredScope: string; purpose: string; comment: string };
  revocation?: { jti: string; agentId: string; reason: string };
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const pick = (o: Json, camel: string, snake: string): unknown => (o[camel] !== undefined ? o[camel] : o[snake]);
const APPROVAL_STATUS = pb.ApprovalStatus as unknown as Record<number, string | undefined>;

/** The list details of raw proto3 JSON event bytes (either field spelling, enum names or numbers). */
export function eventDetail(raw: Uint8Array): EventDetail {
  let o: unknown;
  try {
    o = JSON.parse(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8'));
  } catch {
    o = undefined;
  }
  if (!isObject(o)) return { decisionId: '', issuanceJti: '', message: '', principal: '' };
  const actor = o['actor'];
  const check = o['check'];
  const approval = o['approval'];
  const revocation = o['revocation'];
  const status = isObject(approval) ? approval['status'] : undefined;
  return {
    decisionId: isObject(check) ? str(pick(check, 'decisionId', 'decision_id')) : '',
    issuanceJti: isObject(o['issuance']) ? str((o['issuance'] as Json)['jti']) : '',
    message: str(o['message']),
    principal: isObject(actor) ? str(actor['principal']) : '',
    ...(isObject(approval)
      ? {
          approval: {
            approvalId: str(pick(approval, 'approvalId', 'approval_id')),
            status:
              typeof status === 'number' ? (APPROVAL_STATUS[status] ?? String(status)) : str(status) || 'UNSPECIFIED',
            requiredScope: str(pick(approval, 'requiredScope', 'required_scope')),
            purpose: str(approval['purpose']),
            comment: str(approval['comment']),
          },
        }
      : {}),
    ...(isObject(revocation)
      ? {
          revocation: {
            jti: str(revocation['jti']),
            agentId: str(pick(revocation, 'agentId', 'agent_id')),
            reason: str(revocation['reason']),
          },
        }
      : {}),
  };
}

/** One chained event as the aggregator takes it: its indexed fields, and where to read details. */
export interface ReportEntry {
  seq: number;
  fields: EventFields | undefined;
  /** The raw event bytes (read only for the rows of the lists). */
  raw: Uint8Array;
}

/** Accumulates verified events of the window, one at a time, in chain order. */
export class ReportAggregator {
  total = 0;
  allowed = 0;
  denied = 0;
  accessChecks = 0;
  accessAllowed = 0;
  accessDenied = 0;
  adminDenied = 0;
  /** Time of the chain's first entry that has one (whatever the window and scope). */
  firstEntryMs: number | undefined;
  readonly reasons = new Map<string, number>();
  readonly actions = new Map<string, number>();
  readonly agents = new Map<string, AgentAcc>();
  readonly resources = new Map<string, ResourceAcc>();
  resourcesPartial = false;
  readonly approvals: EventList<ApprovalRow> = { rows: [], omitted: 0 };
  readonly revocations: EventList<RevocationRow> = { rows: [], omitted: 0 };
  readonly deniedEvents: EventList<DeniedEventRow> = { rows: [], omitted: 0 };
  readonly classifications: { domain: string; pattern: string }[];
  private readonly startMs: number;
  /** The agent each minted or delegated envelope was issued to (a revocation names only the jti). */
  private readonly envelopeAgents = new Map<string, { seq: number; agent: string }[]>();
  /** List rows added from aggregates, waiting for their entries. */
  private readonly deferred: { seq: number; fill: (e: ReportEntry, f: EventFields) => void }[] = [];

  constructor(
    readonly window: ReportWindow,
    policy: Policy | undefined,
    readonly scope: ReportScope = {},
  ) {
    this.startMs = window.startMs ?? Number.NEGATIVE_INFINITY;
    this.classifications = policy
      ? [...policy.dataClassifications.keys()].map((domain) => ({ domain, pattern: classificationPattern(domain) }))
      : [];
  }

  private agent(id: string): AgentAcc {
    let a = this.agents.get(id);
    if (!a) {
      a = {
        events: 0,
        acted: 0,
        delegated: 0,
        unverified: 0,
        lineages: new Set(),
        lineagesOmitted: 0,
        roots: new Set(),
        allowed: 0,
        denied: 0,
        revoked: 0,
        accessChecks: 0,
        resources: new Set(),
        capped: false,
        denyReasons: new Map(),
        firstMs: Number.POSITIVE_INFINITY,
        lastMs: Number.NEGATIVE_INFINITY,
        cells: new Map(),
      };
      this.agents.set(id, a);
    }
    return a;
  }

  /** Is the event in the report's scope (agent on its path, resource matching the glob)? */
  private inScope(f: EventFields): boolean {
    const { agentId, resourceGlob } = this.scope;
    if (agentId !== undefined && agentId !== '' && agentRole(f, agentId) === undefined) {
      // A revocation of the agent is about it even when no path names it.
      if (!(f.action === 'agent.revoke' && f.resource.endsWith(agentId))) return false;
    }
    if (resourceGlob !== undefined && resourceGlob !== '' && !globMatch(resourceGlob, f.resource)) return false;
    return true;
  }

  /** One verified entry, in chain order. */
  add(e: ReportEntry): void {
    const f = e.fields;
    if (f === undefined || f.timeMs === undefined) return;
    this.seen(f.timeMs);
    if ((f.action === 'envelope.mint' || f.action === 'envelope.delegate') && this.scope.summary !== true) {
      this.issued(e.seq, eventDetail(e.raw).issuanceJti, actingAgent(f));
    }
    if (f.timeMs < this.startMs || f.timeMs > this.window.endMs || !this.inScope(f)) return;
    this.count(f, 1, f.timeMs, f.timeMs);
    this.list(e.seq, f, e);
  }

  /**
   * The aggregate of a run of entries (aggregates.ts), in chain order among the other calls, that
   * lies wholly inside the window: the same as add() of each of its entries. Listed events are
   * placeholders until resolveListed() is given their entries.
   */
  addAggregate(a: Pick<ChunkAggregate, 'minMs' | 'rows' | 'mints'>): void {
    this.skipAggregate(a);
    const listed: { seq: number; f: EventFields }[] = [];
    for (const row of a.rows) {
      const f = rowEventFields(row);
      if (!this.inScope(f)) continue;
      this.count(f, row.count, row.firstMs, row.lastMs);
      if (this.scope.summary !== true) for (const seq of row.listed) listed.push({ seq, f });
    }
    listed.sort((x, y) => x.seq - y.seq);
    for (const { seq, f } of listed) this.list(seq, f, undefined);
  }

  /** The aggregate of a run of entries outside the window: only its first time and its issued envelopes count. */
  skipAggregate(a: Pick<ChunkAggregate, 'minMs' | 'mints'>): void {
    if (a.minMs !== null) this.seen(a.minMs);
    if (this.scope.summary !== true) for (const m of a.mints) this.issued(m.seq, m.jti, m.agent);
  }

  /** Seqs of the listed events addAggregate() left as placeholders (their entries are read for the rows). */
  listedSeqs(): number[] {
    return this.deferred.map((d) => d.seq);
  }

  /** Fills the placeholders from their entries (by seq); one missing is an error (the chain lost it). */
  resolveListed(entries: ReadonlyMap<number, ReportEntry>): void {
    for (const d of this.deferred) {
      const e = entries.get(d.seq);
      const f = e?.fields;
      if (e === undefined || f === undefined || f.timeMs === undefined)
        throw new Error(`the entry at seq ${d.seq} counted by an aggregate cannot be read`);
      d.fill(e, f);
    }
    this.deferred.length = 0;
  }

  private seen(t: number): void {
    if (this.firstEntryMs === undefined || t < this.firstEntryMs) this.firstEntryMs = t;
  }

  /** Counts `n` in-window, in-scope events with the same fields, times in [t0, t1]. */
  private count(f: EventFields, n: number, t0: number, t1: number): void {
    this.total += n;
    const allow = f.decision === 'ALLOW';
    const deny = f.decision === 'DENY';
    if (allow) this.allowed += n;
    if (deny) this.denied += n;
    bump(this.reasons, f.reason, n);
    bump(this.actions, f.action, n);
    const isCheck = f.action === 'check';
    if (isCheck) {
      this.accessChecks += n;
      if (allow) this.accessAllowed += n;
      if (deny) this.accessDenied += n;
    } else if (deny) this.adminDenied += n;
    // Every agent on the path (an event without one counts for its agent alone), each once.
    const path = agentPath(f);
    const actor = actingAgent(f);
    if (isCheck && f.resource !== '') this.resource(f.resource, actor, allow, deny, n);
    const revoked = deny && f.reason === 'REVOKED';
    const seen = new Set<string>();
    path.forEach((id, i) => {
      if (seen.has(id)) return;
      seen.add(id);
      const acted = id === actor;
      const a = this.agent(id);
      a.events += n;
      if (acted) a.acted += n;
      else a.delegated += n;
      if (f.chainUnverified) a.unverified += n;
      else if (i > 0) this.lineage(a, path.slice(0, i), n);
      if (allow) a.allowed += n;
      if (deny) {
        a.denied += n;
        bump(a.denyReasons, f.reason, n);
        if (revoked) a.revoked += n;
      }
      if (t0 < a.firstMs) a.firstMs = t0;
      if (t1 > a.lastMs) a.lastMs = t1;
      if (f.resource !== '') {
        if (a.resources.size < MAX_DISTINCT_RESOURCES) a.resources.add(f.resource);
        else if (!a.resources.has(f.resource)) a.capped = true;
      }
      if (!isCheck) return;
      a.accessChecks += n;
      for (const c of this.classifications) {
        if (!globMatch(c.pattern, f.resource)) continue;
        let cell = a.cells.get(c.domain);
        if (!cell) a.cells.set(c.domain, (cell = { allowedActed: 0, allowedDelegated: 0, denied: 0 }));
        if (allow) {
          if (acted) cell.allowedActed += n;
          else cell.allowedDelegated += n;
        }
        if (deny) cell.denied += n;
      }
    });
  }

  private resource(resource: string, actor: string, allow: boolean, deny: boolean, n: number): void {
    let r = this.resources.get(resource);
    if (!r) {
      if (this.resources.size >= MAX_TRACKED_RESOURCES) {
        this.resourcesPartial = true;
        return;
      }
      this.resources.set(resource, (r = { accessChecks: 0, allowed: 0, denied: 0, agents: new Set() }));
    }
    r.accessChecks += n;
    if (allow) r.allowed += n;
    if (deny) r.denied += n;
    if (actor !== '' && r.agents.size < MAX_DISTINCT_RESOURCES) r.agents.add(actor);
  }

  /** Remembers whom an envelope was issued to (whatever the window: a revocation may come later). */
  private issued(seq: number, jti: string, agent: string): void {
    if (this.envelopeAgents.size >= MAX_TRACKED_RESOURCES) return;
    if (jti === '' || agent === '') return;
    const list = this.envelopeAgents.get(jti);
    if (list) list.push({ seq, agent });
    else this.envelopeAgents.set(jti, [{ seq, agent }]);
  }

  /** The agent of the newest issuance of `jti` before `seq` (what a scan in chain order knew then). */
  private issuedTo(jti: string, seq: number): string {
    const list = this.envelopeAgents.get(jti) ?? [];
    for (let i = list.length - 1; i >= 0; i--) if ((list[i] as { seq: number }).seq < seq) return list[i]!.agent;
    return '';
  }

  /**
   * Adds the event to the lists it belongs to (approvals, revocations, denied events). Without its
   * entry (`e` undefined: from an aggregate) the row is a placeholder filled by resolveListed().
   */
  private list(seq: number, f: EventFields, e: ReportEntry | undefined): void {
    if (this.scope.summary === true) return;
    const deny = f.decision === 'DENY';
    const isApproval = f.action.startsWith('approval.');
    const isRevocation = f.action === 'envelope.revoke' || f.action === 'agent.revoke';
    if (!isApproval && !isRevocation && !deny) return;
    const full = (l: EventList<unknown>) => l.rows.length >= MAX_LISTED_EVENTS && (l.omitted++, true);
    const add = <T>(l: EventList<T>, build: (e: ReportEntry, f: EventFields) => T): void => {
      if (full(l as EventList<unknown>)) return;
      if (e !== undefined) {
        l.rows.push(build(e, f));
        return;
      }
      const index = l.rows.length;
      l.rows.push(undefined as unknown as T);
      this.deferred.push({ seq, fill: (entry, fields) => (l.rows[index] = build(entry, fields)) });
    };
    // Details are parsed only for the rows that are listed.
    const details = new WeakMap<ReportEntry, EventDetail>();
    const d = (x: ReportEntry) => {
      let v = details.get(x);
      if (v === undefined) details.set(x, (v = eventDetail(x.raw)));
      return v;
    };
    if (isApproval)
      add(this.approvals, (x, g) => {
        const a = d(x).approval;
        return {
          time: iso(g.timeMs as number),
          seq: x.seq,
          action: g.action,
          approvalId: a?.approvalId ?? '',
          status: a?.status ?? '',
          agentId: actingAgent(g),
          resource: g.resource,
          requiredScope: a?.requiredScope ?? '',
          purpose: a?.purpose ?? '',
          principal: d(x).principal,
          comment: a?.comment ?? '',
        };
      });
    if (isRevocation)
      add(this.revocations, (x, g) => {
        const r = d(x).revocation;
        return {
          time: iso(g.timeMs as number),
          seq: x.seq,
          action: g.action,
          jti: r?.jti ?? '',
          agentId: r?.agentId || this.issuedTo(r?.jti ?? '', x.seq) || actingAgent(g),
          reason: r?.reason ?? '',
          principal: d(x).principal,
        };
      });
    if (deny)
      add(this.deniedEvents, (x, g) => ({
        time: iso(g.timeMs as number),
        seq: x.seq,
        eventId: g.eventId,
        decisionId: d(x).decisionId,
        agentId: actingAgent(g),
        action: g.action,
        resource: g.resource,
        reason: g.reason,
        message: d(x).message,
      }));
  }

  /** Records who delegated to an agent: the verified path before its first appearance. */
  private lineage(a: AgentAcc, before: readonly string[], n: number): void {
    // A link may keep its parent's name (`sub` unchanged): consecutive repeats are one agent.
    const delegators = before.filter((id, i) => i === 0 || id !== before[i - 1]);
    if (delegators.length === 0) return;
    a.roots.add(delegators[0] as string);
    const key = delegators.join(' → ');
    if (a.lineages.has(key)) return;
    if (a.lineages.size < MAX_LINEAGES) a.lineages.add(key);
    else a.lineagesOmitted += n;
  }
}

export interface BuildReportInput {
  tenant: string;
  window: ReportWindow;
  generatedAt: Date;
  policy: CurrentPolicy | undefined;
  aggregate: ReportAggregator;
  verification: VerifyOutput;
  verifiedThroughSeq: number;
  /** The first seq in the store (after an archived prefix; default 1). */
  fromSeq?: number;
}

function checkpointSummary(cp: SignedCheckpoint | undefined): ComplianceReport['chainVerification']['checkpoint'] {
  return cp
    ? {
        tenant: cp.tenant,
        seq: cp.seq,
        headHash: cp.headHash,
        time: iso(cp.time * 1000),
        keyId: cp.keyId,
        signature: cp.signature,
      }
    : null;
}

export function buildComplianceReport(i: BuildReportInput): ComplianceReport {
  const agg = i.aggregate;
  const policy = i.policy?.policy;
  const scopedAgent = agg.scope.agentId !== undefined && agg.scope.agentId !== '' ? agg.scope.agentId : undefined;
  // A report scoped to one agent or resource lists the agents it saw (and the scoped one).
  const policyAgents =
    policy && scopedAgent === undefined && agg.scope.resourceGlob === undefined ? [...policy.agents.keys()] : [];
  const agentIds = [...new Set([...policyAgents, ...agg.agents.keys(), ...(scopedAgent ? [scopedAgent] : [])])].sort();
  const agents: AgentBreakdown[] = agentIds.map((agentId) => {
    const a = agg.agents.get(agentId);
    const delegatedBy = a ? [...a.lineages].sort() : [];
    const omitted = a?.lineagesOmitted ?? 0;
    const inPolicy = policy?.agents.has(agentId) ?? false;
    const root = a ? [...a.roots].sort().find((r) => policy?.agents.has(r) ?? false) : undefined;
    return {
      agentId,
      events: a?.events ?? 0,
      acted: a?.acted ?? 0,
      delegated: a?.delegated ?? 0,
      unverifiedAttempts: a?.unverified ?? 0,
      delegatedBy,
      delegatedByOmitted: omitted,
      lineage:
        delegatedBy.length === 0
          ? agentId
          : `${agentId}, delegated by ${delegatedBy.join('; ')}${omitted > 0 ? ` (and ${omitted} more)` : ''}`,
      allowed: a?.allowed ?? 0,
      denied: a?.denied ?? 0,
      revokedDenials: a?.revoked ?? 0,
      accessChecks: a?.accessChecks ?? 0,
      distinctResources: a?.resources.size ?? 0,
      distinctResourcesCapped: a?.capped ?? false,
      denyReasons: a ? sortedCounts(a.denyReasons) : [],
      firstSeen: a && a.events > 0 ? iso(a.firstMs) : null,
      lastSeen: a && a.events > 0 ? iso(a.lastMs) : null,
      inPolicy,
      policyEntry: inPolicy ? agentId : (root ?? null),
    };
  });
  const rows = agentIds.map((agentId) => ({
    agentId,
    cells: agg.classifications.map((c) => {
      const cell = agg.agents.get(agentId)?.cells.get(c.domain);
      const allowedActed = cell?.allowedActed ?? 0;
      const allowedDelegated = cell?.allowedDelegated ?? 0;
      const allowed = allowedActed + allowedDelegated;
      return {
        domain: c.domain,
        pattern: c.pattern,
        allowed,
        allowedActed,
        allowedDelegated,
        denied: cell?.denied ?? 0,
        neverAccessed: allowed === 0,
      };
    }),
  }));
  const resourceRows = [...agg.resources]
    .map(([resource, r]) => ({
      resource,
      accessChecks: r.accessChecks,
      allowed: r.allowed,
      denied: r.denied,
      agents: r.agents.size,
    }))
    .sort(
      (a, b) => b.accessChecks - a.accessChecks || (a.resource < b.resource ? -1 : a.resource > b.resource ? 1 : 0),
    );
  const v = i.verification;
  const cp = v.checkpoint;
  const endMs = i.window.endMs;
  const startBasis: ComplianceReport['window']['startBasis'] =
    i.window.startMs !== undefined ? 'requested' : agg.firstEntryMs !== undefined ? 'first-entry' : 'empty-chain';
  const startMs = i.window.startMs ?? Math.min(agg.firstEntryMs ?? endMs, endMs);
  const summary = agg.scope.summary === true;
  const s = (n: number, d: number) => (d === 0 ? 0 : n / d);
  return {
    reportType: 'compliance',
    formatVersion: 3,
    tenant: i.tenant,
    generatedAt: i.generatedAt.toISOString(),
    scope: {
      agentId: scopedAgent ?? null,
      resourceGlob:
        agg.scope.resourceGlob !== undefined && agg.scope.resourceGlob !== '' ? agg.scope.resourceGlob : null,
      summary,
    },
    window: { start: iso(startMs), end: iso(endMs), startBasis },
    policy: i.policy
      ? {
          version: i.policy.version,
          sha256: i.policy.sha256,
          organization: i.policy.policy.organization,
          policyVersion: i.policy.policy.version,
          complianceFrameworks: [...i.policy.policy.complianceFrameworks],
        }
      : null,
    coverage: { fromSeq: i.fromSeq ?? 1, verifiedThroughSeq: i.verifiedThroughSeq, headSeq: v.headSeq },
    executiveSummary: {
      totalEvents: agg.total,
      allowed: agg.allowed,
      denied: agg.denied,
      otherDecisions: agg.total - agg.allowed - agg.denied,
      accessChecks: agg.accessChecks,
      accessAllowed: agg.accessAllowed,
      accessDenied: agg.accessDenied,
      denyRate: s(agg.accessDenied, agg.accessChecks),
      adminEvents: agg.total - agg.accessChecks,
      adminDenied: agg.adminDenied,
      agents: agg.agents.size,
      reasons: sortedCounts(agg.reasons),
      actions: sortedCounts(agg.actions),
    },
    agents: summary ? [] : agents,
    resources: {
      rows: summary ? [] : resourceRows.slice(0, MAX_LISTED_RESOURCES),
      omitted: summary ? 0 : Math.max(0, resourceRows.length - MAX_LISTED_RESOURCES),
      partial: agg.resourcesPartial,
    },
    approvals: agg.approvals,
    revocations: agg.revocations,
    deniedEvents: agg.deniedEvents,
    attestationMatrix: {
      basis:
        "Counts of `check` decisions on resources matching each classification's pattern, in the window, over the verified chain, for every agent on the decision's delegation path: the agent's own and those of agents it delegated to. NEVER ACCESSED means no allowed access by the agent or through it; denied attempts touched nothing.",
      classifications: agg.classifications,
      rows: summary ? [] : rows,
    },
    chainVerification: {
      ok: v.ok,
      fault: v.fault.toUpperCase(),
      firstBadSeq: v.firstBadSeq,
      message: v.message,
      checked: v.checked,
      headSeq: v.headSeq,
      checkpoint: checkpointSummary(cp),
      entriesAfterCheckpoint: cp ? Math.max(0, v.headSeq - cp.seq) : v.headSeq,
    },
    dataClassifications: policy
      ? [...policy.dataClassifications.values()].map((d) => ({
          domain: d.domain,
          sensitivity: d.sensitivity,
          piiFields: [...d.piiFields],
          retentionDays: d.retentionDays,
          description: d.description,
          pattern: classificationPattern(d.domain),
        }))
      : [],
  };
}
