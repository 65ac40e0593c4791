// Original file: proto/authority/v1/auditor.proto

import type { Checkpoint as _authority_v1_Checkpoint, Checkpoint__Output as _authority_v1_Checkpoint__Output } from '../../authority/v1/Checkpoint';

export interface GetCheckpointResponse {
  'checkpoint'?: (_authority_v1_Checkpoint | null);
}

export interface GetCheckpointResponse__Output {
  'checkpoint': (_authority_v1_Checkpoint__Output | null);
}
