// The kafkajs security options (TLS, SASL) of a parsed config, as plain data: the adapter and the
// enforcer's producer thread are given them.
import { readFileSync } from 'node:fs';
import { checkKafkaSecurity, ConfigError, type KafkaSaslMechanism, type Secret } from '../config';

/**
 * kafkajs' `ssl` and `sasl` client options, as plain data (a worker thread can be given them). The
 * certificate files are read here, at start.
 */
export interface KafkaSecurity {
  ssl?: true | { ca?: string; cert?: string; key?: string };
  sasl?: KafkaSasl;
}

/** One SASL mechanism with its credentials (kafkajs' SASLOptions for the username/password mechanisms). */
export type KafkaSasl = {
  [M in KafkaSaslMechanism]: { mechanism: M; username: string; password: string };
}[KafkaSaslMechanism];

/** The Kafka security variables of the common schema (config.ts kafkaSecurityConfigShape). */
export interface KafkaSecurityConfig {
  KAFKA_SSL?: boolean | undefined;
  KAFKA_SSL_CA_FILE?: string | undefined;
  KAFKA_SSL_CERT_FILE?: string | undefined;
  KAFKA_SSL_KEY_FILE?: string | undefined;
  KAFKA_SASL_MECHANISM?: KafkaSaslMechanism | undefined;
  KAFKA_SASL_USERNAME?: string | undefined;
  KAFKA_SASL_PASSWORD?: Secret | undefined;
  KAFKA_SASL_PASSWORD_FILE?: Secret | undefined;
}

/**
 * The kafkajs security options of a parsed config. Throws ConfigError on an incomplete or unsafe
 * combination (checkKafkaSecurity, again: a config made without the checks must not connect in a
 * way the operator did not ask for).
 */
export function kafkaSecurityFromConfig(config: KafkaSecurityConfig): KafkaSecurity {
  const issues = checkKafkaSecurity(config as Record<string, unknown>);
  if (issues.length > 0) throw new ConfigError(issues);
  const out: KafkaSecurity = {};
  if (config.KAFKA_SSL === true) {
    const files: { ca?: string; cert?: string; key?: string } = {};
    if (config.KAFKA_SSL_CA_FILE !== undefined) files.ca = readFileSync(config.KAFKA_SSL_CA_FILE, 'utf8');
    if (config.KAFKA_SSL_CERT_FILE !== undefined) files.cert = readFileSync(config.KAFKA_SSL_CERT_FILE, 'utf8');
    if (config.KAFKA_SSL_KEY_FILE !== undefined) files.key = readFileSync(config.KAFKA_SSL_KEY_FILE, 'utf8');
    out.ssl = Object.keys(files).length === 0 ? true : files;
  }
  if (config.KAFKA_SASL_MECHANISM !== undefined) {
    const password = (config.KAFKA_SASL_PASSWORD ?? config.KAFKA_SASL_PASSWORD_FILE) as Secret;
    out.sasl = {
      mechanism: config.KAFKA_SASL_MECHANISM,
      username: config.KAFKA_SASL_USERNAME as string,
      password: password.reveal(),
    } as KafkaSasl;
  }
  return out;
}
