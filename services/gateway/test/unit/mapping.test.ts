// The mapping file: what a valid file yields, and that every mistake is refused with its line,
// column and path (never silently dropped: a dropped check would expose a tool unguarded).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PolicyValidationError } from '@authority/core';
import { exposedName, matchResource, parseMapping } from '../../src/mapping';

const VALID = `upstreams:
  fs:
    command: node
    args: [server.js, /tmp/root]
    env: { DEBUG: 0 }
    tools:
      read_text_file:
        scope: files:docs:read
        resource: file://local/{path*}
      move_file:
        checks:
          - scope: files:docs:read
            resource: file://local/{source*}
          - scope: files:docs:write
            action: write
            resource: file://local/{destination*}
  web:
    namespace: everything
    url: http://127.0.0.1:3001/mcp
    tools:
      echo:
        scope: demo:echo
`;

function issuesOf(text: string): PolicyValidationError['issues'] {
  try {
    parseMapping(text);
  } catch (err) {
    assert.ok(err instanceof PolicyValidationError, String(err));
    return err.issues;
  }
  assert.fail('the mapping was accepted');
}

describe('parseMapping', () => {
  test('a valid file yields upstreams, transports and checks', () => {
    const m = parseMapping(VALID);
    assert.equal(m.upstreams.length, 2);
    const [fs, web] = m.upstreams;
    assert.deepEqual(fs?.transport, {
      kind: 'stdio',
      command: 'node',
      args: ['server.js', '/tmp/root'],
      env: { DEBUG: '0' },
    });
    assert.equal(fs?.tools.get('read_text_file')?.checks[0]?.resource?.source, 'file://local/{path*}');
    assert.deepEqual(
      fs?.tools.get('move_file')?.checks.map((c) => [c.scope, c.action]),
      [
        ['files:docs:read', undefined],
        ['files:docs:write', 'write'],
      ],
    );
    assert.deepEqual(web?.transport, { kind: 'http', url: 'http://127.0.0.1:3001/mcp' });
    assert.equal(exposedName(web!, 'echo'), 'everything.echo');
  });

  test('unknown keys, bad scopes and bad templates are refused with line and column', () => {
    const issues = issuesOf(`upstreams:
  fs:
    command: node
    tools:
      read:
        scope: notascope
        resourse: file://local/{path*}
      write:
        scope: files:docs:write
        resource: file://local/../{path*}
`);
    const byPath = Object.fromEntries(issues.map((i) => [i.path, i]));
    assert.match(byPath['upstreams.fs.tools.read.scope']?.message ?? '', /not a valid scope/);
    assert.equal(byPath['upstreams.fs.tools.read.scope']?.line, 6);
    assert.match(byPath['upstreams.fs.tools.read.resourse']?.message ?? '', /unknown key 'resourse'/);
    assert.equal(byPath['upstreams.fs.tools.read.resourse']?.line, 7);
    assert.equal(byPath['upstreams.fs.tools.read.resourse']?.column, 9);
    assert.match(byPath['upstreams.fs.tools.write.resource']?.message ?? '', /resource template: .*dot-segment/);
    assert.equal(byPath['upstreams.fs.tools.write.resource']?.line, 10);
  });

  test('a tool without a scope, an upstream without a transport or with both, duplicate namespaces', () => {
    const issues = issuesOf(`upstreams:
  a:
    tools:
      t: { action: read }
  b:
    command: x
    url: http://h/mcp
    tools: {}
  c:
    namespace: a
    url: ftp://h/
    tools: {}
`);
    const messages = issues.map((i) => `${i.line}:${i.path}: ${i.message}`).join('\n');
    assert.match(messages, /2:upstreams\.a: upstream 'a' needs exactly one of 'command'/);
    assert.match(messages, /4:upstreams\.a\.tools\.t: 'scope' is required/);
    assert.match(messages, /5:upstreams\.b: upstream 'b' needs exactly one of/);
    assert.match(messages, /10:upstreams\.c\.namespace: namespace 'a' is used by 'a'/);
    assert.match(messages, /11:upstreams\.c\.url: url must be http: or https:/);
  });

  test('placeholders must be whole segments; credentials in URLs and mixing checks with scope are refused', () => {
    const issues = issuesOf(`upstreams:
  a:
    url: http://user:pw@h/mcp
    tools:
      t:
        scope: a:b
        checks:
          - scope: a:c
            resource: file://local/x{path}
`);
    const messages = issues.map((i) => `${i.path}: ${i.message}`).join('\n');
    assert.match(messages, /upstreams\.a\.url: url must not carry credentials/);
    assert.match(messages, /upstreams\.a\.tools\.t\.scope: 'scope' cannot be combined with 'checks'/);
    assert.match(messages, /checks\[0\]\.resource: resource template: segment 'x\{path\}': a placeholder/);
  });

  test("the namespace 'authority' is reserved for the gateway's own tools", () => {
    const issues = issuesOf(`upstreams:
  authority:
    url: http://h/mcp
    tools: {}
`);
    assert.match(issues[0]?.message ?? '', /namespace 'authority' is reserved/);
    assert.equal(issues[0]?.line, 2);
  });

  test('hostile YAML is refused like a hostile policy (size, aliases, several documents)', () => {
    assert.match(issuesOf('a: 1\n---\nb: 2\n')[0]?.message ?? '', /more than one YAML document/);
    assert.match(issuesOf('x'.repeat(2 * 1024 * 1024))[0]?.message ?? '', /the limit is/);
    assert.match(issuesOf('upstreams: []')[0]?.message ?? '', /upstreams must be a mapping/);
  });

  test('prompts and resources: patterns capture variables the checks read; sessions is shared or per-agent', () => {
    const m = parseMapping(`upstreams:
  ev:
    command: node
    sessions: per-agent
    prompts:
      args-prompt: { scope: demo:prompt, resource: "demo://city/{city}" }
    resources:
      "demo://resource/static/document/{name}": { scope: demo:docs:read, resource: "demo://docs/{name}" }
      "demo://tree/{path*}": { scope: demo:tree:read }
`);
    const ev = m.upstreams[0]!;
    assert.equal(ev.sessions, 'per-agent');
    assert.equal(ev.tools.size, 0);
    assert.deepEqual([...ev.prompts.keys()], ['args-prompt']);
    const [doc, tree] = ev.resources;
    assert.deepEqual(matchResource(doc!, 'demo://resource/static/document/a.md'), { name: 'a.md' });
    assert.equal(matchResource(doc!, 'demo://resource/static/document/a/b.md'), undefined, '{name} is one part');
    assert.equal(matchResource(doc!, 'demo://resource/static/documentX'), undefined);
    assert.deepEqual(matchResource(tree!, 'demo://tree/a/b'), { path: 'a/b' });
    // Regex characters in a pattern are literal.
    const dot = parseMapping(`upstreams:
  x:
    url: http://h/mcp
    resources:
      "a.b://{id}": { scope: x:read }
`).upstreams[0]!.resources[0]!;
    assert.equal(matchResource(dot, 'aXb://1'), undefined);
    assert.ok(parseMapping(VALID).upstreams.every((u) => u.sessions === 'shared'));

    const issues = issuesOf(`upstreams:
  a:
    url: http://h/mcp
    sessions: sometimes
    resources:
      "no-scheme/{x}": { scope: a:read }
      "a://{x}/{x}": { scope: a:read }
      "a://{x}": { scope: a:read, resource: "a://r/{y}" }
  b:
    url: http://h/mcp
`);
    const messages = issues.map((i) => `${i.line}:${i.path}: ${i.message}`).join('\n');
    assert.match(messages, /4:upstreams\.a\.sessions: sessions must be 'shared' or 'per-agent'/);
    assert.match(messages, /6:.*resource pattern 'no-scheme\/\{x\}': a resource pattern starts with a URI scheme/);
    assert.match(messages, /7:.*variable 'x' is used twice/);
    assert.match(messages, /8:.*reads 'y', which the pattern does not capture/);
    assert.match(messages, /9:upstreams\.b: upstream 'b' has no 'tools', 'prompts' or 'resources'/);
  });
});
