// @authority/sdk: typed clients for the four Authority services, enforced tools, context and
// approval helpers, offline attenuation. See docs/sdk.md.
export {
  IssuerClient,
  EnforcerClient,
  PolicyClient,
  AuditorClient,
  ISSUER_SERVICE,
  ENFORCER_SERVICE,
  POLICY_SERVICE,
  AUDITOR_SERVICE,
  type AddressHealth,
} from './clients';
export {
  Transport,
  channelCredentials,
  DEFAULT_DEADLINE_MS,
  DEFAULT_RETRY,
  type ClientOptions,
  type CallOptions,
  type TlsOptions,
  type RetryPolicy,
} from './transport';
export * from './errors';
export {
  enforced,
  assertAllowed,
  type EnforcedSpec,
  type EnforcedOptions,
  type EnforcedTool,
  type Checker,
  type FromArgs,
} from './enforced';
export {
  checkContext,
  mergeContexts,
  currentContext,
  withContext,
  withPurpose,
  withRecordCount,
  withContextFields,
  withApprovalId,
  type CheckContextInit,
  type AmbientContext,
} from './context';
export {
  waitForApproval,
  runWithApproval,
  type ApprovalReader,
  type WaitForApprovalOptions,
  type RunWithApprovalOptions,
} from './approvals';
export {
  attenuate,
  generateHolderKey,
  holderKeyToJwk,
  holderKeyFromJwk,
  type Narrowing,
  type AttenuateOptions,
  type HolderKeyJwk,
} from './attenuate';
export { checkHealth, encodeHealthRequest, decodeHealthResponse, type ServingStatus } from './health';
export {
  resource,
  childResource,
  resourceSegment,
  canonicalResource,
  InvalidResourceError,
  isCanonicalResource,
  resourceProblem,
  resourcePatternProblem,
  parseResource,
  type ResourceParts,
} from './resource';
