// Envelope encryption of tenant signing keys at rest: AES-256-GCM under the key-encryption key
// (AUTHORITY_ISSUER_KEK), a fresh 96-bit nonce per key, and `<tenant>/<kid>` as associated data,
// so a ciphertext copied onto another tenant's or key's record does not decrypt.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** Name of the configuration variable, quoted by every error about the KEK. */
export const KEK_VARIABLE = 'AUTHORITY_ISSUER_KEK';

const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** A private key as stored: all three parts are needed to decrypt. */
export interface SealedKey {
  /** Format tag, so the scheme can change later without guessing. */
  alg: 'A256GCM';
  nonce: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

/** Thrown when the KEK cannot open a sealed key (wrong KEK, or tampered record). */
export class KekError extends Error {
  override readonly name = 'KekError';
}

export class KeyEncryptionKey {
  readonly #key: Buffer;

  constructor(key: Uint8Array) {
    if (key.length !== 32) throw new KekError(`${KEK_VARIABLE} must decode to 32 bytes, got ${key.length}`);
    this.#key = Buffer.from(key);
  }

  /** From the base64 text of the configuration variable. */
  static fromBase64(text: string): KeyEncryptionKey {
    return new KeyEncryptionKey(Buffer.from(text, 'base64'));
  }

  seal(plaintext: Uint8Array, associatedData: string): SealedKey {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return { alg: 'A256GCM', nonce, ciphertext, tag: cipher.getAuthTag() };
  }

  /** Decrypts; throws KekError (naming the variable) when authentication fails. */
  open(sealed: SealedKey, associatedData: string): Buffer {
    if (sealed.alg !== 'A256GCM' || sealed.nonce.length !== NONCE_BYTES || sealed.tag.length !== TAG_BYTES) {
      throw new KekError(`sealed key for ${associatedData} has an unknown format`);
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, sealed.nonce, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(associatedData, 'utf8'));
      decipher.setAuthTag(sealed.tag);
      return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
    } catch {
      throw new KekError(
        `cannot decrypt the stored key ${associatedData}: ${KEK_VARIABLE} is not the key-encryption key it was sealed with (or the record was altered)`,
      );
    }
  }

  toString(): string {
    return '[redacted]';
  }
  toJSON(): string {
    return '[redacted]';
  }
}
