// How audit entries are shown: table rows, aligned `audit tail` lines, export records (JSON, CSV)
// and the counts of `audit stats`.
import type { ChainEntry__Output } from '@authority/proto';
import { cell, isoOf } from '../output';

export function entryRow(e: ChainEntry__Output): string[] {
  const ev = e.event;
  return [
    String(e.seq),
    isoOf(ev?.time),
    ev?.source ?? '',
    ev?.action ?? '',
    cell(ev?.actor?.agentId || ev?.actor?.principal, 24),
    cell(ev?.resource, 40),
    ev?.decision === 'DECISION_UNSPECIFIED' ? '' : (ev?.decision ?? ''),
    ev?.reason === 'REASON_CODE_UNSPECIFIED' ? '' : (ev?.reason ?? ''),
  ];
}
export const HEADERS = ['SEQ', 'TIME', 'SOURCE', 'ACTION', 'AGENT', 'RESOURCE', 'DECISION', 'REASON'];

/**
 * Column widths of `audit tail` (every column but the last): a stream cannot measure its rows
 * first as a table does, so cells are cut to fixed widths and the columns stay aligned.
 */
const TAIL_WIDTHS = [6, 24, 8, 18, 24, 40, 8];

export function tailLine(cells: string[]): string {
  return cells
    .map((c, i) => {
      const w = TAIL_WIDTHS[i];
      return w === undefined ? c : cell(c, w).padEnd(w);
    })
    .join('  ')
    .trimEnd();
}

export function entryLine(e: ChainEntry__Output): string {
  return tailLine(entryRow(e));
}

/** A plain record for JSON/CSV export (the raw event bytes are what the chain hash covers). */
export function exportRecord(e: ChainEntry__Output): Record<string, string> {
  const ev = e.event;
  return {
    seq: String(e.seq),
    hash: e.hash,
    prev_hash: e.prevHash,
    recorded_at: isoOf(e.recordedAt),
    event_id: ev?.eventId ?? '',
    time: isoOf(ev?.time),
    source: ev?.source ?? '',
    action: ev?.action ?? '',
    agent_id: ev?.actor?.agentId ?? '',
    jti_chain: (ev?.actor?.jtiChain ?? []).join(' '),
    agent_chain: (ev?.actor?.agentChain ?? []).join(' '),
    chain_unverified: ev?.actor?.chainUnverified ? 'true' : '',
    principal: ev?.actor?.principal ?? '',
    resource: ev?.resource ?? '',
    decision: ev?.decision === 'DECISION_UNSPECIFIED' ? '' : (ev?.decision ?? ''),
    reason: ev?.reason === 'REASON_CODE_UNSPECIFIED' ? '' : (ev?.reason ?? ''),
    message: ev?.message ?? '',
    policy_version: ev?.policyVersion ?? '',
    trace_id: ev?.traceId ?? '',
    raw_event: e.rawEvent,
  };
}

/**
 * One CSV field (RFC 4180). Cells a spreadsheet would evaluate as a formula (= + - @, tab, CR) get a
 * leading apostrophe: audit data is attacker-influenced (agent ids, resources).
 */
export function csvField(v: string): string {
  let s = v;
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A count of allowed and denied events. */
export interface Tally {
  events: number;
  allowed: number;
  denied: number;
}

/** What `audit stats` reports: access checks and admin events counted apart (their deny rates differ in meaning). */
export interface AuditStats {
  events: number;
  first?: string;
  last?: string;
  /** Access checks (action `check`): what agents tried. */
  checks: Tally & { denyRate: number };
  /** Everything else: mints, revocations, policy changes, approvals. */
  admin: Tally;
  /** Denied access checks by reason code, most frequent first. */
  denialsByReason: { reason: string; count: number }[];
  /** Access checks by acting agent, most active first. */
  byAgent: ({ agent: string } & Tally)[];
  /** Events by action, most frequent first. */
  byAction: { action: string; count: number }[];
}

/** Counts a run of chain entries into AuditStats. */
export function auditStats(entries: Iterable<ChainEntry__Output>): AuditStats {
  const checks: Tally = { events: 0, allowed: 0, denied: 0 };
  const admin: Tally = { events: 0, allowed: 0, denied: 0 };
  const reasons = new Map<string, number>();
  const agents = new Map<string, Tally>();
  const actions = new Map<string, number>();
  let events = 0;
  let first: string | undefined;
  let last: string | undefined;
  const count = (t: Tally, decision: string | undefined) => {
    t.events++;
    if (decision === 'ALLOW') t.allowed++;
    else if (decision === 'DENY') t.denied++;
  };
  for (const e of entries) {
    const ev = e.event;
    events++;
    const time = isoOf(ev?.time);
    if (time !== '') {
      if (first === undefined || time < first) first = time;
      if (last === undefined || time > last) last = time;
    }
    const act = ev?.action ?? '';
    actions.set(act, (actions.get(act) ?? 0) + 1);
    if (act !== 'check') {
      count(admin, ev?.decision);
      continue;
    }
    count(checks, ev?.decision);
    const agent = ev?.actor?.agentId || '(unattributed)';
    const t = agents.get(agent) ?? { events: 0, allowed: 0, denied: 0 };
    count(t, ev?.decision);
    agents.set(agent, t);
    if (ev?.decision === 'DENY') {
      const reason = ev.reason === 'REASON_CODE_UNSPECIFIED' ? '(none)' : ev.reason;
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    }
  }
  const byCount = <T extends { count: number }>(a: T, b: T) => b.count - a.count;
  return {
    events,
    ...(first !== undefined ? { first } : {}),
    ...(last !== undefined ? { last } : {}),
    checks: { ...checks, denyRate: checks.events === 0 ? 0 : checks.denied / checks.events },
    admin,
    denialsByReason: [...reasons].map(([reason, count]) => ({ reason, count })).sort(byCount),
    byAgent: [...agents]
      .map(([agent, t]) => ({ agent, ...t }))
      .sort((a, b) => b.events - a.events || a.agent.localeCompare(b.agent)),
    byAction: [...actions].map(([action, count]) => ({ action, count })).sort(byCount),
  };
}
