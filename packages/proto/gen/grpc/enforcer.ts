import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { BatchCheckRequest as _authority_v1_BatchCheckRequest, BatchCheckRequest__Output as _authority_v1_BatchCheckRequest__Output } from './authority/v1/BatchCheckRequest';
import type { BatchCheckResponse as _authority_v1_BatchCheckResponse, BatchCheckResponse__Output as _authority_v1_BatchCheckResponse__Output } from './authority/v1/BatchCheckResponse';
import type { CheckContext as _authority_v1_CheckContext, CheckContext__Output as _authority_v1_CheckContext__Output } from './authority/v1/CheckContext';
import type { CheckRequest as _authority_v1_CheckRequest, CheckRequest__Output as _authority_v1_CheckRequest__Output } from './authority/v1/CheckRequest';
import type { CheckResponse as _authority_v1_CheckResponse, CheckResponse__Output as _authority_v1_CheckResponse__Output } from './authority/v1/CheckResponse';
import type { ConstraintViolation as _authority_v1_ConstraintViolation, ConstraintViolation__Output as _authority_v1_ConstraintViolation__Output } from './authority/v1/ConstraintViolation';
import type { EnforcerServiceClient as _authority_v1_EnforcerServiceClient, EnforcerServiceDefinition as _authority_v1_EnforcerServiceDefinition } from './authority/v1/EnforcerService';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  authority: {
    v1: {
      BatchCheckRequest: MessageTypeDefinition<_authority_v1_BatchCheckRequest, _authority_v1_BatchCheckRequest__Output>
      BatchCheckResponse: MessageTypeDefinition<_authority_v1_BatchCheckResponse, _authority_v1_BatchCheckResponse__Output>
      CheckContext: MessageTypeDefinition<_authority_v1_CheckContext, _authority_v1_CheckContext__Output>
      CheckRequest: MessageTypeDefinition<_authority_v1_CheckRequest, _authority_v1_CheckRequest__Output>
      CheckResponse: MessageTypeDefinition<_authority_v1_CheckResponse, _authority_v1_CheckResponse__Output>
      ConstraintViolation: MessageTypeDefinition<_authority_v1_ConstraintViolation, _authority_v1_ConstraintViolation__Output>
      Decision: EnumTypeDefinition
      EnforcerService: SubtypeConstructor<typeof grpc.Client, _authority_v1_EnforcerServiceClient> & { service: _authority_v1_EnforcerServiceDefinition }
      ReasonCode: EnumTypeDefinition
    }
  }
}

