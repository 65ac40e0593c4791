// explain: what the tenant's policy says about one request, rule by rule (core's explainPolicy)
import type { Command } from 'commander';
import { explainPolicy, tenantPolicyFrom, type ExplainRequest, type Policy, parsePolicy } from '@authority/core';
import { NotFoundError } from '@authority/sdk';
import { CliError, ExitCode } from '../exit';
import { action, intOption, type RunState } from './common';
import { formatIssue, validatePolicyText } from './policy';

const VERDICT: Record<string, string> = { pass: 'pass', fail: 'FAIL', approval: 'APPROVAL', skipped: 'skipped' };

/** The agents of a chain presented by `agent`: a sub-agent `a/b/c` is presented by a > a/b > a/b/c. */
export function agentPath(agent: string): string[] {
  const parts = agent.split('/');
  return parts.map((_, i) => parts.slice(0, i + 1).join('/'));
}

export function registerExplain(program: Command, state: RunState): void {
  program
    .command('explain')
    .description(
      "every rule of the tenant's policy for one request, in the enforcer's order, with its verdict; the deciding one marked (exit 0 allowed, 3 refused)",
    )
    .requiredOption('-a, --agent <id>', 'the acting agent (a sub-agent as root/name)')
    .requiredOption('-s, --scope <scope>', 'the scope the call needs, e.g. vault:student-records:read')
    .option('-r, --resource <resource>', 'the resource the call touches')
    .option('--action <action>', 'the action (default: the last scope segment)')
    .option('--purpose <text>', 'why the agent acts')
    .option('--records <n>', 'how many records the call reads or writes', intOption(0, 0xffff_ffff))
    .option('--proof', 'the call carries a per-request proof (pop: required)')
    .option('--approval', 'the call presents an approval (write_requires_approval)')
    .option('--policy-file <file>', 'explain this policy file, offline (default: the stored policy of the tenant)')
    .action(
      action(state, async (ctx, _a, opts) => {
        let policy: Policy;
        let source: string;
        if (opts.policyFile !== undefined) {
          const file = opts.policyFile as string;
          const text = await ctx.readInput(file, '--policy-file');
          const report = validatePolicyText(text, file);
          if (!report.valid)
            throw new CliError(
              `${file} is not a valid policy:\n${report.issues.map((i) => formatIssue(file, i)).join('\n')}`,
              ExitCode.VERIFICATION_FAILED,
            );
          policy = parsePolicy(text);
          source = file;
        } else {
          const tenant = await ctx.tenant();
          const client = await ctx.policy();
          const noPolicy = () =>
            new CliError(
              `tenant '${tenant}' has no policy: its envelopes alone decide (see \`authority envelope check\`)`,
            );
          let stored;
          try {
            stored = (await client.getPolicy({ tenant, version: 0 })).policy;
          } catch (err) {
            if (err instanceof NotFoundError) throw noPolicy();
            throw err;
          }
          if (!stored || stored.deleted) throw noPolicy();
          const yaml = stored.yaml;
          source = `tenant ${tenant}, stored version ${stored.version}`;
          policy = parsePolicy(yaml);
        }
        const req: ExplainRequest = { agents: agentPath(opts.agent as string), requiredScope: opts.scope as string };
        if (opts.resource !== undefined) req.resource = opts.resource as string;
        if (opts.action !== undefined) req.action = opts.action as string;
        if (opts.purpose !== undefined) req.purpose = opts.purpose as string;
        if (opts.records !== undefined) req.recordCount = opts.records as number;
        if (opts.proof === true) req.proof = true;
        if (opts.approval === true) req.approval = true;
        const e = explainPolicy(tenantPolicyFrom(policy), req);
        ctx.out.data({ source, request: req, ...e });
        ctx.out.line(`policy: ${source} (version ${e.policyVersion})`);
        ctx.out.table(
          ['', 'RULE', 'AGENT', 'VERDICT', 'WHY'],
          e.rules.map((r) => [
            r.deciding ? '=>' : '',
            r.rule,
            r.agent ?? '(tenant)',
            `${VERDICT[r.verdict] ?? r.verdict}${r.reached ? '' : ' (not reached)'}`,
            r.detail,
          ]),
        );
        ctx.out.line(`${e.decision} ${e.reason}: ${e.message}`);
        if (e.decision === 'ALLOW')
          ctx.out.line(
            "the envelope's own checks (signatures, expiry, revocation, its grant) are not part of this: `authority envelope check` asks the enforcer",
          );
        return e.decision === 'ALLOW' ? ExitCode.OK : ExitCode.DENIED;
      }),
    );
}
