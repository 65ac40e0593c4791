// Original file: proto/authority/v1/auditor.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ArchiveChainSegmentRequest as _authority_v1_ArchiveChainSegmentRequest, ArchiveChainSegmentRequest__Output as _authority_v1_ArchiveChainSegmentRequest__Output } from '../../authority/v1/ArchiveChainSegmentRequest';
import type { ArchiveChainSegmentResponse as _authority_v1_ArchiveChainSegmentResponse, ArchiveChainSegmentResponse__Output as _authority_v1_ArchiveChainSegmentResponse__Output } from '../../authority/v1/ArchiveChainSegmentResponse';
import type { AttestRequest as _authority_v1_AttestRequest, AttestRequest__Output as _authority_v1_AttestRequest__Output } from '../../authority/v1/AttestRequest';
import type { AttestResponse as _authority_v1_AttestResponse, AttestResponse__Output as _authority_v1_AttestResponse__Output } from '../../authority/v1/AttestResponse';
import type { GetChainStatusRequest as _authority_v1_GetChainStatusRequest, GetChainStatusRequest__Output as _authority_v1_GetChainStatusRequest__Output } from '../../authority/v1/GetChainStatusRequest';
import type { GetChainStatusResponse as _authority_v1_GetChainStatusResponse, GetChainStatusResponse__Output as _authority_v1_GetChainStatusResponse__Output } from '../../authority/v1/GetChainStatusResponse';
import type { GetCheckpointRequest as _authority_v1_GetCheckpointRequest, GetCheckpointRequest__Output as _authority_v1_GetCheckpointRequest__Output } from '../../authority/v1/GetCheckpointRequest';
import type { GetCheckpointResponse as _authority_v1_GetCheckpointResponse, GetCheckpointResponse__Output as _authority_v1_GetCheckpointResponse__Output } from '../../authority/v1/GetCheckpointResponse';
import type { GetComplianceReportRequest as _authority_v1_GetComplianceReportRequest, GetComplianceReportRequest__Output as _authority_v1_GetComplianceReportRequest__Output } from '../../authority/v1/GetComplianceReportRequest';
import type { GetComplianceReportResponse as _authority_v1_GetComplianceReportResponse, GetComplianceReportResponse__Output as _authority_v1_GetComplianceReportResponse__Output } from '../../authority/v1/GetComplianceReportResponse';
import type { ListAuditorKeysRequest as _authority_v1_ListAuditorKeysRequest, ListAuditorKeysRequest__Output as _authority_v1_ListAuditorKeysRequest__Output } from '../../authority/v1/ListAuditorKeysRequest';
import type { ListAuditorKeysResponse as _authority_v1_ListAuditorKeysResponse, ListAuditorKeysResponse__Output as _authority_v1_ListAuditorKeysResponse__Output } from '../../authority/v1/ListAuditorKeysResponse';
import type { ListCheckpointsRequest as _authority_v1_ListCheckpointsRequest, ListCheckpointsRequest__Output as _authority_v1_ListCheckpointsRequest__Output } from '../../authority/v1/ListCheckpointsRequest';
import type { ListCheckpointsResponse as _authority_v1_ListCheckpointsResponse, ListCheckpointsResponse__Output as _authority_v1_ListCheckpointsResponse__Output } from '../../authority/v1/ListCheckpointsResponse';
import type { QueryEventsRequest as _authority_v1_QueryEventsRequest, QueryEventsRequest__Output as _authority_v1_QueryEventsRequest__Output } from '../../authority/v1/QueryEventsRequest';
import type { QueryEventsResponse as _authority_v1_QueryEventsResponse, QueryEventsResponse__Output as _authority_v1_QueryEventsResponse__Output } from '../../authority/v1/QueryEventsResponse';
import type { VerifyChainRequest as _authority_v1_VerifyChainRequest, VerifyChainRequest__Output as _authority_v1_VerifyChainRequest__Output } from '../../authority/v1/VerifyChainRequest';
import type { VerifyChainResponse as _authority_v1_VerifyChainResponse, VerifyChainResponse__Output as _authority_v1_VerifyChainResponse__Output } from '../../authority/v1/VerifyChainResponse';

