// Original file: proto/authority/v1/policy.proto

import type { Long } from '@grpc/proto-loader';

export interface PutPolicyRequest {
  'tenant'?: (string);
  'yaml'?: (string);
  'expectedVersion'?: (number | string | Long);
}

export interface PutPolicyRequest__Output {
  'tenant': (string);
  'yaml': (string);
  'expectedVersion': (string);
}
