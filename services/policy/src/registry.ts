// The policy registry: validates through the core, commits a new version at the MongoDB
// linearization point (unique (tenant, version)), then publishes it to Kafka (acks=all) and marks it
// published. Versions stored but not yet published (a crash, a Kafka outage) are published by
// `publishPending`, run at start and periodically, so nothing committed is ever lost.
import { createHash, randomUUID } from 'node:crypto';
import { PolicyInvalidError } from './issues';
import {
  parsePolicy,
  PolicyValidationError,
  summarizePolicyDiff,
  type Policy,
  type PolicyIssue,
} from '@authority/core';
import {
  AbortedError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  UnavailableError,
  type Logger,
} from '@authority/platform';
import { versionKey, VersionConflictError, type PolicyStore, type PolicyVersionDoc } from './adapters/mongo';
import type { Principal } from './auth';

/** Publishes one stored version: its PolicyVersionEvent and its audit event, both acknowledged. */
export interface VersionPublisher {
  publishVersion(doc: PolicyVersionDoc): Promise<void>;
}

export type ValidationResult = { ok: true; policy: Policy } | { ok: false; issues: readonly PolicyIssue[] };

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Versions are int64 in the contract; we accept what a JS number holds exactly. */
export function parseVersion(value: string | number | undefined | null, field: string): number {
  const text = String(value ?? '0');
  if (!/^-?\d+$/.test(text))
    throw new InvalidArgumentError(field, `${field}: must be an integer, got ${JSON.stringify(text)}`);
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new InvalidArgumentError(field, `${field}: must be between 0 and ${Number.MAX_SAFE_INTEGER}, got ${text}`);
  return n;
}

/** The diff summary of a tombstone. */
export function deletionSummary(previousVersion: number, agents: readonly string[]): string {
  const shown = agents.slice(0, 20).join(', ') + (agents.length > 20 ? `, ... (${agents.length - 20} more)` : '');
  return `policy deleted (version ${previousVersion} had ${agents.length} agent(s)${agents.length > 0 ? `: ${shown}` : ''})`;
}

/** The stable reason of a version conflict (both ABORTED and FAILED_PRECONDITION). */
export const VERSION_CONFLICT_REASON = 'VERSION_CONFLICT';
/** The stable reason when a version is stored but its events could not be published yet. */
export const PUBLISH_PENDING_REASON = 'PUBLISH_PENDING';

/**
 * `expected_version` behind the current version → ABORTED (someone else wrote first: re-read and
 * retry). Ahead of it → FAILED_PRECONDITION (that version does not exist: the client's state is wrong).
 */
export function versionConflict(tenant: string, expected: number, current: number): Error {
  const message = `expected version ${expected} but the current version is ${current}`;
  if (expected > current) {
    return new FailedPreconditionError(
      `${message} (tenant ${tenant} has no version ${expected} yet)`,
      VERSION_CONFLICT_REASON,
      'expected_version',
    );
  }
  return new AbortedError(`${message} (tenant ${tenant}); read the current version and retry`, VERSION_CONFLICT_REASON);
}

/** Default bound on a version's YAML as encoded in its Kafka record (JSON-escaped). */
export const DEFAULT_MAX_RECORD_BYTES = 1_000_000;

export interface RegistryOptions {
  logger: Logger;
  /**
   * Largest JSON-escaped YAML accepted, so every stored version fits in a Kafka record (brokers
   * refuse records over message.max.bytes, 1 MiB by default). Default DEFAULT_MAX_RECORD_BYTES.
   */
  maxRecordBytes?: number;
  /** Called after a version is committed (and again after it is published): wakes watchers. */
  onCommitted?: (tenant: string, version: number) => void;
  now?: () => Date;
}

export class PolicyRegistry {
  /** Per-tenant chain of publishes in this replica, so one tenant's versions go out in order. */
  private readonly publishChains = new Map<string, Promise<void>>();
  private readonly now: () => Date;

  constructor(
    private readonly store: PolicyStore,
    private readonly publisher: VersionPublisher,
    private readonly opts: RegistryOptions,
  ) {
    this.now = opts.now ?? (() => new Date());
  }

  /** Validates a YAML text for `tenant` (the dry run of ValidatePolicy, and step 1 of PutPolicy). */
  validate(tenant: string, yaml: string): ValidationResult {
    let policy: Policy;
    try {
      policy = parsePolicy(yaml, { expectedTenant: tenant });
    } catch (err) {
      if (err instanceof PolicyValidationError) return { ok: false, issues: err.issues };
      throw err;
    }
    // A version that cannot be published must never be stored (it would stay pending forever):
    // quotes, backslashes and control characters grow when the YAML is JSON-escaped.
    const recordBytes = Buffer.byteLength(JSON.stringify(yaml), 'utf8');
    const maxRecordBytes = this.opts.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
    if (recordBytes > maxRecordBytes) {
      const message = `policy takes ${recordBytes} bytes in its Kafka record (JSON-escaped); the limit is ${maxRecordBytes} bytes (AUTHORITY_POLICY_MAX_RECORD_BYTES)`;
      return { ok: false, issues: [{ line: 1, column: 1, path: '', message }] };
    }
    return { ok: true, policy };
  }