export interface AuditorServiceClient extends grpc.Client {
  ArchiveChainSegment(argument: _authority_v1_ArchiveChainSegmentRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_ArchiveChainSegmentResponse__Output>): grpc.ClientUnaryCall;
  ArchiveChainSegment(argument: _authority_v1_ArchiveChainSegmentRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_ArchiveChainSegmentResponse__Output>): grpc.ClientUnaryCall;
  ArchiveChainSegment(argument: _authority_v1_ArchiveChainSegmentRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_ArchiveChainSegmentResponse__Output>): grpc.ClientUnaryCall;
  ArchiveChainSegment(argument: _authority_v1_ArchiveChainSegmentRequest, callback: grpc.requestCallback<_authority_v1_ArchiveChainSegmentResponse__Output>): grpc.ClientUnaryCall;
  archiveChainSegment(argument: _authority_v1_ArchiveChainSegmentRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_ArchiveChainSegmentResponse__Output>): grpc.ClientUnaryCall;
  archiveChainSegment(argument: _authority_v1_ArchiveChainSegmentRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_ArchiveChainSegmentResponse__Output>): grpc.ClientUnaryCall;
  archiveChainSegment(argument: _authority_v1_ArchiveChainSegmentRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_ArchiveChainSegmentResponse__Output>): grpc.ClientUnaryCall;
  archiveChainSegment(argument: _authority_v1_ArchiveChainSegmentRequest, callback: grpc.requestCallback<_authority_v1_ArchiveChainSegmentResponse__Output>): grpc.ClientUnaryCall;
  
  Attest(argument: _authority_v1_AttestRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_AttestResponse__Output>): grpc.ClientUnaryCall;
  Attest(argument: _authority_v1_AttestRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_AttestResponse__Output>): grpc.ClientUnaryCall;
  Attest(argument: _authority_v1_AttestRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_AttestResponse__Output>): grpc.ClientUnaryCall;
  Attest(argument: _authority_v1_AttestRequest, callback: grpc.requestCallback<_authority_v1_AttestResponse__Output>): grpc.ClientUnaryCall;
  attest(argument: _authority_v1_AttestRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_AttestResponse__Output>): grpc.ClientUnaryCall;
  attest(argument: _authority_v1_AttestRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_AttestResponse__Output>): grpc.ClientUnaryCall;
  attest(argument: _authority_v1_AttestRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_AttestResponse__Output>): grpc.ClientUnaryCall;
  attest(argument: _authority_v1_AttestRequest, callback: grpc.requestCallback<_authority_v1_AttestResponse__Output>): grpc.ClientUnaryCall;
  
  GetChainStatus(argument: _authority_v1_GetChainStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_GetChainStatusResponse__Output>): grpc.ClientUnaryCall;
  GetChainStatus(argument: _authority_v1_GetChainStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_GetChainStatusResponse__Output>): grpc.ClientUnaryCall;
  GetChainStatus(argument: _authority_v1_GetChainStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_GetChainStatusResponse__Output>): grpc.ClientUnaryCall;
  GetChainStatus(argument: _authority_v1_GetChainStatusRequest, callback: grpc.requestCallback<_authority_v1_GetChainStatusResponse__Output>): grpc.ClientUnaryCall;
  getChainStatus(argument: _authority_v1_GetChainStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_GetChainStatusResponse__Output>): grpc.ClientUnaryCall;
  getChainStatus(argument: _authority_v1_GetChainStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_GetChainStatusResponse__Output>): grpc.ClientUnaryCall;
  getChainStatus(argument: _authority_v1_GetChainStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_GetChainStatusResponse__Output>): grpc.ClientUnaryCall;
  getChainStatus(argument: _authority_v1_GetChainStatusRequest, callback: grpc.requestCallback<_authority_v1_GetChainStatusResponse__Output>): grpc.ClientUnaryCall;
  
