// MongoDB (FerretDB-compatible) store of policy versions. The unique index on (tenant, version) is
// the linearization point of PutPolicy/DeletePolicy: exactly one insert of a given version wins,
// across every replica, without transactions.
import { recordKeys } from '@authority/core';
import { isDuplicateKeyError } from '@authority/platform';
import type { Collection, Db } from 'mongodb';

export const POLICY_VERSIONS_COLLECTION = 'policy_versions';

/** One stored version. `_id` is `<tenant>/<version zero-padded to 12>`, the Kafka record key too. */
export interface PolicyVersionDoc {
  _id: string;
  tenant: string;
  version: number;
  /** The YAML text exactly as accepted ("" for a tombstone). */
  yaml: string;
  /** Hex SHA-256 of the UTF-8 bytes of `yaml`. */
  sha256: string;
  /** Credential id of the caller (`operator` for the operator key). */
  author: string;
  createdAt: Date;
  deleted: boolean;
  /** Human summary of the change from the previous version. */
  diffSummary: string;
  /** Id of the audit event of this version (stable across republishing, so redelivery is idempotent). */
  auditEventId: string;
  /** Trace context of the request that created the version (carried on the published events). */
  traceparent?: string;
  /** False between the insert and the acknowledged publish of both events. */
  published: boolean;
  publishedAt?: Date;
}

/** Metadata of a version without its YAML text (ListPolicyVersions). */
export type PolicyVersionMeta = Omit<PolicyVersionDoc, 'yaml'> & { yaml?: string };

/** `<tenant>/<version zero-padded to 12 digits>`: document id and Kafka record key (core's rule). */
export function versionKey(tenant: string, version: number): string {
  return recordKeys.policyVersion(tenant, version);
}

/** Thrown by insert when the version already exists (another writer won). */
export class VersionConflictError extends Error {
  override readonly name = 'VersionConflictError';
  constructor(
    readonly tenant: string,
    readonly version: number,
  ) {
    super(`version ${version} of tenant ${tenant} already exists`);
  }
}

export class PolicyStore {
  readonly collection: Collection<PolicyVersionDoc>;

  constructor(db: Db) {
    this.collection = db.collection<PolicyVersionDoc>(POLICY_VERSIONS_COLLECTION);
  }

  /** Creates the indexes (idempotent). The unique one is what forbids lost updates. */
  async ensureIndexes(): Promise<void> {
    await this.collection.createIndex({ tenant: 1, version: 1 }, { unique: true, name: 'tenant_version_unique' });
    await this.collection.createIndex({ published: 1, tenant: 1, version: 1 }, { name: 'unpublished' });
  }

  /** The newest version of a tenant (tombstones included), or undefined. */
  async latest(tenant: string): Promise<PolicyVersionDoc | undefined> {
    const doc = await this.collection.find({ tenant }).sort({ version: -1 }).limit(1).next();
    return doc ?? undefined;
  }

  async get(tenant: string, version: number): Promise<PolicyVersionDoc | undefined> {
    const doc = await this.collection.findOne({ tenant, version });
    return doc ?? undefined;
  }

  /**
   * Inserts a new version. Throws VersionConflictError when (tenant, version) exists: the caller
   * lost the race (or was stale).
   */
  async insert(doc: PolicyVersionDoc): Promise<void> {
    try {
      await this.collection.insertOne(doc, { writeConcern: { w: 'majority', j: true } });
    } catch (err) {
      if (isDuplicateKeyError(err)) throw new VersionConflictError(doc.tenant, doc.version);
      throw err;
    }
  }

  /** Versions below `before` (all when undefined), newest first, without YAML text. */
  async listDescending(tenant: string, before: number | undefined, limit: number): Promise<PolicyVersionMeta[]> {
    const filter = before === undefined ? { tenant } : { tenant, version: { $lt: before } };
    return this.collection
      .find(filter, { projection: { yaml: 0 } })
      .sort({ version: -1 })
      .limit(limit)
      .toArray();
  }

  /** Versions after `after`, oldest first, with YAML text. */
  async listAfter(tenant: string, after: number, limit: number): Promise<PolicyVersionDoc[]> {
    return this.collection
      .find({ tenant, version: { $gt: after } })
      .sort({ version: 1 })
      .limit(limit)
      .toArray();
  }

  /** Unpublished versions of a tenant up to `upTo`, oldest first. */
  async unpublishedOf(tenant: string, upTo: number): Promise<PolicyVersionDoc[]> {
    return this.collection
      .find({ published: false, tenant, version: { $lte: upTo } })
      .sort({ version: 1 })
      .toArray();
  }

  /** Every unpublished version (all tenants), by tenant then version. */
  async unpublished(limit: number): Promise<PolicyVersionDoc[]> {
    return this.collection.find({ published: false }).sort({ tenant: 1, version: 1 }).limit(limit).toArray();
  }

  async markPublished(tenant: string, version: number, at: Date): Promise<void> {
    await this.collection.updateOne({ tenant, version }, { $set: { published: true, publishedAt: at } });
  }
}
