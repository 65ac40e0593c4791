/**
 * Unambiguous byte framing shared by the chain hash, checkpoints and attestations: every variable
 * field is length-prefixed, every integer fixed-width, so no two different inputs frame to the
 * same bytes (docs/audit-chain.md gives the layouts).
 *
 * - string / bytes: u32 big-endian length, then the bytes (strings as UTF-8);
 * - integer: u64 big-endian (a non-negative safe integer);
 * - hash: exactly 32 raw bytes, no prefix.
 */
import { AuthorityError } from '../errors';

const MAX_U32 = 0xffff_ffff;
// A lone surrogate would be encoded as U+FFFD, so two different strings could frame alike.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export class FrameWriter {
  private readonly parts: Buffer[] = [];

  /** A string as u32 length + UTF-8 bytes. */
  string(value: string, field: string): this {
    if (typeof value !== 'string') throw new AuthorityError('INVALID_REQUEST', `${field} must be a string`, field);
    if (LONE_SURROGATE.test(value)) {
      throw new AuthorityError('INVALID_REQUEST', `${field} is not well-formed Unicode (lone surrogate)`, field);
    }
    return this.bytes(Buffer.from(value, 'utf8'), field);
  }

  /** Bytes as u32 length + bytes. */
  bytes(value: Uint8Array, field: string): this {
    if (!(value instanceof Uint8Array)) throw new AuthorityError('INVALID_REQUEST', `${field} must be bytes`, field);
    if (value.length > MAX_U32)
      throw new AuthorityError('INVALID_REQUEST', `${field} is longer than 2^32-1 bytes`, field);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(value.length);
    this.parts.push(len, Buffer.from(value.buffer, value.byteOffset, value.length));
    return this;
  }

  /** A non-negative safe integer as u64 big-endian. */
  u64(value: number, field: string): this {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      throw new AuthorityError(
        'INVALID_REQUEST',
        `${field} must be a non-negative integer, got ${String(value)}`,
        field,
      );
    }
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(value));
    this.parts.push(b);
    return this;
  }

  /** Exactly 32 bytes, unprefixed. */
  hash32(value: Uint8Array, field: string): this {
    if (!(value instanceof Uint8Array) || value.length !== 32) {
      throw new AuthorityError('INVALID_REQUEST', `${field} must be 32 bytes`, field);
    }
    this.parts.push(Buffer.from(value.buffer, value.byteOffset, value.length));
    return this;
  }

  finish(): Buffer {
    return Buffer.concat(this.parts);
  }
}

const HEX_HASH = /^[0-9a-f]{64}$/;

/** Decodes a lowercase 64-hex-digit hash; undefined for anything else (no case or length slack). */
export function decodeHexHash(hex: unknown): Buffer | undefined {
  return typeof hex === 'string' && HEX_HASH.test(hex) ? Buffer.from(hex, 'hex') : undefined;
}
