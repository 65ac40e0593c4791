// Original file: proto/authority/v1/auditor.proto

import type { Checkpoint as _authority_v1_Checkpoint, Checkpoint__Output as _authority_v1_Checkpoint__Output } from '../../authority/v1/Checkpoint';

export interface ListCheckpointsResponse {
  'checkpoints'?: (_authority_v1_Checkpoint)[];
  'nextPageToken'?: (string);
}

export interface ListCheckpointsResponse__Output {
  'checkpoints': (_authority_v1_Checkpoint__Output)[];
  'nextPageToken': (string);
}
