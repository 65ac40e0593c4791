// compliance attest | report (approvals: ./approval.ts)
import { Option, type Command } from 'commander';
import { timestampToGrpc } from '@authority/proto';
import { CliError, ExitCode, usage } from '../exit';
import { isoOf } from '../output';
import { action, resolveTime, timeOption, type RunState } from './common';

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
}
