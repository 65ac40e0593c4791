// Original file: proto/authority/v1/auditor.proto

import type { Long } from '@grpc/proto-loader';

export interface PartitionLag {
  'topic'?: (string);
  'partition'?: (number);
  'lag'?: (number | string | Long);
}

export interface PartitionLag__Output {
  'topic': (string);
  'partition': (number);
  'lag': (string);
}
