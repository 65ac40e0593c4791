// Ed25519 and hashing primitives for the core. Ed25519 is libsodium everywhere (the
// architecture's pick: one audited implementation, byte-identical RFC 8032 signatures to
// node:crypto), in one of two builds resolved once by cryptoReady(): `sodium-native` (native
// libsodium, prebuilt binaries inside its npm package, about 2x the verify rate) where it loads,
// else `libsodium-wrappers` (WASM, portable). Both are the same library version family and give
// the same signatures and the same accept/reject answers (test/crypto-backends.test.ts runs both
// over the same vectors). SHA-256 and randomness come from node:crypto, which does no I/O.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import sodium from 'libsodium-wrappers';

/** The Ed25519 implementations the core can run on. */
export type Ed25519BackendName = 'sodium-native' | 'libsodium-wrappers';

/** One Ed25519 implementation; inputs are already length-checked by the exported functions. */
export interface Ed25519Backend {
  readonly name: Ed25519BackendName;
  keyPair(): Ed25519KeyPair;
  seedKeyPair(seed: Uint8Array): Ed25519KeyPair;
  sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array;
  verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
}

/** The part of sodium-native's API used here (the package ships no types). */
interface SodiumNative {
  crypto_sign_keypair(pk: Buffer, sk: Buffer): void;
  crypto_sign_seed_keypair(pk: Buffer, sk: Buffer, seed: Uint8Array): void;
  crypto_sign_detached(sig: Buffer, message: Uint8Array, sk: Uint8Array): void;
  crypto_sign_verify_detached(sig: Uint8Array, message: Uint8Array, pk: Uint8Array): boolean;
}

function nativeBackend(native: SodiumNative): Ed25519Backend {
  const pair = (fill: (pk: Buffer, sk: Buffer) => void): Ed25519KeyPair => {
    const publicKey = Buffer.alloc(32);
    const secretKey = Buffer.alloc(64);
    fill(publicKey, secretKey);
    return { publicKey: new Uint8Array(publicKey), secretKey: new Uint8Array(secretKey) };
  };
  return {
    name: 'sodium-native',
    keyPair: () => pair((pk, sk) => native.crypto_sign_keypair(pk, sk)),
    seedKeyPair: (seed) => pair((pk, sk) => native.crypto_sign_seed_keypair(pk, sk, seed)),
    sign(message, secretKey) {
      const sig = Buffer.alloc(64);
      native.crypto_sign_detached(sig, message, secretKey);
      return new Uint8Array(sig);
    },
    verify: (signature, message, publicKey) => native.crypto_sign_verify_detached(signature, message, publicKey),
  };
}

function wasmBackend(): Ed25519Backend {
  return {
    name: 'libsodium-wrappers',
    keyPair() {
      const kp = sodium.crypto_sign_keypair();
      return { publicKey: kp.publicKey, secretKey: kp.privateKey };
    },
    seedKeyPair(seed) {
      const kp = sodium.crypto_sign_seed_keypair(seed);
      return { publicKey: kp.publicKey, secretKey: kp.privateKey };
    },
    sign: (message, secretKey) => sodium.crypto_sign_detached(message, secretKey),
    verify: (signature, message, publicKey) => sodium.crypto_sign_verify_detached(signature, message, publicKey),
  };
}

/**
 * Loads one Ed25519 backend by name (rejects when `sodium-native` does not load on this platform).
 * cryptoReady() picks the process-wide one; tests load both to compare them.
 */
export async function loadEd25519Backend(name: Ed25519BackendName): Promise<Ed25519Backend> {
  if (name === 'sodium-native') {
    // A native addon: loading it is the one platform-dependent step, done once at start-up.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return nativeBackend(require('sodium-native') as SodiumNative);
  }
  await sodium.ready;
  return wasmBackend();
}

let readyPromise: Promise<void> | undefined;
let active: Ed25519Backend | undefined;

/**
 * Initialise Ed25519 once; call (and await) at start-up before any signing or verifying. The
 * backend is `sodium-native` where it loads, else `libsodium-wrappers`; `prefer` forces one (the
 * first call decides for the process).
 */
export function cryptoReady(prefer?: Ed25519BackendName): Promise<void> {
  readyPromise ??= (async () => {
    if (prefer !== 'libsodium-wrappers') {
      try {
        active = await loadEd25519Backend('sodium-native');
        return;
      } catch (err) {
        if (prefer === 'sodium-native') throw err;
      }
    }
    active = await loadEd25519Backend('libsodium-wrappers');
  })();
  return readyPromise;
}

/** The Ed25519 backend cryptoReady() chose (undefined before it resolved). */
export function ed25519BackendName(): Ed25519BackendName | undefined {
  return active?.name;
}

function lib(): Ed25519Backend {
  if (active === undefined) throw new Error('crypto not initialised: await cryptoReady() at start-up');
  return active;
}

export interface Ed25519KeyPair {
  /** 32-byte public key. */
  publicKey: Uint8Array;
  /** 64-byte libsodium secret key (seed ‖ public key). */
  secretKey: Uint8Array;
}

export function generateEd25519KeyPair(): Ed25519KeyPair {
  return lib().keyPair();
}

/** Deterministic key pair from a 32-byte seed (for configuration-provided keys and tests). */
export function ed25519KeyPairFromSeed(seed: Uint8Array): Ed25519KeyPair {
  if (seed.length !== 32) throw new Error(`Ed25519 seed must be 32 bytes, got ${seed.length}`);
  return lib().seedKeyPair(seed);
}

export function ed25519Sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  if (secretKey.length !== 64) throw new Error(`Ed25519 secret key must be 64 bytes, got ${secretKey.length}`);
  return lib().sign(message, secretKey);
}

/** Verifies; never throws on malformed input (wrong lengths simply fail). */
export function ed25519Verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  try {
    return lib().verify(signature, message, publicKey);
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
