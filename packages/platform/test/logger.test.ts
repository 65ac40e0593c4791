import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { createLogger, fingerprint, Secret, startTelemetry, withSpan, type Telemetry } from '../src';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, logger: createLogger({ service: 'issuer', level: 'debug', destination }) };
}

describe('createLogger', () => {
  let telemetry: Telemetry;
  before(async () => {
    telemetry = await startTelemetry({ serviceName: 'log-test', spanExporter: new InMemorySpanExporter() });
  });
  after(() => telemetry.shutdown());

  it('writes JSON lines with level label, ISO time, service and message', () => {
    const { lines, logger } = capture();
    logger.info({ tenant: 't1' }, 'minted');
    logger.debug('plain');
    assert.equal(lines.length, 2);
    assert.equal(lines[0]!['level'], 'info');
    assert.equal(lines[0]!['service'], 'issuer');
    assert.equal(lines[0]!['tenant'], 't1');
    assert.equal(lines[0]!['msg'], 'minted');
    assert.match(String(lines[0]!['time']), /^\d{4}-\d\d-\d\dT/);
    assert.equal(lines[1]!['msg'], 'plain');
  });

  it('redacts secrets, keys, tokens and authorization at any common depth', () => {
    const { lines, logger } = capture();
    logger.info(
      {
        apiKey: 'k1',
        token: 'eyJ.whole.token',
        authorization: 'Bearer abc',
        key: { privateKey: 'pk', secret: 's', token: 't', jti: 'jti-1' },
        req: { headers: { authorization: 'Bearer xyz' } },
        config: { MONGODB_URI: new Secret('mongodb://u:pw@h') },
      },
      'event',
    );
    const text = JSON.stringify(lines[0]);
    for (const leaked of ['k1', 'eyJ.whole.token', 'Bearer abc', '"pk"', '"s"', '"t"', 'Bearer xyz', 'pw@h']) {
      assert.ok(!text.includes(leaked), `${leaked} leaked: ${text}`);
    }
    assert.ok(text.includes('jti-1'), 'the jti stays visible');
  });

  it('adds trace_id and span_id of the active span', async () => {
    const { lines, logger } = capture();
    logger.info('outside');
    const ids = await withSpan('op', {}, (span) => {
      logger.info('inside');
      return span.spanContext();
    });
    assert.equal(lines[0]!['trace_id'], undefined);
    assert.equal(lines[1]!['trace_id'], ids.traceId);
    assert.equal(lines[1]!['span_id'], ids.spanId);
  });

  it('child loggers keep bindings and the level filter applies', () => {
    const { lines, logger } = capture();
    const child = logger.child({ tenantId: 't9' });
    child.warn('careful');
    assert.equal(lines[0]!['tenantId'], 't9');
    const quiet = createLogger({
      service: 'x',
      level: 'warn',
      destination: new Writable({ write: (_c, _e, cb) => cb() }),
    });
    assert.equal(quiet.isLevelEnabled('info'), false);
    assert.equal(quiet.isLevelEnabled('error'), true);
  });

  it('fingerprint gives a short stable non-reversible reference', () => {
    assert.equal(fingerprint('abc'), fingerprint('abc'));
    assert.notEqual(fingerprint('abc'), fingerprint('abd'));
    assert.match(fingerprint('abc'), /^[0-9a-f]{12}$/);
  });
});
