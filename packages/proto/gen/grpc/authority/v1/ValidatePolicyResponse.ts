// Original file: proto/authority/v1/policy.proto

import type { ValidationIssue as _authority_v1_ValidationIssue, ValidationIssue__Output as _authority_v1_ValidationIssue__Output } from '../../authority/v1/ValidationIssue';

export interface ValidatePolicyResponse {
  'valid'?: (boolean);
  'issues'?: (_authority_v1_ValidationIssue)[];
  'summary'?: (string);
}

export interface ValidatePolicyResponse__Output {
  'valid': (boolean);
  'issues': (_authority_v1_ValidationIssue__Output)[];
  'summary': (string);
}
