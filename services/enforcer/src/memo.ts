// The memo of verified links, stored compactly. core's LinkMemo keeps each link's parsed form; a
// memo hit reuses header, claims, constraints, holder key and hash, and skips the signature check
// when the key that verified it is still the key the link names. What a hit never reads (the link
// text, its signing input and signature: ~1.2 KB per link, half of it off-heap) is dropped before
// storing, so 100,000 memoized links fit the enforcer's memory budget. If the key bytes under a
// kid ever differ from the remembered ones, the verifier re-verifies; the emptied signature then
// fails, as the original would have (a signature made with one key does not verify with another).
import { LinkMemo, type ParsedLink } from '@authority/core';

const EMPTY = new Uint8Array(0);

export class CompactLinkMemo extends LinkMemo {
  override remember(link: ParsedLink, publicKey: Uint8Array): void {
    super.remember(compact(link), publicKey);
  }
}

function compact(link: ParsedLink): ParsedLink {
  return Object.freeze({
    raw: '',
    hash: link.hash,
    header: link.header,
    claims: link.claims,
    constraints: link.constraints,
    holderKey: link.holderKey,
    signingInput: EMPTY,
    signature: EMPTY,
  });
}
