// The contract itself: buf lint (STANDARD) passes offline, the loader serves all four services,
// and the two generated faces (gRPC shapes, protobuf-es events) agree on every enum.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Decision, ReasonCode, loadAuthorityProto, pb, protoRoot } from '../src';

const repoRoot = resolve(__dirname, '../../../..');

test('buf lint (STANDARD) passes on proto/authority/v1', () => {
  const res = spawnSync(resolve(repoRoot, 'node_modules/.bin/buf'), ['lint'], { cwd: repoRoot, encoding: 'utf8' });
  assert.equal(res.status, 0, `${res.stdout}${res.stderr}`);
});

test("the package's copy of the .proto files is the contract, file for file", () => {
  const contract = resolve(repoRoot, 'proto/authority/v1');
  const shipped = resolve(protoRoot(), 'authority/v1');
  assert.deepEqual(readdirSync(shipped).sort(), readdirSync(contract).sort());
  for (const f of readdirSync(contract)) {
    assert.equal(readFileSync(resolve(shipped, f), 'utf8'), readFileSync(resolve(contract, f), 'utf8'), f);
  }
});

test('the loader serves the four services from proto/ with camelCase fields and maps', () => {
  assert.equal(protoRoot(), resolve(repoRoot, 'packages/proto/proto'));
  const { grpcObject, packageDefinition } = loadAuthorityProto();
  for (const svc of ['IssuerService', 'EnforcerService', 'PolicyService', 'AuditorService'] as const) {
    assert.equal(typeof grpcObject.authority.v1[svc], 'function', svc);
  }
  const check = (
    packageDefinition['authority.v1.EnforcerService'] as Record<
      string,
      { requestSerialize: (v: unknown) => Buffer; requestDeserialize: (b: Buffer) => unknown }
    >
  )['Check']!;
  const round = check.requestDeserialize(
    check.requestSerialize({
      token: 't',
      requiredScope: 'a:b',
      context: { purpose: 'p', recordCount: 2, fields: { k: 'v' } },
    }),
  ) as { requiredScope: string; context: { recordCount: number; fields: Record<string, string> } };
  assert.equal(round.requiredScope, 'a:b');
  assert.equal(round.context.recordCount, 2);
  assert.deepEqual({ ...round.context.fields }, { k: 'v' });
});

test('gRPC and protobuf-es enums agree name for name and number for number', () => {
  const pairs: [Record<string, string>, Record<string, string | number>][] = [
    [ReasonCode, pb.ReasonCode as unknown as Record<string, string | number>],
    [Decision, pb.Decision as unknown as Record<string, string | number>],
  ];
  for (const [grpcEnum, esEnum] of pairs) {
    const names = Object.keys(grpcEnum);
    assert.ok(names.length > 2);
    names.forEach((name, i) => assert.equal(esEnum[name], i, name));
  }
});
