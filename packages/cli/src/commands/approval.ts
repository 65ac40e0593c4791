// approval list | show | approve | reject — an approver decides on one exact request, so every
// command shows all of it: agent path and chain, scope, action, resource (or none), purpose, record
// count, every context field, and the request digest (recomputed here from the fields shown).
import { Option, type Command } from 'commander';
import type { Approval__Output } from '@authority/proto';
import { describeApproval } from '@authority/sdk';
import { CliError, ExitCode } from '../exit';
import { cell, isoOf } from '../output';
import { action, intOption, type RunState } from './common';

const STATUSES = ['pending', 'approved', 'rejected', 'consumed', 'expired_unused', 'all'];

// Characters a terminal does not show as themselves (controls, bidi and zero-width format
// characters, separators, private use, unassigned, fillers that render blank): shown escaped, so a
// purpose cannot hide or reorder what the approver reads.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cn}\u115f\u1160\u3164\uffa0\u2800]/gu;

/** A request value as the approver must read it: quoted, every invisible character escaped. */
export function visibleText(s: string): string {
  return JSON.stringify(s).replace(INVISIBLE, (c) => `\\u{${(c.codePointAt(0) as number).toString(16)}}`);
}

const none = (s: string) => (s === '' ? '(none)' : visibleText(s));

function contextText(fields: Record<string, string>, max?: number): string {
  const text = Object.keys(fields)
    .sort()
    .map((k) => `${visibleText(k).slice(1, -1)}=${visibleText(fields[k] as string)}`)
    .join(' ');
  return max === undefined ? text : cell(text, max);
}

function approvalRow(a: Approval__Output): string[] {
  return [
    a.approvalId,
    a.status,
    cell(a.agentChain.length > 0 ? a.agentChain.join(' > ') : a.agentId, 32),
    a.requiredScope,
    a.action,
    cell(none(a.resource), 40),
    a.recordCount === undefined || a.recordCount === null ? '-' : String(a.recordCount),
    cell(none(a.purpose), 32),
    contextText(a.contextFields, 32) || '-',
    a.requestDigest === '' ? '-' : a.requestDigest.slice(0, 12),
    isoOf(a.expiresAt),
    a.decidedBy,
  ];
}

/** Every field of one approval, in full, for the approver. */
function showApproval(out: { fields(pairs: [string, string | undefined][]): void }, a: Approval__Output): void {
  const check = describeApproval(a).digest;
  out.fields([
    ['approval', a.approvalId],
    ['status', a.status],
    ['tenant', a.tenant],
    ['agent', visibleText(a.agentId)],
    ['agent path', a.agentChain.map(visibleText).join(' → ') || '(unknown)'],
    ['chain', a.chain.length > 0 ? `${a.chain.join(' → ')} (root first)` : '(none)'],
    ['scope', a.requiredScope],
    ['action', visibleText(a.action)],
    ['resource', none(a.resource)],
    ['purpose', none(a.purpose)],
    ['record count', a.recordCount === undefined || a.recordCount === null ? '(none)' : String(a.recordCount)],
    ...(Object.keys(a.contextFields).length === 0
      ? [['context', '(none)'] as [string, string]]
      : Object.keys(a.contextFields)
          .sort()
          .map((k): [string, string] => [`context ${visibleText(k)}`, visibleText(a.contextFields[k] as string)])),
    [
      'request digest',
      check === 'none'
        ? '(none: recorded before approvals were bound to the whole request; it cannot be used)'
        : `${a.requestDigest} (${check === 'matches' ? 'matches the fields shown' : 'DOES NOT match the fields shown'})`,
    ],
    ['created', isoOf(a.createdAt)],
    ['expires', isoOf(a.expiresAt)],
    ['decided by', a.decidedBy],
  ]);
}

/** Refuses (exit 4) an approval whose digest is not that of the fields the issuer shows. */
function assertConsistent(a: Approval__Output): void {
  if (describeApproval(a).digest === 'differs')
    throw new CliError(
      `approval ${a.approvalId}: its request digest does not match the fields shown; do not approve it`,
      ExitCode.VERIFICATION_FAILED,
      { approvalId: a.approvalId, requestDigest: a.requestDigest },
    );
}

export function registerApproval(program: Command, state: RunState): void {
  const approval = program.command('approval').description('human approvals for actions that need one');
  approval
    .command('list')
    .description('list approval requests, newest first (`approval show <id>` prints one in full)')
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
        else {
          ctx.out.table(
            [
              'ID',
              'STATUS',
              'AGENT PATH',
              'SCOPE',
              'ACTION',
              'RESOURCE',
              'RECORDS',
              'PURPOSE',
              'CONTEXT',
              'DIGEST',
              'EXPIRES',
              'DECIDED BY',
            ],
            approvals.map(approvalRow),
          );
          ctx.out.line();
          ctx.out.line('Before approving, read the whole request: authority approval show <id>');
        }
      }),
    );

  approval
    .command('show')
    .description('print one approval request in full: everything it allows, and its digest')
    .argument('<approval-id>')
    .action(
      action(state, async (ctx, [id]) => {
        const issuer = await ctx.issuer();
        const res = await issuer.getApproval({ tenant: await ctx.tenant(), approvalId: id });
        const a = res.approval;
        if (!a) throw new CliError(`the issuer returned no approval ${id}`);
        ctx.out.data({ approval: a, digestCheck: describeApproval(a).digest });
        showApproval(ctx.out, a);
        assertConsistent(a);
      }),
    );

  for (const [name, approve] of [
    ['approve', true],
    ['reject', false],
  ] as const) {
    approval
      .command(name)
      .description(`${name} a pending request (APPROVER credential); prints the request decided on`)
      .argument('<approval-id>')
      .option('--comment <text>', 'recorded with the decision')
      .action(
        action(state, async (ctx, [id], opts) => {
          const issuer = await ctx.issuer();
          const tenant = await ctx.tenant();
          if (approve) {
            // Never approve a request whose shown fields are not what its digest binds.
            const current = (await issuer.getApproval({ tenant, approvalId: id })).approval;
            if (current) assertConsistent(current);
          }
          const res = await issuer.decideApproval({
            tenant,
            approvalId: id,
            approve,
            comment: (opts.comment as string | undefined) ?? '',
          });
          ctx.out.data(res);
          const a = res.approval;
          ctx.out.line(`approval ${id}: ${a?.status ?? (approve ? 'APPROVED' : 'REJECTED')}`);
          if (a) showApproval(ctx.out, a);
        }),
      );
  }
}
