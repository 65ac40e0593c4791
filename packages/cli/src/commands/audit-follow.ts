// Following the audit chain for `audit tail`: pages of QueryEvents (polled with -f), or the chain
// topic through the SDK's verified feed (-f with Kafka brokers), filtered like the query.
import { randomBytes } from 'node:crypto';
import type { ChainEntry__Output, QueryEventsRequest } from '@authority/proto';
import { encodeEvent, pb, timestampToGrpc } from '@authority/proto';
import { globMatch } from '@authority/core';
import {
  AuditFeedError,
  AuthorityApiError,
  Status,
  subscribeAudit,
  type AuditorClient,
  type ChainedAuditItem,
} from '@authority/sdk';
import { CliError, ExitCode } from '../exit';
import type { CommandContext } from '../context';

/**
 * Follows the chain: pages from the last cursor the auditor gave, printing entries with a sequence
 * number above the last one printed; with `follow`, polls until the signal aborts. Returns the
 * last sequence number printed (0 when none).
 */
export async function tail(
  ctx: CommandContext,
  auditor: AuditorClient,
  q: QueryEventsRequest,
  follow: boolean,
  intervalMs: number,
  emit: (e: ChainEntry__Output) => void,
): Promise<number> {
  let resume = '';
  let lastSeq = 0;
  const signal = ctx.io.signal;
  for (;;) {
    let token = resume;
    for (;;) {
      if (signal.aborted) return lastSeq;
      let page;
      try {
        page = await auditor.queryEvents({ ...q, pageToken: token, pageSize: 500 }, { signal });
      } catch (err) {
        if (signal.aborted) return lastSeq;
        // Following survives an auditor restart: note it and poll again at the next interval.
        if (
          follow &&
          err instanceof AuthorityApiError &&
          (err.code === Status.UNAVAILABLE || err.code === Status.DEADLINE_EXCEEDED)
        ) {
          ctx.out.note(`auditor unavailable (${err.message}); retrying`);
          break;
        }
        throw err;
      }
      for (const e of page.entries) {
        const seq = Number(e.seq);
        if (seq > lastSeq) {
          emit(e);
          lastSeq = seq;
        }
      }
      if (page.nextPageToken === '') break;
      resume = page.nextPageToken;
      token = resume;
    }
    if (!follow) return lastSeq;
    const stopped = await new Promise<boolean>((resolve) => {
      if (signal.aborted) return resolve(true);
      const t = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve(false);
      }, intervalMs);
      const onAbort = () => {
        clearTimeout(t);
        resolve(true);
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
    if (stopped) return lastSeq;
  }
}

/** Whether a followed event passes the query's filters (what QueryEvents applies on the server). */
function feedMatches(ev: pb.AuditEvent, q: QueryEventsRequest): boolean {
  if (q.agentId && ev.actor?.agentId !== q.agentId && !(ev.actor?.agentChain ?? []).includes(q.agentId)) return false;
  if (q.action && ev.action !== q.action) return false;
  if (q.resourceGlob && !globMatch(q.resourceGlob, ev.resource)) return false;
  if (q.decision && pb.Decision[ev.decision] !== q.decision) return false;
  if (q.reason && pb.ReasonCode[ev.reason] !== q.reason) return false;
  const ms = ev.time ? Number(ev.time.seconds) * 1000 : undefined;
  const at = (t: QueryEventsRequest['startTime']) => Number(t?.seconds ?? 0) * 1000;
  if (q.startTime && ms !== undefined && ms < at(q.startTime)) return false;
  if (q.endTime && ms !== undefined && ms > at(q.endTime)) return false;
  return true;
}

/** A chained feed item in the shape QueryEvents gives (ChainEntry), so both paths print alike. */
function feedEntry(item: ChainedAuditItem): ChainEntry__Output {
  const event = JSON.parse(encodeEvent(pb.AuditEventSchema, item.event).toString('utf8')) as Record<string, unknown>;
  const time = item.event.time;
  return {
    seq: String(item.seq),
    hash: item.hash,
    prevHash: item.prevHash,
    recordedAt: item.recordedAt ? timestampToGrpc(item.recordedAt) : null,
    event: {
      ...event,
      time: time ? { seconds: String(time.seconds), nanos: time.nanos } : null,
    },
    rawEvent: Buffer.from(item.rawEvent),
  } as unknown as ChainEntry__Output;
}

/**
 * `audit tail -f` over the chain topic: the entries after `lastSeq` as the auditor chains them,
 * verified (hashes recomputed, order checked) by the SDK's subscribeAudit, filtered like the
 * query; until Ctrl-C. A gap is noted on stderr; a record that does not verify stops it (exit 4).
 */
export async function followChainTopic(
  ctx: CommandContext,
  brokers: string,
  q: QueryEventsRequest,
  lastSeq: number,
  emit: (e: ChainEntry__Output) => void,
): Promise<number> {
  const feed = subscribeAudit({
    brokers,
    groupId: `authority-cli-tail-${randomBytes(6).toString('hex')}`,
    tenant: q.tenant,
    topicPrefix: ctx.io.env.AUTHORITY_TOPIC_PREFIX || 'authority.',
    commit: false,
    signal: ctx.io.signal,
  });
  try {
    for await (const item of feed) {
      if (item.kind === 'gap') {
        if (item.toSeq > lastSeq)
          ctx.out.note(
            `entries ${Math.max(item.fromSeq, lastSeq + 1)}-${item.toSeq} are not on the chain topic: \`authority audit query\` shows them`,
          );
        continue;
      }
      if (item.kind !== 'chained' || item.seq <= lastSeq) continue;
      lastSeq = item.seq;
      if (feedMatches(item.event, q)) emit(feedEntry(item));
    }
  } catch (err) {
    if (err instanceof AuditFeedError)
      throw new CliError(`the chain topic does not verify: ${err.message}`, ExitCode.VERIFICATION_FAILED, {
        tenant: err.tenant,
        seq: err.seq,
      });
    throw err;
  }
  return ExitCode.OK;
}
