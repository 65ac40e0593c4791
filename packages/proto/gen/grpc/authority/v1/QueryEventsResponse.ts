// Original file: proto/authority/v1/auditor.proto

import type { ChainEntry as _authority_v1_ChainEntry, ChainEntry__Output as _authority_v1_ChainEntry__Output } from '../../authority/v1/ChainEntry';

export interface QueryEventsResponse {
  'entries'?: (_authority_v1_ChainEntry)[];
  'nextPageToken'?: (string);
}

export interface QueryEventsResponse__Output {
  'entries': (_authority_v1_ChainEntry__Output)[];
  'nextPageToken': (string);
}
