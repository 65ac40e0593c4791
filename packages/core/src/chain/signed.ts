/**
 * Auditor-signed statements about a tenant's chain: checkpoints (tenant, seq, head hash, time) and
 * negative attestations bound to a checkpoint. Each is signed with Ed25519 over a domain-separated
 * canonical byte string (framing.ts), never over JSON, so any verifier reproduces the exact bytes.
 *
 *   checkpoint  = str("authority.audit.checkpoint.v1") ‖ str(tenant) ‖ u64(seq) ‖ headHash(32)
 *                 ‖ u64(time) ‖ str(keyId)
 *   attestation v2 = str("authority.audit.attestation.v2") ‖ str(tenant) ‖ str(agent)
 *                 ‖ str(resourcePattern) ‖ u64(from) ‖ u64(to) ‖ u64(allowedCount)
 *                 ‖ u64(allowedActedCount) ‖ u64(allowedDelegatedCount) ‖ u64(deniedCount)
 *                 ‖ u64(checkpoint.seq) ‖ checkpoint.headHash(32) ‖ u64(issuedAt) ‖ str(keyId)
 *   attestation v1 = the same without allowedActedCount and allowedDelegatedCount, tagged
 *                 "authority.audit.attestation.v1" (attestations made before delegation paths were
 *                 counted; they still verify)
 *
 * Times are Unix seconds. Signatures are base64url (no padding) of the 64-byte Ed25519 signature.
 */
import { decodeBase64Url, ed25519Sign, ed25519Verify, encodeBase64Url } from '../crypto';
import { AuthorityError } from '../errors';
import { FrameWriter, decodeHexHash } from './framing';

export const CHECKPOINT_TAG = 'authority.audit.checkpoint.v1';
/** The attestation layout without the acted/delegated split (still verified, and signed for claims without it). */
export const ATTESTATION_TAG_V1 = 'authority.audit.attestation.v1';
/** The attestation layout with allowedActedCount and allowedDelegatedCount. */
export const ATTESTATION_TAG = 'authority.audit.attestation.v2';

/** Finds the auditor public key (32 bytes) for a key id; undefined when unknown. */
export type CheckpointKeyResolver = (keyId: string) => Uint8Array | undefined;

export type SignatureCheck = { ok: true } | { ok: false; message: string };

export interface Checkpoint {
  tenant: string;
  /** The last sequence number covered (0 = the empty chain, whose head is the genesis hash). */
  seq: number;
  /** The chain hash at `seq`, 64 lowercase hex digits. */
  headHash: string;
  /** When the auditor signed, Unix seconds. */
  time: number;
}

export interface SignedCheckpoint extends Checkpoint {
  keyId: string;
  /** base64url Ed25519 signature over checkpointSigningBytes. */
  signature: string;
}

function hashField(hex: string, field: string): Buffer {
  const b = decodeHexHash(hex);
  if (b === undefined) throw new AuthorityError('INVALID_REQUEST', `${field} must be 64 lowercase hex digits`, field);
  return b;
}

function nonEmpty(value: string, field: string): void {
  if (typeof value !== 'string' || value === '') {
    throw new AuthorityError('INVALID_REQUEST', `${field} must be a non-empty string`, field);
  }
}

/** The exact bytes a checkpoint signature covers. Throws AuthorityError(INVALID_REQUEST) on bad fields. */
export function checkpointSigningBytes(cp: Checkpoint & { keyId: string }): Buffer {
  nonEmpty(cp.tenant, 'tenant');
  nonEmpty(cp.keyId, 'keyId');
  return new FrameWriter()
    .string(CHECKPOINT_TAG, 'tag')
    .string(cp.tenant, 'tenant')
    .u64(cp.seq, 'seq')
    .hash32(hashField(cp.headHash, 'headHash'), 'headHash')
    .u64(cp.time, 'time')
    .string(cp.keyId, 'keyId')
    .finish();
}

/** Signs a checkpoint with the auditor's Ed25519 secret key (await cryptoReady() first). */
export function signCheckpoint(cp: Checkpoint, secretKey: Uint8Array, keyId: string): SignedCheckpoint {
  const unsigned = { tenant: cp.tenant, seq: cp.seq, headHash: cp.headHash, time: cp.time, keyId };
  const signature = encodeBase64Url(ed25519Sign(checkpointSigningBytes(unsigned), secretKey));
  return { ...unsigned, signature };
}

function verifySigned(
  what: string,
  keyId: string,
  signature: string,
  bytes: () => Buffer,
  resolveKey: CheckpointKeyResolver,
): SignatureCheck {
  let message: Buffer;
  try {
    message = bytes();
  } catch (err) {
    if (err instanceof AuthorityError) return { ok: false, message: `${what} is malformed: ${err.message}` };
    throw err;
  }
  const sig = typeof signature === 'string' ? decodeBase64Url(signature) : undefined;
  if (sig === undefined || sig.length !== 64)
    return { ok: false, message: `${what} signature is not a base64url Ed25519 signature` };
  let key: Uint8Array | undefined;
  try {
    key = resolveKey(keyId);
  } catch {
    key = undefined;
  }
  if (key === undefined) return { ok: false, message: `${what} is signed by unknown key '${keyId}'` };
  if (!ed25519Verify(sig, message, key))
    return { ok: false, message: `${what} signature does not verify with key '${keyId}'` };
  return { ok: true };
}

/** Checks a checkpoint's fields and signature; never throws. */
export function verifyCheckpoint(signed: SignedCheckpoint, resolveKey: CheckpointKeyResolver): SignatureCheck {
  if (typeof signed !== 'object' || signed === null) return { ok: false, message: 'checkpoint is not an object' };
  return verifySigned('checkpoint', signed.keyId, signed.signature, () => checkpointSigningBytes(signed), resolveKey);
}