  GetCheckpoint(argument: _authority_v1_GetCheckpointRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_GetCheckpointResponse__Output>): grpc.ClientUnaryCall;
  GetCheckpoint(argument: _authority_v1_GetCheckpointRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_GetCheckpointResponse__Output>): grpc.ClientUnaryCall;
  GetCheckpoint(argument: _authority_v1_GetCheckpointRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_GetCheckpointResponse__Output>): grpc.ClientUnaryCall;
  GetCheckpoint(argument: _authority_v1_GetCheckpointRequest, callback: grpc.requestCallback<_authority_v1_GetCheckpointResponse__Output>): grpc.ClientUnaryCall;
  getCheckpoint(argument: _authority_v1_GetCheckpointRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_GetCheckpointResponse__Output>): grpc.ClientUnaryCall;
  getCheckpoint(argument: _authority_v1_GetCheckpointRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_GetCheckpointResponse__Output>): grpc.ClientUnaryCall;
  getCheckpoint(argument: _authority_v1_GetCheckpointRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_GetCheckpointResponse__Output>): grpc.ClientUnaryCall;
  getCheckpoint(argument: _authority_v1_GetCheckpointRequest, callback: grpc.requestCallback<_authority_v1_GetCheckpointResponse__Output>): grpc.ClientUnaryCall;
  
  GetComplianceReport(argument: _authority_v1_GetComplianceReportRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_GetComplianceReportResponse__Output>): grpc.ClientUnaryCall;
  GetComplianceReport(argument: _authority_v1_GetComplianceReportRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_GetComplianceReportResponse__Output>): grpc.ClientUnaryCall;
  GetComplianceReport(argument: _authority_v1_GetComplianceReportRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_GetComplianceReportResponse__Output>): grpc.ClientUnaryCall;
  GetComplianceReport(argument: _authority_v1_GetComplianceReportRequest, callback: grpc.requestCallback<_authority_v1_GetComplianceReportResponse__Output>): grpc.ClientUnaryCall;
  getComplianceReport(argument: _authority_v1_GetComplianceReportRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_GetComplianceReportResponse__Output>): grpc.ClientUnaryCall;
  getComplianceReport(argument: _authority_v1_GetComplianceReportRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_GetComplianceReportResponse__Output>): grpc.ClientUnaryCall;
  getComplianceReport(argument: _authority_v1_GetComplianceReportRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_GetComplianceReportResponse__Output>): grpc.ClientUnaryCall;
  getComplianceReport(argument: _authority_v1_GetComplianceReportRequest, callback: grpc.requestCallback<_authority_v1_GetComplianceReportResponse__Output>): grpc.ClientUnaryCall;
  
  ListAuditorKeys(argument: _authority_v1_ListAuditorKeysRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_ListAuditorKeysResponse__Output>): grpc.ClientUnaryCall;
  ListAuditorKeys(argument: _authority_v1_ListAuditorKeysRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_ListAuditorKeysResponse__Output>): grpc.ClientUnaryCall;
  ListAuditorKeys(argument: _authority_v1_ListAuditorKeysRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_ListAuditorKeysResponse__Output>): grpc.ClientUnaryCall;
  ListAuditorKeys(argument: _authority_v1_ListAuditorKeysRequest, callback: grpc.requestCallback<_authority_v1_ListAuditorKeysResponse__Output>): grpc.ClientUnaryCall;
  listAuditorKeys(argument: _authority_v1_ListAuditorKeysRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_ListAuditorKeysResponse__Output>): grpc.ClientUnaryCall;
  listAuditorKeys(argument: _authority_v1_ListAuditorKeysRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_ListAuditorKeysResponse__Output>): grpc.ClientUnaryCall;
  listAuditorKeys(argument: _authority_v1_ListAuditorKeysRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_ListAuditorKeysResponse__Output>): grpc.ClientUnaryCall;
  listAuditorKeys(argument: _authority_v1_ListAuditorKeysRequest, callback: grpc.requestCallback<_authority_v1_ListAuditorKeysResponse__Output>): grpc.ClientUnaryCall;
  
