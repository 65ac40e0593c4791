#!/usr/bin/env node
// The `authority` executable: runs the CLI against the real process. Ctrl-C (SIGINT) or SIGTERM
// aborts long-running commands (audit tail -f) cleanly; a second Ctrl-C exits at once.
import { run } from './cli';
import { processIo } from './io';

const controller = new AbortController();
let interrupted = false;
const onSignal = (signal: NodeJS.Signals) => {
  if (interrupted) process.exit(130);
  interrupted = true;
  controller.abort(new Error(`received ${signal}`));
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
// A reader that stops early (`authority audit export --format json | head`) has all it wanted:
// end quietly, as a shell pipeline expects, instead of crashing on the unhandled EPIPE.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(0);
});

run(process.argv.slice(2), processIo(controller.signal)).then(
  (code) => {
    process.exitCode = code;
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  },
  (err: unknown) => {
    process.stderr.write(
      `authority: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exitCode = 1;
  },
);
