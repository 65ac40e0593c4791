// Lays out what one service's runtime image needs from the build stage of the Dockerfile: the
// compiled dist of the service and of every workspace it depends on at run time (transitively),
// packages/proto/dist/gen, the package's copy of the .proto contract (loaded at run time) and a `main.js` link to the
// service's entry point, so one exec-form CMD serves every service.
//   node scripts/containers/assemble-service.mjs <service> <out-dir>
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

const [service, out] = process.argv.slice(2);
const root = process.cwd();
const services = readdirSync(join(root, 'services')).filter((d) =>
  existsSync(join(root, 'services', d, 'package.json')),
);
if (!service || !out || !services.includes(service)) {
  console.error(`usage: assemble-service.mjs <${services.join('|')}> <out-dir> (got '${service ?? ''}')`);
  process.exit(2);
}

const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const byName = new Map(
  rootPkg.workspaces.map((dir) => [JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')).name, dir]),
);
const needed = new Set([`services/${service}`]);
const visit = (dir) => {
  const pkg = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
  for (const dep of Object.keys(pkg.dependencies ?? {})) {
    const target = byName.get(dep);
    if (target !== undefined && !needed.has(target)) {
      needed.add(target);
      visit(target);
    }
  }
};
visit(`services/${service}`);

const copy = (rel) => {
  const from = join(root, rel);
  if (!existsSync(from)) throw new Error(`${rel} is missing (did the build run?)`);
  cpSync(from, join(out, rel), { recursive: true });
};
mkdirSync(out, { recursive: true });
for (const dir of [...needed].sort()) copy(join(dir, 'dist', 'src'));
if (needed.has('packages/proto')) {
  copy('packages/proto/dist/gen');
  copy('packages/proto/proto');
}
symlinkSync(`services/${service}/dist/src/main.js`, join(out, 'main.js'));
console.log(`assembled ${service}: ${[...needed].sort().join(', ')}`);
