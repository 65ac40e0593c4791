// @authority/cli as a library: run the CLI in-process (tests, embedding) and its helpers.
export { run, buildProgram, VERSION } from './cli';
export { ExitCode, CliError, exitCodeFor, describeError } from './exit';
export { parseDuration, parseDurationSeconds, parseTimePoint, formatDuration, relativeTime } from './duration';
export { resolveConfig, defaultConfigPath, DEFAULT_ADDRESSES, type ResolvedConfig, type GlobalFlags } from './config';
export { inspectToken, renderInspection, type Inspection, type InspectedLink } from './inspect';
export { validatePolicyText, formatIssue, type ValidationReport } from './commands/policy';
export { csvField, exportRecord, auditStats, type AuditStats } from './commands/audit';
export { agentPath } from './commands/explain';
export {
  verifySavedAttestation,
  keyRing,
  auditorKeyIdOf,
  type SavedAuditorKey,
  type AttestationVerification,
} from './commands/compliance';
export { unifiedDiff, diffLines } from './textdiff';
export { processIo, type Io } from './io';
