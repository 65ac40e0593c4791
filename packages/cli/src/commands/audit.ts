// audit query | tail [-f] | verify | export | stats | keys
import { Option, type Command } from 'commander';
import type { ChainEntry__Output, QueryEventsRequest } from '@authority/proto';
import { ReasonCode } from '@authority/proto';
import { timestampToGrpc } from '@authority/proto';
import { randomBytes } from 'node:crypto';
import { globMatch } from '@authority/core';
import { encodeEvent, pb } from '@authority/proto';
import {
  AuditFeedError,
  AuthorityApiError,
  Status,
  subscribeAudit,
  type AuditorClient,
  type ChainedAuditItem,
} from '@authority/sdk';
import { parseDuration } from '../duration';
import { CliError, ExitCode, usage } from '../exit';
import { cell, isoOf } from '../output';
import type { CommandContext } from '../context';
import { registerArchive } from './archive';
import { action, intOption, resolveTime, timeOption, type RunState } from './common';

const REASONS = Object.values(ReasonCode).filter((r) => r !== 'REASON_CODE_UNSPECIFIED');

function filterOptions(cmd: Command): Command {
  return cmd
    .option('-a, --agent <id>', 'only this agent')
    .option('--action <action>', 'only this action (check, envelope.mint, envelope.revoke, policy.put, ...)')
    .option('-r, --resource <glob>', 'only resources matching the glob (* crosses /)')
    .addOption(new Option('--decision <decision>', 'only ALLOW or DENY').choices(['allow', 'deny', 'ALLOW', 'DENY']))
    .addOption(new Option('--reason <code>', 'only this reason code').choices(REASONS))
    .option('--since <time>', 'from this time: a duration ago (24h, 7d) or ISO 8601', timeOption)
    .option('--until <time>', 'up to this time', timeOption);
}

async function queryFrom(ctx: CommandContext, opts: Record<string, unknown>): Promise<QueryEventsRequest> {
  const q: QueryEventsRequest = { tenant: await ctx.tenant() };
  if (opts.agent) q.agentId = opts.agent as string;
  if (opts.action) q.action = opts.action as string;
  if (opts.resource) q.resourceGlob = opts.resource as string;
  if (opts.decision) q.decision = String(opts.decision).toUpperCase() as 'ALLOW';
  if (opts.reason) q.reason = opts.reason as 'REVOKED';
  const since = resolveTime(ctx, opts.since);
  const until = resolveTime(ctx, opts.until);
  if (since) q.startTime = timestampToGrpc(since);
  if (until) q.endTime = timestampToGrpc(until);
  if (since && until && since > until) throw usage('--since is after --until');
  return q;
}

