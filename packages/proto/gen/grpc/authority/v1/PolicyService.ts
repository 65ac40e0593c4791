// Original file: proto/authority/v1/policy.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { DeletePolicyRequest as _authority_v1_DeletePolicyRequest, DeletePolicyRequest__Output as _authority_v1_DeletePolicyRequest__Output } from '../../authority/v1/DeletePolicyRequest';
import type { DeletePolicyResponse as _authority_v1_DeletePolicyResponse, DeletePolicyResponse__Output as _authority_v1_DeletePolicyResponse__Output } from '../../authority/v1/DeletePolicyResponse';
import type { GetPolicyRequest as _authority_v1_GetPolicyRequest, GetPolicyRequest__Output as _authority_v1_GetPolicyRequest__Output } from '../../authority/v1/GetPolicyRequest';
import type { GetPolicyResponse as _authority_v1_GetPolicyResponse, GetPolicyResponse__Output as _authority_v1_GetPolicyResponse__Output } from '../../authority/v1/GetPolicyResponse';
import type { ListPolicyVersionsRequest as _authority_v1_ListPolicyVersionsRequest, ListPolicyVersionsRequest__Output as _authority_v1_ListPolicyVersionsRequest__Output } from '../../authority/v1/ListPolicyVersionsRequest';
import type { ListPolicyVersionsResponse as _authority_v1_ListPolicyVersionsResponse, ListPolicyVersionsResponse__Output as _authority_v1_ListPolicyVersionsResponse__Output } from '../../authority/v1/ListPolicyVersionsResponse';
import type { PutPolicyRequest as _authority_v1_PutPolicyRequest, PutPolicyRequest__Output as _authority_v1_PutPolicyRequest__Output } from '../../authority/v1/PutPolicyRequest';
import type { PutPolicyResponse as _authority_v1_PutPolicyResponse, PutPolicyResponse__Output as _authority_v1_PutPolicyResponse__Output } from '../../authority/v1/PutPolicyResponse';
import type { ValidatePolicyRequest as _authority_v1_ValidatePolicyRequest, ValidatePolicyRequest__Output as _authority_v1_ValidatePolicyRequest__Output } from '../../authority/v1/ValidatePolicyRequest';
import type { ValidatePolicyResponse as _authority_v1_ValidatePolicyResponse, ValidatePolicyResponse__Output as _authority_v1_ValidatePolicyResponse__Output } from '../../authority/v1/ValidatePolicyResponse';
import type { WatchPoliciesRequest as _authority_v1_WatchPoliciesRequest, WatchPoliciesRequest__Output as _authority_v1_WatchPoliciesRequest__Output } from '../../authority/v1/WatchPoliciesRequest';
import type { WatchPoliciesResponse as _authority_v1_WatchPoliciesResponse, WatchPoliciesResponse__Output as _authority_v1_WatchPoliciesResponse__Output } from '../../authority/v1/WatchPoliciesResponse';

export interface PolicyServiceClient extends grpc.Client {
  DeletePolicy(argument: _authority_v1_DeletePolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_DeletePolicyResponse__Output>): grpc.ClientUnaryCall;
  DeletePolicy(argument: _authority_v1_DeletePolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_DeletePolicyResponse__Output>): grpc.ClientUnaryCall;
  DeletePolicy(argument: _authority_v1_DeletePolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_DeletePolicyResponse__Output>): grpc.ClientUnaryCall;
  DeletePolicy(argument: _authority_v1_DeletePolicyRequest, callback: grpc.requestCallback<_authority_v1_DeletePolicyResponse__Output>): grpc.ClientUnaryCall;
  deletePolicy(argument: _authority_v1_DeletePolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_DeletePolicyResponse__Output>): grpc.ClientUnaryCall;
  deletePolicy(argument: _authority_v1_DeletePolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_DeletePolicyResponse__Output>): grpc.ClientUnaryCall;
  deletePolicy(argument: _authority_v1_DeletePolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_DeletePolicyResponse__Output>): grpc.ClientUnaryCall;
  deletePolicy(argument: _authority_v1_DeletePolicyRequest, callback: grpc.requestCallback<_authority_v1_DeletePolicyResponse__Output>): grpc.ClientUnaryCall;
  
