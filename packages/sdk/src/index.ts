// @authority/sdk: typed clients for the four Authority services, enforced tools, context and
// approval helpers, holder keys, sealing, per-request proofs, offline attenuation. See docs/sdk.md.
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
  type IssuedEnvelope,
  type EnforcerClientOptions,
  type CheckCallOptions,
  type DelegateCallOptions,
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
  describeApproval,
  approvalBindingOf,
  approvalRequestDigest,
  type ApprovalBinding,
  type ApprovalRequestView,
  type ApprovalReader,
  type WaitForApprovalOptions,
  type RunWithApprovalOptions,
} from './approvals';
export { HolderKey, holderPublicKey, publicKeyFromJwk, type HolderKeyJwk } from './holder-key';
export {
  seal,
  isSealed,
  agentChainOf,
  requestProof,
  tokenNeedsProof,
  assertLeafHolder,
  type ProofMode,
  type ProvenCheck,
} from './possession';
export { attenuate, type Narrowing, type AttenuateParams, type AttenuateOptions, type Attenuated } from './attenuate';
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
export {
  subscribeAudit,
  auditFeedItemJson,
  AuditFeedError,
  type SubscribeAuditOptions,
  type AuditSubscription,
  type AuditFeedItem,
  type RawAuditItem,
  type ChainedAuditItem,
  type ChainGapItem,
} from './audit-feed';
