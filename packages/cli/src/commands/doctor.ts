// doctor: connectivity and readiness of every service (each enforcer replica), the credential,
// the tenant's audit chain, and the clock skew against the servers.
import type { Command } from 'commander';
import { AuthorityApiError, Status, type AddressHealth } from '@authority/sdk';
import { ExitCode } from '../exit';
import type { CommandContext } from '../context';
import { action, type RunState } from './common';

type Level = 'ok' | 'warn' | 'fail' | 'skip';

export interface DoctorCheck {
  name: string;
  level: Level;
  detail: string;
  /** Exit code this failure maps to (fail only). */
  exit?: number;
}

/** Skew beyond this is a warning (the 1 s resolution of the `date` header makes smaller ones noise). */
const SKEW_WARN_MS = 5_000;
/** Beyond the default envelope clock-skew tolerance (30 s), envelopes are refused. */
const SKEW_FAIL_MS = 30_000;

function healthCheck(service: string, h: AddressHealth): DoctorCheck {
  const name = `${service} ${h.address}`;
  if (h.error !== undefined)
    return { name, level: 'fail', detail: `unreachable: ${h.error}`, exit: ExitCode.UNAVAILABLE };
  if (h.service === 'SERVING') return { name, level: 'ok', detail: `SERVING (${h.latencyMs ?? '?'} ms)` };
  if (h.service === 'SERVICE_UNKNOWN')
    return {
      name,
      level: 'fail',
      detail: `reachable, but it is not the ${service} service (health: SERVICE_UNKNOWN)`,
      exit: ExitCode.UNAVAILABLE,
    };
  return {
    name,
    level: 'fail',
    detail: `reachable but not ready: ${h.service ?? 'UNKNOWN'} (still catching up, or its Kafka/MongoDB connection is down)`,
    exit: ExitCode.UNAVAILABLE,
  };
}

function apiFailure(name: string, err: unknown): DoctorCheck {
  if (err instanceof AuthorityApiError) {
    if (err.code === Status.UNAUTHENTICATED)
      return { name, level: 'fail', detail: `credential refused: ${err.message}`, exit: ExitCode.AUTH };
    if (err.code === Status.PERMISSION_DENIED)
      return { name, level: 'skip', detail: `not allowed with this credential (${err.message})` };
    if (err.code === Status.UNAVAILABLE || err.code === Status.DEADLINE_EXCEEDED)
      return { name, level: 'fail', detail: `${err.codeName}: ${err.message}`, exit: ExitCode.UNAVAILABLE };
    return {
      name,
      level: 'fail',
      detail: `${err.codeName}${err.reason ? ` ${err.reason}` : ''}: ${err.message}`,
      exit: ExitCode.FAILURE,
    };
  }
  return { name, level: 'fail', detail: err instanceof Error ? err.message : String(err), exit: ExitCode.FAILURE };
}