/**
 * "Agent X did (not) reach resources matching P in [from, to]", as counted by the auditor over
 * the chain up to `checkpoint`. A negative attestation is one with allowedCount 0; deniedCount
 * says how many attempts were refused (they touched nothing). The counts cover every event on
 * whose delegation path X is: X acted itself, or an agent X delegated to acted.
 *
 * With `allowedActedCount` and `allowedDelegatedCount` (both, summing to allowedCount) the
 * claims are signed in the v2 layout; without them, in the v1 layout (ATTESTATION_TAG_V1). A
 * signature covers its tag, so dropping or adding the split never turns one into the other.
 */
export interface AttestationClaims {
  tenant: string;
  agent: string;
  resourcePattern: string;
  /** Window start, Unix seconds (inclusive). */
  from: number;
  /** Window end, Unix seconds (inclusive); >= from. */
  to: number;
  /** Allowed decisions for the agent on matching resources in the window. */
  allowedCount: number;
  /** Denied decisions for the agent on matching resources in the window. */
  deniedCount: number;
  /** Of allowedCount: the accesses the agent made itself (it was the acting agent). */
  allowedActedCount?: number;
  /** Of allowedCount: the accesses made by agents the agent delegated to (it was earlier on the path). */
  allowedDelegatedCount?: number;
  /** The chain position the counts were taken over. */
  checkpoint: { seq: number; headHash: string };
  /** When the auditor signed, Unix seconds. */
  issuedAt: number;
}

export interface SignedAttestation extends AttestationClaims {
  keyId: string;
  signature: string;
}

/** The exact bytes an attestation signature covers. Throws AuthorityError(INVALID_REQUEST) on bad fields. */
export function attestationSigningBytes(a: AttestationClaims & { keyId: string }): Buffer {
  nonEmpty(a.tenant, 'tenant');
  nonEmpty(a.agent, 'agent');
  nonEmpty(a.resourcePattern, 'resourcePattern');
  nonEmpty(a.keyId, 'keyId');
  if (typeof a.checkpoint !== 'object' || a.checkpoint === null) {
    throw new AuthorityError('INVALID_REQUEST', 'checkpoint must be {seq, headHash}', 'checkpoint');
  }
  const split = a.allowedActedCount !== undefined || a.allowedDelegatedCount !== undefined;
  const w = new FrameWriter()
    .string(split ? ATTESTATION_TAG : ATTESTATION_TAG_V1, 'tag')
    .string(a.tenant, 'tenant')
    .string(a.agent, 'agent')
    .string(a.resourcePattern, 'resourcePattern')
    .u64(a.from, 'from')
    .u64(a.to, 'to');
  if (a.to < a.from) throw new AuthorityError('INVALID_REQUEST', 'to must not be before from', 'to');
  w.u64(a.allowedCount, 'allowedCount');
  if (split) {
    if (a.allowedActedCount === undefined || a.allowedDelegatedCount === undefined) {
      const missing = a.allowedActedCount === undefined ? 'allowedActedCount' : 'allowedDelegatedCount';
      throw new AuthorityError(
        'INVALID_REQUEST',
        `${missing} is required with ${missing === 'allowedActedCount' ? 'allowedDelegatedCount' : 'allowedActedCount'}`,
        missing,
      );
    }
    w.u64(a.allowedActedCount, 'allowedActedCount').u64(a.allowedDelegatedCount, 'allowedDelegatedCount');
    if (a.allowedActedCount + a.allowedDelegatedCount !== a.allowedCount) {
      throw new AuthorityError(
        'INVALID_REQUEST',
        'allowedActedCount + allowedDelegatedCount must equal allowedCount',
        'allowedDelegatedCount',
      );
    }
  }
  return w
    .u64(a.deniedCount, 'deniedCount')
    .u64(a.checkpoint.seq, 'checkpoint.seq')
    .hash32(hashField(a.checkpoint.headHash, 'checkpoint.headHash'), 'checkpoint.headHash')
    .u64(a.issuedAt, 'issuedAt')
    .string(a.keyId, 'keyId')
    .finish();
}

/** Signs attestation claims with the auditor's Ed25519 secret key (await cryptoReady() first). */
export function signAttestation(claims: AttestationClaims, secretKey: Uint8Array, keyId: string): SignedAttestation {
  const unsigned: AttestationClaims & { keyId: string } = {
    tenant: claims.tenant,
    agent: claims.agent,
    resourcePattern: claims.resourcePattern,
    from: claims.from,
    to: claims.to,
    allowedCount: claims.allowedCount,
    deniedCount: claims.deniedCount,
    ...(claims.allowedActedCount !== undefined ? { allowedActedCount: claims.allowedActedCount } : {}),
    ...(claims.allowedDelegatedCount !== undefined ? { allowedDelegatedCount: claims.allowedDelegatedCount } : {}),
    checkpoint: { seq: claims.checkpoint.seq, headHash: claims.checkpoint.headHash },
    issuedAt: claims.issuedAt,
    keyId,
  };
  const signature = encodeBase64Url(ed25519Sign(attestationSigningBytes(unsigned), secretKey));
  return { ...unsigned, signature };
}

/** Checks an attestation's fields and signature; never throws. */
export function verifyAttestation(signed: SignedAttestation, resolveKey: CheckpointKeyResolver): SignatureCheck {
  if (typeof signed !== 'object' || signed === null) return { ok: false, message: 'attestation is not an object' };
  return verifySigned('attestation', signed.keyId, signed.signature, () => attestationSigningBytes(signed), resolveKey);
}
