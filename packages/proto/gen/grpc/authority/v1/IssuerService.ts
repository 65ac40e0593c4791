// Original file: proto/authority/v1/issuer.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ConsumeApprovalRequest as _authority_v1_ConsumeApprovalRequest, ConsumeApprovalRequest__Output as _authority_v1_ConsumeApprovalRequest__Output } from '../../authority/v1/ConsumeApprovalRequest';
import type { ConsumeApprovalResponse as _authority_v1_ConsumeApprovalResponse, ConsumeApprovalResponse__Output as _authority_v1_ConsumeApprovalResponse__Output } from '../../authority/v1/ConsumeApprovalResponse';
import type { CreateCredentialRequest as _authority_v1_CreateCredentialRequest, CreateCredentialRequest__Output as _authority_v1_CreateCredentialRequest__Output } from '../../authority/v1/CreateCredentialRequest';
import type { CreateCredentialResponse as _authority_v1_CreateCredentialResponse, CreateCredentialResponse__Output as _authority_v1_CreateCredentialResponse__Output } from '../../authority/v1/CreateCredentialResponse';
import type { CreateTenantRequest as _authority_v1_CreateTenantRequest, CreateTenantRequest__Output as _authority_v1_CreateTenantRequest__Output } from '../../authority/v1/CreateTenantRequest';
import type { CreateTenantResponse as _authority_v1_CreateTenantResponse, CreateTenantResponse__Output as _authority_v1_CreateTenantResponse__Output } from '../../authority/v1/CreateTenantResponse';
import type { DecideApprovalRequest as _authority_v1_DecideApprovalRequest, DecideApprovalRequest__Output as _authority_v1_DecideApprovalRequest__Output } from '../../authority/v1/DecideApprovalRequest';
import type { DecideApprovalResponse as _authority_v1_DecideApprovalResponse, DecideApprovalResponse__Output as _authority_v1_DecideApprovalResponse__Output } from '../../authority/v1/DecideApprovalResponse';
import type { DelegateRequest as _authority_v1_DelegateRequest, DelegateRequest__Output as _authority_v1_DelegateRequest__Output } from '../../authority/v1/DelegateRequest';
import type { DelegateResponse as _authority_v1_DelegateResponse, DelegateResponse__Output as _authority_v1_DelegateResponse__Output } from '../../authority/v1/DelegateResponse';
import type { GetApprovalRequest as _authority_v1_GetApprovalRequest, GetApprovalRequest__Output as _authority_v1_GetApprovalRequest__Output } from '../../authority/v1/GetApprovalRequest';
import type { GetApprovalResponse as _authority_v1_GetApprovalResponse, GetApprovalResponse__Output as _authority_v1_GetApprovalResponse__Output } from '../../authority/v1/GetApprovalResponse';
import type { ListApprovalsRequest as _authority_v1_ListApprovalsRequest, ListApprovalsRequest__Output as _authority_v1_ListApprovalsRequest__Output } from '../../authority/v1/ListApprovalsRequest';
import type { ListApprovalsResponse as _authority_v1_ListApprovalsResponse, ListApprovalsResponse__Output as _authority_v1_ListApprovalsResponse__Output } from '../../authority/v1/ListApprovalsResponse';
import type { ListKeysRequest as _authority_v1_ListKeysRequest, ListKeysRequest__Output as _authority_v1_ListKeysRequest__Output } from '../../authority/v1/ListKeysRequest';
import type { ListKeysResponse as _authority_v1_ListKeysResponse, ListKeysResponse__Output as _authority_v1_ListKeysResponse__Output } from '../../authority/v1/ListKeysResponse';
import type { MintRequest as _authority_v1_MintRequest, MintRequest__Output as _authority_v1_MintRequest__Output } from '../../authority/v1/MintRequest';
import type { MintResponse as _authority_v1_MintResponse, MintResponse__Output as _authority_v1_MintResponse__Output } from '../../authority/v1/MintResponse';
import type { RequestApprovalRequest as _authority_v1_RequestApprovalRequest, RequestApprovalRequest__Output as _authority_v1_RequestApprovalRequest__Output } from '../../authority/v1/RequestApprovalRequest';
import type { RequestApprovalResponse as _authority_v1_RequestApprovalResponse, RequestApprovalResponse__Output as _authority_v1_RequestApprovalResponse__Output } from '../../authority/v1/RequestApprovalResponse';
import type { RetireKeyRequest as _authority_v1_RetireKeyRequest, RetireKeyRequest__Output as _authority_v1_RetireKeyRequest__Output } from '../../authority/v1/RetireKeyRequest';
import type { RetireKeyResponse as _authority_v1_RetireKeyResponse, RetireKeyResponse__Output as _authority_v1_RetireKeyResponse__Output } from '../../authority/v1/RetireKeyResponse';
import type { RevokeAgentRequest as _authority_v1_RevokeAgentRequest, RevokeAgentRequest__Output as _authority_v1_RevokeAgentRequest__Output } from '../../authority/v1/RevokeAgentRequest';
import type { RevokeAgentResponse as _authority_v1_RevokeAgentResponse, RevokeAgentResponse__Output as _authority_v1_RevokeAgentResponse__Output } from '../../authority/v1/RevokeAgentResponse';
import type { RevokeCredentialRequest as _authority_v1_RevokeCredentialRequest, RevokeCredentialRequest__Output as _authority_v1_RevokeCredentialRequest__Output } from '../../authority/v1/RevokeCredentialRequest';
import type { RevokeCredentialResponse as _authority_v1_RevokeCredentialResponse, RevokeCredentialResponse__Output as _authority_v1_RevokeCredentialResponse__Output } from '../../authority/v1/RevokeCredentialResponse';
import type { RevokeRequest as _authority_v1_RevokeRequest, RevokeRequest__Output as _authority_v1_RevokeRequest__Output } from '../../authority/v1/RevokeRequest';
import type { RevokeResponse as _authority_v1_RevokeResponse, RevokeResponse__Output as _authority_v1_RevokeResponse__Output } from '../../authority/v1/RevokeResponse';
import type { RotateKeyRequest as _authority_v1_RotateKeyRequest, RotateKeyRequest__Output as _authority_v1_RotateKeyRequest__Output } from '../../authority/v1/RotateKeyRequest';
import type { RotateKeyResponse as _authority_v1_RotateKeyResponse, RotateKeyResponse__Output as _authority_v1_RotateKeyResponse__Output } from '../../authority/v1/RotateKeyResponse';

