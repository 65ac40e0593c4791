// Original file: proto/authority/v1/enforcer.proto

import type { Decision as _authority_v1_Decision, Decision__Output as _authority_v1_Decision__Output } from '../../authority/v1/Decision';
import type { ReasonCode as _authority_v1_ReasonCode, ReasonCode__Output as _authority_v1_ReasonCode__Output } from '../../authority/v1/ReasonCode';
import type { ConstraintViolation as _authority_v1_ConstraintViolation, ConstraintViolation__Output as _authority_v1_ConstraintViolation__Output } from '../../authority/v1/ConstraintViolation';

export interface CheckResponse {
  'decision'?: (_authority_v1_Decision);
  'reason'?: (_authority_v1_ReasonCode);
  'message'?: (string);
  'decisionId'?: (string);
  'approvalRequestId'?: (string);
  'agentId'?: (string);
  'tenant'?: (string);
  'policyVersion'?: (string);
  'field'?: (string);
  'agentChain'?: (string)[];
  'chainUnverified'?: (boolean);
  'violations'?: (_authority_v1_ConstraintViolation)[];
}

export interface CheckResponse__Output {
  'decision': (_authority_v1_Decision__Output);
  'reason': (_authority_v1_ReasonCode__Output);
  'message': (string);
  'decisionId': (string);
  'approvalRequestId': (string);
  'agentId': (string);
  'tenant': (string);
  'policyVersion': (string);
  'field': (string);
  'agentChain': (string)[];
  'chainUnverified': (boolean);
  'violations': (_authority_v1_ConstraintViolation__Output)[];
}
