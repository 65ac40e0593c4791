// Original file: proto/authority/v1/policy.proto

import type { PolicyVersion as _authority_v1_PolicyVersion, PolicyVersion__Output as _authority_v1_PolicyVersion__Output } from '../../authority/v1/PolicyVersion';

export interface DeletePolicyResponse {
  'policy'?: (_authority_v1_PolicyVersion | null);
}

export interface DeletePolicyResponse__Output {
  'policy': (_authority_v1_PolicyVersion__Output | null);
}
