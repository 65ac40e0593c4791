// Forwards a tenant's audit feed to JSON lines on stdout: what the auditor chained, verified, in
// chain order, without repeats (docs/audit-topic.md). Pipe it into a log shipper or a file:
//   KAFKA_BROKERS=127.0.0.1:9092 AUTHORITY_TENANT=acme node packages/sdk/examples/audit-jsonl.mjs >> acme-audit.jsonl
// Environment: KAFKA_BROKERS, AUTHORITY_TENANT (required); AUTHORITY_TOPIC_PREFIX (default
// `authority.`); AUDIT_FEED_GROUP (the consumer group, default `audit-jsonl-<tenant>`: a restart
// resumes after what it forwarded). Ctrl-C stops it (exit 0); a chain record that does not verify
// stops it with exit 4.
import sdk from '@authority/sdk';

const { subscribeAudit, auditFeedItemJson, AuditFeedError } = sdk;
const { KAFKA_BROKERS: brokers, AUTHORITY_TENANT: tenant } = process.env;
if (!brokers || !tenant) {
  process.stderr.write('set KAFKA_BROKERS and AUTHORITY_TENANT\n');
  process.exit(2);
}
const stop = new AbortController();
process.on('SIGINT', () => stop.abort());
process.on('SIGTERM', () => stop.abort());

const feed = subscribeAudit({
  brokers,
  tenant,
  groupId: process.env.AUDIT_FEED_GROUP ?? `audit-jsonl-${tenant}`,
  topicPrefix: process.env.AUTHORITY_TOPIC_PREFIX ?? 'authority.',
  signal: stop.signal,
});
try {
  for await (const item of feed) process.stdout.write(`${JSON.stringify(auditFeedItemJson(item))}\n`);
} catch (err) {
  process.stderr.write(`audit feed stopped: ${err.message}\n`);
  process.exitCode = err instanceof AuditFeedError ? 4 : 1;
}
