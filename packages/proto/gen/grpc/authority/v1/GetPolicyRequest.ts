// Original file: proto/authority/v1/policy.proto

import type { Long } from '@grpc/proto-loader';

export interface GetPolicyRequest {
  'tenant'?: (string);
  'version'?: (number | string | Long);
}

export interface GetPolicyRequest__Output {
  'tenant': (string);
  'version': (string);
}
