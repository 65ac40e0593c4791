// Opaque page tokens: base64url of a small JSON object naming the tenant, so a token issued for one
// tenant is refused for another (INVALID_ARGUMENT) and a token of one RPC is refused by another.
import { InvalidArgumentError } from '@authority/platform';

interface TokenBody {
  /** Kind: `q` QueryEvents (after seq), `c` ListCheckpoints (before seq). */
  k: 'q' | 'c';
  t: string;
  s: number;
}

export function encodePageToken(kind: TokenBody['k'], tenant: string, seq: number): string {
  return Buffer.from(JSON.stringify({ k: kind, t: tenant, s: seq } satisfies TokenBody), 'utf8').toString('base64url');
}

/** The seq a page token carries; INVALID_ARGUMENT (field `page_token`) for anything else. */
export function decodePageToken(kind: TokenBody['k'], tenant: string, token: string): number {
  const bad = (why: string) => new InvalidArgumentError('page_token', `page_token: ${why}`);
  if (token.length > 2048 || !/^[A-Za-z0-9_-]+$/.test(token)) throw bad('not a page token of this service');
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw bad('not a page token of this service');
  }
  const b = body as Partial<TokenBody> | null;
  if (
    typeof b !== 'object' ||
    b === null ||
    b.k !== kind ||
    typeof b.t !== 'string' ||
    !Number.isSafeInteger(b.s) ||
    (b.s as number) < 0
  ) {
    throw bad('not a page token of this call');
  }
  if (b.t !== tenant) throw bad('the token was issued for another tenant');
  return b.s as number;
}
