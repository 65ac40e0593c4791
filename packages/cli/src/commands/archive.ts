// audit archive export | verify | delete: old chain segments out of the store, verifiable offline.
//
//   export  entries after the current archive boundary up to a checkpoint seq, with the signed
//           checkpoints that cover them, verified against the auditor's keys and written durably
//           (fsync of the file and its directory) before anything is deleted;
//   verify  the saved file offline (auditor public keys only);
//   delete  the file is verified again, then ArchiveChainSegment deletes the segment from the store
//           (ADMIN only); the auditor verifies the segment once more and records the boundary first.
import { createHash } from 'node:crypto';
import type { Command } from 'commander';
import {
  ARCHIVE_FORMAT,
  cryptoReady,
  encodeBase64Url,
  verifyChainArchive,
  type ChainArchive,
  type SignedCheckpoint,
} from '@authority/core';
import type { Checkpoint__Output } from '@authority/proto';
import { CliError, ExitCode, usage } from '../exit';
import type { CommandContext } from '../context';
import { action, intOption, type RunState } from './common';
import { keyRing, keyRingOptions, loadKeyRing, type SavedAuditorKey } from './compliance';

function signedCheckpoint(cp: Checkpoint__Output): SignedCheckpoint {
  return {
    tenant: cp.tenant,
    seq: Number(cp.seq),
    headHash: cp.headHash,
    time: Number(cp.time?.seconds ?? 0),
    keyId: cp.keyId,
    signature: encodeBase64Url(Buffer.from(cp.signature)),
  };
}

/** The auditor's current public keys, asked of the auditor (for export and delete). */
async function liveKeyRing(ctx: CommandContext): Promise<Map<string, Uint8Array>> {
  const auditor = await ctx.auditor();
  const res = await auditor.listAuditorKeys({});
  await cryptoReady();
  return keyRing(
    res.keys.map((k): SavedAuditorKey => ({ keyId: k.keyId, publicKey: Buffer.from(k.publicKey).toString('base64') })),
  );
}

async function readArchive(ctx: CommandContext, file: string): Promise<{ text: string; doc: unknown }> {
  const text = await ctx.readInput(file, 'archive');
  try {
    return { text, doc: JSON.parse(text) as unknown };
  } catch (err) {
    throw usage(`${file}: not JSON (${(err as Error).message})`);
  }
}

const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

