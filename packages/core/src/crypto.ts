// Ed25519 and hashing primitives for the core. Ed25519 is libsodium-wrappers (WASM, the
// architecture's pick: one audited implementation everywhere, byte-identical RFC 8032
// signatures to node:crypto); SHA-256 and randomness come from node:crypto, which does no I/O.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import sodium from 'libsodium-wrappers';

let readyPromise: Promise<void> | undefined;
let isReady = false;

/** Initialise libsodium once; call (and await) at start-up before any signing or verifying. */
export function cryptoReady(): Promise<void> {
  readyPromise ??= sodium.ready.then(() => {
    isReady = true;
  });
  return readyPromise;
}

function lib(): typeof sodium {
  if (!isReady) throw new Error('crypto not initialised: await cryptoReady() at start-up');
  return sodium;
}

export interface Ed25519KeyPair {
  /** 32-byte public key. */
  publicKey: Uint8Array;
  /** 64-byte libsodium secret key (seed ‖ public key). */
  secretKey: Uint8Array;
}

export function generateEd25519KeyPair(): Ed25519KeyPair {
  const kp = lib().crypto_sign_keypair();
  return { publicKey: kp.publicKey, secretKey: kp.privateKey };
}

/** Deterministic key pair from a 32-byte seed (for configuration-provided keys and tests). */
export function ed25519KeyPairFromSeed(seed: Uint8Array): Ed25519KeyPair {
  if (seed.length !== 32) throw new Error(`Ed25519 seed must be 32 bytes, got ${seed.length}`);
  const kp = lib().crypto_sign_seed_keypair(seed);
  return { publicKey: kp.publicKey, secretKey: kp.privateKey };
}

export function ed25519Sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  return lib().crypto_sign_detached(message, secretKey);
}

/** Verifies; never throws on malformed input (wrong lengths simply fail). */
export function ed25519Verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  try {
    return lib().crypto_sign_verify_detached(signature, message, publicKey);
  } catch {
    return false;
  }
}

export function sha256(...parts: (Uint8Array | string)[]): Buffer {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

export function sha256Hex(...parts: (Uint8Array | string)[]): string {
  return sha256(...parts).toString('hex');
}

export function randomId(bytes = 16): string {
  return randomBytes(bytes).toString('base64url');
}

const B64URL = /^[A-Za-z0-9_-]*$/;

/** Strict base64url (RFC 4648 §5, no padding): returns undefined for anything else. */
export function decodeBase64Url(s: string): Buffer | undefined {
  if (!B64URL.test(s) || s.length % 4 === 1) return undefined;
  const buf = Buffer.from(s, 'base64url');
  // Reject non-canonical encodings (trailing bits set), so one value has one spelling.
  return buf.toString('base64url') === s ? buf : undefined;
}

export function encodeBase64Url(b: Uint8Array | string): string {
  return Buffer.from(b).toString('base64url');
}

/** Constant-time equality for secrets (API keys, hashes); unequal lengths compare false. */
export function constantTimeEqual(a: Uint8Array | string, b: Uint8Array | string): boolean {
  const x = typeof a === 'string' ? Buffer.from(a) : Buffer.from(a);
  const y = typeof b === 'string' ? Buffer.from(b) : Buffer.from(b);
  if (x.length !== y.length) {
    timingSafeEqual(x, x);
    return false;
  }
  return timingSafeEqual(x, y);
}
