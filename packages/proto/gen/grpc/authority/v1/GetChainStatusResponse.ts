// Original file: proto/authority/v1/auditor.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';
import type { Checkpoint as _authority_v1_Checkpoint, Checkpoint__Output as _authority_v1_Checkpoint__Output } from '../../authority/v1/Checkpoint';
import type { PartitionLag as _authority_v1_PartitionLag, PartitionLag__Output as _authority_v1_PartitionLag__Output } from '../../authority/v1/PartitionLag';
import type { Long } from '@grpc/proto-loader';

export interface GetChainStatusResponse {
  'tenant'?: (string);
  'headSeq'?: (number | string | Long);
  'headHash'?: (string);
  'headRecordedAt'?: (_google_protobuf_Timestamp | null);
  'lastCheckpoint'?: (_authority_v1_Checkpoint | null);
  'checkpointAgeSeconds'?: (number | string | Long);
  'entriesAfterCheckpoint'?: (number | string | Long);
  'consumerLag'?: (_authority_v1_PartitionLag)[];
  'quarantined'?: (number | string | Long);
  'archivedThroughSeq'?: (number | string | Long);
  'archivedHeadHash'?: (string);
  'time'?: (_google_protobuf_Timestamp | null);
}

export interface GetChainStatusResponse__Output {
  'tenant': (string);
  'headSeq': (string);
  'headHash': (string);
  'headRecordedAt': (_google_protobuf_Timestamp__Output | null);
  'lastCheckpoint': (_authority_v1_Checkpoint__Output | null);
  'checkpointAgeSeconds': (string);
  'entriesAfterCheckpoint': (string);
  'consumerLag': (_authority_v1_PartitionLag__Output)[];
  'quarantined': (string);
  'archivedThroughSeq': (string);
  'archivedHeadHash': (string);
  'time': (_google_protobuf_Timestamp__Output | null);
}
