/**
 * The per-tenant audit hash chain (ARCHITECTURE §6):
 *
 *   genesis(tenant) = SHA-256( str("authority.audit.genesis.v1") ‖ str(tenant) )
 *   hash_n          = SHA-256( str("authority.audit.chain.v1") ‖ str(tenant) ‖ u64(seq_n)
 *                              ‖ hash_{n-1} (32 bytes) ‖ bytes(raw event bytes) )
 *
 * where str/bytes = u32 big-endian length + bytes (strings UTF-8), u64 = 8 bytes big-endian, and
 * hash_0 = genesis(tenant). Sequence numbers start at 1. The event id is not hashed separately: it
 * is inside the raw event bytes. docs/audit-chain.md has the layout and a test vector.
 */
import { sha256 } from '../crypto';
import { AuthorityError } from '../errors';
import { FrameWriter } from './framing';

export const CHAIN_HASH_TAG = 'authority.audit.chain.v1';
export const GENESIS_HASH_TAG = 'authority.audit.genesis.v1';

/** One stored link of a tenant's chain. */
export interface AuditChainEntry {
  tenant: string;
  /** 1-based position in the tenant's chain. */
  seq: number;
  /** The event's id (unique per tenant; makes redelivery idempotent). Not hashed on its own. */
  eventId: string;
  /** The exact event bytes as received; never re-serialized. */
  raw: Uint8Array;
  /** The previous entry's hash (the genesis hash for seq 1), 32 bytes. */
  prevHash: Uint8Array;
  /** chainHash(tenant, seq, prevHash, raw), 32 bytes. */
  hash: Uint8Array;
}

/** The newest position of a chain: seq 0 with the genesis hash for an empty chain. */
export interface AuditChainHead {
  seq: number;
  hash: Uint8Array;
}

function checkTenant(tenant: string): void {
  if (typeof tenant !== 'string' || tenant === '') {
    throw new AuthorityError('INVALID_REQUEST', 'tenant must be a non-empty string', 'tenant');
  }
}

/** The hash every tenant's chain starts from (hash_0). */
export function genesisHash(tenant: string): Buffer {
  checkTenant(tenant);
  return sha256(new FrameWriter().string(GENESIS_HASH_TAG, 'tag').string(tenant, 'tenant').finish());
}

/** hash_n for entry `seq` (≥ 1) of `tenant`, following `prevHash`, over the exact event bytes. */
export function chainHash(tenant: string, seq: number, prevHash: Uint8Array, rawEventBytes: Uint8Array): Buffer {
  checkTenant(tenant);
  if (!Number.isSafeInteger(seq) || seq < 1) {
    throw new AuthorityError('INVALID_REQUEST', `seq must be an integer >= 1, got ${String(seq)}`, 'seq');
  }
  return sha256(
    new FrameWriter()
      .string(CHAIN_HASH_TAG, 'tag')
      .string(tenant, 'tenant')
      .u64(seq, 'seq')
      .hash32(prevHash, 'prevHash')
      .bytes(rawEventBytes, 'raw')
      .finish(),
  );
}

/** The head of an empty chain. */
export function auditGenesisHead(tenant: string): AuditChainHead {
  return { seq: 0, hash: genesisHash(tenant) };
}

/** The entry that appends `raw` after `head` (use auditGenesisHead(tenant) for the first). */
export function nextAuditChainEntry(
  tenant: string,
  head: AuditChainHead,
  eventId: string,
  raw: Uint8Array,
): AuditChainEntry {
  if (typeof eventId !== 'string' || eventId === '') {
    throw new AuthorityError('INVALID_REQUEST', 'eventId must be a non-empty string', 'eventId');
  }
  const seq = head.seq + 1;
  const prevHash = Buffer.from(head.hash);
  return { tenant, seq, eventId, raw, prevHash, hash: chainHash(tenant, seq, prevHash, raw) };
}