export interface IssuerServiceClient extends grpc.Client {
  ConsumeApproval(argument: _authority_v1_ConsumeApprovalRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_ConsumeApprovalResponse__Output>): grpc.ClientUnaryCall;
  ConsumeApproval(argument: _authority_v1_ConsumeApprovalRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_ConsumeApprovalResponse__Output>): grpc.ClientUnaryCall;
  ConsumeApproval(argument: _authority_v1_ConsumeApprovalRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_ConsumeApprovalResponse__Output>): grpc.ClientUnaryCall;
  ConsumeApproval(argument: _authority_v1_ConsumeApprovalRequest, callback: grpc.requestCallback<_authority_v1_ConsumeApprovalResponse__Output>): grpc.ClientUnaryCall;
  consumeApproval(argument: _authority_v1_ConsumeApprovalRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_ConsumeApprovalResponse__Output>): grpc.ClientUnaryCall;
  consumeApproval(argument: _authority_v1_ConsumeApprovalRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_ConsumeApprovalResponse__Output>): grpc.ClientUnaryCall;
  consumeApproval(argument: _authority_v1_ConsumeApprovalRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_ConsumeApprovalResponse__Output>): grpc.ClientUnaryCall;
  consumeApproval(argument: _authority_v1_ConsumeApprovalRequest, callback: grpc.requestCallback<_authority_v1_ConsumeApprovalResponse__Output>): grpc.ClientUnaryCall;
  
  CreateCredential(argument: _authority_v1_CreateCredentialRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_CreateCredentialResponse__Output>): grpc.ClientUnaryCall;
  CreateCredential(argument: _authority_v1_CreateCredentialRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_CreateCredentialResponse__Output>): grpc.ClientUnaryCall;
  CreateCredential(argument: _authority_v1_CreateCredentialRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_CreateCredentialResponse__Output>): grpc.ClientUnaryCall;
  CreateCredential(argument: _authority_v1_CreateCredentialRequest, callback: grpc.requestCallback<_authority_v1_CreateCredentialResponse__Output>): grpc.ClientUnaryCall;
  createCredential(argument: _authority_v1_CreateCredentialRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_CreateCredentialResponse__Output>): grpc.ClientUnaryCall;
  createCredential(argument: _authority_v1_CreateCredentialRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_CreateCredentialResponse__Output>): grpc.ClientUnaryCall;
  createCredential(argument: _authority_v1_CreateCredentialRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_CreateCredentialResponse__Output>): grpc.ClientUnaryCall;
  createCredential(argument: _authority_v1_CreateCredentialRequest, callback: grpc.requestCallback<_authority_v1_CreateCredentialResponse__Output>): grpc.ClientUnaryCall;
  
