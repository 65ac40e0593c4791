// Original file: proto/authority/v1/auditor.proto


export interface ListCheckpointsRequest {
  'tenant'?: (string);
  'pageSize'?: (number);
  'pageToken'?: (string);
}

export interface ListCheckpointsRequest__Output {
  'tenant': (string);
  'pageSize': (number);
  'pageToken': (string);
}
