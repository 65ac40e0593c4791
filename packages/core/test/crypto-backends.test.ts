// The two Ed25519 backends (sodium-native, libsodium-wrappers) are interchangeable: the same key
// pairs from a seed, byte-identical signatures, and the same answer on every verification,
// including the rejects that differ between Ed25519 libraries (non-canonical S, small-order and
// non-canonical public keys, small-order R). Each vector runs through BOTH backends.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  cryptoReady,
  ed25519BackendName,
  ed25519Verify,
  loadEd25519Backend,
  type Ed25519Backend,
  type Ed25519BackendName,
} from '../src';

const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const NAMES: Ed25519BackendName[] = ['sodium-native', 'libsodium-wrappers'];
const backends = new Map<Ed25519BackendName, Ed25519Backend>();

before(async () => {
  for (const n of NAMES) backends.set(n, await loadEd25519Backend(n));
  await cryptoReady();
});

// RFC 8032 §7.1 tests 1-3: seed, public key, message, signature.
const RFC8032 = [
  {
    seed: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    pk: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    msg: '',
    sig: 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    seed: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    pk: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    msg: '72',
    sig: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
  {
    seed: 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
    pk: 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
    msg: 'af82',
    sig: '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
  },
];

// Ed25519 group order L (little-endian), to build the non-canonical S' = S + L.
const L = BigInt('0x1000000000000000000000000000000014def9dea2f79cd65812631a5cf5d3ed');
const leToBig = (b: Uint8Array) => BigInt('0x' + Buffer.from(b).reverse().toString('hex'));
const bigToLe = (n: bigint) => new Uint8Array(Buffer.from(n.toString(16).padStart(64, '0'), 'hex').reverse());

// Small-order points (encodings of the 8-torsion subgroup, incl. the identity), and non-canonical
// encodings (y ≥ p) of small-order points; libsodium refuses all of them as public keys.
const SMALL_ORDER = [
  '0100000000000000000000000000000000000000000000000000000000000000',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0000000000000000000000000000000000000000000000000000000000000080',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
];

interface Case {
  name: string;
  sig: Uint8Array;
  msg: Uint8Array;
  pk: Uint8Array;
  /** The answer libsodium gives (and both backends must give). */
  expect: boolean;
}

function cases(): Case[] {
  const out: Case[] = [];
  for (const [i, v] of RFC8032.entries()) {
    const sig = hex(v.sig);
    const msg = hex(v.msg);
    const pk = hex(v.pk);
    out.push({ name: `RFC 8032 test ${i + 1}`, sig, msg, pk, expect: true });
    const flipped = Uint8Array.from(sig);
    flipped[5]! ^= 1;
    out.push({ name: `RFC 8032 test ${i + 1}, R bit flipped`, sig: flipped, msg, pk, expect: false });
    const sFlipped = Uint8Array.from(sig);
    sFlipped[40]! ^= 0x10;
    out.push({ name: `RFC 8032 test ${i + 1}, S bit flipped`, sig: sFlipped, msg, pk, expect: false });
    const nonCanonical = Uint8Array.from(sig);
    nonCanonical.set(bigToLe(leToBig(sig.subarray(32)) + L), 32);
    out.push({ name: `RFC 8032 test ${i + 1}, non-canonical S + L`, sig: nonCanonical, msg, pk, expect: false });
    const highBit = Uint8Array.from(sig);
    highBit[63]! |= 0xe0;
    out.push({ name: `RFC 8032 test ${i + 1}, S top bits set`, sig: highBit, msg, pk, expect: false });
    out.push({ name: `RFC 8032 test ${i + 1}, other message`, sig, msg: hex('00'), pk, expect: false });
    for (const so of SMALL_ORDER) {
      out.push({ name: `small-order public key ${so.slice(0, 8)}…`, sig, msg, pk: hex(so), expect: false });
      // R of small order with a zero S: the forgery a verifier without the checks accepts for small-order keys.
      const forged = new Uint8Array(64);
      forged.set(hex(so), 0);
      out.push({ name: `small-order R ${so.slice(0, 8)}…, S = 0, key ${i + 1}`, sig: forged, msg, pk, expect: false });
      out.push({
        name: `small-order R and key ${so.slice(0, 8)}…, S = 0`,
        sig: forged,
        msg,
        pk: hex(so),
        expect: false,
      });
    }
  }
  out.push({
    name: 'all-zero signature',
    sig: new Uint8Array(64),
    msg: hex('72'),
    pk: hex(RFC8032[1]!.pk),
    expect: false,
  });
  return out;
}

describe('Ed25519 backends agree', () => {
  test('cryptoReady picks sodium-native where it loads', () => {
    assert.equal(ed25519BackendName(), 'sodium-native');
  });

  test('same key pair from a seed, same RFC 8032 signatures', () => {
    for (const v of RFC8032) {
      for (const n of NAMES) {
        const b = backends.get(n)!;
        const kp = b.seedKeyPair(hex(v.seed));
        assert.equal(Buffer.from(kp.publicKey).toString('hex'), v.pk, n);
        assert.equal(Buffer.from(b.sign(hex(v.msg), kp.secretKey)).toString('hex'), v.sig, n);
      }
    }
  });

  test('byte-identical signatures over many messages, each verifies on the other backend', () => {
    const native = backends.get('sodium-native')!;
    const wasm = backends.get('libsodium-wrappers')!;
    for (let i = 0; i < 200; i++) {
      const seed = createHash('sha256').update(`seed ${i}`).digest();
      const msg = createHash('sha512')
        .update(`msg ${i}`)
        .digest()
        .subarray(0, i % 64);
      const a = native.seedKeyPair(seed);
      const b = wasm.seedKeyPair(seed);
      assert.deepEqual(Buffer.from(a.secretKey), Buffer.from(b.secretKey));
      const sa = native.sign(msg, a.secretKey);
      assert.deepEqual(Buffer.from(sa), Buffer.from(wasm.sign(msg, b.secretKey)));
      assert.equal(wasm.verify(sa, msg, a.publicKey), true);
      assert.equal(native.verify(sa, msg, a.publicKey), true);
    }
  });

  test('the same answer on every vector, valid, invalid, non-canonical and small-order', () => {
    const all = cases();
    assert.ok(all.length > 60);
    for (const c of all) {
      for (const n of NAMES) {
        assert.equal(backends.get(n)!.verify(c.sig, c.msg, c.pk), c.expect, `${n}: ${c.name}`);
      }
      // And through the exported function (the active backend), which never throws.
      assert.equal(ed25519Verify(c.sig, c.msg, c.pk), c.expect, `ed25519Verify: ${c.name}`);
    }
  });

  test('wrong lengths fail closed without throwing', () => {
    const v = RFC8032[0]!;
    assert.equal(ed25519Verify(hex(v.sig).subarray(0, 63), hex(v.msg), hex(v.pk)), false);
    assert.equal(ed25519Verify(hex(v.sig), hex(v.msg), hex(v.pk).subarray(0, 31)), false);
  });
});