  CreateTenant(argument: _authority_v1_CreateTenantRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_CreateTenantResponse__Output>): grpc.ClientUnaryCall;
  CreateTenant(argument: _authority_v1_CreateTenantRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_CreateTenantResponse__Output>): grpc.ClientUnaryCall;
  CreateTenant(argument: _authority_v1_CreateTenantRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_CreateTenantResponse__Output>): grpc.ClientUnaryCall;
  CreateTenant(argument: _authority_v1_CreateTenantRequest, callback: grpc.requestCallback<_authority_v1_CreateTenantResponse__Output>): grpc.ClientUnaryCall;
  createTenant(argument: _authority_v1_CreateTenantRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_CreateTenantResponse__Output>): grpc.ClientUnaryCall;
  createTenant(argument: _authority_v1_CreateTenantRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_CreateTenantResponse__Output>): grpc.ClientUnaryCall;
  createTenant(argument: _authority_v1_CreateTenantRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_CreateTenantResponse__Output>): grpc.ClientUnaryCall;
  createTenant(argument: _authority_v1_CreateTenantRequest, callback: grpc.requestCallback<_authority_v1_CreateTenantResponse__Output>): grpc.ClientUnaryCall;
  
  DecideApproval(argument: _authority_v1_DecideApprovalRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_DecideApprovalResponse__Output>): grpc.ClientUnaryCall;
  DecideApproval(argument: _authority_v1_DecideApprovalRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_DecideApprovalResponse__Output>): grpc.ClientUnaryCall;
  DecideApproval(argument: _authority_v1_DecideApprovalRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_DecideApprovalResponse__Output>): grpc.ClientUnaryCall;
  DecideApproval(argument: _authority_v1_DecideApprovalRequest, callback: grpc.requestCallback<_authority_v1_DecideApprovalResponse__Output>): grpc.ClientUnaryCall;
  decideApproval(argument: _authority_v1_DecideApprovalRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_DecideApprovalResponse__Output>): grpc.ClientUnaryCall;
  decideApproval(argument: _authority_v1_DecideApprovalRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_DecideApprovalResponse__Output>): grpc.ClientUnaryCall;
  decideApproval(argument: _authority_v1_DecideApprovalRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_DecideApprovalResponse__Output>): grpc.ClientUnaryCall;
  decideApproval(argument: _authority_v1_DecideApprovalRequest, callback: grpc.requestCallback<_authority_v1_DecideApprovalResponse__Output>): grpc.ClientUnaryCall;
  
  Delegate(argument: _authority_v1_DelegateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_DelegateResponse__Output>): grpc.ClientUnaryCall;
  Delegate(argument: _authority_v1_DelegateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_DelegateResponse__Output>): grpc.ClientUnaryCall;
  Delegate(argument: _authority_v1_DelegateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_DelegateResponse__Output>): grpc.ClientUnaryCall;
  Delegate(argument: _authority_v1_DelegateRequest, callback: grpc.requestCallback<_authority_v1_DelegateResponse__Output>): grpc.ClientUnaryCall;
  delegate(argument: _authority_v1_DelegateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_DelegateResponse__Output>): grpc.ClientUnaryCall;
  delegate(argument: _authority_v1_DelegateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_DelegateResponse__Output>): grpc.ClientUnaryCall;
  delegate(argument: _authority_v1_DelegateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_DelegateResponse__Output>): grpc.ClientUnaryCall;
  delegate(argument: _authority_v1_DelegateRequest, callback: grpc.requestCallback<_authority_v1_DelegateResponse__Output>): grpc.ClientUnaryCall;
  
