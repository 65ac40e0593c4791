// Original file: proto/authority/v1/enforcer.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { BatchCheckRequest as _authority_v1_BatchCheckRequest, BatchCheckRequest__Output as _authority_v1_BatchCheckRequest__Output } from '../../authority/v1/BatchCheckRequest';
import type { BatchCheckResponse as _authority_v1_BatchCheckResponse, BatchCheckResponse__Output as _authority_v1_BatchCheckResponse__Output } from '../../authority/v1/BatchCheckResponse';
import type { CheckRequest as _authority_v1_CheckRequest, CheckRequest__Output as _authority_v1_CheckRequest__Output } from '../../authority/v1/CheckRequest';
import type { CheckResponse as _authority_v1_CheckResponse, CheckResponse__Output as _authority_v1_CheckResponse__Output } from '../../authority/v1/CheckResponse';

export interface EnforcerServiceClient extends grpc.Client {
  BatchCheck(argument: _authority_v1_BatchCheckRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_BatchCheckResponse__Output>): grpc.ClientUnaryCall;
  BatchCheck(argument: _authority_v1_BatchCheckRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_BatchCheckResponse__Output>): grpc.ClientUnaryCall;
  BatchCheck(argument: _authority_v1_BatchCheckRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_BatchCheckResponse__Output>): grpc.ClientUnaryCall;
  BatchCheck(argument: _authority_v1_BatchCheckRequest, callback: grpc.requestCallback<_authority_v1_BatchCheckResponse__Output>): grpc.ClientUnaryCall;
  batchCheck(argument: _authority_v1_BatchCheckRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_BatchCheckResponse__Output>): grpc.ClientUnaryCall;
  batchCheck(argument: _authority_v1_BatchCheckRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_BatchCheckResponse__Output>): grpc.ClientUnaryCall;
  batchCheck(argument: _authority_v1_BatchCheckRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_BatchCheckResponse__Output>): grpc.ClientUnaryCall;
  batchCheck(argument: _authority_v1_BatchCheckRequest, callback: grpc.requestCallback<_authority_v1_BatchCheckResponse__Output>): grpc.ClientUnaryCall;
  
  Check(argument: _authority_v1_CheckRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_CheckResponse__Output>): grpc.ClientUnaryCall;
  Check(argument: _authority_v1_CheckRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_CheckResponse__Output>): grpc.ClientUnaryCall;
  Check(argument: _authority_v1_CheckRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_CheckResponse__Output>): grpc.ClientUnaryCall;
  Check(argument: _authority_v1_CheckRequest, callback: grpc.requestCallback<_authority_v1_CheckResponse__Output>): grpc.ClientUnaryCall;
  check(argument: _authority_v1_CheckRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_CheckResponse__Output>): grpc.ClientUnaryCall;
  check(argument: _authority_v1_CheckRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_CheckResponse__Output>): grpc.ClientUnaryCall;
  check(argument: _authority_v1_CheckRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_CheckResponse__Output>): grpc.ClientUnaryCall;
  check(argument: _authority_v1_CheckRequest, callback: grpc.requestCallback<_authority_v1_CheckResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface EnforcerServiceHandlers extends grpc.UntypedServiceImplementation {
  BatchCheck: grpc.handleUnaryCall<_authority_v1_BatchCheckRequest__Output, _authority_v1_BatchCheckResponse>;
  
  Check: grpc.handleUnaryCall<_authority_v1_CheckRequest__Output, _authority_v1_CheckResponse>;
  
}

export interface EnforcerServiceDefinition extends grpc.ServiceDefinition {
  BatchCheck: MethodDefinition<_authority_v1_BatchCheckRequest, _authority_v1_BatchCheckResponse, _authority_v1_BatchCheckRequest__Output, _authority_v1_BatchCheckResponse__Output>
  Check: MethodDefinition<_authority_v1_CheckRequest, _authority_v1_CheckResponse, _authority_v1_CheckRequest__Output, _authority_v1_CheckResponse__Output>
}