  /** PutPolicy: a new version of `tenant`'s policy, if `expected` is the current version. */
  async put(
    tenant: string,
    yaml: string,
    expected: number,
    principal: Principal,
    traceparent?: string,
  ): Promise<PolicyVersionDoc> {
    const result = this.validate(tenant, yaml);
    if (!result.ok) throw new PolicyInvalidError(result.issues);
    return this.commit(tenant, expected, principal, traceparent, (previous) => ({
      yaml,
      deleted: false,
      diffSummary: summarizePolicyDiff(previous, result.policy),
    }));
  }

  /** DeletePolicy: a tombstone version; the tenant has no policy from it on. */
  async delete(
    tenant: string,
    expected: number,
    principal: Principal,
    traceparent?: string,
  ): Promise<PolicyVersionDoc> {
    return this.commit(tenant, expected, principal, traceparent, (previous, current) => {
      if (current === undefined) throw new NotFoundError(`tenant ${tenant} has no policy to delete`, 'tenant');
      if (current.deleted) {
        throw new FailedPreconditionError(
          `the policy of tenant ${tenant} is already deleted (version ${current.version})`,
          'ALREADY_DELETED',
        );
      }
      const agents = previous === undefined ? [] : [...previous.agents.keys()].sort();
      return { yaml: '', deleted: true, diffSummary: deletionSummary(current.version, agents) };
    });
  }

  private async commit(
    tenant: string,
    expected: number,
    principal: Principal,
    traceparent: string | undefined,
    build: (
      previous: Policy | undefined,
      current: PolicyVersionDoc | undefined,
    ) => { yaml: string; deleted: boolean; diffSummary: string },
  ): Promise<PolicyVersionDoc> {
    const current = await this.store.latest(tenant);
    const currentVersion = current?.version ?? 0;
    if (expected !== currentVersion) throw versionConflict(tenant, expected, currentVersion);
    const content = build(this.parseStored(current), current);
    const version = expected + 1;
    const doc: PolicyVersionDoc = {
      _id: versionKey(tenant, version),
      tenant,
      version,
      yaml: content.yaml,
      sha256: sha256Hex(content.yaml),
      author: principal.id,
      createdAt: this.now(),
      deleted: content.deleted,
      diffSummary: content.diffSummary,
      auditEventId: randomUUID(),
      published: false,
    };
    if (traceparent) doc.traceparent = traceparent;
    try {
      // The linearization point: exactly one writer inserts `expected + 1`.
      await this.store.insert(doc);
    } catch (err) {
      if (!(err instanceof VersionConflictError)) throw err;
      const now = (await this.store.latest(tenant))?.version ?? version;
      throw versionConflict(tenant, expected, now);
    }
    this.opts.logger.info(
      { tenant, version, author: principal.id, deleted: doc.deleted, sha256: doc.sha256 },
      'policy version committed',
    );
    this.opts.onCommitted?.(tenant, version);
    try {
      await this.publishTenant(tenant, version);
    } catch (err) {
      this.opts.logger.warn(
        { tenant, version, err_message: err instanceof Error ? err.message : String(err) },
        'policy version stored but not published yet',
      );
      throw new UnavailableError(
        `version ${version} of tenant ${tenant} is stored but could not be published yet; it will be published automatically (GetPolicy shows it)`,
        PUBLISH_PENDING_REASON,
      );
    }
    return { ...doc, published: true };
  }

  /** The parsed policy of a stored version (undefined for none or a tombstone). */
  private parseStored(doc: PolicyVersionDoc | undefined): Policy | undefined {
    if (doc === undefined || doc.deleted) return undefined;
    try {
      return parsePolicy(doc.yaml, { expectedTenant: doc.tenant });
    } catch (err) {
      // Never expected (nothing invalid is stored); the diff then reads as "from nothing".
      this.opts.logger.error({ tenant: doc.tenant, version: doc.version, err }, 'stored policy no longer parses');
      return undefined;
    }
  }

  /**
   * Publishes the unpublished versions of `tenant` up to `upTo`, oldest first, serialized per
   * tenant in this replica. Publishing twice is harmless (same record key, same audit event id).
   */
  publishTenant(tenant: string, upTo: number): Promise<void> {
    const previous = this.publishChains.get(tenant) ?? Promise.resolve();
    const next = previous
      .catch(() => undefined)
      .then(async () => {
        const pending = await this.store.unpublishedOf(tenant, upTo);
        for (const doc of pending) {
          await this.publisher.publishVersion(doc);
          await this.store.markPublished(doc.tenant, doc.version, this.now());
          this.opts.logger.debug({ tenant, version: doc.version }, 'policy version published');
        }
      });
    this.publishChains.set(tenant, next);
    void next
      .finally(() => {
        if (this.publishChains.get(tenant) === next) this.publishChains.delete(tenant);
      })
      .catch(() => undefined);
    return next;
  }

  /**
   * Publishes every stored-but-unpublished version (all tenants). Returns how many versions were
   * pending. Run at start (before SERVING) and periodically.
   */
  async publishPending(batch = 1000): Promise<number> {
    const pending = await this.store.unpublished(batch);
    const maxByTenant = new Map<string, number>();
    for (const doc of pending) maxByTenant.set(doc.tenant, Math.max(doc.version, maxByTenant.get(doc.tenant) ?? 0));
    for (const [tenant, upTo] of maxByTenant) {
      await this.publishTenant(tenant, upTo);
      this.opts.logger.info({ tenant, up_to: upTo }, 'republished pending policy versions');
    }
    return pending.length;
  }

  /** Waits for this replica's in-flight publishes (shutdown). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.publishChains.values()]);
  }
}
