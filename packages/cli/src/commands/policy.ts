// policy validate (offline) | push | show | diff | history
import type { Command } from 'commander';
import {
  PolicyValidationError,
  parsePolicy,
  summarizePolicyDiff,
  type Policy,
  type PolicyIssue,
} from '@authority/core';
import type { PolicyVersion__Output, ValidationIssue__Output } from '@authority/proto';
import {
  AbortedError,
  InvalidArgumentError as ApiInvalidArgument,
  ISSUES_METADATA_KEY,
  NotFoundError,
  type PolicyClient,
} from '@authority/sdk';
import { CliError, ExitCode, usage } from '../exit';
import { cell, isoOf } from '../output';
import { unifiedDiff } from '../textdiff';
import type { CommandContext } from '../context';
import { action, intOption, type RunState } from './common';

export interface ValidationReport {
  file: string;
  valid: boolean;
  issues: PolicyIssue[];
  summary?: {
    organization: string;
    version: string;
    tenant?: string;
    agents: string[];
    roles: string[];
    frameworks: string[];
  };
}

/** Validates a policy text offline with core's parser (what the policy service runs). */
export function validatePolicyText(text: string, file: string, expectedTenant?: string): ValidationReport {
  try {
    const p = parsePolicy(text, expectedTenant !== undefined ? { expectedTenant } : {});
    const summary: NonNullable<ValidationReport['summary']> = {
      organization: p.organization,
      version: p.version,
      agents: [...p.agents.keys()].sort(),
      roles: [...p.roles.keys()].sort(),
      frameworks: p.complianceFrameworks,
    };
    if (p.tenant !== undefined) summary.tenant = p.tenant;
    return { file, valid: true, issues: [], summary };
  } catch (err) {
    if (err instanceof PolicyValidationError) return { file, valid: false, issues: [...err.issues] };
    throw err;
  }
}

/** `file:line:col: path: message` (the format editors and CI annotate from). */
export function formatIssue(file: string, i: { line: number; column: number; path: string; message: string }): string {
  const pos = i.line > 0 ? `${file}:${i.line}:${i.column}` : file;
  return `${pos}: ${i.path === '' ? '(document)' : i.path}: ${i.message}`;
}

function printReport(ctx: CommandContext, r: ValidationReport): void {
  if (ctx.json) return;
  if (r.valid) {
    const s = r.summary;
    ctx.out.line(`${r.file}: valid`);
    if (s) {
      ctx.out.fields([
        ['organization', s.organization],
        ['version', s.version],
        ['tenant', s.tenant],
        ['agents', s.agents.join(', ') || '(none)'],
        ['roles', s.roles.join(', ')],
        ['frameworks', s.frameworks.join(', ')],
      ]);
    }
  } else {
    for (const i of r.issues) ctx.io.stderr(`${formatIssue(r.file, i)}\n`);
    ctx.out.note(`${r.file}: invalid (${r.issues.length} issue${r.issues.length === 1 ? '' : 's'})`);
  }
}

function serverIssues(err: ApiInvalidArgument): ValidationIssue__Output[] | undefined {
  const raw = err.metadata?.get(ISSUES_METADATA_KEY)[0];
  if (raw === undefined) return undefined;
  try {
    const v: unknown = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
    return Array.isArray(v) ? (v as ValidationIssue__Output[]) : undefined;
  } catch {
    return undefined;
  }
}