  GetApproval(argument: _authority_v1_GetApprovalRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_GetApprovalResponse__Output>): grpc.ClientUnaryCall;
  GetApproval(argument: _authority_v1_GetApprovalRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_GetApprovalResponse__Output>): grpc.ClientUnaryCall;
  GetApproval(argument: _authority_v1_GetApprovalRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_GetApprovalResponse__Output>): grpc.ClientUnaryCall;
  GetApproval(argument: _authority_v1_GetApprovalRequest, callback: grpc.requestCallback<_authority_v1_GetApprovalResponse__Output>): grpc.ClientUnaryCall;
  getApproval(argument: _authority_v1_GetApprovalRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_GetApprovalResponse__Output>): grpc.ClientUnaryCall;
  getApproval(argument: _authority_v1_GetApprovalRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_GetApprovalResponse__Output>): grpc.ClientUnaryCall;
  getApproval(argument: _authority_v1_GetApprovalRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_GetApprovalResponse__Output>): grpc.ClientUnaryCall;
  getApproval(argument: _authority_v1_GetApprovalRequest, callback: grpc.requestCallback<_authority_v1_GetApprovalResponse__Output>): grpc.ClientUnaryCall;
  
  ListApprovals(argument: _authority_v1_ListApprovalsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_ListApprovalsResponse__Output>): grpc.ClientUnaryCall;
  ListApprovals(argument: _authority_v1_ListApprovalsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_ListApprovalsResponse__Output>): grpc.ClientUnaryCall;
  ListApprovals(argument: _authority_v1_ListApprovalsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_ListApprovalsResponse__Output>): grpc.ClientUnaryCall;
  ListApprovals(argument: _authority_v1_ListApprovalsRequest, callback: grpc.requestCallback<_authority_v1_ListApprovalsResponse__Output>): grpc.ClientUnaryCall;
  listApprovals(argument: _authority_v1_ListApprovalsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_ListApprovalsResponse__Output>): grpc.ClientUnaryCall;
  listApprovals(argument: _authority_v1_ListApprovalsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_ListApprovalsResponse__Output>): grpc.ClientUnaryCall;
  listApprovals(argument: _authority_v1_ListApprovalsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_ListApprovalsResponse__Output>): grpc.ClientUnaryCall;
  listApprovals(argument: _authority_v1_ListApprovalsRequest, callback: grpc.requestCallback<_authority_v1_ListApprovalsResponse__Output>): grpc.ClientUnaryCall;
  
  ListKeys(argument: _authority_v1_ListKeysRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_ListKeysResponse__Output>): grpc.ClientUnaryCall;
  ListKeys(argument: _authority_v1_ListKeysRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_ListKeysResponse__Output>): grpc.ClientUnaryCall;
  ListKeys(argument: _authority_v1_ListKeysRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_ListKeysResponse__Output>): grpc.ClientUnaryCall;
  ListKeys(argument: _authority_v1_ListKeysRequest, callback: grpc.requestCallback<_authority_v1_ListKeysResponse__Output>): grpc.ClientUnaryCall;
  listKeys(argument: _authority_v1_ListKeysRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_ListKeysResponse__Output>): grpc.ClientUnaryCall;
  listKeys(argument: _authority_v1_ListKeysRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_ListKeysResponse__Output>): grpc.ClientUnaryCall;
  listKeys(argument: _authority_v1_ListKeysRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_ListKeysResponse__Output>): grpc.ClientUnaryCall;
  listKeys(argument: _authority_v1_ListKeysRequest, callback: grpc.requestCallback<_authority_v1_ListKeysResponse__Output>): grpc.ClientUnaryCall;
  
  Mint(argument: _authority_v1_MintRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_MintResponse__Output>): grpc.ClientUnaryCall;
  Mint(argument: _authority_v1_MintRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_MintResponse__Output>): grpc.ClientUnaryCall;
  Mint(argument: _authority_v1_MintRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_MintResponse__Output>): grpc.ClientUnaryCall;
  Mint(argument: _authority_v1_MintRequest, callback: grpc.requestCallback<_authority_v1_MintResponse__Output>): grpc.ClientUnaryCall;
  mint(argument: _authority_v1_MintRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_MintResponse__Output>): grpc.ClientUnaryCall;
  mint(argument: _authority_v1_MintRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_MintResponse__Output>): grpc.ClientUnaryCall;
  mint(argument: _authority_v1_MintRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_MintResponse__Output>): grpc.ClientUnaryCall;
  mint(argument: _authority_v1_MintRequest, callback: grpc.requestCallback<_authority_v1_MintResponse__Output>): grpc.ClientUnaryCall;
  
