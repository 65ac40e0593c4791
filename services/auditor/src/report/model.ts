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
// - chain verification status, with the checkpoint it rests on;
// - data classifications from the tenant's current policy.
import { globMatch, type Policy } from '@authority/core';
import type { CurrentPolicy } from '@authority/views';
import type { SignedCheckpoint } from '@authority/core';
import { actingAgent, agentPath, type EventFields } from '../event-fields';
import type { TimeWindow, VerifyOutput } from '../read-types';

/** The resource pattern a data classification stands for in the attestation matrix. */
export function classificationPattern(domain: string): string {
  return `slos://vaults/${domain}/*`;
}

/** Distinct resources tracked per agent before the count is reported as a lower bound. */
export const MAX_DISTINCT_RESOURCES = 10_000;

/** Distinct delegation lineages listed per agent (more are counted in `delegatedByOmitted`). */
export const MAX_LINEAGES = 20;

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

export interface ComplianceReport {
  reportType: 'compliance';
  /** 2: agents are counted on delegation paths (acted, delegated, unverified, lineage). */
  formatVersion: 2;
  tenant: string;
  generatedAt: string;
  window: { start: string; end: string };
  policy: {
    version: number;
    sha256: string;
    organization: string;
    policyVersion: string;
    complianceFrameworks: string[];
  } | null;
  /** The entries the report covers: seq 1 to verifiedThroughSeq (the verified prefix). */
  coverage: { fromSeq: number; verifiedThroughSeq: number; headSeq: number };
  executiveSummary: {
    totalEvents: number;
    allowed: number;
    denied: number;
    otherDecisions: number;
    /** denied / totalEvents (0 when there are none). */
    denyRate: number;
    agents: number;
    accessChecks: number;
    reasons: Count[];
    actions: Count[];
  };
  agents: AgentBreakdown[];
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
    checkpoint: { seq: number; headHash: string; time: string; keyId: string } | null;
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
  allowed: number;
  denied: number;
  accessChecks: number;
  resources: Set<string>;
  capped: boolean;
  denyReasons: Map<string, number>;
  firstMs: number;
  lastMs: number;
  cells: Map<string, { allowedActed: number; allowedDelegated: number; denied: number }>;
}

function bump(m: Map<string, number>, key: string): void {
  m.set(key, (m.get(key) ?? 0) + 1);
}