export function registerArchive(audit: Command, state: RunState): void {
  const archive = audit
    .command('archive')
    .description('move old chain segments out of the store into files that verify offline (export, verify, delete)');

  archive
    .command('export')
    .description('write the entries up to a checkpoint, with the checkpoints that cover them, to a file (fsynced)')
    .requiredOption('--through <seq>', 'the last seq: a signed checkpoint seq', intOption(1, Number.MAX_SAFE_INTEGER))
    .requiredOption('-o, --output <file>', 'the archive file (never overwritten)')
    .action(
      action(state, async (ctx, _a, opts) => {
        const auditor = await ctx.auditor();
        const tenant = await ctx.tenant();
        const through = opts.through as number;
        const status = await auditor.getChainStatus({ tenant });
        const fromSeq = Number(status.archivedThroughSeq) + 1;
        if (through < fromSeq) throw new CliError(`seqs up to ${fromSeq - 1} are already archived`, ExitCode.FAILURE);
        const checkpoints: SignedCheckpoint[] = [];
        let pageToken = '';
        for (;;) {
          const page = await auditor.listCheckpoints({ tenant, pageSize: 1000, pageToken });
          for (const cp of page.checkpoints) {
            const seq = Number(cp.seq);
            if (seq >= fromSeq - 1 && seq <= through) checkpoints.push(signedCheckpoint(cp));
          }
          if (page.nextPageToken === '' || page.nextPageToken === pageToken) break;
          pageToken = page.nextPageToken;
        }
        checkpoints.sort((a, b) => a.seq - b.seq);
        if (!checkpoints.some((cp) => cp.seq === through))
          throw new CliError(
            `no checkpoint at seq ${through}: a segment ends at a signed checkpoint (authority audit verify names the latest; checkpoints at or before it: ${
              checkpoints
                .map((cp) => cp.seq)
                .slice(-5)
                .join(', ') || 'none'
            })`,
            ExitCode.FAILURE,
          );
        const entries: ChainArchive['entries'] = [];
        for await (const e of auditor.allEvents({ tenant, pageSize: 1000 })) {
          const seq = Number(e.seq);
          if (seq < fromSeq) continue;
          if (seq > through) break;
          entries.push({ seq, hash: e.hash, prevHash: e.prevHash, rawEvent: e.rawEvent });
        }
        const doc: ChainArchive = {
          format: ARCHIVE_FORMAT,
          tenant,
          fromSeq,
          throughSeq: through,
          entries,
          checkpoints,
        };
        // Verified before it is written: a file that does not verify is never offered for deletion.
        const ring = await liveKeyRing(ctx);
        const checked = verifyChainArchive(doc, (id) => ring.get(id));
        if (!checked.ok)
          throw new CliError(`the segment does not verify: ${checked.message}`, ExitCode.VERIFICATION_FAILED);
        const text = `${JSON.stringify(doc)}\n`;
        const output = opts.output as string;
        try {
          await ctx.io.writeFile(output, text, { exclusive: true, durable: true });
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EEXIST')
            throw new CliError(`${output} exists; an archive is never overwritten`, ExitCode.FAILURE);
          throw err;
        }
        const sha256 = sha256Hex(text);
        ctx.out.data({ file: output, tenant, fromSeq, throughSeq: through, entries: entries.length, sha256 });
        ctx.out.line(
          `archived seqs ${fromSeq}-${through} (${entries.length} entries, ${checkpoints.length} checkpoints) to ${output}, sha256 ${sha256}`,
        );
        ctx.out.line(`next: authority audit archive delete ${output} (deletes them from the store)`);
      }),
    );

  keyRingOptions(
    archive
      .command('verify')
      .description("check an archive file offline against the auditor's public keys (exit 0 valid, 4 not)")
      .argument('<file>', 'the archive, - for stdin'),
  ).action(
    action(state, async (ctx, args, opts) => {
      const ring = await loadKeyRing(ctx, opts);
      const file = args[0] as string;
      const { doc } = await readArchive(ctx, file);
      const v = verifyChainArchive(doc, (id) => ring.get(id));
      ctx.out.data({ file, ...v });
      if (!v.ok) {
        ctx.out.line(`${file}: NOT VALID — ${v.message}`);
        return ExitCode.VERIFICATION_FAILED;
      }
      ctx.out.line(
        `${file}: VALID — tenant ${v.tenant}, seqs ${v.fromSeq}-${v.throughSeq} (${v.entries} entries), ending at the signed checkpoint at seq ${v.throughSeq} (head ${v.headHash})`,
      );
      return ExitCode.OK;
    }),
  );

  archive
    .command('delete')
    .description('delete an exported segment from the store (ADMIN only; the file is verified first)')
    .argument('<file>', 'the archive written by `audit archive export`')
    .action(
      action(state, async (ctx, args) => {
        const auditor = await ctx.auditor();
        const tenant = await ctx.tenant();
        const file = args[0] as string;
        const { text, doc } = await readArchive(ctx, file);
        const ring = await liveKeyRing(ctx);
        const v = verifyChainArchive(doc, (id) => ring.get(id));
        if (!v.ok)
          throw new CliError(`${file} does not verify (${v.message}); nothing deleted`, ExitCode.VERIFICATION_FAILED);
        if (v.tenant !== tenant)
          throw new CliError(`${file} is an archive of tenant '${v.tenant}', not '${tenant}'`, ExitCode.FAILURE);
        const res = await auditor.archiveChainSegment({
          tenant,
          throughSeq: String(v.throughSeq),
          archiveSha256: sha256Hex(text),
        });
        ctx.out.data(res);
        ctx.out.line(
          `deleted ${res.deleted} entries of tenant ${tenant} from the store; archived through seq ${res.archivedThroughSeq} (head ${res.archivedHeadHash}); the chain now verifies from there`,
        );
      }),
    );
}