  GetPolicy(argument: _authority_v1_GetPolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_GetPolicyResponse__Output>): grpc.ClientUnaryCall;
  GetPolicy(argument: _authority_v1_GetPolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_GetPolicyResponse__Output>): grpc.ClientUnaryCall;
  GetPolicy(argument: _authority_v1_GetPolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_GetPolicyResponse__Output>): grpc.ClientUnaryCall;
  GetPolicy(argument: _authority_v1_GetPolicyRequest, callback: grpc.requestCallback<_authority_v1_GetPolicyResponse__Output>): grpc.ClientUnaryCall;
  getPolicy(argument: _authority_v1_GetPolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_GetPolicyResponse__Output>): grpc.ClientUnaryCall;
  getPolicy(argument: _authority_v1_GetPolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_GetPolicyResponse__Output>): grpc.ClientUnaryCall;
  getPolicy(argument: _authority_v1_GetPolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_GetPolicyResponse__Output>): grpc.ClientUnaryCall;
  getPolicy(argument: _authority_v1_GetPolicyRequest, callback: grpc.requestCallback<_authority_v1_GetPolicyResponse__Output>): grpc.ClientUnaryCall;
  
  ListPolicyVersions(argument: _authority_v1_ListPolicyVersionsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_ListPolicyVersionsResponse__Output>): grpc.ClientUnaryCall;
  ListPolicyVersions(argument: _authority_v1_ListPolicyVersionsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_ListPolicyVersionsResponse__Output>): grpc.ClientUnaryCall;
  ListPolicyVersions(argument: _authority_v1_ListPolicyVersionsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_ListPolicyVersionsResponse__Output>): grpc.ClientUnaryCall;
  ListPolicyVersions(argument: _authority_v1_ListPolicyVersionsRequest, callback: grpc.requestCallback<_authority_v1_ListPolicyVersionsResponse__Output>): grpc.ClientUnaryCall;
  listPolicyVersions(argument: _authority_v1_ListPolicyVersionsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_ListPolicyVersionsResponse__Output>): grpc.ClientUnaryCall;
  listPolicyVersions(argument: _authority_v1_ListPolicyVersionsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_ListPolicyVersionsResponse__Output>): grpc.ClientUnaryCall;
  listPolicyVersions(argument: _authority_v1_ListPolicyVersionsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_ListPolicyVersionsResponse__Output>): grpc.ClientUnaryCall;
  listPolicyVersions(argument: _authority_v1_ListPolicyVersionsRequest, callback: grpc.requestCallback<_authority_v1_ListPolicyVersionsResponse__Output>): grpc.ClientUnaryCall;
  
  PutPolicy(argument: _authority_v1_PutPolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_PutPolicyResponse__Output>): grpc.ClientUnaryCall;
  PutPolicy(argument: _authority_v1_PutPolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_PutPolicyResponse__Output>): grpc.ClientUnaryCall;
  PutPolicy(argument: _authority_v1_PutPolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_PutPolicyResponse__Output>): grpc.ClientUnaryCall;
  PutPolicy(argument: _authority_v1_PutPolicyRequest, callback: grpc.requestCallback<_authority_v1_PutPolicyResponse__Output>): grpc.ClientUnaryCall;
  putPolicy(argument: _authority_v1_PutPolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_PutPolicyResponse__Output>): grpc.ClientUnaryCall;
  putPolicy(argument: _authority_v1_PutPolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_PutPolicyResponse__Output>): grpc.ClientUnaryCall;
  putPolicy(argument: _authority_v1_PutPolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_PutPolicyResponse__Output>): grpc.ClientUnaryCall;
  putPolicy(argument: _authority_v1_PutPolicyRequest, callback: grpc.requestCallback<_authority_v1_PutPolicyResponse__Output>): grpc.ClientUnaryCall;
  
