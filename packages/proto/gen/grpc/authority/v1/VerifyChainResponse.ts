// Original file: proto/authority/v1/auditor.proto

import type { ChainFault as _authority_v1_ChainFault, ChainFault__Output as _authority_v1_ChainFault__Output } from '../../authority/v1/ChainFault';
import type { Checkpoint as _authority_v1_Checkpoint, Checkpoint__Output as _authority_v1_Checkpoint__Output } from '../../authority/v1/Checkpoint';
import type { Long } from '@grpc/proto-loader';

export interface VerifyChainResponse {
  'ok'?: (boolean);
  'firstBadSeq'?: (number | string | Long);
  'fault'?: (_authority_v1_ChainFault);
  'message'?: (string);
  'checked'?: (number | string | Long);
  'checkpoint'?: (_authority_v1_Checkpoint | null);
  'headSeq'?: (number | string | Long);
}

export interface VerifyChainResponse__Output {
  'ok': (boolean);
  'firstBadSeq': (string);
  'fault': (_authority_v1_ChainFault__Output);
  'message': (string);
  'checked': (string);
  'checkpoint': (_authority_v1_Checkpoint__Output | null);
  'headSeq': (string);
}
