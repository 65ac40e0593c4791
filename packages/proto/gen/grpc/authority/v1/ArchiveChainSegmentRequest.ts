// Original file: proto/authority/v1/auditor.proto

import type { Long } from '@grpc/proto-loader';

export interface ArchiveChainSegmentRequest {
  'tenant'?: (string);
  'throughSeq'?: (number | string | Long);
  'archiveSha256'?: (string);
}

export interface ArchiveChainSegmentRequest__Output {
  'tenant': (string);
  'throughSeq': (string);
  'archiveSha256': (string);
}
