// Docs tests: a service's page documents every variable of its own config schema.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** A file of the repository, found upward from the running test (compiled under dist/). */
export function repoFile(rel: string, from = __dirname): string {
  let dir = from;
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, rel))) return join(dir, rel);
    dir = resolve(dir, '..');
  }
  throw new Error(`${rel} not found above ${from}`);
}

/** Documented once for all services in docs/configuration.md. */
export const COMMON_VARIABLES: ReadonlySet<string> = new Set([
  'AUTHORITY_GRPC_HOST',
  'AUTHORITY_LOG_LEVEL',
  'AUTHORITY_TOPIC_PREFIX',
  'KAFKA_BROKERS',
  'KAFKA_CLIENT_ID',
  'AUTHORITY_SHUTDOWN_GRACE',
  'AUTHORITY_TLS_CERT',
  'AUTHORITY_TLS_KEY',
  'AUTHORITY_TLS_CA',
  'AUTHORITY_REFLECTION',
  'KAFKA_SSL',
  'KAFKA_SSL_CA_FILE',
  'KAFKA_SSL_CERT_FILE',
  'KAFKA_SSL_KEY_FILE',
  'KAFKA_SASL_MECHANISM',
  'KAFKA_SASL_USERNAME',
  'KAFKA_SASL_PASSWORD',
  'KAFKA_SASL_PASSWORD_FILE',
]);

/** One variable as platform's describeConfig lists it. */
export interface DocumentedVariable {
  name: string;
  required: boolean;
  default?: string | undefined;
}

/**
 * Asserts that the page `docRel` has a table row `| \`NAME\` | … | required | default |` for every
 * variable but the common ones, with the schema's required flag and default (`—` for none).
 * `defaultNotChecked` names variables whose default depends on the machine (e.g. a host name).
 */
export function assertVariablesDocumented(
  docRel: string,
  variables: readonly DocumentedVariable[],
  defaultNotChecked: readonly string[] = [],
): void {
  const doc = readFileSync(repoFile(docRel), 'utf8');
  for (const row of variables) {
    if (COMMON_VARIABLES.has(row.name)) continue;
    const line = doc.split('\n').find((l) => l.startsWith(`| \`${row.name}\` |`));
    assert.ok(line, `${row.name} is not documented in ${docRel}`);
    const cells = line.split('|').map((c) => c.trim());
    assert.equal(cells[2], row.required ? 'yes' : 'no', `${row.name}: required`);
    if (defaultNotChecked.includes(row.name)) continue;
    assert.equal(cells[3], row.default !== undefined ? `\`${row.default}\`` : '—', `${row.name}: default`);
  }
}
