// Original file: proto/authority/v1/issuer.proto

import type { ReasonCode as _authority_v1_ReasonCode, ReasonCode__Output as _authority_v1_ReasonCode__Output } from '../../authority/v1/ReasonCode';

export interface ConsumeApprovalResponse {
  'consumed'?: (boolean);
  'reason'?: (_authority_v1_ReasonCode);
  'message'?: (string);
}

export interface ConsumeApprovalResponse__Output {
  'consumed': (boolean);
  'reason': (_authority_v1_ReasonCode__Output);
  'message': (string);
}
