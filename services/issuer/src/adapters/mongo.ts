// The issuer's MongoDB: tenants, signing keys (private halves sealed under the KEK), credential
// hashes, and approval requests. Nothing else reads this database.
//
// FerretDB (our MongoDB-wire server) does not make a conditional update atomic: twenty concurrent
// `findOneAndUpdate({status:'APPROVED'}, {$set:{status:'CONSUMED'}})` calls let several callers
// "win" (measured: 17 of 20 rounds had 2-14 winners). Inserts under a unique index ARE atomic
// (duplicate key 11000 for every loser). So every state change that must happen once — deciding an
// approval, consuming it, a key's generation — is claimed by inserting a document with a unique
// `_id`; the status fields of the main documents are written after the claim and are only a
// convenient copy of what the claims say.
import { Binary, type Collection, type Db, type MongoClient } from 'mongodb';
import { connectMongo, isDuplicateKeyError, type Logger, type Secret } from '@authority/platform';
import type { SealedKey } from '../kek';

export type KeyStatusName = 'ACTIVE' | 'VERIFY_ONLY' | 'RETIRED';
export type CredentialKindName = 'ADMIN' | 'APPROVER' | 'CHECKER' | 'AUDITOR';
export type ApprovalStatusName = 'PENDING' | 'APPROVED' | 'REJECTED' | 'CONSUMED' | 'EXPIRED_UNUSED';

export interface TenantDoc {
  _id: string;
  displayName: string;
  createdAt: Date;
}

export interface SealedDoc {
  alg: 'A256GCM';
  nonce: Binary;
  ciphertext: Binary;
  tag: Binary;
}

export interface KeyDoc {
  /** `<tenant>/<kid>` */
  _id: string;
  tenant: string;
  kid: string;
  /** 1 for the tenant's first key; unique per tenant, the highest published one signs. */
  generation: number;
  publicKey: Binary;
  /** The 32-byte Ed25519 seed, AES-256-GCM under the KEK with `<tenant>/<kid>` as associated data. */
  sealedSeed: SealedDoc;
  status: KeyStatusName;
  /** True once its KeyEvent (with the current status) has been acknowledged by Kafka. */
  published: boolean;
  createdAt: Date;
  verifyUntil?: Date;
  /** When the key stopped signing: set when it is superseded (rotation) or retired while ACTIVE. */
  signedUntil?: Date;
  retiredAt?: Date;
  /** Retired at once because it is (or may be) leaked (RetireKey `compromised`). */
  compromised?: boolean;
  /** Why RetireKey retired it (as given by the caller). */
  retireReason?: string;
  /** The key created to replace it when RetireKey retired it while ACTIVE. */
  replacedBy?: string;
}

export interface CredentialDoc {
  _id: string;
  tenant: string;
  kind: CredentialKindName;
  /** Hex SHA-256 of the secret. */
  secretSha256: string;
  revoked: boolean;
  published: boolean;
  createdAt: Date;
  createdBy: string;
  revokedAt?: Date;
}

export interface ApprovalDoc {
  /** `<tenant>/<approvalId>` */
  _id: string;
  tenant: string;
  approvalId: string;
  agent: string;
  scope: string;
  action: string;
  /** '' when the call names no resource. */
  resource: string;
  /** '' when no purpose was given. */
  purpose: string;
  /** `chain[0]`. */
  rootJti: string;
  /** Absent when the call gave no record count. */
  recordCount?: number;
  /** Every context field of the call, sorted by name (field names are data here, not keys). */
  contextFields?: { name: string; value: string }[];
  /** `jti` of every link of the presenting chain, root first. */
  chain?: string[];
  /** `sub` of every link of that chain, root first. */
  agentChain?: string[];
  /**
   * approvalRequestDigest of the fields above. Absent on approvals requested before approvals
   * were bound to the whole request: those can never be consumed.
   */
  requestDigest?: string;
  status: ApprovalStatusName;
  requestedBy: string;
  createdAt: Date;
  /** Unanswered by then: auto-denied. */
  decideBy: Date;
  decidedAt?: Date;
  decidedBy?: string;
  comment?: string;
  /** Approved: usable (once) until then. */
  useUntil?: Date;
  consumedAt?: Date;
}

