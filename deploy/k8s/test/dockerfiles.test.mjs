// Static checks of the one Dockerfile (all four services, build arg SERVICE) and .dockerignore:
// multi-stage on one base image (ARG BASE_IMAGE defaulting to a pinned node:20 bookworm-slim tag),
// production dependencies only in the final stage, the compiled output laid out by
// scripts/containers/assemble-service.mjs, a numeric non-root USER matching the manifests, and an
// exec-form CMD. The images are also built and run for real by `npm run test:containers`
// (test/containers/images.test.ts): these checks only keep the recipe's rules readable and fast.
//   node --test deploy/k8s/test/
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import {
  GRPC_PORTS,
  HTTP_SERVICES,
  REPO_ROOT,
  SERVICES,
  ensureBuilt,
  render,
  runtimeWorkspaceDeps,
} from '../lib/repo.mjs';

/** Instructions of a Dockerfile: { op, args, flags, line }, continuation lines joined. */
export function parseDockerfile(text) {
  const out = [];
  let buf = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (buf === '' && /^\s*(#|$)/.test(line)) return; // comment or blank between instructions
    if (buf !== '' && /^\s*#/.test(line)) return; // comment inside a continuation
    if (buf === '') start = i + 1;
    if (/\\\s*$/.test(line)) {
      buf += line.replace(/\\\s*$/, ' ');
      return;
    }
    buf += line;
    const m = /^\s*([A-Za-z]+)\s+(.*)$/s.exec(buf);
    assert.ok(m, `line ${start}: cannot parse "${buf}"`);
    let rest = m[2].trim();
    const flags = {};
    for (let f = /^--([a-z-]+)(?:=(\S+))?\s+/.exec(rest); f; f = /^--([a-z-]+)(?:=(\S+))?\s+/.exec(rest)) {
      flags[f[1]] = f[2] ?? true;
      rest = rest.slice(f[0].length);
    }
    out.push({ op: m[1].toUpperCase(), args: rest, flags, line: start });
    buf = '';
  });
  return out;
}

/** Stages: { name, from, instructions }. */
function stages(instructions) {
  const list = [];
  for (const ins of instructions) {
    if (ins.op === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      assert.ok(m, `line ${ins.line}: FROM ${ins.args}`);
      list.push({ name: m[2] ?? String(list.length), from: m[1], instructions: [] });
    } else {
      assert.ok(list.length > 0, `line ${ins.line}: ${ins.op} before FROM`);
      list[list.length - 1].instructions.push(ins);
    }
  }
  return list;
}

const npmInstalls = (stage) =>
  stage.instructions.filter((i) => i.op === 'RUN' && /\bnpm\s+(ci|install|i)\b/.test(i.args));
const isProductionInstall = (run) => /--omit[= ]dev\b/.test(run.args) || /--production\b/.test(run.args);

function copySources(ins) {
  if (ins.args.startsWith('[')) {
    const parts = JSON.parse(ins.args);
    return { sources: parts.slice(0, -1), dest: parts[parts.length - 1] };
  }
  const parts = ins.args.split(/\s+/);
  return { sources: parts.slice(0, -1), dest: parts[parts.length - 1] };
}

const DOCKERFILE_TEXT = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
const INSTRUCTIONS = parseDockerfile(DOCKERFILE_TEXT);
const ROOT_PKG = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'));
const BASE_DEPLOYMENTS = render('base').filter((o) => o.kind === 'Deployment');

describe('Dockerfile', () => {
  const globalArgs = [];
  for (const ins of INSTRUCTIONS) {
    if (ins.op === 'FROM') break;
    globalArgs.push(ins);
  }
  const st = stages(INSTRUCTIONS.slice(globalArgs.length));
  const final = st[st.length - 1];
  const stageByName = new Map(st.map((s) => [s.name, s]));
  const finalInstr = (op) => final.instructions.filter((i) => i.op === op);

  test('one base image for every stage: ARG BASE_IMAGE, defaulting to a pinned node:20 bookworm-slim tag', () => {
    assert.ok(st.length >= 2, 'at least a build stage and a runtime stage');
    const base = globalArgs.find((i) => i.op === 'ARG' && /^BASE_IMAGE=/.test(i.args));
    assert.ok(base, 'ARG BASE_IMAGE=<default> before the first FROM');
    const m = /^BASE_IMAGE=node:(\d+)\.(\d+)(?:\.\d+)?-bookworm-slim$/.exec(base.args);
    assert.ok(m, `${base.args} must default to node:<20.x>-bookworm-slim`);
    const engines = /^>=(\d+)\./.exec(ROOT_PKG.engines.node);
    assert.equal(m[1], engines[1], `Node major ${m[1]} vs engines ${ROOT_PKG.engines.node}`);
    for (const s of st) {
      if (stageByName.has(s.from) && s.from !== s.name) continue; // FROM an earlier stage
      assert.equal(s.from, '${BASE_IMAGE}', `stage ${s.name}: FROM ${s.from} must be \${BASE_IMAGE}`);
    }
  });

  test('the build stage installs, compiles the services, then lays out the SERVICE build arg', () => {
    const build = st.find((s) =>
      s.instructions.some((i) => i.op === 'RUN' && /\bnpm run build:services\b/.test(i.args)),
    );
    assert.ok(build, 'a stage runs `npm run build:services`');
    const ops = build.instructions.map((i) => `${i.op} ${i.args}`);
    const ci = ops.findIndex((r) => /^RUN npm ci\b/.test(r));
    const compile = ops.findIndex((r) => /npm run build:services/.test(r));
    const arg = ops.findIndex((r) => /^ARG SERVICE$/.test(r));
    const assemble = ops.findIndex((r) => /assemble-service\.mjs "\$\{SERVICE\}"/.test(r));
    assert.ok(ci >= 0 && ci < compile, 'npm ci before the build');
    // SERVICE is declared after the compile, so the four images share every build layer before it.
    assert.ok(compile < arg && arg < assemble, 'ARG SERVICE after the compile, then assemble-service.mjs');
    assert.ok(ROOT_PKG.scripts['build:services'], 'the root package.json has a build:services script');
  });

  test('no development dependencies in the final stage', () => {
    for (const run of npmInstalls(final))
      assert.ok(isProductionInstall(run), `line ${run.line}: npm install in the final stage without --omit=dev`);
    for (const cp of finalInstr('COPY')) {
      const from = cp.flags.from;
      assert.ok(from !== undefined, `line ${cp.line}: the final stage copies from the build context (${cp.args})`);
      const source = stageByName.get(from);
      assert.ok(source, `line ${cp.line}: --from=${from} is not a stage`);
      const installs = npmInstalls(source);
      if (installs.length > 0 && installs.every(isProductionInstall)) {
        for (const run of installs) {
          assert.match(
            run.args,
            /--workspace "?services\/\$\{SERVICE\}"?/,
            `line ${run.line}: prod install of the service only`,
          );
          assert.match(run.args, /--include-workspace-root=false/, `line ${run.line}: without the root's dev tooling`);
        }
      } else {
        // a stage with dev dependencies: only the laid-out runtime files may leave it
        assert.deepEqual(copySources(cp).sources, ['/app/'], `line ${cp.line}: only /app/ from ${from}`);
      }
    }
  });

  for (const svc of [...SERVICES, ...HTTP_SERVICES]) {
    test(`assemble-service.mjs lays out ${svc}: its dist, every workspace it needs, the .proto files and main.js`, () => {
      ensureBuilt(svc, 'main');
      const out = mkdtempSync(join(tmpdir(), `assemble-${svc}-`));
      try {
        execFileSync(process.execPath, [join(REPO_ROOT, 'scripts/containers/assemble-service.mjs'), svc, out], {
          cwd: REPO_ROOT,
          stdio: 'pipe',
        });
        for (const dir of [`services/${svc}`, ...runtimeWorkspaceDeps(`services/${svc}`)]) {
          assert.ok(existsSync(join(out, dir, 'dist/src')), `${dir}/dist/src`);
          if (dir === 'packages/proto') {
            assert.ok(existsSync(join(out, dir, 'dist/gen')), 'packages/proto/dist/gen');
            assert.ok(existsSync(join(out, dir, 'proto/authority/v1')), 'packages/proto/proto (loaded at run time)');
          }
        }
        assert.equal(readlinkSync(join(out, 'main.js')), `services/${svc}/dist/src/main.js`);
        assert.ok(existsSync(join(out, 'main.js')), 'main.js resolves');
        assert.ok(!existsSync(join(out, 'packages/cli')), 'nothing the service does not use');
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    });
  }

  test('assemble-service.mjs refuses an unknown service', () => {
    assert.throws(
      () =>
        execFileSync(
          process.execPath,
          [join(REPO_ROOT, 'scripts/containers/assemble-service.mjs'), 'gateway2', tmpdir()],
          { cwd: REPO_ROOT, stdio: 'pipe' },
        ),
      /usage: assemble-service\.mjs/,
    );
  });

  test('runs as a numeric non-root user, the uid every manifest uses', () => {
    const users = finalInstr('USER');
    assert.ok(users.length > 0, 'USER in the final stage');
    const m = /^(\d+)(?::(\d+))?$/.exec(users.at(-1).args);
    assert.ok(m, `USER ${users.at(-1).args} must be numeric (runAsNonRoot cannot check a name)`);
    assert.notEqual(Number(m[1]), 0);
    for (const d of BASE_DEPLOYMENTS)
      assert.equal(Number(m[1]), d.spec.template.spec.securityContext.runAsUser, d.metadata.name);
    const runAfterUser = final.instructions
      .slice(final.instructions.indexOf(users.at(-1)))
      .filter((i) => i.op === 'RUN');
    assert.deepEqual(runAfterUser, [], 'nothing runs as root after USER');
  });

  test('exec-form CMD node main.js; no ENTRYPOINT, no HEALTHCHECK', () => {
    const cmd = finalInstr('CMD').at(-1);
    assert.ok(cmd, 'CMD');
    assert.deepEqual(JSON.parse(cmd.args), ['node', 'main.js']);
    assert.deepEqual(finalInstr('ENTRYPOINT'), [], 'no ENTRYPOINT (signals go straight to node)');
    assert.deepEqual(finalInstr('HEALTHCHECK'), [], 'health is grpc.health.v1 via Kubernetes probes');
    for (const svc of SERVICES) assert.ok(GRPC_PORTS[svc] > 0);
  });

  test('no secrets or remote downloads baked in', () => {
    for (const i of INSTRUCTIONS) {
      assert.notEqual(i.op, 'ADD', `line ${i.line}: use COPY (ADD fetches URLs and unpacks archives)`);
      if (i.op === 'ENV' || i.op === 'ARG')
        assert.doesNotMatch(
          i.args,
          /(KEY|SECRET|PASSWORD|TOKEN|KEK|MONGODB_URI)\b/i,
          `line ${i.line}: secret-like ${i.op}`,
        );
      if (i.op === 'RUN') assert.doesNotMatch(i.args, /\b(curl|wget)\b/, `line ${i.line}: downloads outside npm`);
    }
  });

  test('there is one Dockerfile (no per-service copies)', () => {
    for (const svc of [...SERVICES, ...HTTP_SERVICES])
      assert.ok(!existsSync(join(REPO_ROOT, 'services', svc, 'Dockerfile')), svc);
  });
});

describe('.dockerignore', () => {
  const patterns = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));

  test('keeps local builds, dependencies, VCS, infrastructure state and secrets out of the context', () => {
    for (const p of [
      '**/node_modules',
      '**/dist',
      '**/*.tsbuildinfo',
      '.git',
      '.infra',
      '**/.env',
      '**/*.pem',
      '**/*.key',
    ]) {
      assert.ok(patterns.includes(p), `.dockerignore has ${p}`);
    }
  });

  test('keeps what the build needs: sources, manifests, lock file, proto/, every workspace manifest', () => {
    const needed = [
      'package.json',
      'package-lock.json',
      '.npmrc',
      'tsconfig.base.json',
      'tsconfig.build.json',
      'proto',
      'packages',
      'services',
    ];
    for (const n of needed)
      assert.ok(!patterns.includes(n) && !patterns.includes(`/${n}`), `.dockerignore must not exclude ${n}`);
    for (const dir of ROOT_PKG.workspaces) {
      const excludedWholesale = patterns.includes(`${dir}/**`) || patterns.includes(dir);
      if (excludedWholesale)
        assert.ok(
          patterns.includes(`!${dir}/package.json`),
          `${dir}/package.json stays in the context (npm ci checks it against the lock)`,
        );
    }
  });
});
