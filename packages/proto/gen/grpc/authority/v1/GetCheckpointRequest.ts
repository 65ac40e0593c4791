// Original file: proto/authority/v1/auditor.proto

import type { Long } from '@grpc/proto-loader';

export interface GetCheckpointRequest {
  'tenant'?: (string);
  'seq'?: (number | string | Long);
}

export interface GetCheckpointRequest__Output {
  'tenant': (string);
  'seq': (string);
}
