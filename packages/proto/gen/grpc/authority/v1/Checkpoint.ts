// Original file: proto/authority/v1/events.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';
import type { Long } from '@grpc/proto-loader';

export interface Checkpoint {
  'tenant'?: (string);
  'seq'?: (number | string | Long);
  'headHash'?: (string);
  'time'?: (_google_protobuf_Timestamp | null);
  'keyId'?: (string);
  'signature'?: (Buffer | Uint8Array | string);
}

export interface Checkpoint__Output {
  'tenant': (string);
  'seq': (string);
  'headHash': (string);
  'time': (_google_protobuf_Timestamp__Output | null);
  'keyId': (string);
  'signature': (Buffer);
}
