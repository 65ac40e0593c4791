// Original file: proto/authority/v1/events.proto

import type { ConstraintViolation as _authority_v1_ConstraintViolation, ConstraintViolation__Output as _authority_v1_ConstraintViolation__Output } from '../../authority/v1/ConstraintViolation';

export interface CheckDetail {
  'decisionId'?: (string);
  'requiredScope'?: (string);
  'purpose'?: (string);
  'recordCount'?: (number);
  'approvalId'?: (string);
  'enforcerId'?: (string);
  'violations'?: (_authority_v1_ConstraintViolation)[];
  '_recordCount'?: "recordCount";
}

export interface CheckDetail__Output {
  'decisionId': (string);
  'requiredScope': (string);
  'purpose': (string);
  'recordCount'?: (number);
  'approvalId': (string);
  'enforcerId': (string);
  'violations': (_authority_v1_ConstraintViolation__Output)[];
  '_recordCount'?: "recordCount";
}
