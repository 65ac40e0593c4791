// The document vault the gateway serves (the original's vault tools, enforced): documents live in
// domains (finance, health, ...), each domain with a sensitivity label, per tenant, in MongoDB.
// The tools never decide anything themselves: every call is one enforcer check with the canonical
// resource of what it touches, and the store is then asked for the tenant the enforcer VERIFIED
// (the response's tenant), never the one the token claims.
//
//   resource of a domain    slos://vaults/<domain>
//   resource of a document  slos://vaults/<domain>/<name>
//   scopes                  vault:<domain>:read (list, metadata, read, query), vault:<domain>:write
import type { Collection, Db } from 'mongodb';
import { ensureIndexes } from '@authority/platform';

/** The labels a domain may carry, least to most sensitive. */
export const SENSITIVITY_LABELS = ['public', 'internal', 'confidential', 'restricted'] as const;
export type Sensitivity = (typeof SENSITIVITY_LABELS)[number];

export const DOMAIN_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** One canonical resource segment of safe characters; `.` and `..` are not names. */
export const DOCUMENT_NAME = /^(?!\.{1,2}$)[A-Za-z0-9._-]{1,128}$/;
/** Largest document content accepted by a write (characters). */
export const MAX_DOCUMENT_CHARS = 256 * 1024;
/** Most documents one list or query returns. */
export const MAX_VAULT_RESULTS = 100;

export interface VaultDomain {
  domain: string;
  sensitivity: Sensitivity;
  description: string;
}

export interface VaultDocumentMeta {
  domain: string;
  name: string;
  title: string;
  sensitivity: Sensitivity;
  size: number;
  version: number;
  updated_at: string;
  updated_by: string;
}

export interface VaultDocument extends VaultDocumentMeta {
  content: string;
}

export function domainResource(domain: string): string {
  return `slos://vaults/${domain}`;
}

export function documentResource(domain: string, name: string): string {
  return `slos://vaults/${domain}/${name}`;
}

export function vaultScope(domain: string, action: 'read' | 'write'): string {
  return `vault:${domain}:${action}`;
}

/** Where the vault lives; every method is scoped to one tenant. */
export interface VaultStore {
  domains(tenant: string): Promise<VaultDomain[]>;
  domain(tenant: string, domain: string): Promise<VaultDomain | undefined>;
  putDomain(tenant: string, domain: VaultDomain): Promise<void>;
  documents(tenant: string, domain: string, limit: number): Promise<VaultDocumentMeta[]>;
  document(tenant: string, domain: string, name: string): Promise<VaultDocument | undefined>;
  /** Creates or replaces a document (its label is the domain's); returns the stored metadata. */
  putDocument(
    tenant: string,
    domain: VaultDomain,
    doc: { name: string; title: string; content: string; by: string; at: Date },
  ): Promise<VaultDocumentMeta>;
  /** Documents whose title or content contains `text` (case-insensitive). */
  query(
    tenant: string,
    domain: string,
    text: string,
    limit: number,
  ): Promise<(VaultDocumentMeta & { snippet: string })[]>;
}

interface DomainRecord {
  _id: string;
  tenant: string;
  domain: string;
  sensitivity: Sensitivity;
  description: string;
}

interface DocumentRecord {
  _id: string;
  tenant: string;
  domain: string;
  name: string;
  title: string;
  content: string;
  sensitivity: Sensitivity;
  version: number;
  updatedAt: Date;
  updatedBy: string;
}

function meta(r: DocumentRecord): VaultDocumentMeta {
  return {
    domain: r.domain,
    name: r.name,
    title: r.title,
    sensitivity: r.sensitivity,
    size: r.content.length,
    version: r.version,
    updated_at: r.updatedAt.toISOString(),
    updated_by: r.updatedBy,
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The vault in MongoDB (FerretDB-compatible operations only). Keys start with the tenant. */
export class MongoVaultStore implements VaultStore {
  private readonly domainsCol: Collection<DomainRecord>;
  private readonly documentsCol: Collection<DocumentRecord>;

  constructor(db: Db) {
    this.domainsCol = db.collection<DomainRecord>('vault_domains');
    this.documentsCol = db.collection<DocumentRecord>('vault_documents');
  }

  async init(): Promise<void> {
    await ensureIndexes(this.domainsCol, [{ key: { tenant: 1, domain: 1 }, name: 'tenant_domain', unique: true }]);
    await ensureIndexes(this.documentsCol, [
      { key: { tenant: 1, domain: 1, name: 1 }, name: 'tenant_domain_name', unique: true },
    ]);
  }

  async domains(tenant: string): Promise<VaultDomain[]> {
    const rows = await this.domainsCol.find({ tenant }).sort({ domain: 1 }).limit(1000).toArray();
    return rows.map((r) => ({ domain: r.domain, sensitivity: r.sensitivity, description: r.description }));
  }

  async domain(tenant: string, domain: string): Promise<VaultDomain | undefined> {
    const r = await this.domainsCol.findOne({ _id: `${tenant}/${domain}` });
    return r === null ? undefined : { domain: r.domain, sensitivity: r.sensitivity, description: r.description };
  }

  async putDomain(tenant: string, d: VaultDomain): Promise<void> {
    await this.domainsCol.replaceOne(
      { _id: `${tenant}/${d.domain}` },
      { tenant, domain: d.domain, sensitivity: d.sensitivity, description: d.description },
      { upsert: true },
    );
  }

  async documents(tenant: string, domain: string, limit: number): Promise<VaultDocumentMeta[]> {
    const rows = await this.documentsCol.find({ tenant, domain }).sort({ name: 1 }).limit(limit).toArray();
    return rows.map(meta);
  }

  async document(tenant: string, domain: string, name: string): Promise<VaultDocument | undefined> {
    const r = await this.documentsCol.findOne({ _id: `${tenant}/${domain}/${name}` });
    return r === null ? undefined : { ...meta(r), content: r.content };
  }

  async putDocument(
    tenant: string,
    domain: VaultDomain,
    doc: { name: string; title: string; content: string; by: string; at: Date },
  ): Promise<VaultDocumentMeta> {
    const _id = `${tenant}/${domain.domain}/${doc.name}`;
    const previous = await this.documentsCol.findOne({ _id }, { projection: { version: 1 } });
    const record: DocumentRecord = {
      _id,
      tenant,
      domain: domain.domain,
      name: doc.name,
      title: doc.title,
      content: doc.content,
      sensitivity: domain.sensitivity,
      version: (previous?.version ?? 0) + 1,
      updatedAt: doc.at,
      updatedBy: doc.by,
    };
    await this.documentsCol.replaceOne({ _id }, record, { upsert: true });
    return meta(record);
  }

  async query(
    tenant: string,
    domain: string,
    text: string,
    limit: number,
  ): Promise<(VaultDocumentMeta & { snippet: string })[]> {
    const pattern = { $regex: escapeRegExp(text), $options: 'i' };
    const rows = await this.documentsCol
      .find({ tenant, domain, $or: [{ title: pattern }, { content: pattern }] })
      .sort({ name: 1 })
      .limit(limit)
      .toArray();
    const lower = text.toLowerCase();
    return rows.map((r) => {
      const at = r.content.toLowerCase().indexOf(lower);
      const snippet = at < 0 ? r.content.slice(0, 160) : r.content.slice(Math.max(0, at - 60), at + lower.length + 60);
      return { ...meta(r), snippet };
    });
  }
}
