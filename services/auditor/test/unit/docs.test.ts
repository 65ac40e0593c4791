// docs/auditor.md documents every variable of the auditor's own schema with its default.
import { test } from 'node:test';
import { describeConfig } from '@authority/platform';
import { assertVariablesDocumented } from '@authority/test-helpers';
import { auditorConfigSchema } from '../../src/config';

test('docs/auditor.md lists every auditor variable with its default', () => {
  assertVariablesDocumented('docs/auditor.md', describeConfig(auditorConfigSchema));
});
