// docs/enforcer.md documents every variable of the enforcer's own schema with its default.
import { test } from 'node:test';
import { describeConfig } from '@authority/platform';
import { assertVariablesDocumented } from '@authority/test-helpers';
import { enforcerConfigSchema } from '../../src/config';

test('docs/enforcer.md lists every enforcer variable with its default', () => {
  // The enforcer id defaults to the host name.
  assertVariablesDocumented('docs/enforcer.md', describeConfig(enforcerConfigSchema), ['AUTHORITY_ENFORCER_ID']);
});