function entryRow(e: ChainEntry__Output): string[] {
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
const HEADERS = ['SEQ', 'TIME', 'SOURCE', 'ACTION', 'AGENT', 'RESOURCE', 'DECISION', 'REASON'];

/**
 * Column widths of `audit tail` (every column but the last): a stream cannot measure its rows
 * first as a table does, so cells are cut to fixed widths and the columns stay aligned.
 */
const TAIL_WIDTHS = [6, 24, 8, 18, 24, 40, 8];

function tailLine(cells: string[]): string {
  return cells
    .map((c, i) => {
      const w = TAIL_WIDTHS[i];
      return w === undefined ? c : cell(c, w).padEnd(w);
    })
    .join('  ')
    .trimEnd();
}

function entryLine(e: ChainEntry__Output): string {
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

/**
 * Follows the chain: pages from the last cursor the auditor gave, printing entries with a sequence
 * number above the last one printed; with `follow`, polls until the signal aborts. Returns the
 * last sequence number printed (0 when none).
 */
async function tail(
  ctx: CommandContext,
  auditor: AuditorClient,
  q: QueryEventsRequest,
  follow: boolean,
  intervalMs: number,
  emit: (e: ChainEntry__Output) => void,
): Promise<number> {
  let resume = '';
  let lastSeq = 0;
  const signal = ctx.io.signal;
  for (;;) {
    let token = resume;
    for (;;) {
      if (signal.aborted) return lastSeq;
      let page;
      try {
        page = await auditor.queryEvents({ ...q, pageToken: token, pageSize: 500 }, { signal });
      } catch (err) {
        if (signal.aborted) return lastSeq;
        // Following survives an auditor restart: note it and poll again at the next interval.
        if (
          follow &&
          err instanceof AuthorityApiError &&
          (err.code === Status.UNAVAILABLE || err.code === Status.DEADLINE_EXCEEDED)
        ) {
          ctx.out.note(`auditor unavailable (${err.message}); retrying`);
          break;
        }
        throw err;
      }
      for (const e of page.entries) {
        const seq = Number(e.seq);
        if (seq > lastSeq) {
          emit(e);
          lastSeq = seq;
        }
      }
      if (page.nextPageToken === '') break;
      resume = page.nextPageToken;
      token = resume;
    }
    if (!follow) return lastSeq;
    const stopped = await new Promise<boolean>((resolve) => {
      if (signal.aborted) return resolve(true);
      const t = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve(false);
      }, intervalMs);
      const onAbort = () => {
        clearTimeout(t);
        resolve(true);
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
    if (stopped) return lastSeq;
  }
}

/** Whether a followed event passes the query's filters (what QueryEvents applies on the server). */
function feedMatches(ev: pb.AuditEvent, q: QueryEventsRequest): boolean {
  if (q.agentId && ev.actor?.agentId !== q.agentId && !(ev.actor?.agentChain ?? []).includes(q.agentId)) return false;
  if (q.action && ev.action !== q.action) return false;
  if (q.resourceGlob && !globMatch(q.resourceGlob, ev.resource)) return false;
  if (q.decision && pb.Decision[ev.decision] !== q.decision) return false;
  if (q.reason && pb.ReasonCode[ev.reason] !== q.reason) return false;
  const ms = ev.time ? Number(ev.time.seconds) * 1000 : undefined;
  const at = (t: QueryEventsRequest['startTime']) => Number(t?.seconds ?? 0) * 1000;
  if (q.startTime && ms !== undefined && ms < at(q.startTime)) return false;
  if (q.endTime && ms !== undefined && ms > at(q.endTime)) return false;
  return true;
}

/** A chained feed item in the shape QueryEvents gives (ChainEntry), so both paths print alike. */
function feedEntry(item: ChainedAuditItem): ChainEntry__Output {
  const event = JSON.parse(encodeEvent(pb.AuditEventSchema, item.event).toString('utf8')) as Record<string, unknown>;
  const time = item.event.time;
  return {
    seq: String(item.seq),
    hash: item.hash,
    prevHash: item.prevHash,
    recordedAt: item.recordedAt ? timestampToGrpc(item.recordedAt) : null,
    event: {
      ...event,
      time: time ? { seconds: String(time.seconds), nanos: time.nanos } : null,
    },
    rawEvent: Buffer.from(item.rawEvent),
  } as unknown as ChainEntry__Output;
}

/**
 * `audit tail -f` over the chain topic: the entries after `lastSeq` as the auditor chains them,
 * verified (hashes recomputed, order checked) by the SDK's subscribeAudit, filtered like the
 * query; until Ctrl-C. A gap is noted on stderr; a record that does not verify stops it (exit 4).
 */
async function followChainTopic(
  ctx: CommandContext,
  brokers: string,
  q: QueryEventsRequest,
  lastSeq: number,
  emit: (e: ChainEntry__Output) => void,
): Promise<number> {
  const feed = subscribeAudit({
    brokers,
    groupId: `authority-cli-tail-${randomBytes(6).toString('hex')}`,
    tenant: q.tenant,
    topicPrefix: ctx.io.env.AUTHORITY_TOPIC_PREFIX || 'authority.',
    commit: false,
    signal: ctx.io.signal,
  });
  try {
    for await (const item of feed) {
      if (item.kind === 'gap') {
        if (item.toSeq > lastSeq)
          ctx.out.note(
            `entries ${Math.max(item.fromSeq, lastSeq + 1)}-${item.toSeq} are not on the chain topic: \`authority audit query\` shows them`,
          );
        continue;
      }
      if (item.kind !== 'chained' || item.seq <= lastSeq) continue;
      lastSeq = item.seq;
      if (feedMatches(item.event, q)) emit(feedEntry(item));
    }
  } catch (err) {
    if (err instanceof AuditFeedError)
      throw new CliError(`the chain topic does not verify: ${err.message}`, ExitCode.VERIFICATION_FAILED, {
        tenant: err.tenant,
        seq: err.seq,
      });
    throw err;
  }
  return ExitCode.OK;
}

/** A count of allowed and denied events. */
interface Tally {
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

function percent(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

export function registerAudit(program: Command, state: RunState): void {
  const audit = program.command('audit').description("the tenant's tamper-evident audit chain");

  filterOptions(audit.command('query').description('list audit events in sequence order'))
    .option('-n, --limit <n>', 'at most n events', intOption(1, 1_000_000), 100)
    .option('--page-token <token>', 'continue after a previous page')
    .action(
      action(state, async (ctx, _a, opts) => {
        const auditor = await ctx.auditor();
        const q = await queryFrom(ctx, opts);
        const limit = opts.limit as number;
        const entries: ChainEntry__Output[] = [];
        let token = (opts.pageToken as string | undefined) ?? '';
        let next = '';
        for (;;) {
          const page = await auditor.queryEvents({
            ...q,
            pageToken: token,
            pageSize: Math.min(1000, limit - entries.length),
          });
          entries.push(...page.entries);
          next = page.nextPageToken;
          if (next === '' || entries.length >= limit) break;
          token = next;
        }
        ctx.out.data({ entries, nextPageToken: next });
        if (entries.length === 0) ctx.out.line('no matching events');
        else ctx.out.table(HEADERS, entries.map(entryRow));
        if (next !== '') ctx.out.note(`more events: --page-token ${next}`);
      }),
    );

  filterOptions(
    audit.command('tail').description('print recent events; with -f keep following new ones (Ctrl-C stops)'),
  )
    .option('-f, --follow', 'keep following new events (Ctrl-C stops)')
    .option(
      '--brokers <host:port,...>',
      'with -f: follow the chain topic on these Kafka brokers (default AUTHORITY_KAFKA_BROKERS; without: poll the auditor)',
    )
    .option('--interval <duration>', 'poll interval with --follow when polling the auditor', '2s')
    .action(
      action(state, async (ctx, _a, opts) => {
        const auditor = await ctx.auditor();
        const q = await queryFrom(ctx, { ...opts, since: opts.since ?? '1h' });
        let intervalMs: number;
        try {
          intervalMs = parseDuration(opts.interval as string);
        } catch (err) {
          throw usage(`--interval: ${(err as Error).message}`);
        }
        if (intervalMs < 100) throw usage('--interval must be at least 100ms');
        const emit = ctx.json
          ? (e: ChainEntry__Output) => ctx.out.jsonLine(e)
          : (e: ChainEntry__Output) => ctx.out.line(entryLine(e));
        ctx.out.line(tailLine(HEADERS));
        const brokers = (opts.brokers as string | undefined) ?? ctx.io.env.AUTHORITY_KAFKA_BROKERS;
        if (opts.follow === true && brokers) {
          // What is chained already comes from the auditor; what follows, from the chain topic.
          const lastSeq = await tail(ctx, auditor, q, false, intervalMs, emit);
          return followChainTopic(ctx, brokers, q, lastSeq, emit);
        }
        await tail(ctx, auditor, q, opts.follow === true, intervalMs, emit);
        return ExitCode.OK;
      }),
    );

  audit
    .command('verify')
    .description('recompute the chain and check it against a signed checkpoint (exit 0 intact, 4 broken)')
    .option('--from <seq>', 'first sequence number', intOption(1, Number.MAX_SAFE_INTEGER))
    .option('--to <seq>', 'last sequence number', intOption(1, Number.MAX_SAFE_INTEGER))
    .option(
      '--checkpoint <seq>',
      'verify against this checkpoint (default: the latest)',
      intOption(1, Number.MAX_SAFE_INTEGER),
    )
    .action(
      action(state, async (ctx, _a, opts) => {
        const auditor = await ctx.auditor();
        const res = await auditor.verifyChain({
          tenant: await ctx.tenant(),
          fromSeq: (opts.from as number | undefined) ?? 0,
          toSeq: (opts.to as number | undefined) ?? 0,
          checkpointSeq: (opts.checkpoint as number | undefined) ?? 0,
        });
        ctx.out.data(res);
        const cp = res.checkpoint;
        if (res.ok) {
          ctx.out.line(`chain OK: ${res.checked} entries checked, head seq ${res.headSeq}`);
          if (cp)
            ctx.out.line(
              `checkpoint: seq ${cp.seq}, head ${cp.headHash.slice(0, 16)}…, signed by ${cp.keyId} at ${isoOf(cp.time)}`,
            );
          else
            ctx.out.line(
              'checkpoint: none yet (truncation of the newest entries cannot be ruled out until one is signed)',
            );
          if (res.message) ctx.out.line(res.message);
          return ExitCode.OK;
        }
        ctx.out.line(`chain BROKEN at seq ${res.firstBadSeq}: ${res.fault}${res.message ? ` — ${res.message}` : ''}`);
        ctx.out.line(
          `checked ${res.checked} entries; head seq ${res.headSeq}${cp ? `; checkpoint seq ${cp.seq}` : ''}`,
        );
        return ExitCode.VERIFICATION_FAILED;
      }),
    );

  filterOptions(audit.command('export').description('export events as JSON or CSV'))
    .addOption(new Option('--format <format>', 'output format').choices(['json', 'csv']).default('json'))
    .option('-o, --output <file>', 'write to a file (default: stdout)')
    .option('-n, --limit <n>', 'at most n events', intOption(1, Number.MAX_SAFE_INTEGER))
    .action(
      action(state, async (ctx, _a, opts) => {
        const auditor = await ctx.auditor();
        const q = await queryFrom(ctx, opts);
        const limit = (opts.limit as number | undefined) ?? Number.POSITIVE_INFINITY;
        const records: Record<string, string>[] = [];
        for await (const e of auditor.allEvents({ ...q, pageSize: 1000 }, { deadlineMs: 60_000 })) {
          records.push(exportRecord(e));
          if (records.length % 1000 === 0) ctx.out.progress(`exported ${records.length} events…`);
          if (records.length >= limit) break;
        }
        ctx.out.progressDone();
        let body: string;
        if (opts.format === 'csv') {
          const cols = Object.keys(
            exportRecord({
              seq: '0',
              hash: '',
              prevHash: '',
              rawEvent: '',
              event: null,
              recordedAt: null,
              agentRole: 'AGENT_ROLE_UNSPECIFIED',
            }),
          );
          body = `${[cols.join(','), ...records.map((r) => cols.map((c) => csvField(r[c] ?? '')).join(','))].join('\r\n')}\r\n`;
        } else {
          body = `${JSON.stringify(records, null, 2)}\n`;
        }
        if (opts.output !== undefined) {
          await ctx.io.writeFile(opts.output as string, body);
          if (ctx.json) ctx.out.data({ file: opts.output, format: opts.format, count: records.length });
          else ctx.out.note(`wrote ${records.length} events to ${String(opts.output)}`);
        } else {
          ctx.io.stdout(body);
        }
      }),
    );

  filterOptions(
    audit
      .command('stats')
      .description(
        'counts over the chain: access checks (with their deny rate) apart from admin events, by reason, agent and action',
      ),
  ).action(
    action(state, async (ctx, _a, opts) => {
      const auditor = await ctx.auditor();
      const q = await queryFrom(ctx, opts);
      const entries: ChainEntry__Output[] = [];
      for await (const e of auditor.allEvents({ ...q, pageSize: 1000 }, { deadlineMs: 60_000 })) {
        entries.push(e);
        if (entries.length % 1000 === 0) ctx.out.progress(`read ${entries.length} events…`);
      }
      ctx.out.progressDone();
      const stats = auditStats(entries);
      ctx.out.data(stats);
      if (stats.events === 0) {
        ctx.out.line('no matching events');
        return;
      }
      ctx.out.fields([
        ['events', String(stats.events)],
        ['from', stats.first],
        ['to', stats.last],
        [
          'access checks',
          `${stats.checks.events} (${stats.checks.allowed} allowed, ${stats.checks.denied} denied; deny rate ${percent(stats.checks.denyRate)})`,
        ],
        ['admin events', `${stats.admin.events} (${stats.admin.denied} refused)`],
      ]);
      if (stats.denialsByReason.length > 0) {
        ctx.out.line();
        ctx.out.table(
          ['DENIED BY', 'CHECKS'],
          stats.denialsByReason.map((r) => [r.reason, String(r.count)]),
        );
      }
      if (stats.byAgent.length > 0) {
        ctx.out.line();
        ctx.out.table(
          ['AGENT', 'CHECKS', 'ALLOWED', 'DENIED', 'DENY RATE'],
          stats.byAgent.map((a) => [
            cell(a.agent, 40),
            String(a.events),
            String(a.allowed),
            String(a.denied),
            percent(a.events === 0 ? 0 : a.denied / a.events),
          ]),
        );
      }
      ctx.out.line();
      ctx.out.table(
        ['ACTION', 'EVENTS'],
        stats.byAction.map((a) => [a.action || '(none)', String(a.count)]),
      );
    }),
  );

  registerArchive(audit, state);

  audit
    .command('keys')
    .description("the auditor's public signing keys (save them with --json for `compliance verify --keys`)")
    .action(
      action(state, async (ctx) => {
        const auditor = await ctx.auditor();
        const res = await auditor.listAuditorKeys({});
        ctx.out.data(res);
        ctx.out.table(
          ['KEY ID', 'PUBLIC KEY (base64)', 'STATUS'],
          res.keys.map((k) => [k.keyId, Buffer.from(k.publicKey).toString('base64'), k.active ? 'active' : 'retired']),
        );
      }),
    );
}