async function currentVersion(policy: PolicyClient, tenant: string): Promise<PolicyVersion__Output | undefined> {
  try {
    const res = await policy.getPolicy({ tenant, version: 0 });
    return res.policy ?? undefined;
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}

function tryParse(text: string): Policy | undefined {
  try {
    return parsePolicy(text);
  } catch {
    return undefined;
  }
}

export function registerPolicy(program: Command, state: RunState): void {
  const policy = program
    .command('policy')
    .description("the tenant's YAML policy: validate offline, push, show, diff, history");

  policy
    .command('validate')
    .description('validate a policy file offline (exit 0 valid, 4 invalid; issues as file:line:col)')
    .argument('<file>', 'YAML policy file (- for stdin)')
    .option('--expect-tenant <tenant>', 'fail if the document names another tenant')
    .action(
      action(state, async (ctx, [file], opts) => {
        const text = await ctx.readInput(file as string, 'policy file');
        const r = validatePolicyText(
          text,
          file === '-' ? '<stdin>' : (file as string),
          opts.expectTenant as string | undefined,
        );
        ctx.out.data(r);
        printReport(ctx, r);
        return r.valid ? ExitCode.OK : ExitCode.VERIFICATION_FAILED;
      }),
    );

  policy
    .command('push')
    .description('validate, then store a new version (guarded against concurrent changes)')
    .argument('<file>', 'YAML policy file (- for stdin)')
    .option(
      '--expected-version <n>',
      'the version you are replacing (default: the current one, read first)',
      intOption(0, Number.MAX_SAFE_INTEGER),
    )
    .action(
      action(state, async (ctx, [file], opts) => {
        const text = await ctx.readInput(file as string, 'policy file');
        const tenant = await ctx.tenant();
        const name = file === '-' ? '<stdin>' : (file as string);
        const local = validatePolicyText(text, name, tenant);
        if (!local.valid) {
          ctx.out.data(local);
          printReport(ctx, local);
          return ExitCode.VERIFICATION_FAILED;
        }
        const client = await ctx.policy();
        let expected = opts.expectedVersion as number | undefined;
        if (expected === undefined) expected = Number((await currentVersion(client, tenant))?.version ?? 0);
        try {
          const res = await client.putPolicy({ tenant, yaml: text, expectedVersion: expected });
          const p = res.policy;
          ctx.out.data(res);
          ctx.out.line(`policy version ${p?.version ?? '?'} stored for tenant ${tenant}`);
          ctx.out.fields([
            ['sha256', p?.sha256],
            ['changes', p?.diffSummary],
          ]);
        } catch (err) {
          if (err instanceof AbortedError) {
            const now = await currentVersion(client, tenant).catch(() => undefined);
            throw new CliError(
              `the policy changed underneath (expected version ${expected}${now ? `, now ${now.version}` : ''}): review with \`authority policy diff ${name}\` and push again with --expected-version ${now?.version ?? '<n>'}`,
              ExitCode.FAILURE,
              {
                reason: err.reason ?? 'ABORTED',
                expectedVersion: expected,
                ...(now ? { currentVersion: now.version } : {}),
              },
            );
          }
          if (err instanceof ApiInvalidArgument) {
            const issues = serverIssues(err);
            if (issues !== undefined) {
              const r: ValidationReport = {
                file: name,
                valid: false,
                issues: issues.map((i) => ({ line: i.line, column: i.column, path: i.path, message: i.message })),
              };
              ctx.out.data(r);
              printReport(ctx, r);
              return ExitCode.VERIFICATION_FAILED;
            }
          }
          throw err;
        }
      }),
    );

  policy
    .command('show')
    .description('print the current policy (or a stored version) as YAML')
    .argument('[version]', 'a stored version number (default: the latest)', intOption(1, Number.MAX_SAFE_INTEGER))
    .action(
      action(state, async (ctx, [version]) => {
        const client = await ctx.policy();
        const tenant = await ctx.tenant();
        const res = await client.getPolicy({ tenant, version: (version as unknown as number | undefined) ?? 0 });
        ctx.out.data(res);
        const p = res.policy;
        if (!p || ctx.json) return;
        ctx.out.note(
          `# tenant ${p.tenant}, version ${p.version}, ${isoOf(p.createdAt)} by ${p.author || '?'}${p.deleted ? ' (DELETED)' : ''}, sha256 ${p.sha256}`,
        );
        ctx.io.stdout(p.yaml.endsWith('\n') || p.yaml === '' ? p.yaml : `${p.yaml}\n`);
      }),
    );

  policy
    .command('history')
    .description('list versions, newest first')
    .option('-n, --limit <n>', 'at most n versions', intOption(1, 100_000), 50)
    .action(
      action(state, async (ctx, _a, opts) => {
        const client = await ctx.policy();
        const tenant = await ctx.tenant();
        const versions: PolicyVersion__Output[] = [];
        for await (const v of client.allPolicyVersions({ tenant, pageSize: Math.min(opts.limit as number, 100) })) {
          versions.push(v);
          if (versions.length >= (opts.limit as number)) break;
        }
        ctx.out.data({ tenant, versions });
        if (versions.length === 0) {
          ctx.out.line(`tenant ${tenant} has no policy`);
          return;
        }
        ctx.out.table(
          ['VERSION', 'CREATED', 'AUTHOR', 'SHA256', 'CHANGES'],
          versions.map((v) => [
            String(v.version),
            isoOf(v.createdAt),
            cell(v.author, 24),
            v.sha256.slice(0, 12),
            `${v.deleted ? '[deleted] ' : ''}${cell(v.diffSummary, 80)}`,
          ]),
        );
      }),
    );

  policy
    .command('diff')
    .description('compare a local file with the current policy, or two stored versions')
    .argument('[file]', 'local YAML to compare with the stored policy (--from, default: the latest)')
    .option(
      '--from <n>',
      'the older stored version (default: the latest, or the one before --to)',
      intOption(1, Number.MAX_SAFE_INTEGER),
    )
    .option(
      '--to <n>',
      'the newer stored version (when no file is given; default: the latest)',
      intOption(1, Number.MAX_SAFE_INTEGER),
    )
    .action(
      action(state, async (ctx, [file], opts) => {
        const client = await ctx.policy();
        const tenant = await ctx.tenant();
        const get = async (version: number) => {
          const r = await client.getPolicy({ tenant, version });
          if (!r.policy) throw new CliError(`version ${version} not found`);
          return r.policy;
        };
        let oldText: string;
        let newText: string;
        let oldName: string;
        let newName: string;
        if (file !== undefined) {
          if (opts.to !== undefined) throw usage('--to cannot be used with a file (the file is the new side)');
          newText = await ctx.readInput(file, 'policy file');
          newName = file === '-' ? '<stdin>' : file;
          const old = opts.from !== undefined ? await get(opts.from as number) : await currentVersion(client, tenant);
          oldText = old?.deleted ? '' : (old?.yaml ?? '');
          oldName = old ? `${tenant} version ${old.version}` : `${tenant} (no policy)`;
        } else {
          const to = opts.to !== undefined ? await get(opts.to as number) : await currentVersion(client, tenant);
          if (!to) throw new CliError(`tenant ${tenant} has no policy`);
          const fromNo = (opts.from as number | undefined) ?? Number(to.version) - 1;
          const from = fromNo >= 1 ? await get(fromNo) : undefined;
          oldText = from?.deleted ? '' : (from?.yaml ?? '');
          newText = to.deleted ? '' : to.yaml;
          oldName = from ? `${tenant} version ${from.version}` : `${tenant} (no policy)`;
          newName = `${tenant} version ${to.version}`;
        }
        const diff = unifiedDiff(oldText, newText, oldName, newName);
        const after = tryParse(newText);
        const before = oldText === '' ? undefined : tryParse(oldText);
        const summary =
          after !== undefined && (oldText === '' || before !== undefined)
            ? summarizePolicyDiff(before, after)
            : undefined;
        ctx.out.data({ from: oldName, to: newName, changed: diff !== '', summary, diff });
        if (diff === '') {
          ctx.out.line('no differences');
          return;
        }
        if (summary) ctx.out.line(`summary: ${summary}\n`);
        ctx.io.stdout(ctx.json ? '' : diff);
      }),
    );
}
