// Original file: proto/authority/v1/issuer.proto

import type { Envelope as _authority_v1_Envelope, Envelope__Output as _authority_v1_Envelope__Output } from '../../authority/v1/Envelope';

export interface DelegateResponse {
  'envelope'?: (_authority_v1_Envelope | null);
  'holderSecretKey'?: (Buffer | Uint8Array | string);
}

export interface DelegateResponse__Output {
  'envelope': (_authority_v1_Envelope__Output | null);
  'holderSecretKey': (Buffer);
}
