// PolicyView parses lazily: a replay of many versions parses only the newest valid one per tenant,
// and what callers see (get, versionOf, apply's messages once a tenant is read) is unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMessage, pb } from '@authority/proto';
import { MAX_PENDING_CHARS, PolicyView } from '../src/policy-view';

const yaml = (org: string, pad = 0) =>
  `version: "1"\norganization: ${org}\nagents:\n  bot:\n    scopes: [vault:x:read]\n${pad > 0 ? `# ${'x'.repeat(pad)}\n` : ''}`;
const BAD = 'agents: [';

const ev = (tenant: string, version: number, extra: Partial<{ yaml: string; deleted: boolean }> = {}) =>
  createMessage(pb.PolicyVersionEventSchema, {
    tenant,
    version: BigInt(version),
    yaml: yaml(`${tenant}-v${version}`),
    sha256: `sha-${version}`,
    ...extra,
  });

/** Applies the events in order; returns what apply answered for each. */
function replay(view: PolicyView, events: pb.PolicyVersionEvent[]): (string | undefined)[] {
  return events.map((e) => view.apply(e));
}

test('a replay of many versions is answered with the newest, whatever the order', () => {
  const v = new PolicyView();
  const versions = Array.from({ length: 200 }, (_, i) => i + 1);
  // Out of order as from several partitions: odd versions first, then even ones.
  const order = [...versions.filter((x) => x % 2 === 1), ...versions.filter((x) => x % 2 === 0)];
  const messages = replay(
    v,
    order.map((x) => ev('a', x)),
  );
  assert.ok(messages.every((m) => m === undefined));
  assert.equal(v.versionOf('a'), 200);
  const current = v.get('a');
  assert.equal(current?.version, 200);
  assert.equal(current?.sha256, 'sha-200');
  assert.equal(current?.policy.organization, 'a-v200');
  assert.equal(v.get('nobody'), undefined);
});

test('only the newest version is parsed: invalid older versions are never reported', () => {
  const v = new PolicyView();
  const invalid: string[] = [];
  v.onInvalid((m) => invalid.push(m));
  // Versions 1-99 are invalid; if the view parsed them, it would report them.
  replay(v, [...Array.from({ length: 99 }, (_, i) => ev('a', i + 1, { yaml: BAD })), ev('a', 100)]);
  assert.equal(v.get('a')?.version, 100);
  assert.deepEqual(invalid, []);
});

test('an invalid newest version falls back to the newest valid one, and is reported', () => {
  const v = new PolicyView();
  const invalid: string[] = [];
  v.onInvalid((m) => invalid.push(m));
  replay(v, [ev('a', 1), ev('a', 2), ev('a', 3, { yaml: BAD }), ev('a', 4, { yaml: BAD })]);
  assert.equal(v.get('a')?.version, 2);
  assert.equal(v.get('a')?.policy.organization, 'a-v2');
  assert.equal(invalid.length, 2);
  assert.match(invalid[0] ?? '', /^policy a v3 is invalid and was skipped: /);
  assert.match(invalid[1] ?? '', /^policy a v4 is invalid and was skipped: /);
  assert.equal(v.versionOf('a'), 4);
  // Every version invalid: no policy, as before.
  const w = new PolicyView();
  replay(w, [ev('b', 1, { yaml: BAD })]);
  assert.equal(w.get('b'), undefined);
});

test('once a tenant is read, each new version is parsed on arrival and apply reports a bad one', () => {
  const v = new PolicyView();
  const invalid: string[] = [];
  v.onInvalid((m) => invalid.push(m));
  v.apply(ev('a', 1));
  assert.equal(v.get('a')?.version, 1);
  assert.equal(v.apply(ev('a', 2)), undefined);
  assert.match(v.apply(ev('a', 3, { yaml: BAD })) ?? '', /^policy a v3 is invalid and was skipped/);
  assert.equal(v.get('a')?.version, 2);
  assert.deepEqual(invalid, []); // reported by apply, not twice
});

test('tombstones drop queued versions; change listeners hear of every newer version', () => {
  const v = new PolicyView();
  const heard: string[] = [];
  v.onChange((tenant, version) => heard.push(`${tenant}@${version}`));
  replay(v, [ev('a', 1), ev('a', 2), ev('a', 3, { deleted: true, yaml: '' }), ev('a', 2), ev('b', 1)]);
  assert.deepEqual(heard, ['a@1', 'a@2', 'a@3', 'b@1']);
  assert.equal(v.get('a'), undefined);
  assert.equal(v.versionOf('a'), 3);
  v.apply(ev('a', 4));
  assert.equal(v.get('a')?.version, 4);
  assert.equal(v.get('b')?.version, 1);
});

test('a tenant nobody reads holds a bounded queue: past the bound apply parses the newest', () => {
  const v = new PolicyView();
  const pad = 256 * 1024;
  const per = yaml('x', pad).length;
  const fit = Math.floor(MAX_PENDING_CHARS / per);
  const events = Array.from({ length: fit + 1 }, (_, i) => ev('a', i + 1, { yaml: yaml(`a-v${i + 1}`, pad) }));
  // The last one goes past the bound; make it invalid, so the parse shows in apply's answer.
  events[fit] = ev('a', fit + 1, { yaml: `${BAD}${' '.repeat(pad)}` });
  const messages = replay(v, events);
  assert.ok(messages.slice(0, fit).every((m) => m === undefined));
  assert.match(messages[fit] ?? '', new RegExp(`^policy a v${fit + 1} is invalid and was skipped`));
  assert.equal(v.get('a')?.version, fit);
});
