// compliance attest | report | verify (approvals: ./approval.ts)
import * as path from 'node:path';
import { Option, type Command } from 'commander';
import {
  cryptoReady,
  sha256Hex,
  verifyAttestation,
  verifyCheckpoint,
  verifySignedReport,
  type SignatureCheck,
  type SignedAttestation,
} from '@authority/core';
import { timestampToGrpc } from '@authority/proto';
import { CliError, ExitCode, usage } from '../exit';
import { isoOf } from '../output';
import { printPdf } from '../pdf';
import type { CommandContext } from '../context';
import { action, collect, resolveTime, timeOption, type RunState } from './common';

/** An auditor public key, as `audit keys --json` saves it. */
export interface SavedAuditorKey {
  keyId: string;
  /** base64 of the raw 32-byte Ed25519 public key. */
  publicKey: string;
}

/** The key id the auditor gives a public key: the first 16 hex digits of its SHA-256. */
export function auditorKeyIdOf(publicKey: Uint8Array): string {
  return sha256Hex(publicKey).slice(0, 16);
}

/**
 * The keys to verify against, by id. A saved key whose id is not the id of its bytes is refused:
 * the id is what a signature names, so a key file must not be able to put one key under another's id.
 */
export function keyRing(keys: readonly SavedAuditorKey[]): Map<string, Uint8Array> {
  const ring = new Map<string, Uint8Array>();
  for (const [i, k] of keys.entries()) {
    const bytes = typeof k?.publicKey === 'string' ? Buffer.from(k.publicKey, 'base64') : undefined;
    if (bytes === undefined || bytes.length !== 32)
      throw usage(`keys[${i}].publicKey: expected base64 of a 32-byte Ed25519 public key`);
    const id = auditorKeyIdOf(bytes);
    if (k.keyId !== undefined && k.keyId !== id)
      throw new CliError(
        `keys[${i}]: key id '${String(k.keyId)}' is not the id of its public key ('${id}')`,
        ExitCode.VERIFICATION_FAILED,
      );
    ring.set(id, new Uint8Array(bytes));
  }
  return ring;
}

function seconds(iso: unknown, field: string): number {
  const ms = typeof iso === 'string' ? Date.parse(iso) : Number.NaN;
  if (!Number.isFinite(ms)) throw usage(`${field}: expected an ISO 8601 time`);
  return Math.floor(ms / 1000);
}

function count(v: unknown, field: string): number {
  const n = typeof v === 'string' || typeof v === 'number' ? Number(v) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 0) throw usage(`${field}: expected a non-negative integer`);
  return n;
}

function base64Url(b64: unknown, field: string): string {
  if (typeof b64 !== 'string' || b64 === '') throw usage(`${field}: expected a base64 signature`);
  return Buffer.from(b64, 'base64').toString('base64url');
}

/** What `compliance verify` found in a saved attestation. */
export interface AttestationVerification {
  ok: boolean;
  attestation: SignatureCheck;
  checkpoint: SignatureCheck;
}

/**
 * Verifies an attestation as `compliance attest --json` saved it (`{attestation: {...}}`, or the
 * attestation itself): its signature and that of the checkpoint it is bound to, with the given keys only.
 */