/** A once-only state change of an approval: `_id` `<tenant>/<approvalId>/decide|consume`. */
export interface ApprovalClaimDoc {
  _id: string;
  tenant: string;
  approvalId: string;
  step: 'decide' | 'consume';
  /** decide: APPROVED, REJECTED or EXPIRED_UNUSED; consume: CONSUMED or EXPIRED_UNUSED. */
  outcome: ApprovalStatusName;
  by: string;
  at: Date;
  comment?: string;
}

/** Latest `exp` (rounded up to a minute) a key has signed: `_id` `<tenant>/<kid>/<bucket>`. */
export interface KeyExpDoc {
  _id: string;
  tenant: string;
  kid: string;
  bucket: number;
}

interface MetaDoc {
  _id: string;
  sealed?: SealedDoc;
  createdAt?: Date;
}

export function isDuplicateKey(err: unknown): boolean {
  return isDuplicateKeyError(err);
}

export function toSealedDoc(s: SealedKey): SealedDoc {
  return { alg: s.alg, nonce: new Binary(s.nonce), ciphertext: new Binary(s.ciphertext), tag: new Binary(s.tag) };
}

export function fromSealedDoc(d: SealedDoc): SealedKey {
  return {
    alg: d.alg,
    nonce: Buffer.from(d.nonce.buffer),
    ciphertext: Buffer.from(d.ciphertext.buffer),
    tag: Buffer.from(d.tag.buffer),
  };
}

/** Bytes as MongoDB stores them. */
export function storedBytes(bytes: Uint8Array): Binary {
  return new Binary(bytes);
}

export function binaryBytes(b: Binary): Uint8Array {
  return new Uint8Array(b.buffer);
}

export class IssuerStore {
  readonly tenants: Collection<TenantDoc>;
  readonly keys: Collection<KeyDoc>;
  readonly keyExp: Collection<KeyExpDoc>;
  readonly credentials: Collection<CredentialDoc>;
  readonly approvals: Collection<ApprovalDoc>;
  readonly approvalClaims: Collection<ApprovalClaimDoc>;
  readonly meta: Collection<MetaDoc>;

  private constructor(
    private readonly client: MongoClient,
    readonly db: Db,
  ) {
    this.tenants = db.collection('tenants');
    this.keys = db.collection('keys');
    this.keyExp = db.collection('key_exp');
    this.credentials = db.collection('credentials');
    this.approvals = db.collection('approvals');
    this.approvalClaims = db.collection('approval_claims');
    this.meta = db.collection('meta');
  }

  /** Connects (failing fast when the server is unreachable). */
  static async connect(uri: string | Secret, dbName: string, logger: Logger): Promise<IssuerStore> {
    const client = await connectMongo(uri, {
      appName: 'authority-issuer',
      logger,
      maxPoolSize: 32,
      database: dbName,
    });
    return new IssuerStore(client, client.db(dbName));
  }

  /** Creates every index the issuer relies on (idempotent). */
  async ensureIndexes(): Promise<void> {
    await this.keys.createIndex({ tenant: 1, generation: 1 }, { unique: true, name: 'tenant_generation_unique' });
    await this.keys.createIndex({ status: 1 }, { name: 'status' });
    await this.keyExp.createIndex({ tenant: 1, kid: 1, bucket: -1 }, { name: 'tenant_kid_bucket' });
    await this.credentials.createIndex({ secretSha256: 1 }, { unique: true, name: 'secret_sha256_unique' });
    await this.credentials.createIndex({ tenant: 1 }, { name: 'tenant' });
    await this.approvals.createIndex({ tenant: 1, createdAt: -1 }, { name: 'tenant_created' });
    await this.approvals.createIndex({ status: 1, decideBy: 1 }, { name: 'status_decide_by' });
  }

  async kekCheck(): Promise<SealedDoc | undefined> {
    return (await this.meta.findOne({ _id: 'kek-check' }))?.sealed;
  }

  /** Stores the KEK check value unless one exists; returns the stored one. */
  async initKekCheck(sealed: SealedDoc): Promise<SealedDoc> {
    try {
      await this.meta.insertOne({ _id: 'kek-check', sealed, createdAt: new Date() });
      return sealed;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      const existing = await this.kekCheck();
      if (!existing) throw err;
      return existing;
    }
  }

  async ping(): Promise<void> {
    await this.db.command({ ping: 1 });
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
