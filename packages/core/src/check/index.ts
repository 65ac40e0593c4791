export * from './types';
export { checkRequest, MAX_CONTEXT_FIELDS_PER_REQUEST, MAX_ACTION_LENGTH } from './check';
export { tenantPolicyFrom } from './policy-seam';
export {
  APPROVAL_DIGEST_TAG,
  approvalBindingDifference,
  approvalRequestDigest,
  encodeApprovalBinding,
  sortedContextFields,
} from './approval-digest';
export {
  explainPolicy,
  type ExplainRequest,
  type ExplainedRule,
  type PolicyExplanation,
  type RuleVerdict,
} from './explain';
