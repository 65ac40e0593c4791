// Original file: proto/authority/v1/auditor.proto

import type { Long } from '@grpc/proto-loader';

export interface VerifyChainRequest {
  'tenant'?: (string);
  'fromSeq'?: (number | string | Long);
  'toSeq'?: (number | string | Long);
  'checkpointSeq'?: (number | string | Long);
}

export interface VerifyChainRequest__Output {
  'tenant': (string);
  'fromSeq': (string);
  'toSeq': (string);
  'checkpointSeq': (string);
}
