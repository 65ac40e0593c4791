// audit query | tail [-f] | verify | export | stats | keys (rows and records: audit-records.ts;
// following: audit-follow.ts)
import { Option, type Command } from 'commander';
import type { ChainEntry__Output, QueryEventsRequest } from '@authority/proto';
import { ReasonCode } from '@authority/proto';
import { timestampToGrpc } from '@authority/proto';
import { parseDuration } from '../duration';
import { ExitCode, usage } from '../exit';
import { cell, isoOf } from '../output';
import type { CommandContext } from '../context';
import { registerArchive } from './archive';
import { action, intOption, resolveTime, timeOption, type RunState } from './common';
import { followChainTopic, tail } from './audit-follow';
import { auditStats, csvField, entryLine, entryRow, exportRecord, HEADERS, tailLine } from './audit-records';

export { auditStats, csvField, exportRecord, type AuditStats } from './audit-records';

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
