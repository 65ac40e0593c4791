// Original file: proto/authority/v1/common.proto

import type { ReasonCode as _authority_v1_ReasonCode, ReasonCode__Output as _authority_v1_ReasonCode__Output } from '../../authority/v1/ReasonCode';

export interface ConstraintViolation {
  'reason'?: (_authority_v1_ReasonCode);
  'constraint'?: (string);
  'field'?: (string);
  'message'?: (string);
  'source'?: (string);
}

export interface ConstraintViolation__Output {
  'reason': (_authority_v1_ReasonCode__Output);
  'constraint': (string);
  'field': (string);
  'message': (string);
  'source': (string);
}
