// Original file: proto/authority/v1/auditor.proto


export interface GetComplianceReportResponse {
  'contentType'?: (string);
  'body'?: (Buffer | Uint8Array | string);
}

export interface GetComplianceReportResponse__Output {
  'contentType': (string);
  'body': (Buffer);
}
