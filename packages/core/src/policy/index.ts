export { parsePolicy, parsePolicyDuration, type ParsePolicyOptions } from './parse';
export { PolicyValidationError, policyValidationToAuthorityError, type PolicyIssue } from './issues';
export {
  POLICY_KEYS,
  SENSITIVITY_LEVELS,
  DEFAULT_AGENT_RESOURCES,
  DEFAULT_POLICY_VERSION,
  DEFAULT_POLICY_LIMITS,
  POLICY_NAME_PATTERN,
  MIN_POLICY_TTL_SECONDS,
  MAX_POLICY_TTL_SECONDS,
  type PolicyLimits,
  type PolicyMappingKind,
  type Sensitivity,
} from './keys';
export type { Policy, PolicyAgent, PolicyRole, PolicyDenyRule, DataClassification } from './types';
export {
  policyViewFor,
  policyDenies,
  checkMintAgainstPolicy,
  type AgentPolicyView,
  type PolicyDenial,
  type MintRequestBounds,
  type PolicyExcess,
} from './view';
export { summarizePolicyDiff } from './diff';
// The hardened YAML reader, for other YAML documents validated the same way (the gateway's mapping).
export {
  readYamlDocument,
  YamlReader,
  pathJoin,
  type YamlReadResult,
  type MapEntry,
  type YamlNode,
} from './yaml-reader';
