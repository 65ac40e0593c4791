// Original file: proto/authority/v1/auditor.proto

import type { Attestation as _authority_v1_Attestation, Attestation__Output as _authority_v1_Attestation__Output } from '../../authority/v1/Attestation';

export interface AttestResponse {
  'attestation'?: (_authority_v1_Attestation | null);
}

export interface AttestResponse__Output {
  'attestation': (_authority_v1_Attestation__Output | null);
}
