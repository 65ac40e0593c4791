// Static checks of services/*/Dockerfile and .dockerignore (there is no Docker engine to build
// them here): multi-stage on a pinned node:20 bookworm-slim tag, production dependencies only in
// the final stage, the compiled dist of every workspace the service needs (and the .proto files
// @authority/proto loads at run time), a numeric non-root USER matching the manifests, EXPOSE of
// the gRPC port, and an exec-form CMD whose script exists after `npm run build`.
//   node --test deploy/k8s/test/
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { describe, test } from 'node:test';

import { GRPC_PORTS, REPO_ROOT, SERVICES, ensureBuilt, render, runtimeWorkspaceDeps } from '../lib/repo.mjs';

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

const DOCKERFILES = Object.fromEntries(
  SERVICES.map((svc) => {
    const path = join(REPO_ROOT, 'services', svc, 'Dockerfile');
    const text = readFileSync(path, 'utf8');
    return [svc, { path, text, stages: stages(parseDockerfile(text)) }];
  }),
);
const ROOT_PKG = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'));
const BASE_DEPLOYMENTS = render('base').filter((o) => o.kind === 'Deployment');

describe('Dockerfiles', () => {
  for (const svc of SERVICES) {
    const { stages: st } = DOCKERFILES[svc];
    const final = st[st.length - 1];
    const stageByName = new Map(st.map((s) => [s.name, s]));
    const finalInstr = (op) => final.instructions.filter((i) => i.op === op);

    describe(svc, () => {
      test('multi-stage, every base image a pinned node:20 bookworm-slim tag (never latest, never untagged)', () => {
        assert.ok(st.length >= 2, 'at least a build stage and a runtime stage');
        const engines = /^>=(\d+)\./.exec(ROOT_PKG.engines.node);
        for (const s of st) {
          if (stageByName.has(s.from) && s.from !== s.name) continue; // FROM an earlier stage
          const m = /^node:(\d+)\.(\d+)(?:\.\d+)?-bookworm-slim$/.exec(s.from);
          assert.ok(m, `stage ${s.name}: FROM ${s.from} must be node:<20.x>-bookworm-slim`);
          assert.equal(m[1], engines[1], `stage ${s.name}: Node major ${m[1]} vs engines ${ROOT_PKG.engines.node}`);
          assert.ok(!/latest/.test(s.from));
        }
        const tags = new Set(st.map((s) => s.from).filter((f) => !stageByName.has(f)));
        assert.equal(tags.size, 1, `one base image for every stage: ${[...tags].join(', ')}`);
      });

      test('the build stage runs npm ci and npm run build for the monorepo', () => {
        const build = st.find((s) => s.instructions.some((i) => i.op === 'RUN' && /\bnpm run build\b/.test(i.args)));
        assert.ok(build, 'a stage runs `npm run build`');
        const runs = build.instructions.filter((i) => i.op === 'RUN').map((i) => i.args);
        const ci = runs.findIndex((r) => /\bnpm ci\b/.test(r));
        const b = runs.findIndex((r) => /\bnpm run build\b/.test(r));
        assert.ok(ci >= 0 && ci < b, 'npm ci before npm run build');
        assert.ok(ROOT_PKG.scripts.build, 'the root package.json has a build script');
      });

      test('no development dependencies in the final stage', () => {
        for (const run of npmInstalls(final))
          assert.ok(isProductionInstall(run), `line ${run.line}: npm install in the final stage without --omit=dev`);
        for (const cp of finalInstr('COPY')) {
          const from = cp.flags.from;
          if (from === undefined) {
            assert.fail(
              `line ${cp.line}: the final stage copies from the build context (${cp.args}); copy built artefacts from a stage`,
            );
          }
          const source = stageByName.get(from);
          assert.ok(source, `line ${cp.line}: --from=${from} is not a stage`);
          const installs = npmInstalls(source);
          if (installs.length > 0 && installs.every(isProductionInstall)) {
            // a production-dependencies stage: must install only this service's workspace
            for (const run of installs) {
              assert.match(
                run.args,
                new RegExp(`--workspace[= ]services/${svc}\\b`),
                `line ${run.line}: prod install limited to services/${svc}`,
              );
              assert.match(
                run.args,
                /--include-workspace-root=false/,
                `line ${run.line}: without the root's dev tooling`,
              );
            }
          } else {
            // a stage with dev dependencies: only compiled output and the .proto contract may leave it
            for (const src of copySources(cp).sources) {
              assert.doesNotMatch(src, /node_modules/, `line ${cp.line}: node_modules from the dev stage ${from}`);
              assert.ok(
                /\/dist\/(src|gen)$/.test(src) || /\/proto$/.test(src),
                `line ${cp.line}: ${src} from dev stage ${from} is not compiled output or proto/`,
              );
            }
          }
        }
      });

      test('the final stage carries the dist of every workspace the service needs, and proto/', () => {
        const workdir = posix.normalize(finalInstr('WORKDIR').at(-1)?.args ?? '/');
        const dests = finalInstr('COPY').map((cp) => posix.resolve(workdir, copySources(cp).dest));
        for (const dir of [`services/${svc}`, ...runtimeWorkspaceDeps(`services/${svc}`)]) {
          assert.ok(
            dests.includes(posix.join(workdir, dir, 'dist/src')),
            `${dir}/dist/src is copied to ${posix.join(workdir, dir)}`,
          );
          if (dir === 'packages/proto') {
            assert.ok(dests.includes(posix.join(workdir, dir, 'dist/gen')), 'packages/proto/dist/gen is copied');
            // @authority/proto's protoRoot() looks for proto/authority/v1 above its dist at run time.
            assert.ok(dests.includes(posix.join(workdir, 'proto')), 'proto/ is copied (loaded at run time)');
          }
        }
      });

      test('runs as a numeric non-root user, the uid the manifests use', () => {
        const users = finalInstr('USER');
        assert.ok(users.length > 0, 'USER in the final stage');
        const m = /^(\d+)(?::(\d+))?$/.exec(users.at(-1).args);
        assert.ok(m, `USER ${users.at(-1).args} must be numeric (runAsNonRoot cannot check a name)`);
        assert.notEqual(Number(m[1]), 0);
        const d = BASE_DEPLOYMENTS.find((x) => x.metadata.name === svc);
        assert.equal(Number(m[1]), d.spec.template.spec.securityContext.runAsUser);
        const runAfterUser = final.instructions
          .slice(final.instructions.indexOf(users.at(-1)))
          .filter((i) => i.op === 'RUN');
        assert.deepEqual(runAfterUser, [], 'nothing runs as root after USER');
      });

      test('EXPOSEs the gRPC port of the manifests and the config default', () => {
        assert.deepEqual(
          finalInstr('EXPOSE').map((e) => e.args),
          [String(GRPC_PORTS[svc])],
        );
        const d = BASE_DEPLOYMENTS.find((x) => x.metadata.name === svc);
        assert.equal(d.spec.template.spec.containers[0].ports[0].containerPort, GRPC_PORTS[svc]);
      });

      test('exec-form CMD node services/<svc>/dist/src/main.js, which exists after the build', () => {
        const cmd = finalInstr('CMD').at(-1);
        assert.ok(cmd, 'CMD');
        assert.deepEqual(JSON.parse(cmd.args), ['node', `services/${svc}/dist/src/main.js`]);
        assert.deepEqual(finalInstr('ENTRYPOINT'), [], 'no ENTRYPOINT (signals go straight to node)');
        assert.deepEqual(finalInstr('HEALTHCHECK'), [], 'health is grpc.health.v1 via Kubernetes probes');
        const main = ensureBuilt(svc, 'main');
        assert.ok(existsSync(main), `${main} after the build`);
      });

      test('no secrets or remote downloads baked in', () => {
        for (const s of st) {
          for (const i of s.instructions) {
            assert.notEqual(i.op, 'ADD', `line ${i.line}: use COPY (ADD fetches URLs and unpacks archives)`);
            if (i.op === 'ENV' || i.op === 'ARG')
              assert.doesNotMatch(
                i.args,
                /(KEY|SECRET|PASSWORD|TOKEN|KEK|MONGODB_URI)\b/i,
                `line ${i.line}: secret-like ${i.op}`,
              );
            if (i.op === 'RUN') assert.doesNotMatch(i.args, /\b(curl|wget)\b/, `line ${i.line}: downloads outside npm`);
          }
        }
      });
    });
  }

  test('the four Dockerfiles differ only in the service name and port', () => {
    const normalise = (svc) =>
      DOCKERFILES[svc].text.replaceAll(svc, '<svc>').replaceAll(String(GRPC_PORTS[svc]), '<port>');
    for (const svc of SERVICES.slice(1)) assert.equal(normalise(svc), normalise(SERVICES[0]), svc);
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
