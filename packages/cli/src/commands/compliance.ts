// compliance attest | report · approval list | approve | reject
import { Option, type Command } from 'commander';
import type { Approval__Output } from '@authority/proto';
import { timestampToGrpc } from '@authority/proto';
import { CliError, ExitCode, usage } from '../exit';
import { cell, isoOf } from '../output';
import { action, intOption, resolveTime, timeOption, type RunState } from './common';

const STATUSES = ['pending', 'approved', 'rejected', 'consumed', 'expired_unused', 'all'];

function approvalRow(a: Approval__Output): string[] {
  return [
    a.approvalId,
    a.status,
    cell(a.agentId, 24),
    a.requiredScope,
    a.action,
    cell(a.resource, 40),
    isoOf(a.createdAt),
    isoOf(a.expiresAt),
    a.decidedBy,
  ];
}

export function registerCompliance(program: Command, state: RunState): void {
  const compliance = program
    .command('compliance')
    .description('signed attestations and compliance reports from the audit chain');

  compliance
    .command('attest')
    .description('signed statement: did an agent touch resources matching a pattern in a window?')
    .requiredOption('-a, --agent <id>', 'the agent')
    .requiredOption('-r, --resource <pattern>', 'resource glob, e.g. "slos://vaults/health/*"')
    .option('--since <time>', 'window start: a duration ago or ISO 8601', timeOption, '90d')
    .option('--until <time>', 'window end', timeOption, 'now')
    .action(
      action(state, async (ctx, _a, opts) => {
        const auditor = await ctx.auditor();
        const start = resolveTime(ctx, opts.since) as Date;
        const end = resolveTime(ctx, opts.until) as Date;
        if (start > end) throw usage('--since is after --until');
        const res = await auditor.attest({
          tenant: await ctx.tenant(),
          agentId: opts.agent as string,
          resourcePattern: opts.resource as string,
          startTime: timestampToGrpc(start),
          endTime: timestampToGrpc(end),
        });
        ctx.out.data(res);
        const a = res.attestation;
        if (!a) throw new CliError('the auditor returned no attestation');
        ctx.out.line(
          a.neverAccessed
            ? `agent ${a.agentId} NEVER accessed resources matching ${a.resourcePattern} between ${isoOf(a.startTime)} and ${isoOf(a.endTime)}`
            : `agent ${a.agentId} accessed resources matching ${a.resourcePattern} ${a.allowedCount} time(s) between ${isoOf(a.startTime)} and ${isoOf(a.endTime)}`,
        );
        ctx.out.fields([
          ['denied attempts', String(a.deniedCount)],
          ['checkpoint', a.checkpoint ? `seq ${a.checkpoint.seq}, head ${a.checkpoint.headHash}` : 'none'],
          ['signed by', a.keyId],
          ['issued at', isoOf(a.issuedAt)],
          ['signature', Buffer.from(a.signature).toString('base64')],
        ]);
      }),
    );

  compliance
    .command('report')
    .description('render a compliance report for a window (HTML to a file, or JSON)')
    .option('--since <time>', 'window start', timeOption, '30d')
    .option('--until <time>', 'window end', timeOption, 'now')
    .addOption(new Option('--format <format>', 'report format').choices(['html', 'json']).default('html'))
    .option(
      '-o, --output <file>',
      'where to write the report (default: compliance-report-<tenant>.html, or stdout for json)',
    )
    .option('--force', 'overwrite an existing file')
    .action(
      action(state, async (ctx, _a, opts) => {
        const auditor = await ctx.auditor();
        const tenant = await ctx.tenant();
        const start = resolveTime(ctx, opts.since) as Date;
        const end = resolveTime(ctx, opts.until) as Date;
        if (start > end) throw usage('--since is after --until');
        const format = opts.format === 'json' ? 'JSON' : 'HTML';
        const res = await auditor.getComplianceReport(
          { tenant, startTime: timestampToGrpc(start), endTime: timestampToGrpc(end), format },
          { deadlineMs: Math.max((await ctx.cfg()).timeoutMs, 60_000) },
        );
        const body = Buffer.from(res.body);
        const output =
          (opts.output as string | undefined) ?? (format === 'HTML' ? `compliance-report-${tenant}.html` : undefined);
        if (output === undefined) {
          ctx.io.stdout(body.toString('utf8'));
          if (!body.toString('utf8').endsWith('\n')) ctx.io.stdout('\n');
          return;
        }
        try {
          await ctx.io.writeFile(output, body, { exclusive: opts.force !== true });
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EEXIST')
            throw new CliError(`${output} exists; pass --force to overwrite`, ExitCode.FAILURE);
          throw err;
        }
        ctx.out.data({
          file: output,
          contentType: res.contentType,
          bytes: body.length,
          start: start.toISOString(),
          end: end.toISOString(),
        });
        ctx.out.line(`report written to ${output} (${body.length} bytes, ${res.contentType})`);
      }),
    );

  const approval = program.command('approval').description('human approvals for actions that need one');
  approval
    .command('list')
    .description('list approval requests, newest first')
    .addOption(new Option('--status <status>', 'only this status').choices(STATUSES).default('pending'))
    .option('-n, --limit <n>', 'at most n requests', intOption(1, 100_000), 50)
    .action(
      action(state, async (ctx, _a, opts) => {
        const issuer = await ctx.issuer();
        const tenant = await ctx.tenant();
        const status =
          opts.status === 'all' ? 'APPROVAL_STATUS_UNSPECIFIED' : (String(opts.status).toUpperCase() as 'PENDING');
        const limit = opts.limit as number;
        const approvals: Approval__Output[] = [];
        let pageToken = '';
        for (;;) {
          const page = await issuer.listApprovals({ tenant, status, pageSize: Math.min(100, limit), pageToken });
          approvals.push(...page.approvals);
          if (page.nextPageToken === '' || approvals.length >= limit || page.nextPageToken === pageToken) break;
          pageToken = page.nextPageToken;
        }
        approvals.splice(limit);
        ctx.out.data({ approvals });
        if (approvals.length === 0)
          ctx.out.line(`no ${opts.status === 'all' ? '' : `${String(opts.status)} `}approval requests`);
        else
          ctx.out.table(
            ['ID', 'STATUS', 'AGENT', 'SCOPE', 'ACTION', 'RESOURCE', 'CREATED', 'EXPIRES', 'DECIDED BY'],
            approvals.map(approvalRow),
          );
      }),
    );
  for (const [name, approve] of [
    ['approve', true],
    ['reject', false],
  ] as const) {
    approval
      .command(name)
      .description(`${name} a pending request (APPROVER credential)`)
      .argument('<approval-id>')
      .option('--comment <text>', 'recorded with the decision')
      .action(
        action(state, async (ctx, [id], opts) => {
          const issuer = await ctx.issuer();
          const res = await issuer.decideApproval({
            tenant: await ctx.tenant(),
            approvalId: id,
            approve,
            comment: (opts.comment as string | undefined) ?? '',
          });
          ctx.out.data(res);
          const a = res.approval;
          ctx.out.line(`approval ${id}: ${a?.status ?? (approve ? 'APPROVED' : 'REJECTED')}`);
          if (a)
            ctx.out.fields([
              ['agent', a.agentId],
              ['scope', a.requiredScope],
              ['resource', a.resource],
              ['expires', isoOf(a.expiresAt)],
            ]);
        }),
      );
  }
}
