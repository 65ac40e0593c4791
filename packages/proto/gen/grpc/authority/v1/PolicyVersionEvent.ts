// Original file: proto/authority/v1/events.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';
import type { Long } from '@grpc/proto-loader';

export interface PolicyVersionEvent {
  'tenant'?: (string);
  'version'?: (number | string | Long);
  'yaml'?: (string);
  'sha256'?: (string);
  'author'?: (string);
  'createdAt'?: (_google_protobuf_Timestamp | null);
  'deleted'?: (boolean);
}

export interface PolicyVersionEvent__Output {
  'tenant': (string);
  'version': (string);
  'yaml': (string);
  'sha256': (string);
  'author': (string);
  'createdAt': (_google_protobuf_Timestamp__Output | null);
  'deleted': (boolean);
}
