// Original file: proto/authority/v1/enforcer.proto

import type { CheckContext as _authority_v1_CheckContext, CheckContext__Output as _authority_v1_CheckContext__Output } from '../../authority/v1/CheckContext';

export interface CheckRequest {
  'token'?: (string);
  'requiredScope'?: (string);
  'resource'?: (string);
  'action'?: (string);
  'context'?: (_authority_v1_CheckContext | null);
  'approvalId'?: (string);
  'proof'?: (string);
}

export interface CheckRequest__Output {
  'token': (string);
  'requiredScope': (string);
  'resource': (string);
  'action': (string);
  'context': (_authority_v1_CheckContext__Output | null);
  'approvalId': (string);
  'proof': (string);
}
