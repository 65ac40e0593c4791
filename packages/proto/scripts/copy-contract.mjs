// Copies the contract (proto/authority/v1/*.proto at the repository root, its only tracked home)
// into packages/proto/proto, where the gRPC loader reads it at run time and `npm pack` ships it.
// The copy is a build artifact (gitignored): the root build, this package's build and prepack, and
// scripts/proto-gen.sh all run this, so an edit to proto/ reaches the package on the next build.
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const from = join(pkg, '..', '..', 'proto', 'authority', 'v1');
const to = join(pkg, 'proto', 'authority', 'v1');
const files = readdirSync(from).filter((f) => f.endsWith('.proto'));
if (files.length === 0) throw new Error(`no .proto files in ${from}`);
// A fresh directory each time: a file removed from the contract leaves no stale copy behind.
rmSync(join(pkg, 'proto'), { recursive: true, force: true });
mkdirSync(to, { recursive: true });
for (const f of files) copyFileSync(join(from, f), join(to, f));