  ListCheckpoints(argument: _authority_v1_ListCheckpointsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_ListCheckpointsResponse__Output>): grpc.ClientUnaryCall;
  ListCheckpoints(argument: _authority_v1_ListCheckpointsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_ListCheckpointsResponse__Output>): grpc.ClientUnaryCall;
  ListCheckpoints(argument: _authority_v1_ListCheckpointsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_ListCheckpointsResponse__Output>): grpc.ClientUnaryCall;
  ListCheckpoints(argument: _authority_v1_ListCheckpointsRequest, callback: grpc.requestCallback<_authority_v1_ListCheckpointsResponse__Output>): grpc.ClientUnaryCall;
  listCheckpoints(argument: _authority_v1_ListCheckpointsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_ListCheckpointsResponse__Output>): grpc.ClientUnaryCall;
  listCheckpoints(argument: _authority_v1_ListCheckpointsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_ListCheckpointsResponse__Output>): grpc.ClientUnaryCall;
  listCheckpoints(argument: _authority_v1_ListCheckpointsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_ListCheckpointsResponse__Output>): grpc.ClientUnaryCall;
  listCheckpoints(argument: _authority_v1_ListCheckpointsRequest, callback: grpc.requestCallback<_authority_v1_ListCheckpointsResponse__Output>): grpc.ClientUnaryCall;
  
  QueryEvents(argument: _authority_v1_QueryEventsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_QueryEventsResponse__Output>): grpc.ClientUnaryCall;
  QueryEvents(argument: _authority_v1_QueryEventsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_QueryEventsResponse__Output>): grpc.ClientUnaryCall;
  QueryEvents(argument: _authority_v1_QueryEventsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_QueryEventsResponse__Output>): grpc.ClientUnaryCall;
  QueryEvents(argument: _authority_v1_QueryEventsRequest, callback: grpc.requestCallback<_authority_v1_QueryEventsResponse__Output>): grpc.ClientUnaryCall;
  queryEvents(argument: _authority_v1_QueryEventsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_QueryEventsResponse__Output>): grpc.ClientUnaryCall;
  queryEvents(argument: _authority_v1_QueryEventsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_QueryEventsResponse__Output>): grpc.ClientUnaryCall;
  queryEvents(argument: _authority_v1_QueryEventsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_QueryEventsResponse__Output>): grpc.ClientUnaryCall;
  queryEvents(argument: _authority_v1_QueryEventsRequest, callback: grpc.requestCallback<_authority_v1_QueryEventsResponse__Output>): grpc.ClientUnaryCall;
  
