import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { Actor as _authority_v1_Actor, Actor__Output as _authority_v1_Actor__Output } from './authority/v1/Actor';
import type { ApprovalDetail as _authority_v1_ApprovalDetail, ApprovalDetail__Output as _authority_v1_ApprovalDetail__Output } from './authority/v1/ApprovalDetail';
import type { ArchiveChainSegmentRequest as _authority_v1_ArchiveChainSegmentRequest, ArchiveChainSegmentRequest__Output as _authority_v1_ArchiveChainSegmentRequest__Output } from './authority/v1/ArchiveChainSegmentRequest';
import type { ArchiveChainSegmentResponse as _authority_v1_ArchiveChainSegmentResponse, ArchiveChainSegmentResponse__Output as _authority_v1_ArchiveChainSegmentResponse__Output } from './authority/v1/ArchiveChainSegmentResponse';
import type { AttestRequest as _authority_v1_AttestRequest, AttestRequest__Output as _authority_v1_AttestRequest__Output } from './authority/v1/AttestRequest';
import type { AttestResponse as _authority_v1_AttestResponse, AttestResponse__Output as _authority_v1_AttestResponse__Output } from './authority/v1/AttestResponse';
import type { Attestation as _authority_v1_Attestation, Attestation__Output as _authority_v1_Attestation__Output } from './authority/v1/Attestation';
import type { AuditEvent as _authority_v1_AuditEvent, AuditEvent__Output as _authority_v1_AuditEvent__Output } from './authority/v1/AuditEvent';
import type { AuditorKey as _authority_v1_AuditorKey, AuditorKey__Output as _authority_v1_AuditorKey__Output } from './authority/v1/AuditorKey';
import type { AuditorServiceClient as _authority_v1_AuditorServiceClient, AuditorServiceDefinition as _authority_v1_AuditorServiceDefinition } from './authority/v1/AuditorService';
import type { ChainEntry as _authority_v1_ChainEntry, ChainEntry__Output as _authority_v1_ChainEntry__Output } from './authority/v1/ChainEntry';
import type { ChainRecord as _authority_v1_ChainRecord, ChainRecord__Output as _authority_v1_ChainRecord__Output } from './authority/v1/ChainRecord';
import type { CheckDetail as _authority_v1_CheckDetail, CheckDetail__Output as _authority_v1_CheckDetail__Output } from './authority/v1/CheckDetail';
import type { Checkpoint as _authority_v1_Checkpoint, Checkpoint__Output as _authority_v1_Checkpoint__Output } from './authority/v1/Checkpoint';
import type { ConstraintViolation as _authority_v1_ConstraintViolation, ConstraintViolation__Output as _authority_v1_ConstraintViolation__Output } from './authority/v1/ConstraintViolation';
import type { CredentialEvent as _authority_v1_CredentialEvent, CredentialEvent__Output as _authority_v1_CredentialEvent__Output } from './authority/v1/CredentialEvent';
import type { GetChainStatusRequest as _authority_v1_GetChainStatusRequest, GetChainStatusRequest__Output as _authority_v1_GetChainStatusRequest__Output } from './authority/v1/GetChainStatusRequest';
import type { GetChainStatusResponse as _authority_v1_GetChainStatusResponse, GetChainStatusResponse__Output as _authority_v1_GetChainStatusResponse__Output } from './authority/v1/GetChainStatusResponse';
import type { GetCheckpointRequest as _authority_v1_GetCheckpointRequest, GetCheckpointRequest__Output as _authority_v1_GetCheckpointRequest__Output } from './authority/v1/GetCheckpointRequest';
import type { GetCheckpointResponse as _authority_v1_GetCheckpointResponse, GetCheckpointResponse__Output as _authority_v1_GetCheckpointResponse__Output } from './authority/v1/GetCheckpointResponse';
import type { GetComplianceReportRequest as _authority_v1_GetComplianceReportRequest, GetComplianceReportRequest__Output as _authority_v1_GetComplianceReportRequest__Output } from './authority/v1/GetComplianceReportRequest';
import type { GetComplianceReportResponse as _authority_v1_GetComplianceReportResponse, GetComplianceReportResponse__Output as _authority_v1_GetComplianceReportResponse__Output } from './authority/v1/GetComplianceReportResponse';
import type { IssuanceDetail as _authority_v1_IssuanceDetail, IssuanceDetail__Output as _authority_v1_IssuanceDetail__Output } from './authority/v1/IssuanceDetail';
import type { KeyDetail as _authority_v1_KeyDetail, KeyDetail__Output as _authority_v1_KeyDetail__Output } from './authority/v1/KeyDetail';
import type { KeyEvent as _authority_v1_KeyEvent, KeyEvent__Output as _authority_v1_KeyEvent__Output } from './authority/v1/KeyEvent';
import type { ListAuditorKeysRequest as _authority_v1_ListAuditorKeysRequest, ListAuditorKeysRequest__Output as _authority_v1_ListAuditorKeysRequest__Output } from './authority/v1/ListAuditorKeysRequest';
import type { ListAuditorKeysResponse as _authority_v1_ListAuditorKeysResponse, ListAuditorKeysResponse__Output as _authority_v1_ListAuditorKeysResponse__Output } from './authority/v1/ListAuditorKeysResponse';
import type { ListCheckpointsRequest as _authority_v1_ListCheckpointsRequest, ListCheckpointsRequest__Output as _authority_v1_ListCheckpointsRequest__Output } from './authority/v1/ListCheckpointsRequest';
import type { ListCheckpointsResponse as _authority_v1_ListCheckpointsResponse, ListCheckpointsResponse__Output as _authority_v1_ListCheckpointsResponse__Output } from './authority/v1/ListCheckpointsResponse';
import type { PartitionLag as _authority_v1_PartitionLag, PartitionLag__Output as _authority_v1_PartitionLag__Output } from './authority/v1/PartitionLag';
import type { PolicyChangeDetail as _authority_v1_PolicyChangeDetail, PolicyChangeDetail__Output as _authority_v1_PolicyChangeDetail__Output } from './authority/v1/PolicyChangeDetail';
import type { PolicyVersionEvent as _authority_v1_PolicyVersionEvent, PolicyVersionEvent__Output as _authority_v1_PolicyVersionEvent__Output } from './authority/v1/PolicyVersionEvent';
import type { QueryEventsRequest as _authority_v1_QueryEventsRequest, QueryEventsRequest__Output as _authority_v1_QueryEventsRequest__Output } from './authority/v1/QueryEventsRequest';
import type { QueryEventsResponse as _authority_v1_QueryEventsResponse, QueryEventsResponse__Output as _authority_v1_QueryEventsResponse__Output } from './authority/v1/QueryEventsResponse';
import type { RevocationDetail as _authority_v1_RevocationDetail, RevocationDetail__Output as _authority_v1_RevocationDetail__Output } from './authority/v1/RevocationDetail';
import type { RevocationEvent as _authority_v1_RevocationEvent, RevocationEvent__Output as _authority_v1_RevocationEvent__Output } from './authority/v1/RevocationEvent';
import type { VerifyChainRequest as _authority_v1_VerifyChainRequest, VerifyChainRequest__Output as _authority_v1_VerifyChainRequest__Output } from './authority/v1/VerifyChainRequest';
import type { VerifyChainResponse as _authority_v1_VerifyChainResponse, VerifyChainResponse__Output as _authority_v1_VerifyChainResponse__Output } from './authority/v1/VerifyChainResponse';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from './google/protobuf/Timestamp';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  authority: {
    v1: {
      Actor: MessageTypeDefinition<_authority_v1_Actor, _authority_v1_Actor__Output>
      AgentRole: EnumTypeDefinition
      ApprovalDetail: MessageTypeDefinition<_authority_v1_ApprovalDetail, _authority_v1_ApprovalDetail__Output>
      ApprovalStatus: EnumTypeDefinition
      ArchiveChainSegmentRequest: MessageTypeDefinition<_authority_v1_ArchiveChainSegmentRequest, _authority_v1_ArchiveChainSegmentRequest__Output>
      ArchiveChainSegmentResponse: MessageTypeDefinition<_authority_v1_ArchiveChainSegmentResponse, _authority_v1_ArchiveChainSegmentResponse__Output>
      AttestRequest: MessageTypeDefinition<_authority_v1_AttestRequest, _authority_v1_AttestRequest__Output>
      AttestResponse: MessageTypeDefinition<_authority_v1_AttestResponse, _authority_v1_AttestResponse__Output>
      Attestation: MessageTypeDefinition<_authority_v1_Attestation, _authority_v1_Attestation__Output>
      AuditEvent: MessageTypeDefinition<_authority_v1_AuditEvent, _authority_v1_AuditEvent__Output>
      AuditorKey: MessageTypeDefinition<_authority_v1_AuditorKey, _authority_v1_AuditorKey__Output>
      AuditorService: SubtypeConstructor<typeof grpc.Client, _authority_v1_AuditorServiceClient> & { service: _authority_v1_AuditorServiceDefinition }
      ChainEntry: MessageTypeDefinition<_authority_v1_ChainEntry, _authority_v1_ChainEntry__Output>
      ChainFault: EnumTypeDefinition
      ChainRecord: MessageTypeDefinition<_authority_v1_ChainRecord, _authority_v1_ChainRecord__Output>
      CheckDetail: MessageTypeDefinition<_authority_v1_CheckDetail, _authority_v1_CheckDetail__Output>
      Checkpoint: MessageTypeDefinition<_authority_v1_Checkpoint, _authority_v1_Checkpoint__Output>
      ConstraintViolation: MessageTypeDefinition<_authority_v1_ConstraintViolation, _authority_v1_ConstraintViolation__Output>
      CredentialEvent: MessageTypeDefinition<_authority_v1_CredentialEvent, _authority_v1_CredentialEvent__Output>
      CredentialKind: EnumTypeDefinition
      Decision: EnumTypeDefinition
      GetChainStatusRequest: MessageTypeDefinition<_authority_v1_GetChainStatusRequest, _authority_v1_GetChainStatusRequest__Output>
      GetChainStatusResponse: MessageTypeDefinition<_authority_v1_GetChainStatusResponse, _authority_v1_GetChainStatusResponse__Output>
      GetCheckpointRequest: MessageTypeDefinition<_authority_v1_GetCheckpointRequest, _authority_v1_GetCheckpointRequest__Output>
      GetCheckpointResponse: MessageTypeDefinition<_authority_v1_GetCheckpointResponse, _authority_v1_GetCheckpointResponse__Output>
      GetComplianceReportRequest: MessageTypeDefinition<_authority_v1_GetComplianceReportRequest, _authority_v1_GetComplianceReportRequest__Output>
      GetComplianceReportResponse: MessageTypeDefinition<_authority_v1_GetComplianceReportResponse, _authority_v1_GetComplianceReportResponse__Output>
      IssuanceDetail: MessageTypeDefinition<_authority_v1_IssuanceDetail, _authority_v1_IssuanceDetail__Output>
      KeyDetail: MessageTypeDefinition<_authority_v1_KeyDetail, _authority_v1_KeyDetail__Output>
      KeyEvent: MessageTypeDefinition<_authority_v1_KeyEvent, _authority_v1_KeyEvent__Output>
      KeyStatus: EnumTypeDefinition
      ListAuditorKeysRequest: MessageTypeDefinition<_authority_v1_ListAuditorKeysRequest, _authority_v1_ListAuditorKeysRequest__Output>
      ListAuditorKeysResponse: MessageTypeDefinition<_authority_v1_ListAuditorKeysResponse, _authority_v1_ListAuditorKeysResponse__Output>
      ListCheckpointsRequest: MessageTypeDefinition<_authority_v1_ListCheckpointsRequest, _authority_v1_ListCheckpointsRequest__Output>
      ListCheckpointsResponse: MessageTypeDefinition<_authority_v1_ListCheckpointsResponse, _authority_v1_ListCheckpointsResponse__Output>
      PartitionLag: MessageTypeDefinition<_authority_v1_PartitionLag, _authority_v1_PartitionLag__Output>
      PolicyChangeDetail: MessageTypeDefinition<_authority_v1_PolicyChangeDetail, _authority_v1_PolicyChangeDetail__Output>
      PolicyVersionEvent: MessageTypeDefinition<_authority_v1_PolicyVersionEvent, _authority_v1_PolicyVersionEvent__Output>
      QueryEventsRequest: MessageTypeDefinition<_authority_v1_QueryEventsRequest, _authority_v1_QueryEventsRequest__Output>
      QueryEventsResponse: MessageTypeDefinition<_authority_v1_QueryEventsResponse, _authority_v1_QueryEventsResponse__Output>
      ReasonCode: EnumTypeDefinition
      ReportFormat: EnumTypeDefinition
      RevocationDetail: MessageTypeDefinition<_authority_v1_RevocationDetail, _authority_v1_RevocationDetail__Output>
      RevocationEvent: MessageTypeDefinition<_authority_v1_RevocationEvent, _authority_v1_RevocationEvent__Output>
      RevocationKind: EnumTypeDefinition
      VerifyChainRequest: MessageTypeDefinition<_authority_v1_VerifyChainRequest, _authority_v1_VerifyChainRequest__Output>
      VerifyChainResponse: MessageTypeDefinition<_authority_v1_VerifyChainResponse, _authority_v1_VerifyChainResponse__Output>
    }
  }
  google: {
    protobuf: {
      Timestamp: MessageTypeDefinition<_google_protobuf_Timestamp, _google_protobuf_Timestamp__Output>
    }
  }
}

