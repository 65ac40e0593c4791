// Original file: proto/authority/v1/issuer.proto

import type { Grant as _authority_v1_Grant, Grant__Output as _authority_v1_Grant__Output } from '../../authority/v1/Grant';

export interface MintRequest {
  'tenant'?: (string);
  'agentId'?: (string);
  'grant'?: (_authority_v1_Grant | null);
  'ttlSeconds'?: (number);
  'holderPublicKey'?: (Buffer | Uint8Array | string);
  'audience'?: (string)[];
}

export interface MintRequest__Output {
  'tenant': (string);
  'agentId': (string);
  'grant': (_authority_v1_Grant__Output | null);
  'ttlSeconds': (number);
  'holderPublicKey': (Buffer);
  'audience': (string)[];
}
