// Original file: proto/authority/v1/events.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';
import type { Long } from '@grpc/proto-loader';

export interface ChainRecord {
  'tenant'?: (string);
  'seq'?: (number | string | Long);
  'hash'?: (string);
  'prevHash'?: (string);
  'eventId'?: (string);
  'rawEvent'?: (Buffer | Uint8Array | string);
  'recordedAt'?: (_google_protobuf_Timestamp | null);
}

export interface ChainRecord__Output {
  'tenant': (string);
  'seq': (string);
  'hash': (string);
  'prevHash': (string);
  'eventId': (string);
  'rawEvent': (Buffer);
  'recordedAt': (_google_protobuf_Timestamp__Output | null);
}
