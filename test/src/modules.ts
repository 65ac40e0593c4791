// Where the repository's installed packages are (the upstream MCP servers the gateway tests spawn).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The directory of the installed package `name`, found in the nearest node_modules above this file. */
export function moduleDir(name: string): string {
  let dir = __dirname;
  for (;;) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(candidate)) return candidate;
    const up = dirname(dir);
    if (up === dir) throw new Error(`${name} is not installed`);
    dir = up;
  }
}