  RequestApproval(argument: _authority_v1_RequestApprovalRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_RequestApprovalResponse__Output>): grpc.ClientUnaryCall;
  RequestApproval(argument: _authority_v1_RequestApprovalRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_RequestApprovalResponse__Output>): grpc.ClientUnaryCall;
  RequestApproval(argument: _authority_v1_RequestApprovalRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_RequestApprovalResponse__Output>): grpc.ClientUnaryCall;
  RequestApproval(argument: _authority_v1_RequestApprovalRequest, callback: grpc.requestCallback<_authority_v1_RequestApprovalResponse__Output>): grpc.ClientUnaryCall;
  requestApproval(argument: _authority_v1_RequestApprovalRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_RequestApprovalResponse__Output>): grpc.ClientUnaryCall;
  requestApproval(argument: _authority_v1_RequestApprovalRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_RequestApprovalResponse__Output>): grpc.ClientUnaryCall;
  requestApproval(argument: _authority_v1_RequestApprovalRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_RequestApprovalResponse__Output>): grpc.ClientUnaryCall;
  requestApproval(argument: _authority_v1_RequestApprovalRequest, callback: grpc.requestCallback<_authority_v1_RequestApprovalResponse__Output>): grpc.ClientUnaryCall;
  
  RetireKey(argument: _authority_v1_RetireKeyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_RetireKeyResponse__Output>): grpc.ClientUnaryCall;
  RetireKey(argument: _authority_v1_RetireKeyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_RetireKeyResponse__Output>): grpc.ClientUnaryCall;
  RetireKey(argument: _authority_v1_RetireKeyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_RetireKeyResponse__Output>): grpc.ClientUnaryCall;
  RetireKey(argument: _authority_v1_RetireKeyRequest, callback: grpc.requestCallback<_authority_v1_RetireKeyResponse__Output>): grpc.ClientUnaryCall;
  retireKey(argument: _authority_v1_RetireKeyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_RetireKeyResponse__Output>): grpc.ClientUnaryCall;
  retireKey(argument: _authority_v1_RetireKeyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_RetireKeyResponse__Output>): grpc.ClientUnaryCall;
  retireKey(argument: _authority_v1_RetireKeyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_RetireKeyResponse__Output>): grpc.ClientUnaryCall;
  retireKey(argument: _authority_v1_RetireKeyRequest, callback: grpc.requestCallback<_authority_v1_RetireKeyResponse__Output>): grpc.ClientUnaryCall;
  
  Revoke(argument: _authority_v1_RevokeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_RevokeResponse__Output>): grpc.ClientUnaryCall;
  Revoke(argument: _authority_v1_RevokeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_RevokeResponse__Output>): grpc.ClientUnaryCall;
  Revoke(argument: _authority_v1_RevokeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_RevokeResponse__Output>): grpc.ClientUnaryCall;
  Revoke(argument: _authority_v1_RevokeRequest, callback: grpc.requestCallback<_authority_v1_RevokeResponse__Output>): grpc.ClientUnaryCall;
  revoke(argument: _authority_v1_RevokeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_RevokeResponse__Output>): grpc.ClientUnaryCall;
  revoke(argument: _authority_v1_RevokeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_RevokeResponse__Output>): grpc.ClientUnaryCall;
  revoke(argument: _authority_v1_RevokeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_RevokeResponse__Output>): grpc.ClientUnaryCall;
  revoke(argument: _authority_v1_RevokeRequest, callback: grpc.requestCallback<_authority_v1_RevokeResponse__Output>): grpc.ClientUnaryCall;
  
  RevokeAgent(argument: _authority_v1_RevokeAgentRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_RevokeAgentResponse__Output>): grpc.ClientUnaryCall;
  RevokeAgent(argument: _authority_v1_RevokeAgentRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_RevokeAgentResponse__Output>): grpc.ClientUnaryCall;
  RevokeAgent(argument: _authority_v1_RevokeAgentRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_RevokeAgentResponse__Output>): grpc.ClientUnaryCall;
  RevokeAgent(argument: _authority_v1_RevokeAgentRequest, callback: grpc.requestCallback<_authority_v1_RevokeAgentResponse__Output>): grpc.ClientUnaryCall;
  revokeAgent(argument: _authority_v1_RevokeAgentRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_RevokeAgentResponse__Output>): grpc.ClientUnaryCall;
  revokeAgent(argument: _authority_v1_RevokeAgentRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_RevokeAgentResponse__Output>): grpc.ClientUnaryCall;
  revokeAgent(argument: _authority_v1_RevokeAgentRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_RevokeAgentResponse__Output>): grpc.ClientUnaryCall;
  revokeAgent(argument: _authority_v1_RevokeAgentRequest, callback: grpc.requestCallback<_authority_v1_RevokeAgentResponse__Output>): grpc.ClientUnaryCall;
  
