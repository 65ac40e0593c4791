// Original file: proto/authority/v1/events.proto

import type { Long } from '@grpc/proto-loader';

export interface PolicyChangeDetail {
  'version'?: (number | string | Long);
  'sha256'?: (string);
  'diffSummary'?: (string);
}

export interface PolicyChangeDetail__Output {
  'version': (string);
  'sha256': (string);
  'diffSummary': (string);
}
