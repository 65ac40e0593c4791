// Original file: proto/authority/v1/policy.proto

import type { Long } from '@grpc/proto-loader';

export interface DeletePolicyRequest {
  'tenant'?: (string);
  'expectedVersion'?: (number | string | Long);
}

export interface DeletePolicyRequest__Output {
  'tenant': (string);
  'expectedVersion': (string);
}
