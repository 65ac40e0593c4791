// The auditor's signing keys: one active Ed25519 key (from a configured seed) that signs
// checkpoints and attestations, plus earlier public keys that still verify what they signed.
// A key id is the first 16 hex digits of SHA-256 of the raw 32-byte public key, so anyone holding
// the public key derives the same id.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { ed25519KeyPairFromSeed, sha256Hex, type CheckpointKeyResolver } from '@authority/core';

export interface AuditorPublicKey {
  keyId: string;
  publicKey: Uint8Array;
  active: boolean;
}

/** Key id of an auditor public key. */
export function auditorKeyId(publicKey: Uint8Array): string {
  return sha256Hex(publicKey).slice(0, 16);
}

export class AuditorKeys {
  readonly keyId: string;
  readonly publicKey: Uint8Array;
  readonly #secretKey: Uint8Array;
  readonly #all = new Map<string, AuditorPublicKey>();
  /** HMAC key of the aggregates' seals, derived from the active key (never stored). */
  readonly #sealKey: Buffer;

  /** `seed`: the 32-byte Ed25519 seed (await cryptoReady() first); `previous`: raw public keys. */
  constructor(seed: Uint8Array, previous: readonly Uint8Array[] = []) {
    const pair = ed25519KeyPairFromSeed(seed);
    this.publicKey = pair.publicKey;
    this.#secretKey = pair.secretKey;
    this.keyId = auditorKeyId(pair.publicKey);
    this.#sealKey = createHash('sha256').update('authority.aggregate-seal.v1\0').update(pair.secretKey).digest();
    this.#all.set(this.keyId, { keyId: this.keyId, publicKey: pair.publicKey, active: true });
    for (const pk of previous) {
      const id = auditorKeyId(pk);
      if (!this.#all.has(id)) this.#all.set(id, { keyId: id, publicKey: new Uint8Array(pk), active: false });
    }
  }

  static fromBase64Seed(seedBase64: string, previous: readonly Uint8Array[] = []): AuditorKeys {
    return new AuditorKeys(Buffer.from(seedBase64, 'base64'), previous);
  }

  /** The libsodium secret key, for core's signCheckpoint / signAttestation only. */
  secretKey(): Uint8Array {
    return this.#secretKey;
  }

  /**
   * The seal of an aggregate (HMAC-SHA256, hex) under the active key: one who can write to the
   * store but does not hold the auditor's key cannot forge the counts Attest and reports read.
   */
  seal(bytes: Uint8Array): string {
    return createHmac('sha256', this.#sealKey).update(bytes).digest('hex');
  }

  /** Does `seal` seal `bytes` under the active key (constant time)? */
  sealMatches(bytes: Uint8Array, seal: unknown): boolean {
    if (typeof seal !== 'string' || seal.length !== 64) return false;
    return timingSafeEqual(Buffer.from(this.seal(bytes), 'hex'), Buffer.from(seal, 'hex'));
  }

  /** Resolves a key id to a public key (active or previous); undefined when unknown. */
  readonly resolve: CheckpointKeyResolver = (keyId) => this.#all.get(keyId)?.publicKey;

  /** Active key first, then the previous ones in configuration order. */
  list(): AuditorPublicKey[] {
    return [...this.#all.values()];
  }
}
