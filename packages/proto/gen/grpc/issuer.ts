import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { Actor as _authority_v1_Actor, Actor__Output as _authority_v1_Actor__Output } from './authority/v1/Actor';
import type { Approval as _authority_v1_Approval, Approval__Output as _authority_v1_Approval__Output } from './authority/v1/Approval';
import type { ApprovalDetail as _authority_v1_ApprovalDetail, ApprovalDetail__Output as _authority_v1_ApprovalDetail__Output } from './authority/v1/ApprovalDetail';
import type { AuditEvent as _authority_v1_AuditEvent, AuditEvent__Output as _authority_v1_AuditEvent__Output } from './authority/v1/AuditEvent';
import type { ChainRecord as _authority_v1_ChainRecord, ChainRecord__Output as _authority_v1_ChainRecord__Output } from './authority/v1/ChainRecord';
import type { CheckDetail as _authority_v1_CheckDetail, CheckDetail__Output as _authority_v1_CheckDetail__Output } from './authority/v1/CheckDetail';
import type { Checkpoint as _authority_v1_Checkpoint, Checkpoint__Output as _authority_v1_Checkpoint__Output } from './authority/v1/Checkpoint';
import type { ConstraintViolation as _authority_v1_ConstraintViolation, ConstraintViolation__Output as _authority_v1_ConstraintViolation__Output } from './authority/v1/ConstraintViolation';
import type { ConsumeApprovalRequest as _authority_v1_ConsumeApprovalRequest, ConsumeApprovalRequest__Output as _authority_v1_ConsumeApprovalRequest__Output } from './authority/v1/ConsumeApprovalRequest';
import type { ConsumeApprovalResponse as _authority_v1_ConsumeApprovalResponse, ConsumeApprovalResponse__Output as _authority_v1_ConsumeApprovalResponse__Output } from './authority/v1/ConsumeApprovalResponse';
import type { CreateCredentialRequest as _authority_v1_CreateCredentialRequest, CreateCredentialRequest__Output as _authority_v1_CreateCredentialRequest__Output } from './authority/v1/CreateCredentialRequest';
import type { CreateCredentialResponse as _authority_v1_CreateCredentialResponse, CreateCredentialResponse__Output as _authority_v1_CreateCredentialResponse__Output } from './authority/v1/CreateCredentialResponse';
import type { CreateTenantRequest as _authority_v1_CreateTenantRequest, CreateTenantRequest__Output as _authority_v1_CreateTenantRequest__Output } from './authority/v1/CreateTenantRequest';
import type { CreateTenantResponse as _authority_v1_CreateTenantResponse, CreateTenantResponse__Output as _authority_v1_CreateTenantResponse__Output } from './authority/v1/CreateTenantResponse';
import type { Credential as _authority_v1_Credential, Credential__Output as _authority_v1_Credential__Output } from './authority/v1/Credential';
import type { CredentialEvent as _authority_v1_CredentialEvent, CredentialEvent__Output as _authority_v1_CredentialEvent__Output } from './authority/v1/CredentialEvent';
import type { DecideApprovalRequest as _authority_v1_DecideApprovalRequest, DecideApprovalRequest__Output as _authority_v1_DecideApprovalRequest__Output } from './authority/v1/DecideApprovalRequest';
import type { DecideApprovalResponse as _authority_v1_DecideApprovalResponse, DecideApprovalResponse__Output as _authority_v1_DecideApprovalResponse__Output } from './authority/v1/DecideApprovalResponse';
import type { DelegateRequest as _authority_v1_DelegateRequest, DelegateRequest__Output as _authority_v1_DelegateRequest__Output } from './authority/v1/DelegateRequest';
import type { DelegateResponse as _authority_v1_DelegateResponse, DelegateResponse__Output as _authority_v1_DelegateResponse__Output } from './authority/v1/DelegateResponse';
import type { Envelope as _authority_v1_Envelope, Envelope__Output as _authority_v1_Envelope__Output } from './authority/v1/Envelope';
import type { GetApprovalRequest as _authority_v1_GetApprovalRequest, GetApprovalRequest__Output as _authority_v1_GetApprovalRequest__Output } from './authority/v1/GetApprovalRequest';
import type { GetApprovalResponse as _authority_v1_GetApprovalResponse, GetApprovalResponse__Output as _authority_v1_GetApprovalResponse__Output } from './authority/v1/GetApprovalResponse';
import type { Grant as _authority_v1_Grant, Grant__Output as _authority_v1_Grant__Output } from './authority/v1/Grant';
import type { IssuanceDetail as _authority_v1_IssuanceDetail, IssuanceDetail__Output as _authority_v1_IssuanceDetail__Output } from './authority/v1/IssuanceDetail';
import type { IssuerServiceClient as _authority_v1_IssuerServiceClient, IssuerServiceDefinition as _authority_v1_IssuerServiceDefinition } from './authority/v1/IssuerService';
import type { KeyDetail as _authority_v1_KeyDetail, KeyDetail__Output as _authority_v1_KeyDetail__Output } from './authority/v1/KeyDetail';
import type { KeyEvent as _authority_v1_KeyEvent, KeyEvent__Output as _authority_v1_KeyEvent__Output } from './authority/v1/KeyEvent';
import type { ListApprovalsRequest as _authority_v1_ListApprovalsRequest, ListApprovalsRequest__Output as _authority_v1_ListApprovalsRequest__Output } from './authority/v1/ListApprovalsRequest';
import type { ListApprovalsResponse as _authority_v1_ListApprovalsResponse, ListApprovalsResponse__Output as _authority_v1_ListApprovalsResponse__Output } from './authority/v1/ListApprovalsResponse';
import type { ListKeysRequest as _authority_v1_ListKeysRequest, ListKeysRequest__Output as _authority_v1_ListKeysRequest__Output } from './authority/v1/ListKeysRequest';
import type { ListKeysResponse as _authority_v1_ListKeysResponse, ListKeysResponse__Output as _authority_v1_ListKeysResponse__Output } from './authority/v1/ListKeysResponse';
import type { MintRequest as _authority_v1_MintRequest, MintRequest__Output as _authority_v1_MintRequest__Output } from './authority/v1/MintRequest';
import type { MintResponse as _authority_v1_MintResponse, MintResponse__Output as _authority_v1_MintResponse__Output } from './authority/v1/MintResponse';
import type { PolicyChangeDetail as _authority_v1_PolicyChangeDetail, PolicyChangeDetail__Output as _authority_v1_PolicyChangeDetail__Output } from './authority/v1/PolicyChangeDetail';
import type { PolicyVersionEvent as _authority_v1_PolicyVersionEvent, PolicyVersionEvent__Output as _authority_v1_PolicyVersionEvent__Output } from './authority/v1/PolicyVersionEvent';
import type { PublicKey as _authority_v1_PublicKey, PublicKey__Output as _authority_v1_PublicKey__Output } from './authority/v1/PublicKey';
import type { RequestApprovalRequest as _authority_v1_RequestApprovalRequest, RequestApprovalRequest__Output as _authority_v1_RequestApprovalRequest__Output } from './authority/v1/RequestApprovalRequest';
import type { RequestApprovalResponse as _authority_v1_RequestApprovalResponse, RequestApprovalResponse__Output as _authority_v1_RequestApprovalResponse__Output } from './authority/v1/RequestApprovalResponse';
import type { RetireKeyRequest as _authority_v1_RetireKeyRequest, RetireKeyRequest__Output as _authority_v1_RetireKeyRequest__Output } from './authority/v1/RetireKeyRequest';
import type { RetireKeyResponse as _authority_v1_RetireKeyResponse, RetireKeyResponse__Output as _authority_v1_RetireKeyResponse__Output } from './authority/v1/RetireKeyResponse';
import type { RevocationDetail as _authority_v1_RevocationDetail, RevocationDetail__Output as _authority_v1_RevocationDetail__Output } from './authority/v1/RevocationDetail';
import type { RevocationEvent as _authority_v1_RevocationEvent, RevocationEvent__Output as _authority_v1_RevocationEvent__Output } from './authority/v1/RevocationEvent';
import type { RevokeAgentRequest as _authority_v1_RevokeAgentRequest, RevokeAgentRequest__Output as _authority_v1_RevokeAgentRequest__Output } from './authority/v1/RevokeAgentRequest';
import type { RevokeAgentResponse as _authority_v1_RevokeAgentResponse, RevokeAgentResponse__Output as _authority_v1_RevokeAgentResponse__Output } from './authority/v1/RevokeAgentResponse';
import type { RevokeCredentialRequest as _authority_v1_RevokeCredentialRequest, RevokeCredentialRequest__Output as _authority_v1_RevokeCredentialRequest__Output } from './authority/v1/RevokeCredentialRequest';
import type { RevokeCredentialResponse as _authority_v1_RevokeCredentialResponse, RevokeCredentialResponse__Output as _authority_v1_RevokeCredentialResponse__Output } from './authority/v1/RevokeCredentialResponse';
import type { RevokeRequest as _authority_v1_RevokeRequest, RevokeRequest__Output as _authority_v1_RevokeRequest__Output } from './authority/v1/RevokeRequest';
import type { RevokeResponse as _authority_v1_RevokeResponse, RevokeResponse__Output as _authority_v1_RevokeResponse__Output } from './authority/v1/RevokeResponse';
import type { RotateKeyRequest as _authority_v1_RotateKeyRequest, RotateKeyRequest__Output as _authority_v1_RotateKeyRequest__Output } from './authority/v1/RotateKeyRequest';
import type { RotateKeyResponse as _authority_v1_RotateKeyResponse, RotateKeyResponse__Output as _authority_v1_RotateKeyResponse__Output } from './authority/v1/RotateKeyResponse';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from './google/protobuf/Timestamp';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  authority: {
    v1: {
      Actor: MessageTypeDefinition<_authority_v1_Actor, _authority_v1_Actor__Output>
      Approval: MessageTypeDefinition<_authority_v1_Approval, _authority_v1_Approval__Output>
      ApprovalDetail: MessageTypeDefinition<_authority_v1_ApprovalDetail, _authority_v1_ApprovalDetail__Output>
      ApprovalStatus: EnumTypeDefinition
      AuditEvent: MessageTypeDefinition<_authority_v1_AuditEvent, _authority_v1_AuditEvent__Output>
      ChainRecord: MessageTypeDefinition<_authority_v1_ChainRecord, _authority_v1_ChainRecord__Output>
      CheckDetail: MessageTypeDefinition<_authority_v1_CheckDetail, _authority_v1_CheckDetail__Output>
      Checkpoint: MessageTypeDefinition<_authority_v1_Checkpoint, _authority_v1_Checkpoint__Output>
      ConstraintViolation: MessageTypeDefinition<_authority_v1_ConstraintViolation, _authority_v1_ConstraintViolation__Output>
      ConsumeApprovalRequest: MessageTypeDefinition<_authority_v1_ConsumeApprovalRequest, _authority_v1_ConsumeApprovalRequest__Output>
      ConsumeApprovalResponse: MessageTypeDefinition<_authority_v1_ConsumeApprovalResponse, _authority_v1_ConsumeApprovalResponse__Output>
      CreateCredentialRequest: MessageTypeDefinition<_authority_v1_CreateCredentialRequest, _authority_v1_CreateCredentialRequest__Output>
      CreateCredentialResponse: MessageTypeDefinition<_authority_v1_CreateCredentialResponse, _authority_v1_CreateCredentialResponse__Output>
      CreateTenantRequest: MessageTypeDefinition<_authority_v1_CreateTenantRequest, _authority_v1_CreateTenantRequest__Output>
      CreateTenantResponse: MessageTypeDefinition<_authority_v1_CreateTenantResponse, _authority_v1_CreateTenantResponse__Output>
      Credential: MessageTypeDefinition<_authority_v1_Credential, _authority_v1_Credential__Output>
      CredentialEvent: MessageTypeDefinition<_authority_v1_CredentialEvent, _authority_v1_CredentialEvent__Output>
      CredentialKind: EnumTypeDefinition
      DecideApprovalRequest: MessageTypeDefinition<_authority_v1_DecideApprovalRequest, _authority_v1_DecideApprovalRequest__Output>
      DecideApprovalResponse: MessageTypeDefinition<_authority_v1_DecideApprovalResponse, _authority_v1_DecideApprovalResponse__Output>
      Decision: EnumTypeDefinition
      DelegateRequest: MessageTypeDefinition<_authority_v1_DelegateRequest, _authority_v1_DelegateRequest__Output>
      DelegateResponse: MessageTypeDefinition<_authority_v1_DelegateResponse, _authority_v1_DelegateResponse__Output>
      Envelope: MessageTypeDefinition<_authority_v1_Envelope, _authority_v1_Envelope__Output>
      GetApprovalRequest: MessageTypeDefinition<_authority_v1_GetApprovalRequest, _authority_v1_GetApprovalRequest__Output>
      GetApprovalResponse: MessageTypeDefinition<_authority_v1_GetApprovalResponse, _authority_v1_GetApprovalResponse__Output>
      Grant: MessageTypeDefinition<_authority_v1_Grant, _authority_v1_Grant__Output>
      IssuanceDetail: MessageTypeDefinition<_authority_v1_IssuanceDetail, _authority_v1_IssuanceDetail__Output>
      IssuerService: SubtypeConstructor<typeof grpc.Client, _authority_v1_IssuerServiceClient> & { service: _authority_v1_IssuerServiceDefinition }
      KeyDetail: MessageTypeDefinition<_authority_v1_KeyDetail, _authority_v1_KeyDetail__Output>
      KeyEvent: MessageTypeDefinition<_authority_v1_KeyEvent, _authority_v1_KeyEvent__Output>
      KeyStatus: EnumTypeDefinition
      ListApprovalsRequest: MessageTypeDefinition<_authority_v1_ListApprovalsRequest, _authority_v1_ListApprovalsRequest__Output>
      ListApprovalsResponse: MessageTypeDefinition<_authority_v1_ListApprovalsResponse, _authority_v1_ListApprovalsResponse__Output>
      ListKeysRequest: MessageTypeDefinition<_authority_v1_ListKeysRequest, _authority_v1_ListKeysRequest__Output>
      ListKeysResponse: MessageTypeDefinition<_authority_v1_ListKeysResponse, _authority_v1_ListKeysResponse__Output>
      MintRequest: MessageTypeDefinition<_authority_v1_MintRequest, _authority_v1_MintRequest__Output>
      MintResponse: MessageTypeDefinition<_authority_v1_MintResponse, _authority_v1_MintResponse__Output>
      PolicyChangeDetail: MessageTypeDefinition<_authority_v1_PolicyChangeDetail, _authority_v1_PolicyChangeDetail__Output>
      PolicyVersionEvent: MessageTypeDefinition<_authority_v1_PolicyVersionEvent, _authority_v1_PolicyVersionEvent__Output>
      PublicKey: MessageTypeDefinition<_authority_v1_PublicKey, _authority_v1_PublicKey__Output>
      ReasonCode: EnumTypeDefinition
      RequestApprovalRequest: MessageTypeDefinition<_authority_v1_RequestApprovalRequest, _authority_v1_RequestApprovalRequest__Output>
      RequestApprovalResponse: MessageTypeDefinition<_authority_v1_RequestApprovalResponse, _authority_v1_RequestApprovalResponse__Output>
      RetireKeyRequest: MessageTypeDefinition<_authority_v1_RetireKeyRequest, _authority_v1_RetireKeyRequest__Output>
      RetireKeyResponse: MessageTypeDefinition<_authority_v1_RetireKeyResponse, _authority_v1_RetireKeyResponse__Output>
      RevocationDetail: MessageTypeDefinition<_authority_v1_RevocationDetail, _authority_v1_RevocationDetail__Output>
      RevocationEvent: MessageTypeDefinition<_authority_v1_RevocationEvent, _authority_v1_RevocationEvent__Output>
      RevocationKind: EnumTypeDefinition
      RevokeAgentRequest: MessageTypeDefinition<_authority_v1_RevokeAgentRequest, _authority_v1_RevokeAgentRequest__Output>
      RevokeAgentResponse: MessageTypeDefinition<_authority_v1_RevokeAgentResponse, _authority_v1_RevokeAgentResponse__Output>
      RevokeCredentialRequest: MessageTypeDefinition<_authority_v1_RevokeCredentialRequest, _authority_v1_RevokeCredentialRequest__Output>
      RevokeCredentialResponse: MessageTypeDefinition<_authority_v1_RevokeCredentialResponse, _authority_v1_RevokeCredentialResponse__Output>
      RevokeRequest: MessageTypeDefinition<_authority_v1_RevokeRequest, _authority_v1_RevokeRequest__Output>
      RevokeResponse: MessageTypeDefinition<_authority_v1_RevokeResponse, _authority_v1_RevokeResponse__Output>
      RotateKeyRequest: MessageTypeDefinition<_authority_v1_RotateKeyRequest, _authority_v1_RotateKeyRequest__Output>
      RotateKeyResponse: MessageTypeDefinition<_authority_v1_RotateKeyResponse, _authority_v1_RotateKeyResponse__Output>
    }
  }
  google: {
    protobuf: {
      Timestamp: MessageTypeDefinition<_google_protobuf_Timestamp, _google_protobuf_Timestamp__Output>
    }
  }
}

