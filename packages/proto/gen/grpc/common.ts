import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { ConstraintViolation as _authority_v1_ConstraintViolation, ConstraintViolation__Output as _authority_v1_ConstraintViolation__Output } from './authority/v1/ConstraintViolation';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  authority: {
    v1: {
      ConstraintViolation: MessageTypeDefinition<_authority_v1_ConstraintViolation, _authority_v1_ConstraintViolation__Output>
      Decision: EnumTypeDefinition
      ReasonCode: EnumTypeDefinition
    }
  }
}