function sortedCounts(m: Map<string, number>): Count[] {
  return [...m]
    .map(([key, count]) => ({ key, count }))
    .sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** Accumulates verified events of the window, one at a time, in chain order. */
export class ReportAggregator {
  total = 0;
  allowed = 0;
  denied = 0;
  accessChecks = 0;
  readonly reasons = new Map<string, number>();
  readonly actions = new Map<string, number>();
  readonly agents = new Map<string, AgentAcc>();
  readonly classifications: { domain: string; pattern: string }[];

  constructor(
    readonly window: TimeWindow,
    policy: Policy | undefined,
  ) {
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
        allowed: 0,
        denied: 0,
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

  add(f: EventFields | undefined): void {
    if (f === undefined || f.timeMs === undefined || f.timeMs < this.window.startMs || f.timeMs > this.window.endMs)
      return;
    this.total++;
    const allow = f.decision === 'ALLOW';
    const deny = f.decision === 'DENY';
    if (allow) this.allowed++;
    if (deny) this.denied++;
    bump(this.reasons, f.reason);
    bump(this.actions, f.action);
    const isCheck = f.action === 'check';
    if (isCheck) this.accessChecks++;
    // Every agent on the path (an event without one counts for its agent alone), each once.
    const t = f.timeMs;
    const path = agentPath(f);
    const actor = actingAgent(f);
    const seen = new Set<string>();
    path.forEach((id, i) => {
      if (seen.has(id)) return;
      seen.add(id);
      const acted = id === actor;
      const a = this.agent(id);
      a.events++;
      if (acted) a.acted++;
      else a.delegated++;
      if (f.chainUnverified) a.unverified++;
      else if (i > 0) this.lineage(a, path.slice(0, i));
      if (allow) a.allowed++;
      if (deny) {
        a.denied++;
        bump(a.denyReasons, f.reason);
      }
      if (t < a.firstMs) a.firstMs = t;
      if (t > a.lastMs) a.lastMs = t;
      if (f.resource !== '') {
        if (a.resources.size < MAX_DISTINCT_RESOURCES) a.resources.add(f.resource);
        else if (!a.resources.has(f.resource)) a.capped = true;
      }
      if (!isCheck) return;
      a.accessChecks++;
      for (const c of this.classifications) {
        if (!globMatch(c.pattern, f.resource)) continue;
        let cell = a.cells.get(c.domain);
        if (!cell) a.cells.set(c.domain, (cell = { allowedActed: 0, allowedDelegated: 0, denied: 0 }));
        if (allow) {
          if (acted) cell.allowedActed++;
          else cell.allowedDelegated++;
        }
        if (deny) cell.denied++;
      }
    });
  }

  /** Records who delegated to an agent: the verified path before its first appearance. */
  private lineage(a: AgentAcc, before: readonly string[]): void {
    // A link may keep its parent's name (`sub` unchanged): consecutive repeats are one agent.
    const delegators = before.filter((id, i) => i === 0 || id !== before[i - 1]);
    if (delegators.length === 0) return;
    const key = delegators.join(' → ');
    if (a.lineages.has(key)) return;
    if (a.lineages.size < MAX_LINEAGES) a.lineages.add(key);
    else a.lineagesOmitted++;
  }
}

export interface BuildReportInput {
  tenant: string;
  window: TimeWindow;
  generatedAt: Date;
  policy: CurrentPolicy | undefined;
  aggregate: ReportAggregator;
  verification: VerifyOutput;
  verifiedThroughSeq: number;
}

function checkpointSummary(cp: SignedCheckpoint | undefined): ComplianceReport['chainVerification']['checkpoint'] {
  return cp ? { seq: cp.seq, headHash: cp.headHash, time: iso(cp.time * 1000), keyId: cp.keyId } : null;
}

export function buildComplianceReport(i: BuildReportInput): ComplianceReport {
  const agg = i.aggregate;
  const policy = i.policy?.policy;
  const policyAgents = policy ? [...policy.agents.keys()] : [];
  const agentIds = [...new Set([...policyAgents, ...agg.agents.keys()])].sort();
  const agents: AgentBreakdown[] = agentIds.map((agentId) => {
    const a = agg.agents.get(agentId);
    const delegatedBy = a ? [...a.lineages].sort() : [];
    const omitted = a?.lineagesOmitted ?? 0;
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
      accessChecks: a?.accessChecks ?? 0,
      distinctResources: a?.resources.size ?? 0,
      distinctResourcesCapped: a?.capped ?? false,
      denyReasons: a ? sortedCounts(a.denyReasons) : [],
      firstSeen: a && a.events > 0 ? iso(a.firstMs) : null,
      lastSeen: a && a.events > 0 ? iso(a.lastMs) : null,
      inPolicy: policy?.agents.has(agentId) ?? false,
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
  const v = i.verification;
  const cp = v.checkpoint;
  return {
    reportType: 'compliance',
    formatVersion: 2,
    tenant: i.tenant,
    generatedAt: i.generatedAt.toISOString(),
    window: { start: iso(i.window.startMs), end: iso(i.window.endMs) },
    policy: i.policy
      ? {
          version: i.policy.version,
          sha256: i.policy.sha256,
          organization: i.policy.policy.organization,
          policyVersion: i.policy.policy.version,
          complianceFrameworks: [...i.policy.policy.complianceFrameworks],
        }
      : null,
    coverage: { fromSeq: 1, verifiedThroughSeq: i.verifiedThroughSeq, headSeq: v.headSeq },
    executiveSummary: {
      totalEvents: agg.total,
      allowed: agg.allowed,
      denied: agg.denied,
      otherDecisions: agg.total - agg.allowed - agg.denied,
      denyRate: agg.total === 0 ? 0 : agg.denied / agg.total,
      agents: agg.agents.size,
      accessChecks: agg.accessChecks,
      reasons: sortedCounts(agg.reasons),
      actions: sortedCounts(agg.actions),
    },
    agents,
    attestationMatrix: {
      basis:
        "Counts of `check` decisions on resources matching each classification's pattern, in the window, over the verified chain, for every agent on the decision's delegation path: the agent's own and those of agents it delegated to. NEVER ACCESSED means no allowed access by the agent or through it; denied attempts touched nothing.",
      classifications: agg.classifications,
      rows,
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
