import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { DeletePolicyRequest as _authority_v1_DeletePolicyRequest, DeletePolicyRequest__Output as _authority_v1_DeletePolicyRequest__Output } from './authority/v1/DeletePolicyRequest';
import type { DeletePolicyResponse as _authority_v1_DeletePolicyResponse, DeletePolicyResponse__Output as _authority_v1_DeletePolicyResponse__Output } from './authority/v1/DeletePolicyResponse';
import type { GetPolicyRequest as _authority_v1_GetPolicyRequest, GetPolicyRequest__Output as _authority_v1_GetPolicyRequest__Output } from './authority/v1/GetPolicyRequest';
import type { GetPolicyResponse as _authority_v1_GetPolicyResponse, GetPolicyResponse__Output as _authority_v1_GetPolicyResponse__Output } from './authority/v1/GetPolicyResponse';
import type { ListPolicyVersionsRequest as _authority_v1_ListPolicyVersionsRequest, ListPolicyVersionsRequest__Output as _authority_v1_ListPolicyVersionsRequest__Output } from './authority/v1/ListPolicyVersionsRequest';
import type { ListPolicyVersionsResponse as _authority_v1_ListPolicyVersionsResponse, ListPolicyVersionsResponse__Output as _authority_v1_ListPolicyVersionsResponse__Output } from './authority/v1/ListPolicyVersionsResponse';
import type { PolicyServiceClient as _authority_v1_PolicyServiceClient, PolicyServiceDefinition as _authority_v1_PolicyServiceDefinition } from './authority/v1/PolicyService';
import type { PolicyVersion as _authority_v1_PolicyVersion, PolicyVersion__Output as _authority_v1_PolicyVersion__Output } from './authority/v1/PolicyVersion';
import type { PutPolicyRequest as _authority_v1_PutPolicyRequest, PutPolicyRequest__Output as _authority_v1_PutPolicyRequest__Output } from './authority/v1/PutPolicyRequest';
import type { PutPolicyResponse as _authority_v1_PutPolicyResponse, PutPolicyResponse__Output as _authority_v1_PutPolicyResponse__Output } from './authority/v1/PutPolicyResponse';
import type { ValidatePolicyRequest as _authority_v1_ValidatePolicyRequest, ValidatePolicyRequest__Output as _authority_v1_ValidatePolicyRequest__Output } from './authority/v1/ValidatePolicyRequest';
import type { ValidatePolicyResponse as _authority_v1_ValidatePolicyResponse, ValidatePolicyResponse__Output as _authority_v1_ValidatePolicyResponse__Output } from './authority/v1/ValidatePolicyResponse';
import type { ValidationIssue as _authority_v1_ValidationIssue, ValidationIssue__Output as _authority_v1_ValidationIssue__Output } from './authority/v1/ValidationIssue';
import type { WatchPoliciesRequest as _authority_v1_WatchPoliciesRequest, WatchPoliciesRequest__Output as _authority_v1_WatchPoliciesRequest__Output } from './authority/v1/WatchPoliciesRequest';
import type { WatchPoliciesResponse as _authority_v1_WatchPoliciesResponse, WatchPoliciesResponse__Output as _authority_v1_WatchPoliciesResponse__Output } from './authority/v1/WatchPoliciesResponse';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from './google/protobuf/Timestamp';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  authority: {
    v1: {
      DeletePolicyRequest: MessageTypeDefinition<_authority_v1_DeletePolicyRequest, _authority_v1_DeletePolicyRequest__Output>
      DeletePolicyResponse: MessageTypeDefinition<_authority_v1_DeletePolicyResponse, _authority_v1_DeletePolicyResponse__Output>
      GetPolicyRequest: MessageTypeDefinition<_authority_v1_GetPolicyRequest, _authority_v1_GetPolicyRequest__Output>
      GetPolicyResponse: MessageTypeDefinition<_authority_v1_GetPolicyResponse, _authority_v1_GetPolicyResponse__Output>
      ListPolicyVersionsRequest: MessageTypeDefinition<_authority_v1_ListPolicyVersionsRequest, _authority_v1_ListPolicyVersionsRequest__Output>
      ListPolicyVersionsResponse: MessageTypeDefinition<_authority_v1_ListPolicyVersionsResponse, _authority_v1_ListPolicyVersionsResponse__Output>
      PolicyService: SubtypeConstructor<typeof grpc.Client, _authority_v1_PolicyServiceClient> & { service: _authority_v1_PolicyServiceDefinition }
      PolicyVersion: MessageTypeDefinition<_authority_v1_PolicyVersion, _authority_v1_PolicyVersion__Output>
      PutPolicyRequest: MessageTypeDefinition<_authority_v1_PutPolicyRequest, _authority_v1_PutPolicyRequest__Output>
      PutPolicyResponse: MessageTypeDefinition<_authority_v1_PutPolicyResponse, _authority_v1_PutPolicyResponse__Output>
      ValidatePolicyRequest: MessageTypeDefinition<_authority_v1_ValidatePolicyRequest, _authority_v1_ValidatePolicyRequest__Output>
      ValidatePolicyResponse: MessageTypeDefinition<_authority_v1_ValidatePolicyResponse, _authority_v1_ValidatePolicyResponse__Output>
      ValidationIssue: MessageTypeDefinition<_authority_v1_ValidationIssue, _authority_v1_ValidationIssue__Output>
      WatchPoliciesRequest: MessageTypeDefinition<_authority_v1_WatchPoliciesRequest, _authority_v1_WatchPoliciesRequest__Output>
      WatchPoliciesResponse: MessageTypeDefinition<_authority_v1_WatchPoliciesResponse, _authority_v1_WatchPoliciesResponse__Output>
    }
  }
  google: {
    protobuf: {
      Timestamp: MessageTypeDefinition<_google_protobuf_Timestamp, _google_protobuf_Timestamp__Output>
    }
  }
}

