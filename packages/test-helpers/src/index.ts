// @authority/test-helpers (private): what the workspaces' tests share instead of copying.
// - eventually / waitFor: poll a condition until a deadline (state that arrives asynchronously,
//   e.g. through Kafka), never a fixed sleep; the failure names what was awaited and the last error.
// - requireInfra: integration tests fail loudly, never skip, when Kafka and MongoDB are not
//   configured.
// - startStack: the end-to-end in-process stack (test/src/stack.ts), loaded at run time so the
//   SDK's and the CLI's tests can use it without a build cycle.
// - assertVariablesDocumented: a service page documents every variable of its config schema.
// - bench: what every benchmark prints (JSON lines with the machine, notes on stderr, percentiles).
export { eventually, waitFor, type PollOptions } from './poll';
export { requireInfra, type Infra } from './infra';
export { startStack, type StackHandle, type StackOptions } from './stack';
export { assertVariablesDocumented, COMMON_VARIABLES, repoFile, type DocumentedVariable } from './docs';
export * as bench from './bench';
