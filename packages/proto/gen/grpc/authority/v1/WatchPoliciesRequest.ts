// Original file: proto/authority/v1/policy.proto

import type { Long } from '@grpc/proto-loader';

export interface WatchPoliciesRequest {
  'tenant'?: (string);
  'afterVersion'?: (number | string | Long);
}

export interface WatchPoliciesRequest__Output {
  'tenant': (string);
  'afterVersion': (string);
}
