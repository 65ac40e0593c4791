// Holder keys: the Ed25519 key an envelope link is bound to (`cnf`). Whoever holds the leaf's key
// can present the token (seal it, sign per-request proofs) and derive narrower children offline, so
// the secret half is treated like a password: a HolderKey never shows it when logged, inspected,
// stringified or serialized (JSON, structuredClone), and hands it out only through the explicitly
// named export methods (for writing a key file).
import { inspect } from 'node:util';
import {
  AuthorityError,
  cryptoReady,
  decodeBase64Url,
  ed25519KeyPairFromSeed,
  generateEd25519KeyPair,
} from '@authority/core';

/** An Ed25519 holder key as a JWK (RFC 8037): `x` the public key, `d` the 32-byte seed. */
export interface HolderKeyJwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  d?: string;
  kid?: string;
}

// The secrets live here, not on the objects: nothing reachable from a HolderKey (own properties,
// prototype, inspect with showHidden) leads to them.
const secrets = new WeakMap<HolderKey, Uint8Array>();

const REDACTED = '[redacted]';

/**
 * A holder's Ed25519 key pair. Create one with `HolderKey.generate()`, `HolderKey.fromSeed(seed)`
 * or `HolderKey.fromJwk(jwk)`; give `publicKey` to Mint/Delegate/attenuate (it becomes the link's
 * `cnf`); use it with `seal`, `requestProof`, `attenuate` and the `holderKey` option of
 * `enforced`/`EnforcerClient`.
 */
export class HolderKey {
  /** The 32-byte Ed25519 public key (a copy; the link's `cnf.jwk.x`). */
  readonly publicKey: Uint8Array;

  private constructor(secretKey: Uint8Array, publicKey: Uint8Array) {
    // Copies: the caller's buffers may be reused or zeroed.
    secrets.set(this, new Uint8Array(secretKey));
    this.publicKey = new Uint8Array(publicKey);
    Object.freeze(this);
  }

  /** A new random key. */
  static async generate(): Promise<HolderKey> {
    await cryptoReady();
    const kp = generateEd25519KeyPair();
    const key = new HolderKey(kp.secretKey, kp.publicKey);
    kp.secretKey.fill(0);
    return key;
  }

  /** The key of a 32-byte seed (RFC 8037 `d`; what the issuer returns as `holder_secret_key`). */
  static async fromSeed(seed: Uint8Array): Promise<HolderKey> {
    if (!(seed instanceof Uint8Array) || seed.length !== 32) {
      throw new TypeError(
        `holder key: the seed must be 32 bytes, got ${seed instanceof Uint8Array ? `${seed.length} bytes` : typeof seed}`,
      );
    }
    await cryptoReady();
    const kp = ed25519KeyPairFromSeed(seed);
    const key = new HolderKey(kp.secretKey, kp.publicKey);
    kp.secretKey.fill(0);
    return key;
  }

  /**
   * Reads a private JWK (`kty: OKP`, `crv: Ed25519`, `x`, `d`); `x` must match `d`. Throws
   * TypeError naming what is wrong (never quoting `d`).
   */
  static async fromJwk(raw: unknown): Promise<HolderKey> {
    const x = publicKeyFromJwk(raw);
    const d = (raw as Record<string, unknown>).d;
    if (d === undefined) throw new TypeError("holder key: the JWK has no private part ('d'): it cannot sign");
    const seed = typeof d === 'string' ? decodeBase64Url(d) : undefined;
    if (seed?.length !== 32) throw new TypeError("holder key: 'd' must be a 32-byte base64url Ed25519 seed");
    const key = await HolderKey.fromSeed(seed);
    seed.fill(0);
    if (!Buffer.from(key.publicKey).equals(Buffer.from(x)))
      throw new TypeError("holder key: 'x' does not match the private key 'd'");
    return key;
  }

  /** The public key in base64url (the `x` of `cnf.jwk`; what `--holder-public-key` takes). */
  get publicKeyBase64Url(): string {
    return Buffer.from(this.publicKey).toString('base64url');
  }

  /** The public JWK (safe to share). */
  publicJwk(): HolderKeyJwk {
    return { kty: 'OKP', crv: 'Ed25519', x: this.publicKeyBase64Url };
  }

  /**
   * SECRET: the private JWK with the seed in `d`, for writing a key file (mode 0600). The only
   * ways the secret leaves a HolderKey are this method and exportSeed().
   */
  exportPrivateJwk(): HolderKeyJwk {
    return { ...this.publicJwk(), d: Buffer.from(this.secretKeyBytes().subarray(0, 32)).toString('base64url') };
  }

  /** SECRET: a copy of the 32-byte seed. */
  exportSeed(): Uint8Array {
    return new Uint8Array(this.secretKeyBytes().subarray(0, 32));
  }

  /** Overwrites the secret in memory; the key cannot sign afterwards. */
  destroy(): void {
    secrets.get(this)?.fill(0);
    secrets.delete(this);
  }

  private secretKeyBytes(): Uint8Array {
    const s = secrets.get(this);
    if (s === undefined) throw new TypeError('holder key: destroyed (it cannot sign any more)');
    return s;
  }

  /** Never the secret. */
  toJSON(): Record<string, unknown> {
    return { type: 'HolderKey', publicKey: this.publicKeyBase64Url, secretKey: REDACTED };
  }

  toString(): string {
    return `HolderKey(${this.publicKeyBase64Url}, secret ${REDACTED})`;
  }

  [inspect.custom](): string {
    return `HolderKey { publicKey: '${this.publicKeyBase64Url}', secretKey: ${REDACTED} }`;
  }

  get [Symbol.toStringTag](): string {
    return 'HolderKey';
  }
}

/**
 * The 64-byte libsodium secret key of a holder key, for the SDK's own signing calls (seal,
 * request proofs, attenuation). Not exported from the package.
 * @internal
 */
export function holderSecretKey(key: HolderKey): Uint8Array {
  if (!(key instanceof HolderKey)) {
    throw new TypeError('expected a HolderKey (HolderKey.generate(), HolderKey.fromSeed(), HolderKey.fromJwk())');
  }
  const s = secrets.get(key);
  if (s === undefined) throw new TypeError('holder key: destroyed (it cannot sign any more)');
  return s;
}

/** Reads the public key (`x`) of a JWK, private or public. Throws TypeError. */
export function publicKeyFromJwk(raw: unknown): Uint8Array {
  if (typeof raw !== 'object' || raw === null) throw new TypeError('holder key: expected a JWK object');
  const jwk = raw as Partial<Record<string, unknown>>;
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519')
    throw new TypeError('holder key: expected {"kty":"OKP","crv":"Ed25519",...}');
  const x = typeof jwk.x === 'string' ? decodeBase64Url(jwk.x) : undefined;
  if (x?.length !== 32) throw new TypeError("holder key: 'x' must be a 32-byte base64url Ed25519 public key");
  return new Uint8Array(x);
}

/**
 * A holder PUBLIC key from its base64url text (the `x` of a JWK, as `envelope keygen` prints it)
 * or its 32 bytes. Throws AuthorityError INVALID_REQUEST naming `field`.
 */
export function holderPublicKey(value: string | Uint8Array, field = 'holder_public_key'): Uint8Array {
  const bytes = typeof value === 'string' ? decodeBase64Url(value.trim()) : value;
  if (!(bytes instanceof Uint8Array) || bytes.length !== 32) {
    throw new AuthorityError(
      'INVALID_REQUEST',
      'a holder public key must be 32 bytes (43 base64url characters, the x of its JWK)',
      field,
    );
  }
  return new Uint8Array(bytes);
}
