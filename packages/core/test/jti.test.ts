// Envelope ids never start with '-': a CLI reads `authority revoke envelope -Gh9…` as an option
// (CI once failed on exactly that; 1 id in 64 did).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newJti } from '../src';

test("newJti: 22 base64url characters, never starting with '-', and distinct", () => {
  const seen = new Set<string>();
  // Without the redraw, 5,000 ids all avoid a leading '-' with probability (63/64)^5000 ≈ 1e-34.
  for (let i = 0; i < 5_000; i++) {
    const id = newJti();
    assert.match(id, /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    seen.add(id);
  }
  assert.equal(seen.size, 5_000);
});