  RevokeCredential(argument: _authority_v1_RevokeCredentialRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_RevokeCredentialResponse__Output>): grpc.ClientUnaryCall;
  RevokeCredential(argument: _authority_v1_RevokeCredentialRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_RevokeCredentialResponse__Output>): grpc.ClientUnaryCall;
  RevokeCredential(argument: _authority_v1_RevokeCredentialRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_RevokeCredentialResponse__Output>): grpc.ClientUnaryCall;
  RevokeCredential(argument: _authority_v1_RevokeCredentialRequest, callback: grpc.requestCallback<_authority_v1_RevokeCredentialResponse__Output>): grpc.ClientUnaryCall;
  revokeCredential(argument: _authority_v1_RevokeCredentialRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_RevokeCredentialResponse__Output>): grpc.ClientUnaryCall;
  revokeCredential(argument: _authority_v1_RevokeCredentialRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_RevokeCredentialResponse__Output>): grpc.ClientUnaryCall;
  revokeCredential(argument: _authority_v1_RevokeCredentialRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_RevokeCredentialResponse__Output>): grpc.ClientUnaryCall;
  revokeCredential(argument: _authority_v1_RevokeCredentialRequest, callback: grpc.requestCallback<_authority_v1_RevokeCredentialResponse__Output>): grpc.ClientUnaryCall;
  
