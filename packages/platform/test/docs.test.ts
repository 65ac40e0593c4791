import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { z } from 'zod';
import {
  apiKeysConfigShape,
  commonConfigSchema,
  configMarkdownTable,
  describeConfig,
  eventSigningConfigShape,
  mongoConfigShape,
} from '../src';

// dist/test/docs.test.js → repository root
const doc = readFileSync(join(__dirname, '..', '..', '..', '..', 'docs', 'configuration.md'), 'utf8');

function section(name: string): string {
  const m = new RegExp(`<!-- generated:${name}[^>]*-->\\n([\\s\\S]*?)\\n<!-- /generated:${name} -->`).exec(doc);
  assert.ok(m, `docs/configuration.md has a generated:${name} section`);
  return m[1]!.trim();
}

describe('docs/configuration.md', () => {
  it('documents exactly the common schema (names, required, defaults, descriptions)', () => {
    assert.equal(section('common'), configMarkdownTable(describeConfig(commonConfigSchema)));
  });

  it('documents the shared optional fragments', () => {
    assert.equal(
      section('shared'),
      configMarkdownTable(
        describeConfig(z.object({ ...mongoConfigShape, ...apiKeysConfigShape, ...eventSigningConfigShape })),
      ),
    );
  });
});
