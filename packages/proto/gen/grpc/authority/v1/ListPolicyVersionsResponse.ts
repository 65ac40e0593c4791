// Original file: proto/authority/v1/policy.proto

import type { PolicyVersion as _authority_v1_PolicyVersion, PolicyVersion__Output as _authority_v1_PolicyVersion__Output } from '../../authority/v1/PolicyVersion';

export interface ListPolicyVersionsResponse {
  'versions'?: (_authority_v1_PolicyVersion)[];
  'nextPageToken'?: (string);
}

export interface ListPolicyVersionsResponse__Output {
  'versions': (_authority_v1_PolicyVersion__Output)[];
  'nextPageToken': (string);
}