  RotateKey(argument: _authority_v1_RotateKeyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_RotateKeyResponse__Output>): grpc.ClientUnaryCall;
  RotateKey(argument: _authority_v1_RotateKeyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_RotateKeyResponse__Output>): grpc.ClientUnaryCall;
  RotateKey(argument: _authority_v1_RotateKeyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_RotateKeyResponse__Output>): grpc.ClientUnaryCall;
  RotateKey(argument: _authority_v1_RotateKeyRequest, callback: grpc.requestCallback<_authority_v1_RotateKeyResponse__Output>): grpc.ClientUnaryCall;
  rotateKey(argument: _authority_v1_RotateKeyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_RotateKeyResponse__Output>): grpc.ClientUnaryCall;
  rotateKey(argument: _authority_v1_RotateKeyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_RotateKeyResponse__Output>): grpc.ClientUnaryCall;
  rotateKey(argument: _authority_v1_RotateKeyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_RotateKeyResponse__Output>): grpc.ClientUnaryCall;
  rotateKey(argument: _authority_v1_RotateKeyRequest, callback: grpc.requestCallback<_authority_v1_RotateKeyResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface IssuerServiceHandlers extends grpc.UntypedServiceImplementation {
  ConsumeApproval: grpc.handleUnaryCall<_authority_v1_ConsumeApprovalRequest__Output, _authority_v1_ConsumeApprovalResponse>;
  
  CreateCredential: grpc.handleUnaryCall<_authority_v1_CreateCredentialRequest__Output, _authority_v1_CreateCredentialResponse>;
  
  CreateTenant: grpc.handleUnaryCall<_authority_v1_CreateTenantRequest__Output, _authority_v1_CreateTenantResponse>;
  
  DecideApproval: grpc.handleUnaryCall<_authority_v1_DecideApprovalRequest__Output, _authority_v1_DecideApprovalResponse>;
  
  Delegate: grpc.handleUnaryCall<_authority_v1_DelegateRequest__Output, _authority_v1_DelegateResponse>;
  
  GetApproval: grpc.handleUnaryCall<_authority_v1_GetApprovalRequest__Output, _authority_v1_GetApprovalResponse>;
  
  ListApprovals: grpc.handleUnaryCall<_authority_v1_ListApprovalsRequest__Output, _authority_v1_ListApprovalsResponse>;
  
  ListKeys: grpc.handleUnaryCall<_authority_v1_ListKeysRequest__Output, _authority_v1_ListKeysResponse>;
  
  Mint: grpc.handleUnaryCall<_authority_v1_MintRequest__Output, _authority_v1_MintResponse>;
  
  RequestApproval: grpc.handleUnaryCall<_authority_v1_RequestApprovalRequest__Output, _authority_v1_RequestApprovalResponse>;
  
  RetireKey: grpc.handleUnaryCall<_authority_v1_RetireKeyRequest__Output, _authority_v1_RetireKeyResponse>;
  
  Revoke: grpc.handleUnaryCall<_authority_v1_RevokeRequest__Output, _authority_v1_RevokeResponse>;
  
  RevokeAgent: grpc.handleUnaryCall<_authority_v1_RevokeAgentRequest__Output, _authority_v1_RevokeAgentResponse>;
  
  RevokeCredential: grpc.handleUnaryCall<_authority_v1_RevokeCredentialRequest__Output, _authority_v1_RevokeCredentialResponse>;
  
  RotateKey: grpc.handleUnaryCall<_authority_v1_RotateKeyRequest__Output, _authority_v1_RotateKeyResponse>;
  
}

export interface IssuerServiceDefinition extends grpc.ServiceDefinition {
  ConsumeApproval: MethodDefinition<_authority_v1_ConsumeApprovalRequest, _authority_v1_ConsumeApprovalResponse, _authority_v1_ConsumeApprovalRequest__Output, _authority_v1_ConsumeApprovalResponse__Output>
  CreateCredential: MethodDefinition<_authority_v1_CreateCredentialRequest, _authority_v1_CreateCredentialResponse, _authority_v1_CreateCredentialRequest__Output, _authority_v1_CreateCredentialResponse__Output>
  CreateTenant: MethodDefinition<_authority_v1_CreateTenantRequest, _authority_v1_CreateTenantResponse, _authority_v1_CreateTenantRequest__Output, _authority_v1_CreateTenantResponse__Output>
  DecideApproval: MethodDefinition<_authority_v1_DecideApprovalRequest, _authority_v1_DecideApprovalResponse, _authority_v1_DecideApprovalRequest__Output, _authority_v1_DecideApprovalResponse__Output>
  Delegate: MethodDefinition<_authority_v1_DelegateRequest, _authority_v1_DelegateResponse, _authority_v1_DelegateRequest__Output, _authority_v1_DelegateResponse__Output>
  GetApproval: MethodDefinition<_authority_v1_GetApprovalRequest, _authority_v1_GetApprovalResponse, _authority_v1_GetApprovalRequest__Output, _authority_v1_GetApprovalResponse__Output>
  ListApprovals: MethodDefinition<_authority_v1_ListApprovalsRequest, _authority_v1_ListApprovalsResponse, _authority_v1_ListApprovalsRequest__Output, _authority_v1_ListApprovalsResponse__Output>
  ListKeys: MethodDefinition<_authority_v1_ListKeysRequest, _authority_v1_ListKeysResponse, _authority_v1_ListKeysRequest__Output, _authority_v1_ListKeysResponse__Output>
  Mint: MethodDefinition<_authority_v1_MintRequest, _authority_v1_MintResponse, _authority_v1_MintRequest__Output, _authority_v1_MintResponse__Output>
  RequestApproval: MethodDefinition<_authority_v1_RequestApprovalRequest, _authority_v1_RequestApprovalResponse, _authority_v1_RequestApprovalRequest__Output, _authority_v1_RequestApprovalResponse__Output>
  RetireKey: MethodDefinition<_authority_v1_RetireKeyRequest, _authority_v1_RetireKeyResponse, _authority_v1_RetireKeyRequest__Output, _authority_v1_RetireKeyResponse__Output>
  Revoke: MethodDefinition<_authority_v1_RevokeRequest, _authority_v1_RevokeResponse, _authority_v1_RevokeRequest__Output, _authority_v1_RevokeResponse__Output>
  RevokeAgent: MethodDefinition<_authority_v1_RevokeAgentRequest, _authority_v1_RevokeAgentResponse, _authority_v1_RevokeAgentRequest__Output, _authority_v1_RevokeAgentResponse__Output>
  RevokeCredential: MethodDefinition<_authority_v1_RevokeCredentialRequest, _authority_v1_RevokeCredentialResponse, _authority_v1_RevokeCredentialRequest__Output, _authority_v1_RevokeCredentialResponse__Output>
  RotateKey: MethodDefinition<_authority_v1_RotateKeyRequest, _authority_v1_RotateKeyResponse, _authority_v1_RotateKeyRequest__Output, _authority_v1_RotateKeyResponse__Output>
}
