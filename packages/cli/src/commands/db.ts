// db status: the tenant's chain as the auditor's store holds it (head, last checkpoint and its
// age, consumer lag, quarantined records, archive boundary).
import type { Command } from 'commander';
import { isoOf } from '../output';
import { action, type RunState } from './common';

function age(seconds: number): string {
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

export function registerDb(program: Command, state: RunState): void {
  const db = program.command('db').description("the auditor's store");
  db.command('status')
    .description('per tenant: chain head, last checkpoint and its age, consumer lag, quarantined records')
    .action(
      action(state, async (ctx) => {
        const auditor = await ctx.auditor();
        const st = await auditor.getChainStatus({ tenant: await ctx.tenant() });
        ctx.out.data(st);
        const cp = st.lastCheckpoint;
        const lag = st.consumerLag.reduce((n, l) => n + Number(l.lag), 0);
        ctx.out.fields([
          ['tenant', st.tenant],
          [
            'chain head',
            Number(st.headSeq) === 0
              ? 'empty'
              : `seq ${st.headSeq}, hash ${st.headHash}${st.headRecordedAt ? `, recorded ${isoOf(st.headRecordedAt)}` : ''}`,
          ],
          [
            'last checkpoint',
            cp
              ? `seq ${cp.seq}, signed ${isoOf(cp.time)} (${age(Number(st.checkpointAgeSeconds))} ago) by ${cp.keyId}`
              : 'none yet',
          ],
          ['after checkpoint', `${st.entriesAfterCheckpoint} entries not yet covered by a signature`],
          [
            'consumer lag',
            st.consumerLag.length === 0
              ? 'unknown (the auditor has no running consumer)'
              : `${lag} records on the audit topic (${st.consumerLag.map((l) => `p${l.partition}: ${l.lag}`).join(', ')})`,
          ],
          ['quarantined', `${st.quarantined} records claiming this tenant`],
          [
            'archived',
            Number(st.archivedThroughSeq) === 0
              ? 'nothing'
              : `seqs 1-${st.archivedThroughSeq} (the chain verifies from head ${st.archivedHeadHash})`,
          ],
        ]);
      }),
    );
}
