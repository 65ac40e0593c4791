// Original file: proto/authority/v1/auditor.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';
import type { ReportFormat as _authority_v1_ReportFormat, ReportFormat__Output as _authority_v1_ReportFormat__Output } from '../../authority/v1/ReportFormat';

export interface GetComplianceReportRequest {
  'tenant'?: (string);
  'startTime'?: (_google_protobuf_Timestamp | null);
  'endTime'?: (_google_protobuf_Timestamp | null);
  'format'?: (_authority_v1_ReportFormat);
  'agentId'?: (string);
  'resourceGlob'?: (string);
  'summary'?: (boolean);
}

export interface GetComplianceReportRequest__Output {
  'tenant': (string);
  'startTime': (_google_protobuf_Timestamp__Output | null);
  'endTime': (_google_protobuf_Timestamp__Output | null);
  'format': (_authority_v1_ReportFormat__Output);
  'agentId': (string);
  'resourceGlob': (string);
  'summary': (boolean);
}
