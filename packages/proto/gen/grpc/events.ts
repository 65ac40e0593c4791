import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { Actor as _authority_v1_Actor, Actor__Output as _authority_v1_Actor__Output } from './authority/v1/Actor';
import type { ApprovalDetail as _authority_v1_ApprovalDetail, ApprovalDetail__Output as _authority_v1_ApprovalDetail__Output } from './authority/v1/ApprovalDetail';
import type { AuditEvent as _authority_v1_AuditEvent, AuditEvent__Output as _authority_v1_AuditEvent__Output } from './authority/v1/AuditEvent';
import type { ChainRecord as _authority_v1_ChainRecord, ChainRecord__Output as _authority_v1_ChainRecord__Output } from './authority/v1/ChainRecord';
import type { CheckDetail as _authority_v1_CheckDetail, CheckDetail__Output as _authority_v1_CheckDetail__Output } from './authority/v1/CheckDetail';
import type { Checkpoint as _authority_v1_Checkpoint, Checkpoint__Output as _authority_v1_Checkpoint__Output } from './authority/v1/Checkpoint';
import type { ConstraintViolation as _authority_v1_ConstraintViolation, ConstraintViolation__Output as _authority_v1_ConstraintViolation__Output } from './authority/v1/ConstraintViolation';
import type { CredentialEvent as _authority_v1_CredentialEvent, CredentialEvent__Output as _authority_v1_CredentialEvent__Output } from './authority/v1/CredentialEvent';
import type { IssuanceDetail as _authority_v1_IssuanceDetail, IssuanceDetail__Output as _authority_v1_IssuanceDetail__Output } from './authority/v1/IssuanceDetail';
import type { KeyDetail as _authority_v1_KeyDetail, KeyDetail__Output as _authority_v1_KeyDetail__Output } from './authority/v1/KeyDetail';
import type { KeyEvent as _authority_v1_KeyEvent, KeyEvent__Output as _authority_v1_KeyEvent__Output } from './authority/v1/KeyEvent';
import type { PolicyChangeDetail as _authority_v1_PolicyChangeDetail, PolicyChangeDetail__Output as _authority_v1_PolicyChangeDetail__Output } from './authority/v1/PolicyChangeDetail';
import type { PolicyVersionEvent as _authority_v1_PolicyVersionEvent, PolicyVersionEvent__Output as _authority_v1_PolicyVersionEvent__Output } from './authority/v1/PolicyVersionEvent';
import type { RevocationDetail as _authority_v1_RevocationDetail, RevocationDetail__Output as _authority_v1_RevocationDetail__Output } from './authority/v1/RevocationDetail';
import type { RevocationEvent as _authority_v1_RevocationEvent, RevocationEvent__Output as _authority_v1_RevocationEvent__Output } from './authority/v1/RevocationEvent';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from './google/protobuf/Timestamp';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  authority: {
    v1: {
      Actor: MessageTypeDefinition<_authority_v1_Actor, _authority_v1_Actor__Output>
      ApprovalDetail: MessageTypeDefinition<_authority_v1_ApprovalDetail, _authority_v1_ApprovalDetail__Output>
      ApprovalStatus: EnumTypeDefinition
      AuditEvent: MessageTypeDefinition<_authority_v1_AuditEvent, _authority_v1_AuditEvent__Output>
      ChainRecord: MessageTypeDefinition<_authority_v1_ChainRecord, _authority_v1_ChainRecord__Output>
      CheckDetail: MessageTypeDefinition<_authority_v1_CheckDetail, _authority_v1_CheckDetail__Output>
      Checkpoint: MessageTypeDefinition<_authority_v1_Checkpoint, _authority_v1_Checkpoint__Output>
      ConstraintViolation: MessageTypeDefinition<_authority_v1_ConstraintViolation, _authority_v1_ConstraintViolation__Output>
      CredentialEvent: MessageTypeDefinition<_authority_v1_CredentialEvent, _authority_v1_CredentialEvent__Output>
      CredentialKind: EnumTypeDefinition
      Decision: EnumTypeDefinition
      IssuanceDetail: MessageTypeDefinition<_authority_v1_IssuanceDetail, _authority_v1_IssuanceDetail__Output>
      KeyDetail: MessageTypeDefinition<_authority_v1_KeyDetail, _authority_v1_KeyDetail__Output>
      KeyEvent: MessageTypeDefinition<_authority_v1_KeyEvent, _authority_v1_KeyEvent__Output>
      KeyStatus: EnumTypeDefinition
      PolicyChangeDetail: MessageTypeDefinition<_authority_v1_PolicyChangeDetail, _authority_v1_PolicyChangeDetail__Output>
      PolicyVersionEvent: MessageTypeDefinition<_authority_v1_PolicyVersionEvent, _authority_v1_PolicyVersionEvent__Output>
      ReasonCode: EnumTypeDefinition
      RevocationDetail: MessageTypeDefinition<_authority_v1_RevocationDetail, _authority_v1_RevocationDetail__Output>
      RevocationEvent: MessageTypeDefinition<_authority_v1_RevocationEvent, _authority_v1_RevocationEvent__Output>
      RevocationKind: EnumTypeDefinition
    }
  }
  google: {
    protobuf: {
      Timestamp: MessageTypeDefinition<_google_protobuf_Timestamp, _google_protobuf_Timestamp__Output>
    }
  }
}

