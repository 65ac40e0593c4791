// Original file: proto/authority/v1/auditor.proto

import type { Long } from '@grpc/proto-loader';

export interface ArchiveChainSegmentResponse {
  'archivedThroughSeq'?: (number | string | Long);
  'archivedHeadHash'?: (string);
  'deleted'?: (number | string | Long);
}

export interface ArchiveChainSegmentResponse__Output {
  'archivedThroughSeq': (string);
  'archivedHeadHash': (string);
  'deleted': (string);
}
