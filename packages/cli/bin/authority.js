#!/usr/bin/env node
// The `authority` command. A committed shim (not dist/src/main.js itself) so `npm ci` links the
// bin on a fresh clone, before anything is built; it says what to do when the build is missing.
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const main = join(__dirname, '..', 'dist', 'src', 'main.js');
if (!existsSync(main)) {
  process.stderr.write('authority: the CLI is not built yet; run `npm run build` at the repository root first\n');
  process.exit(1);
}
require(main);