  VerifyChain(argument: _authority_v1_VerifyChainRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_VerifyChainResponse__Output>): grpc.ClientUnaryCall;
  VerifyChain(argument: _authority_v1_VerifyChainRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_VerifyChainResponse__Output>): grpc.ClientUnaryCall;
  VerifyChain(argument: _authority_v1_VerifyChainRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_VerifyChainResponse__Output>): grpc.ClientUnaryCall;
  VerifyChain(argument: _authority_v1_VerifyChainRequest, callback: grpc.requestCallback<_authority_v1_VerifyChainResponse__Output>): grpc.ClientUnaryCall;
  verifyChain(argument: _authority_v1_VerifyChainRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_VerifyChainResponse__Output>): grpc.ClientUnaryCall;
  verifyChain(argument: _authority_v1_VerifyChainRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_authority_v1_VerifyChainResponse__Output>): grpc.ClientUnaryCall;
  verifyChain(argument: _authority_v1_VerifyChainRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_authority_v1_VerifyChainResponse__Output>): grpc.ClientUnaryCall;
  verifyChain(argument: _authority_v1_VerifyChainRequest, callback: grpc.requestCallback<_authority_v1_VerifyChainResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface AuditorServiceHandlers extends grpc.UntypedServiceImplementation {
  ArchiveChainSegment: grpc.handleUnaryCall<_authority_v1_ArchiveChainSegmentRequest__Output, _authority_v1_ArchiveChainSegmentResponse>;
  
  Attest: grpc.handleUnaryCall<_authority_v1_AttestRequest__Output, _authority_v1_AttestResponse>;
  
  GetChainStatus: grpc.handleUnaryCall<_authority_v1_GetChainStatusRequest__Output, _authority_v1_GetChainStatusResponse>;
  
  GetCheckpoint: grpc.handleUnaryCall<_authority_v1_GetCheckpointRequest__Output, _authority_v1_GetCheckpointResponse>;
  
  GetComplianceReport: grpc.handleUnaryCall<_authority_v1_GetComplianceReportRequest__Output, _authority_v1_GetComplianceReportResponse>;
  
  ListAuditorKeys: grpc.handleUnaryCall<_authority_v1_ListAuditorKeysRequest__Output, _authority_v1_ListAuditorKeysResponse>;
  
  ListCheckpoints: grpc.handleUnaryCall<_authority_v1_ListCheckpointsRequest__Output, _authority_v1_ListCheckpointsResponse>;
  
  QueryEvents: grpc.handleUnaryCall<_authority_v1_QueryEventsRequest__Output, _authority_v1_QueryEventsResponse>;
  
  VerifyChain: grpc.handleUnaryCall<_authority_v1_VerifyChainRequest__Output, _authority_v1_VerifyChainResponse>;
  
}

export interface AuditorServiceDefinition extends grpc.ServiceDefinition {
  ArchiveChainSegment: MethodDefinition<_authority_v1_ArchiveChainSegmentRequest, _authority_v1_ArchiveChainSegmentResponse, _authority_v1_ArchiveChainSegmentRequest__Output, _authority_v1_ArchiveChainSegmentResponse__Output>
  Attest: MethodDefinition<_authority_v1_AttestRequest, _authority_v1_AttestResponse, _authority_v1_AttestRequest__Output, _authority_v1_AttestResponse__Output>
  GetChainStatus: MethodDefinition<_authority_v1_GetChainStatusRequest, _authority_v1_GetChainStatusResponse, _authority_v1_GetChainStatusRequest__Output, _authority_v1_GetChainStatusResponse__Output>
  GetCheckpoint: MethodDefinition<_authority_v1_GetCheckpointRequest, _authority_v1_GetCheckpointResponse, _authority_v1_GetCheckpointRequest__Output, _authority_v1_GetCheckpointResponse__Output>
  GetComplianceReport: MethodDefinition<_authority_v1_GetComplianceReportRequest, _authority_v1_GetComplianceReportResponse, _authority_v1_GetComplianceReportRequest__Output, _authority_v1_GetComplianceReportResponse__Output>
  ListAuditorKeys: MethodDefinition<_authority_v1_ListAuditorKeysRequest, _authority_v1_ListAuditorKeysResponse, _authority_v1_ListAuditorKeysRequest__Output, _authority_v1_ListAuditorKeysResponse__Output>
  ListCheckpoints: MethodDefinition<_authority_v1_ListCheckpointsRequest, _authority_v1_ListCheckpointsResponse, _authority_v1_ListCheckpointsRequest__Output, _authority_v1_ListCheckpointsResponse__Output>
  QueryEvents: MethodDefinition<_authority_v1_QueryEventsRequest, _authority_v1_QueryEventsResponse, _authority_v1_QueryEventsRequest__Output, _authority_v1_QueryEventsResponse__Output>
  VerifyChain: MethodDefinition<_authority_v1_VerifyChainRequest, _authority_v1_VerifyChainResponse, _authority_v1_VerifyChainRequest__Output, _authority_v1_VerifyChainResponse__Output>
}