export function verifySavedAttestation(doc: unknown, keys: ReadonlyMap<string, Uint8Array>): AttestationVerification {
  const root = doc as Record<string, unknown> | null;
  const a = (root && typeof root === 'object' && 'attestation' in root ? root.attestation : root) as Record<
    string,
    unknown
  > | null;
  if (a === null || typeof a !== 'object') throw usage('the file holds no attestation object');
  const cp = a.checkpoint as Record<string, unknown> | null | undefined;
  if (cp === null || cp === undefined || typeof cp !== 'object')
    throw usage('attestation.checkpoint: missing (an attestation is bound to a checkpoint)');
  const resolve = (id: string) => keys.get(id);
  const claims: SignedAttestation = {
    tenant: String(a.tenant ?? ''),
    agent: String(a.agentId ?? ''),
    resourcePattern: String(a.resourcePattern ?? ''),
    from: seconds(a.startTime, 'attestation.startTime'),
    to: seconds(a.endTime, 'attestation.endTime'),
    allowedCount: count(a.allowedCount, 'attestation.allowedCount'),
    deniedCount: count(a.deniedCount, 'attestation.deniedCount'),
    allowedActedCount: count(a.allowedActedCount ?? 0, 'attestation.allowedActedCount'),
    allowedDelegatedCount: count(a.allowedDelegatedCount ?? 0, 'attestation.allowedDelegatedCount'),
    checkpoint: { seq: count(cp.seq, 'attestation.checkpoint.seq'), headHash: String(cp.headHash ?? '') },
    issuedAt: seconds(a.issuedAt, 'attestation.issuedAt'),
    keyId: String(a.keyId ?? ''),
    signature: base64Url(a.signature, 'attestation.signature'),
  };
  let attestation = verifyAttestation(claims, resolve);
  if (!attestation.ok && claims.allowedActedCount === 0 && claims.allowedDelegatedCount === 0) {
    // Signed before the acted/delegated split (layout v1): the response shows the split as 0.
    const { allowedActedCount: _a, allowedDelegatedCount: _d, ...v1 } = claims;
    const old = verifyAttestation(v1, resolve);
    if (old.ok) attestation = old;
  }
  const checkpoint = verifyCheckpoint(
    {
      tenant: String(cp.tenant ?? ''),
      seq: claims.checkpoint.seq,
      headHash: claims.checkpoint.headHash,
      time: seconds(cp.time, 'attestation.checkpoint.time'),
      keyId: String(cp.keyId ?? ''),
      signature: base64Url(cp.signature, 'attestation.checkpoint.signature'),
    },
    resolve,
  );
  const sameTenant = String(cp.tenant ?? '') === claims.tenant;
  const checkpointOk: SignatureCheck =
    checkpoint.ok && !sameTenant
      ? { ok: false, message: `checkpoint is of tenant '${String(cp.tenant)}', not '${claims.tenant}'` }
      : checkpoint;
  return { ok: attestation.ok && checkpointOk.ok, attestation, checkpoint: checkpointOk };
}

/** Adds the options loadKeyRing reads to an offline verify command. */
export function keyRingOptions(command: Command): Command {
  return command
    .option('--keys <file>', 'the auditor public keys, as `authority audit keys --json` saves them')
    .option('--public-key <base64>', 'an auditor public key (repeatable, comma-separated)', collect);
}

/**
 * The auditor keys to verify offline against, from `--keys FILE` (as `audit keys --json` saves
 * them) and `--public-key` (repeatable); a usage error when there are none.
 */
export async function loadKeyRing(
  ctx: CommandContext,
  opts: Record<string, unknown>,
): Promise<Map<string, Uint8Array>> {
  const saved: SavedAuditorKey[] = [];
  if (opts.keys !== undefined) {
    const text = await ctx.readInput(opts.keys as string, '--keys');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw usage(`--keys ${String(opts.keys)}: not JSON (${(err as Error).message})`);
    }
    const list = Array.isArray(parsed) ? parsed : (parsed as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(list)) throw usage(`--keys ${String(opts.keys)}: expected {"keys": [...]}`);
    saved.push(...(list as SavedAuditorKey[]));
  }
  for (const pk of (opts.publicKey as string[] | undefined) ?? []) {
    saved.push({ keyId: auditorKeyIdOf(Buffer.from(pk, 'base64')), publicKey: pk });
  }
  if (saved.length === 0) throw usage('no keys: pass --keys FILE (from `authority audit keys --json`) or --public-key');
  await cryptoReady();
  return keyRing(saved);
}