export async function runDoctor(ctx: CommandContext): Promise<DoctorCheck[]> {
  const cfg = await ctx.cfg();
  const checks: DoctorCheck[] = [];
  checks.push({
    name: 'configuration',
    level: 'ok',
    detail: `${cfg.configFile ? `config ${cfg.configFile}${cfg.profile ? ` (profile ${cfg.profile})` : ''}` : 'no config file'}; tenant ${cfg.tenant ?? '(none)'}; credential ${cfg.apiKeySource ?? '(none)'}; TLS ${cfg.tls ? 'on' : 'off'}; timeout ${cfg.timeoutMs} ms`,
  });
  if (cfg.apiKey === undefined)
    checks.push({
      name: 'credential',
      level: 'warn',
      detail: 'no credential configured (set AUTHORITY_API_KEY or --api-key-file): most commands will be refused',
    });

  const issuer = await ctx.issuer();
  const enforcer = await ctx.enforcer();
  const policy = await ctx.policy();
  const auditor = await ctx.auditor();
  const results = await Promise.all([
    issuer.health({ deadlineMs: cfg.timeoutMs }).then((hs) => hs.map((h) => ['issuer', h] as const)),
    enforcer.health({ deadlineMs: cfg.timeoutMs }).then((hs) => hs.map((h) => ['enforcer', h] as const)),
    policy.health({ deadlineMs: cfg.timeoutMs }).then((hs) => hs.map((h) => ['policy', h] as const)),
    auditor.health({ deadlineMs: cfg.timeoutMs }).then((hs) => hs.map((h) => ['auditor', h] as const)),
  ]);
  const all = results.flat();
  for (const [svc, h] of all) checks.push(healthCheck(svc, h));
  const reachable = new Set(all.filter(([, h]) => h.error === undefined).map(([svc]) => svc));

  // Clock skew: the largest estimate across the servers that answered.
  const skews: [string, string, number][] = [];
  for (const [svc, h] of all) if (h.clockSkewMs !== undefined) skews.push([svc, h.address, h.clockSkewMs]);
  if (skews.length > 0) {
    const worst = skews.reduce((a, b) => (Math.abs(b[2]) > Math.abs(a[2]) ? b : a));
    const s = worst[2];
    const text = `${s >= 0 ? 'server ahead by' : 'server behind by'} ~${(Math.abs(s) / 1000).toFixed(1)} s (worst: ${worst[0]} ${worst[1]}; ±1 s resolution)`;
    checks.push(
      Math.abs(s) > SKEW_FAIL_MS
        ? {
            name: 'clock skew',
            level: 'fail',
            detail: `${text}: beyond the 30 s tolerance, envelopes will be refused as NOT_YET_VALID or EXPIRED`,
            exit: ExitCode.FAILURE,
          }
        : Math.abs(s) > SKEW_WARN_MS
          ? { name: 'clock skew', level: 'warn', detail: `${text}: fix NTP before it exceeds the 30 s tolerance` }
          : { name: 'clock skew', level: 'ok', detail: text },
    );
  } else {
    checks.push({
      name: 'clock skew',
      level: 'skip',
      detail: 'not measurable (no server answered with a date header)',
    });
  }

  // Credential and tenant: a read on the issuer tells whether the credential is accepted.
  if (cfg.apiKey !== undefined && cfg.tenant !== undefined && reachable.has('issuer')) {
    try {
      const keys = await issuer.listKeys({ tenant: cfg.tenant });
      const active = keys.keys.filter((k) => k.status === 'ACTIVE').length;
      checks.push({
        name: 'credential',
        level: active > 0 ? 'ok' : 'warn',
        detail: `accepted for tenant ${cfg.tenant}; ${keys.keys.length} signing key(s), ${active} active`,
      });
    } catch (err) {
      const c = apiFailure('credential', err);
      checks.push(
        c.level === 'skip'
          ? {
              ...c,
              level: 'ok',
              detail: `accepted for tenant ${cfg.tenant} (this kind of credential cannot list keys)`,
            }
          : c,
      );
    }
  }
  // Chain health of the tenant.
  if (cfg.tenant !== undefined && cfg.apiKey !== undefined && reachable.has('auditor')) {
    try {
      const v = await auditor.verifyChain({ tenant: cfg.tenant });
      if (v.ok) {
        checks.push({
          name: 'audit chain',
          level: v.checkpoint ? 'ok' : 'warn',
          detail: `intact: ${v.checked} entries, head seq ${v.headSeq}${v.checkpoint ? `, checkpoint seq ${v.checkpoint.seq}` : ', no signed checkpoint yet'}`,
        });
      } else {
        checks.push({
          name: 'audit chain',
          level: 'fail',
          detail: `BROKEN at seq ${v.firstBadSeq}: ${v.fault} ${v.message}`,
          exit: ExitCode.VERIFICATION_FAILED,
        });
      }
    } catch (err) {
      checks.push(apiFailure('audit chain', err));
    }
  } else {
    checks.push({
      name: 'audit chain',
      level: 'skip',
      detail:
        cfg.tenant === undefined
          ? 'no tenant configured'
          : !reachable.has('auditor')
            ? 'auditor unreachable'
            : 'no credential',
    });
  }
  return checks;
}

/** The exit code of a doctor run: the most serious failure (connectivity > auth > chain > other). */
export function doctorExit(checks: DoctorCheck[]): number {
  const fails = checks.filter((c) => c.level === 'fail').map((c) => c.exit ?? ExitCode.FAILURE);
  for (const code of [ExitCode.UNAVAILABLE, ExitCode.AUTH, ExitCode.VERIFICATION_FAILED, ExitCode.FAILURE])
    if (fails.includes(code)) return code;
  return ExitCode.OK;
}

export function registerDoctor(program: Command, state: RunState): void {
  program
    .command('doctor')
    .description('check connectivity, readiness, credential, audit chain health and clock skew')
    .addHelpText(
      'after',
      '\nExit 0 when nothing failed (warnings allowed); 5 if a service is unreachable or not ready, 6 if the credential is refused, 4 if the chain is broken, 1 otherwise.',
    )
    .action(
      action(state, async (ctx) => {
        const checks = await runDoctor(ctx);
        const code = doctorExit(checks);
        ctx.out.data({ ok: code === ExitCode.OK, checks });
        const mark: Record<Level, string> = { ok: ' ok ', warn: 'WARN', fail: 'FAIL', skip: 'skip' };
        for (const c of checks) ctx.out.line(`[${mark[c.level]}] ${c.name}: ${c.detail}`);
        return code;
      }),
    );
}