  ValidatePolicy(argument: _authority_v1_ValidatePolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_ValidatePolicyResponse__Output>): grpc.ClientUnaryCall;
  ValidatePolicy(argument: _authority_v1_ValidatePolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_ValidatePolicyResponse__Output>): grpc.ClientUnaryCall;
  ValidatePolicy(argument: _authority_v1_ValidatePolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_ValidatePolicyResponse__Output>): grpc.ClientUnaryCall;
  ValidatePolicy(argument: _authority_v1_ValidatePolicyRequest, callback: grpc.requestCallback<_authority_v1_ValidatePolicyResponse__Output>): grpc.ClientUnaryCall;
  validatePolicy(argument: _authority_v1_ValidatePolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_ValidatePolicyResponse__Output>): grpc.ClientUnaryCall;
  validatePolicy(argument: _authority_v1_ValidatePolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_ValidatePolicyResponse__Output>): grpc.ClientUnaryCall;
  validatePolicy(argument: _authority_v1_ValidatePolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_ValidatePolicyResponse__Output>): grpc.ClientUnaryCall;
  validatePolicy(argument: _authority_v1_ValidatePolicyRequest, callback: grpc.requestCallback<_authority_v1_ValidatePolicyResponse__Output>): grpc.ClientUnaryCall;
  
  WatchPolicies(argument: _authority_v1_WatchPoliciesRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_authority_v1_WatchPoliciesResponse__Output>;
  WatchPolicies(argument: _authority_v1_WatchPoliciesRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_authority_v1_WatchPoliciesResponse__Output>;
  watchPolicies(argument: _authority_v1_WatchPoliciesRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_authority_v1_WatchPoliciesResponse__Output>;
  watchPolicies(argument: _authority_v1_WatchPoliciesRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_authority_v1_WatchPoliciesResponse__Output>;
  
}

export interface PolicyServiceHandlers extends grpc.UntypedServiceImplementation {
  DeletePolicy: grpc.handleUnaryCall<_authority_v1_DeletePolicyRequest__Output, _authority_v1_DeletePolicyResponse>;
  
  GetPolicy: grpc.handleUnaryCall<_authority_v1_GetPolicyRequest__Output, _authority_v1_GetPolicyResponse>;
  
  ListPolicyVersions: grpc.handleUnaryCall<_authority_v1_ListPolicyVersionsRequest__Output, _authority_v1_ListPolicyVersionsResponse>;
  
  PutPolicy: grpc.handleUnaryCall<_authority_v1_PutPolicyRequest__Output, _authority_v1_PutPolicyResponse>;
  
  ValidatePolicy: grpc.handleUnaryCall<_authority_v1_ValidatePolicyRequest__Output, _authority_v1_ValidatePolicyResponse>;
  
  WatchPolicies: grpc.handleServerStreamingCall<_authority_v1_WatchPoliciesRequest__Output, _authority_v1_WatchPoliciesResponse>;
  
}

export interface PolicyServiceDefinition extends grpc.ServiceDefinition {
  DeletePolicy: MethodDefinition<_authority_v1_DeletePolicyRequest, _authority_v1_DeletePolicyResponse, _authority_v1_DeletePolicyRequest__Output, _authority_v1_DeletePolicyResponse__Output>
  GetPolicy: MethodDefinition<_authority_v1_GetPolicyRequest, _authority_v1_GetPolicyResponse, _authority_v1_GetPolicyRequest__Output, _authority_v1_GetPolicyResponse__Output>
  ListPolicyVersions: MethodDefinition<_authority_v1_ListPolicyVersionsRequest, _authority_v1_ListPolicyVersionsResponse, _authority_v1_ListPolicyVersionsRequest__Output, _authority_v1_ListPolicyVersionsResponse__Output>
  PutPolicy: MethodDefinition<_authority_v1_PutPolicyRequest, _authority_v1_PutPolicyResponse, _authority_v1_PutPolicyRequest__Output, _authority_v1_PutPolicyResponse__Output>
  ValidatePolicy: MethodDefinition<_authority_v1_ValidatePolicyRequest, _authority_v1_ValidatePolicyResponse, _authority_v1_ValidatePolicyRequest__Output, _authority_v1_ValidatePolicyResponse__Output>
  WatchPolicies: MethodDefinition<_authority_v1_WatchPoliciesRequest, _authority_v1_WatchPoliciesResponse, _authority_v1_WatchPoliciesRequest__Output, _authority_v1_WatchPoliciesResponse__Output>
}