/** A saved report (the page, or the JSON form) rather than an attestation. */
export function isReport(text: string): boolean {
  if (!/^\s*\{/.test(text)) return true; // not JSON: a page (verifySignedReport says if it is not one)
  try {
    const doc = JSON.parse(text) as Record<string, unknown> | null;
    return doc !== null && typeof doc === 'object' && doc['reportType'] === 'compliance';
  } catch {
    return false;
  }
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
    .description(
      'a signed compliance report for a window: HTML (default), JSON or PDF (A4, via headless Chromium); per agent, per resource, or a summary',
    )
    .option('--since <time>', "window start (default: the chain's first entry)", timeOption)
    .option('--until <time>', 'window end', timeOption, 'now')
    .option('-a, --agent <id>', 'a per-agent report: events on whose delegation path the agent is')
    .option('-r, --resource <glob>', 'a per-resource report: events on resources matching the glob (* crosses /)')
    .option('--summary', 'the executive summary, chain verification and signature, without the lists')
    .addOption(new Option('--format <format>', 'report format').choices(['html', 'json', 'pdf']).default('html'))
    .option(
      '-o, --output <file>',
      'where to write the report (default: compliance-report-<tenant>.html or .pdf, or stdout for json)',
    )
    .option('--force', 'overwrite an existing file')
    .action(
      action(state, async (ctx, _a, opts) => {
        const auditor = await ctx.auditor();
        const tenant = await ctx.tenant();
        const start = resolveTime(ctx, opts.since);
        const end = resolveTime(ctx, opts.until) as Date;
        if (start !== undefined && start > end) throw usage('--since is after --until');
        const pdf = opts.format === 'pdf';
        const format = opts.format === 'json' ? 'JSON' : 'HTML';
        const res = await auditor.getComplianceReport(
          {
            tenant,
            ...(start !== undefined ? { startTime: timestampToGrpc(start) } : {}),
            endTime: timestampToGrpc(end),
            format,
            agentId: (opts.agent as string | undefined) ?? '',
            resourceGlob: (opts.resource as string | undefined) ?? '',
            summary: opts.summary === true,
          },
          { deadlineMs: Math.max((await ctx.cfg()).timeoutMs, 60_000) },
        );
        const body = Buffer.from(res.body);
        const output =
          (opts.output as string | undefined) ??
          (pdf
            ? `compliance-report-${tenant}.pdf`
            : format === 'HTML'
              ? `compliance-report-${tenant}.html`
              : undefined);
        if (output === undefined) {
          ctx.io.stdout(body.toString('utf8'));
          if (!body.toString('utf8').endsWith('\n')) ctx.io.stdout('\n');
          return;
        }
        // A PDF is a print of the signed page, which is kept next to it: the page is what verifies.
        const htmlFile = pdf ? `${output.replace(/\.pdf$/i, '')}.html` : output;
        const exclusive = opts.force !== true;
        if (pdf && exclusive && (await ctx.io.fileExists(output)))
          throw new CliError(`${output} exists; pass --force to overwrite`, ExitCode.FAILURE);
        try {
          await ctx.io.writeFile(htmlFile, body, { exclusive });
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EEXIST')
            throw new CliError(`${htmlFile} exists; pass --force to overwrite`, ExitCode.FAILURE);
          throw err;
        }
        if (pdf) {
          try {
            await printPdf(ctx.io.env, path.resolve(ctx.io.cwd, htmlFile), path.resolve(ctx.io.cwd, output));
          } catch (err) {
            throw new CliError(`the PDF could not be made: ${(err as Error).message}`, ExitCode.FAILURE);
          }
        }
        ctx.out.data({
          file: output,
          ...(pdf ? { signedHtml: htmlFile } : {}),
          contentType: pdf ? 'application/pdf' : res.contentType,
          bytes: body.length,
          start: start?.toISOString() ?? null,
          end: end.toISOString(),
        });
        ctx.out.line(
          pdf
            ? `report written to ${output} (A4 PDF) and ${htmlFile} (the signed page: compliance verify checks it)`
            : `report written to ${output} (${body.length} bytes, ${res.contentType})`,
        );
      }),
    );

  keyRingOptions(
    compliance
      .command('verify')
      .description(
        "check a saved attestation (`compliance attest --json > FILE`) or report (`compliance report`, HTML or JSON) offline against the auditor's public keys (exit 0 valid, 4 not)",
      )
      .argument('<file>', 'the saved attestation or report, - for stdin'),
  ).action(
    action(state, async (ctx, args, opts) => {
      const ring = await loadKeyRing(ctx, opts);
      const file = args[0] as string;
      const text = await ctx.readInput(file, 'attestation or report');
      const say = (what: string, c: SignatureCheck, valid = 'signature valid') =>
        `${what}: ${c.ok ? valid : `INVALID — ${c.message}`}`;
      if (isReport(text)) {
        const result = verifySignedReport(text, (id) => ring.get(id));
        ctx.out.data({ file, kind: 'report', ...result });
        ctx.out.line(say(`report content (${result.format})`, result.content, 'unchanged since signing'));
        ctx.out.line(say('report', result.signature));
        ctx.out.line(
          say(
            `checkpoint${result.checkpointSeq !== undefined ? ` (seq ${result.checkpointSeq})` : ''}`,
            result.checkpoint,
          ),
        );
        ctx.out.line(result.ok ? `${file}: VALID` : `${file}: NOT VALID`);
        return result.ok ? ExitCode.OK : ExitCode.VERIFICATION_FAILED;
      }
      let doc: unknown;
      try {
        doc = JSON.parse(text);
      } catch (err) {
        throw usage(`${file}: not JSON (${(err as Error).message})`);
      }
      const result = verifySavedAttestation(doc, ring);
      ctx.out.data({ file, kind: 'attestation', ...result });
      ctx.out.line(say('attestation', result.attestation));
      ctx.out.line(say('checkpoint', result.checkpoint));
      ctx.out.line(result.ok ? `${file}: VALID` : `${file}: NOT VALID`);
      return result.ok ? ExitCode.OK : ExitCode.VERIFICATION_FAILED;
    }),
  );
}
