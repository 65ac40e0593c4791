// Fails when source files import each other in a cycle (type-only imports included: a cycle over a
// type still ties two modules' designs together). Relative imports are followed; imports between
// workspaces cannot form cycles (tsc -b project references refuse them); generated code is skipped.
// Run by `npm run lint`. Usage: node scripts/check-cycles.mjs [root ...]
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const repo = resolve(dirname(new URL(import.meta.url).pathname), '..');
const roots = process.argv.length > 2 ? process.argv.slice(2) : ['packages', 'services', 'test'];
const skipDirs = new Set(['node_modules', 'dist', 'gen', 'out']);

function walk(dir, out) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (skipDirs.has(name)) continue;
    if (statSync(p).isDirectory()) walk(p, out);
    else if (/\.(ts|mts|cts)$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const files = roots.flatMap((r) => walk(resolve(repo, r), []));
const known = new Set(files);

function resolveImport(from, spec) {
  if (!spec.startsWith('.')) return undefined; // packages: tsc -b project references forbid cycles
  const base = resolve(dirname(from), spec);
  const candidates = [base, base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')];
  return candidates.find((c) => known.has(c));
}

const graph = new Map();
for (const file of files) {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  const deps = new Set();
  for (const ref of info.importedFiles) {
    const target = resolveImport(file, ref.fileName);
    if (target) deps.add(target);
  }
  graph.set(file, [...deps]);
}

// Tarjan's strongly connected components: every component with more than one file is a cycle.
let index = 0;
const stack = [];
const state = new Map();
const cycles = [];
function connect(v) {
  const s = { index, low: index, onStack: true };
  index++;
  state.set(v, s);
  stack.push(v);
  for (const w of graph.get(v)) {
    const t = state.get(w);
    if (!t) {
      connect(w);
      s.low = Math.min(s.low, state.get(w).low);
    } else if (t.onStack) s.low = Math.min(s.low, t.index);
  }
  if (s.low === s.index) {
    const component = [];
    let w;
    do {
      w = stack.pop();
      state.get(w).onStack = false;
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || graph.get(v).includes(v)) cycles.push(component);
  }
}
for (const v of graph.keys()) if (!state.has(v)) connect(v);

if (cycles.length > 0) {
  for (const c of cycles) {
    console.error(
      `import cycle among: ${c
        .map((f) => relative(repo, f))
        .sort()
        .join(', ')}`,
    );
  }
  process.exit(1);
}
console.log(`check-cycles: ${files.length} files, no import cycles`);
